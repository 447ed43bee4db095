// --trace-fs: the trace rules in the plan, what a traced call wants (fs_request), whether the
// grants allow it (check_fs_want), and path resolution below a root (resolve_beneath).
// Decisions are pure functions of a plan made from a profile and hand-made HostFacts; only the
// resolution tests touch the file system (a temporary folder).
#include "supervisor/fs_trace.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "policy/profile_loader.h"
#include "sandbox/landlock_abi.h"
#include "sandbox/plan.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_prebuilt.h"
#include "test_util.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

using test::error_of;
using test::test_vars;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using T = PathInfo::Type;

constexpr std::uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE;
constexpr std::uint64_t kReadDir = LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kWrite = LANDLOCK_ACCESS_FS_WRITE_FILE;
constexpr std::uint64_t kExec = LANDLOCK_ACCESS_FS_EXECUTE;
constexpr std::uint64_t kTruncate = LANDLOCK_ACCESS_FS_TRUNCATE;
constexpr std::uint64_t kMakeReg = LANDLOCK_ACCESS_FS_MAKE_REG;
constexpr std::uint64_t kMakeDir = LANDLOCK_ACCESS_FS_MAKE_DIR;
constexpr std::uint64_t kRemoveFile = LANDLOCK_ACCESS_FS_REMOVE_FILE;
constexpr std::uint64_t kRemoveDir = LANDLOCK_ACCESS_FS_REMOVE_DIR;
constexpr std::uint64_t kRefer = LANDLOCK_ACCESS_FS_REFER;

// ---------------------------------------------------------------------------------------------
// Helpers: a profile (p.toml) planned for a fake host

Policy policy(const std::string& text) {
  Policy p;
  merge_layer(p, parse_profile_text(text, "p.toml", test_vars(), nullptr, /*check_scripts=*/false));
  finalize_policy(p);
  return p;
}

HostFacts host() {
  HostFacts h;
  h.uid = 1000;
  h.gid = 1000;
  h.cwd = "/work/project";
  h.landlock_abi = 6;
  for (const char* d : {"/", "/usr", "/etc", "/work", "/work/project", "/work/project/docs", "/home", "/home/tester",
                        "/home/tester/.ssh", "/home/tester/.config", "/home/tester/.config/paddock", "/tmp"}) {
    h.paths[d] = PathInfo{T::Dir, ""};
  }
  h.paths["/etc/hosts"] = PathInfo{T::File, ""};
  h.paths["/home/tester/.netrc"] = PathInfo{T::File, ""};
  h.paths["/bin"] = PathInfo{T::Symlink, "usr/bin"};
  h.protected_paths = {"/home/tester/.config/paddock"};
  return h;
}

// Line 3: read, line 4: write, line 5: deny, line 6: tmpfs.
const char* kProfile =
    "version = 1\n"
    "[filesystem]\n"
    "read = [\"/usr\", \"/etc\", \"/bin\", \"/work/project/docs\"]\n"
    "write = [\"/work/project\", \"/home/tester\"]\n"
    "deny = [\"/home/tester/.ssh\", \"/home/tester/.netrc\"]\n"
    "tmpfs = [\"/tmp\"]\n";

SandboxPlan plan_of(const std::string& text, const HostFacts& h = host()) {
  return make_plan(policy(text), h, {"agent"});
}

FsGrants grants(const std::string& text = kProfile, const HostFacts& h = host()) {
  return FsGrants::from_plan(plan_of(text, h));
}

FsVerdict check(const FsGrants& g, const std::string& path, std::uint64_t rights, bool on_parent = false) {
  return check_fs_want(g, FsWant{path, rights, on_parent});
}

// ---------------------------------------------------------------------------------------------
// The plan

TEST(FsTracePlan, AddsATraceRuleForEveryFileCallOfThisArchitecture) {
  SandboxPlan p = plan_of(kProfile);
  auto before = p.seccomp.rules;
  plan_fs_trace(p);
  EXPECT_TRUE(p.seccomp.trace_fs);
  std::vector<std::string> traced;
  for (const auto& r : p.seccomp.rules) {
    if (!r.trace) continue;
    traced.push_back(r.syscall);
    EXPECT_TRUE(r.conds.empty()) << r.syscall;
    EXPECT_EQ(r.why, "--trace-fs");
    EXPECT_GE(seccomp_syscall_number(r.syscall), 0) << r.syscall << " does not exist on this architecture";
  }
  EXPECT_EQ(traced, fs_trace_syscalls());
  for (const char* name :
       {"openat", "execve", "execveat", "mkdirat", "unlinkat", "renameat2", "linkat", "symlinkat", "truncate"}) {
    EXPECT_NE(std::find(traced.begin(), traced.end(), name), traced.end()) << name;
  }
#if defined(__x86_64__)
  for (const char* name : {"open", "creat", "mkdir", "unlink", "rename", "renameat", "link", "symlink"}) {
    EXPECT_NE(std::find(traced.begin(), traced.end(), name), traced.end()) << name;
  }
#endif
  // The deny rules are untouched and come first.
  EXPECT_TRUE(std::equal(before.begin(), before.end(), p.seccomp.rules.begin()));
  // Twice is once.
  auto n = p.seccomp.rules.size();
  plan_fs_trace(p);
  EXPECT_EQ(p.seccomp.rules.size(), n);
}

TEST(FsTracePlan, RefusedWithoutSeccompNotification) {
  HostFacts h = host();
  h.seccomp_notify = false;
  SandboxPlan p = plan_of("version = 1\n[sandbox]\nbest_effort = [\"seccomp-notify\"]\n", h);
  ASSERT_FALSE(p.seccomp.notify);
  std::string e = error_of([&] { plan_fs_trace(p); });
  EXPECT_THAT(e, StartsWith("--trace-fs: "));
  EXPECT_THAT(e, HasSubstr("seccomp user notification"));
  EXPECT_FALSE(p.seccomp.trace_fs);
}

TEST(FsTracePlan, CompilesAndNeverUsesThePrebuiltFilter) {
  SandboxPlan p = plan_of("version = 1\n");
  ASSERT_TRUE(p.seccomp.notify);
  SeccompPlan plain = p.seccomp;
  plan_fs_trace(p);
  EXPECT_FALSE(prebuilt_seccomp(p.seccomp).has_value());
  SeccompPrograms traced = compile_seccomp(p.seccomp);
  SeccompPrograms untraced = compile_seccomp(plain);
  // Not smaller or larger by rule, but different: openat now always notifies (the supervisor
  // matches the @suid conditions itself), execve and mkdirat notify where they did not.
  EXPECT_NE(traced.main.size(), untraced.main.size());
  // Without a listener a trace rule would only say "allow": it compiles to nothing.
  SeccompPlan quiet = p.seccomp;
  quiet.notify = false;
  SeccompPlan quiet_plain = plain;
  quiet_plain.notify = false;
  EXPECT_EQ(compile_seccomp(quiet).main.size(), compile_seccomp(quiet_plain).main.size());
}

TEST(FsTracePlan, AnUnconditionalDenyLeavesNothingToTrace) {
  SandboxPlan p = plan_of("version = 1\n[syscalls]\ndeny = [\"mkdirat\"]\n");
  plan_fs_trace(p);
  // mkdirat: the deny rule takes every call; the trace rule adds no instructions for it.
  SeccompPlan without_mkdirat = p.seccomp;
  std::erase_if(without_mkdirat.rules, [](const SeccompRule& r) { return r.trace && r.syscall == "mkdirat"; });
  auto a = compile_seccomp(p.seccomp).main, b = compile_seccomp(without_mkdirat).main;
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(sock_filter)), 0);
}

TEST(FsTracePlan, DryRunShowsTheTraceRules) {
  SandboxPlan p = plan_of("version = 1\n");
  plan_fs_trace(p);
  std::ostringstream out;
  print_plan(out, p);
  EXPECT_THAT(
      out.str(),
      HasSubstr("openat -> NOTIFY, then continue (recorded by the supervisor; the kernel decides)  [--trace-fs]"));
  EXPECT_THAT(out.str(), HasSubstr("execve -> NOTIFY, then continue"));
}

// ---------------------------------------------------------------------------------------------
// What a call wants

FsCall open_call(int flags, const std::string& path, mode_t type) {
  return FsCall{"openat", static_cast<std::uint64_t>(flags), FsNode{path, type}, {}};
}

TEST(FsRequest, OpenForReadingAFileOrAFolder) {
  FsRequest r = fs_request(open_call(O_RDONLY | O_CLOEXEC, "/etc/hosts", S_IFREG));
  EXPECT_EQ(r.access, "read");
  ASSERT_EQ(r.wants.size(), 1u);
  EXPECT_EQ(r.wants[0].path, "/etc/hosts");
  EXPECT_EQ(r.wants[0].rights, kRead);
  EXPECT_FALSE(r.wants[0].on_parent);
  r = fs_request(open_call(O_RDONLY | O_DIRECTORY, "/etc", S_IFDIR));
  EXPECT_EQ(r.wants.at(0).rights, kReadDir);
  r = fs_request(open_call(O_RDONLY, "/etc", S_IFDIR));  // opendir without O_DIRECTORY
  EXPECT_EQ(r.wants.at(0).rights, kReadDir);
  // Missing: a file, as far as anyone can tell.
  r = fs_request(open_call(O_RDONLY, "/home/tester/x", 0));
  EXPECT_EQ(r.wants.at(0).rights, kRead);
}

TEST(FsRequest, OpenForWriting) {
  FsRequest r = fs_request(open_call(O_WRONLY | O_APPEND, "/etc/hosts", S_IFREG));
  EXPECT_EQ(r.access, "write");
  EXPECT_EQ(r.wants.at(0).rights, kWrite);
  r = fs_request(open_call(O_RDWR, "/etc/hosts", S_IFREG));
  EXPECT_EQ(r.access, "read,write");
  EXPECT_EQ(r.wants.at(0).rights, kRead | kWrite);
  r = fs_request(open_call(O_WRONLY | O_TRUNC, "/etc/hosts", S_IFREG));
  EXPECT_EQ(r.access, "write");
  EXPECT_EQ(r.wants.at(0).rights, kWrite | kTruncate);
  // O_TRUNC empties a file even when it is opened read-only.
  r = fs_request(open_call(O_RDONLY | O_TRUNC, "/etc/hosts", S_IFREG));
  EXPECT_EQ(r.access, "read,write");
  EXPECT_EQ(r.wants.at(0).rights, kRead | kTruncate);
  // O_CREAT of an existing file opens it.
  r = fs_request(open_call(O_WRONLY | O_CREAT, "/etc/hosts", S_IFREG));
  EXPECT_EQ(r.access, "write");
  EXPECT_FALSE(r.wants.at(0).on_parent);
}

TEST(FsRequest, CreatingAFileNeedsMakeRegInItsFolder) {
  FsRequest r = fs_request(open_call(O_WRONLY | O_CREAT | O_EXCL, "/etc/new", 0));
  EXPECT_EQ(r.access, "create");
  ASSERT_EQ(r.wants.size(), 1u);
  EXPECT_EQ(r.wants[0].path, "/etc/new");
  EXPECT_EQ(r.wants[0].rights, kMakeReg);
  EXPECT_TRUE(r.wants[0].on_parent);
  r = fs_request(FsCall{"creat", O_CREAT | O_WRONLY | O_TRUNC, FsNode{"/etc/new", 0}, {}});
  EXPECT_EQ(r.access, "create");
  r = fs_request(open_call(O_TMPFILE | O_RDWR, "/etc", S_IFDIR));
  EXPECT_EQ(r.access, "create");
}

TEST(FsRequest, OPathChecksNothing) {
  EXPECT_TRUE(fs_request(open_call(O_PATH, "/etc/hosts", S_IFREG)).wants.empty());
  EXPECT_TRUE(fs_request(open_call(O_PATH | O_WRONLY, "/etc/hosts", S_IFREG)).access.empty());
}

TEST(FsRequest, ExecTruncateMkdirSymlinkUnlink) {
  FsRequest r = fs_request(FsCall{"execve", 0, FsNode{"/usr/bin/ls", S_IFREG}, {}});
  EXPECT_EQ(r.access, "exec");
  EXPECT_EQ(r.wants.at(0).rights, kRead | kExec);
  r = fs_request(FsCall{"truncate", 0, FsNode{"/etc/hosts", S_IFREG}, {}});
  EXPECT_EQ(r.access, "write");
  EXPECT_EQ(r.wants.at(0).rights, kWrite | kTruncate);
  r = fs_request(FsCall{"mkdirat", 0, FsNode{"/etc/d", 0}, {}});
  EXPECT_EQ(r.access, "create");
  EXPECT_EQ(r.wants.at(0).rights, kMakeDir);
  EXPECT_TRUE(r.wants.at(0).on_parent);
  r = fs_request(FsCall{"symlinkat", 0, FsNode{"/etc/l", 0}, {}});
  EXPECT_EQ(r.wants.at(0).rights, LANDLOCK_ACCESS_FS_MAKE_SYM);
  r = fs_request(FsCall{"unlink", 0, FsNode{"/etc/hosts", S_IFREG}, {}});
  EXPECT_EQ(r.access, "delete");
  EXPECT_EQ(r.wants.at(0).rights, kRemoveFile);
  EXPECT_TRUE(r.wants.at(0).on_parent);
  r = fs_request(FsCall{"unlinkat", AT_REMOVEDIR, FsNode{"/etc/d", S_IFDIR}, {}});
  EXPECT_EQ(r.wants.at(0).rights, kRemoveDir);
  r = fs_request(FsCall{"rmdir", 0, FsNode{"/etc/d", S_IFDIR}, {}});
  EXPECT_EQ(r.wants.at(0).rights, kRemoveDir);
}

bool has_want(const FsRequest& r, const std::string& path, std::uint64_t rights) {
  return std::any_of(r.wants.begin(), r.wants.end(),
                     [&](const FsWant& w) { return w.path == path && w.rights == rights && w.on_parent; });
}

TEST(FsRequest, RenameAndLink) {
  FsRequest r = fs_request(FsCall{"rename", 0, FsNode{"/a/f", S_IFREG}, FsNode{"/a/g", 0}});
  EXPECT_EQ(r.access, "rename");
  EXPECT_TRUE(has_want(r, "/a/f", kRemoveFile));
  EXPECT_TRUE(has_want(r, "/a/g", kMakeReg));
  EXPECT_EQ(r.wants.size(), 2u);  // same folder: no refer
  r = fs_request(FsCall{"renameat2", 0, FsNode{"/a/d", S_IFDIR}, FsNode{"/b/e", S_IFREG}});
  EXPECT_TRUE(has_want(r, "/a/d", kRemoveDir));
  EXPECT_TRUE(has_want(r, "/b/e", kMakeDir));
  EXPECT_TRUE(has_want(r, "/b/e", kRemoveFile));  // replaced
  EXPECT_TRUE(has_want(r, "/a/d", kRefer));
  EXPECT_TRUE(has_want(r, "/b/e", kRefer));
  r = fs_request(FsCall{"renameat2", 2 /* RENAME_EXCHANGE */, FsNode{"/a/f", S_IFREG}, FsNode{"/a/d", S_IFDIR}});
  EXPECT_TRUE(has_want(r, "/a/f", kMakeDir));
  r = fs_request(FsCall{"link", 0, FsNode{"/a/f", S_IFREG}, FsNode{"/b/g", 0}});
  EXPECT_EQ(r.access, "create");
  EXPECT_TRUE(has_want(r, "/b/g", kMakeReg));
  EXPECT_TRUE(has_want(r, "/a/f", kRefer));
}

// ---------------------------------------------------------------------------------------------
// The grants

TEST(FsGrants, ReadGrantAllowsReadingAndExecutingNotWriting) {
  FsGrants g = grants();
  EXPECT_TRUE(check(g, "/etc/hosts", kRead).allowed);
  EXPECT_TRUE(check(g, "/usr/bin/ls", kRead | kExec).allowed);
  EXPECT_TRUE(check(g, "/usr/lib", kReadDir).allowed);
  FsVerdict v = check(g, "/etc/hosts", kWrite);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.path, "/etc/hosts");
  EXPECT_EQ(v.reason, "not in filesystem.write: /etc (p.toml:3) grants only execute,read_file,read_dir");
  v = check(g, "/etc/new", kMakeReg, true);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.path, "/etc/new");
  EXPECT_THAT(v.reason, StartsWith("not in filesystem.write"));
}

TEST(FsGrants, OutsideEveryGrant) {
  FsGrants g = grants();
  FsVerdict v = check(g, "/root/secret", kRead);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.path, "/root/secret");
  EXPECT_EQ(v.reason, "not in filesystem.read/write");
  v = check(g, "/opt/tool/run", kRead | kExec);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "not in filesystem.read/write");
  EXPECT_EQ(check(g, "/opt/new", kMakeReg, true).reason, "not in filesystem.write");
  // The root view lists what was granted.
  EXPECT_TRUE(check(g, "/", kReadDir).allowed);
  EXPECT_TRUE(check(g, "/home", kReadDir).allowed);
  EXPECT_FALSE(check(g, "/opt", kRead).allowed);
}

TEST(FsGrants, WriteGrantAllowsEverything) {
  FsGrants g = grants();
  EXPECT_TRUE(check(g, "/work/project/a.txt", kRead | kWrite | kTruncate).allowed);
  EXPECT_TRUE(check(g, "/work/project/new", kMakeReg, true).allowed);
  EXPECT_TRUE(check(g, "/work/project/sub", kRemoveDir, true).allowed);
  EXPECT_TRUE(check(g, "/work/project/build/tool", kRead | kExec).allowed);
  EXPECT_TRUE(check(g, "/tmp/x", kWrite).allowed);  // tmpfs
  // Creating the granted folder itself is decided by its parent.
  EXPECT_FALSE(check(g, "/work/project", kMakeDir, true).allowed);
}

TEST(FsGrants, TheLongestGrantDecides) {
  FsGrants g = grants();
  // /work/project/docs is read-only inside the writable /work/project (a read-only bind).
  EXPECT_TRUE(check(g, "/work/project/docs/a.md", kRead).allowed);
  FsVerdict v = check(g, "/work/project/docs/a.md", kWrite);
  EXPECT_FALSE(v.allowed);
  EXPECT_THAT(v.reason, HasSubstr("/work/project/docs (p.toml:3)"));
  EXPECT_FALSE(check(g, "/work/project/docs/new", kMakeReg, true).allowed);
  EXPECT_TRUE(check(g, "/work/project/docsx/new", kMakeReg, true).allowed);  // a sibling, not inside
}

TEST(FsGrants, DenyMaskWinsAndIsCitedWithItsOrigin) {
  FsGrants g = grants();
  FsVerdict v = check(g, "/home/tester/.ssh/id_ed25519", kRead);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "filesystem.deny \"/home/tester/.ssh\" (p.toml:5)");
  v = check(g, "/home/tester/.ssh", kReadDir);
  EXPECT_FALSE(v.allowed);
  v = check(g, "/home/tester/.ssh/new", kMakeReg, true);
  EXPECT_FALSE(v.allowed);
  EXPECT_THAT(v.reason, HasSubstr("filesystem.deny"));
  v = check(g, "/home/tester/.netrc", kRead);  // a masked file
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "filesystem.deny \"/home/tester/.netrc\" (p.toml:5)");
  EXPECT_TRUE(check(g, "/home/tester/.sshx", kRead).allowed);
  EXPECT_TRUE(check(g, "/home/tester/notes", kWrite).allowed);
}

TEST(FsGrants, ReadOnlyMountsRefuseChanges) {
  FsGrants g = grants();
  // paddock's own state inside the writable home.
  EXPECT_TRUE(check(g, "/home/tester/.config/paddock/profiles/a.toml", kRead).allowed);
  FsVerdict v = check(g, "/home/tester/.config/paddock/profiles/a.toml", kWrite);
  EXPECT_FALSE(v.allowed);
  EXPECT_THAT(v.reason, StartsWith("read-only: /home/tester/.config/paddock"));
  EXPECT_FALSE(check(g, "/home/tester/.config/paddock/new.toml", kMakeReg, true).allowed);
  // /proc/sys: readable, not writable.
  EXPECT_TRUE(check(g, "/proc/sys/kernel/hostname", kRead).allowed);
  EXPECT_FALSE(check(g, "/proc/sys/kernel/hostname", kWrite).allowed);
  EXPECT_TRUE(check(g, "/proc/self/status", kRead).allowed);
}

TEST(FsGrants, DevicesAndProc) {
  FsGrants g = grants();
  EXPECT_TRUE(check(g, "/dev/null", kRead | kWrite).allowed);
  EXPECT_TRUE(check(g, "/dev", kReadDir).allowed);
  EXPECT_TRUE(check(g, "/dev/shm/x", kMakeReg, true).allowed);
  EXPECT_FALSE(check(g, "/dev/sda", kRead).allowed);
  EXPECT_FALSE(check(g, "/dev/new", kMakeReg, true).allowed);
  // Magic links lead elsewhere and Landlock checks where: an exec under /proc says nothing.
  EXPECT_TRUE(check(g, "/proc/self/exe", kRead | kExec).allowed);
}

TEST(FsGrants, RightsTheKernelDoesNotCheckAreNotAskedFor) {
  HostFacts h = host();
  h.landlock_abi = 2;  // no truncate right before ABI 3
  FsGrants g = grants(kProfile, h);
  EXPECT_EQ(g.handled & kTruncate, 0u);
  EXPECT_TRUE(check(g, "/work/project/a", kWrite | kTruncate).allowed);
}

TEST(FsGrants, WithoutNamespacesLandlockAddsUpTheRules) {
  HostFacts h = host();
  h.userns = false;
  FsGrants g = grants(std::string(kProfile) + "[sandbox]\nbest_effort = [\"namespaces\"]\n", h);
  EXPECT_TRUE(g.accumulate);
  EXPECT_TRUE(g.guards.empty());  // no mount view, no masks
  // Landlock alone: the read-only grant inside a writable one adds nothing and takes nothing.
  EXPECT_TRUE(check(g, "/work/project/docs/a.md", kWrite).allowed);
  EXPECT_FALSE(check(g, "/etc/hosts", kWrite).allowed);
  EXPECT_FALSE(check(g, "/root/x", kRead).allowed);
}

TEST(FsGrants, WithoutLandlockTheMountViewIsTheGrant) {
  HostFacts h = host();
  h.landlock_abi = 0;
  FsGrants g = grants(std::string(kProfile) + "[sandbox]\nbest_effort = [\"landlock\"]\n", h);
  EXPECT_TRUE(check(g, "/etc/hosts", kRead).allowed);
  EXPECT_FALSE(check(g, "/etc/hosts", kWrite).allowed);
  EXPECT_TRUE(check(g, "/work/project/a", kWrite).allowed);
  EXPECT_FALSE(check(g, "/work/project/docs/a", kWrite).allowed);
  EXPECT_FALSE(check(g, "/root/x", kRead).allowed);
  EXPECT_FALSE(check(g, "/home/tester/.ssh/id", kRead).allowed);
}

TEST(FsGrants, ARequestIsRefusedAtItsFirstRefusedWant) {
  FsGrants g = grants();
  // A rename out of the read-only /etc into the writable project: refused at the source.
  FsRequest r = fs_request(FsCall{"rename", 0, FsNode{"/etc/hosts", S_IFREG}, FsNode{"/work/project/hosts", 0}});
  FsVerdict v = check_fs_request(g, r);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.path, "/etc/hosts");
  // Into /etc: refused at the destination.
  r = fs_request(FsCall{"rename", 0, FsNode{"/work/project/a", S_IFREG}, FsNode{"/etc/a", 0}});
  v = check_fs_request(g, r);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.path, "/etc/a");
  r = fs_request(FsCall{"rename", 0, FsNode{"/work/project/a", S_IFREG}, FsNode{"/work/project/b", 0}});
  EXPECT_TRUE(check_fs_request(g, r).allowed);
}

// ---------------------------------------------------------------------------------------------
// Resolution below a root

class Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    fs::create_directories(dir_ / "usr/bin");
    fs::create_directories(dir_ / "proc/1");
    dir_.write("usr/bin/tool", "x");
    fs::create_directory_symlink("usr/bin", dir_ / "bin");
    fs::create_directory_symlink("/usr", dir_ / "abs");
    fs::create_directory_symlink("../../../../../../../../etc", dir_ / "escape");
    fs::create_symlink("/etc/passwd", dir_ / "usr/bin/passwd-link");
    fs::create_symlink("loop", dir_ / "loop");
    fs::create_symlink("tool", dir_ / "usr/bin/alias");
    fs::create_symlink("/", dir_ / "proc/1/root");
    root_ = UniqueFd(::open(dir_.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_.valid());
  }
  FsNode resolve(const std::string& path, bool follow = true) {
    return resolve_beneath(root_.get(), path, follow, {"/proc"});
  }
  test::TempDir dir_;
  UniqueFd root_;
};

TEST_F(Resolve, PlainPathsAndDots) {
  EXPECT_EQ(resolve("/usr/bin/tool").path, "/usr/bin/tool");
  EXPECT_EQ(resolve("/usr/bin/tool").type, S_IFREG);
  EXPECT_EQ(resolve("//usr/./bin/../bin/tool").path, "/usr/bin/tool");
  EXPECT_EQ(resolve("/").path, "/");
  EXPECT_EQ(resolve("/").type, S_IFDIR);
  EXPECT_EQ(resolve("/usr/..").type, S_IFDIR);
  EXPECT_EQ(resolve("/../../usr").path, "/usr");
}

TEST_F(Resolve, SymbolicLinksAsTheSandboxSeesThem) {
  EXPECT_EQ(resolve("/bin/tool").path, "/usr/bin/tool");
  EXPECT_EQ(resolve("/bin/tool").type, S_IFREG);
  EXPECT_EQ(resolve("/abs/bin/tool").path, "/usr/bin/tool");  // absolute: from the sandbox's root
  EXPECT_EQ(resolve("/bin/alias").path, "/usr/bin/tool");
  EXPECT_EQ(resolve("/bin/../bin/tool").path, "/usr/bin/tool");  // ".." after the link's target
  // The last name is the link itself unless followed.
  EXPECT_EQ(resolve("/bin", false).path, "/bin");
  EXPECT_EQ(resolve("/bin", false).type, S_IFLNK);
  EXPECT_EQ(resolve("/bin/alias", false).path, "/usr/bin/alias");
}

TEST_F(Resolve, NeverLeavesTheRoot) {
  // The host has /etc/passwd; below this root there is none.
  FsNode n = resolve("/escape/passwd");
  EXPECT_EQ(n.path, "/etc/passwd");
  EXPECT_EQ(n.type, 0) << "resolved on the host's side";
  n = resolve("/usr/bin/passwd-link");
  EXPECT_EQ(n.path, "/etc/passwd");
  EXPECT_EQ(n.type, 0);
}

TEST_F(Resolve, MissingLoopsAndNonFolders) {
  EXPECT_EQ(resolve("/new/dir/file").path, "/new/dir/file");
  EXPECT_EQ(resolve("/new/dir/file").type, 0);
  EXPECT_EQ(resolve("/usr/new/../bin/tool").path, "/usr/bin/tool");  // lexical past a missing name
  EXPECT_EQ(resolve("/usr/new/../bin/tool").type, 0);
  EXPECT_EQ(resolve("/loop/x").type, 0);
  EXPECT_EQ(resolve("/usr/bin/tool/x").path, "/usr/bin/tool/x");
  EXPECT_EQ(resolve("/usr/bin/tool/x").type, 0);
}

TEST_F(Resolve, NothingIsResolvedBelowProcfs) {
  // /proc/1/root is a link to "/" here; in a real procfs it would be a magic link.
  FsNode n = resolve("/proc/1/root/usr/bin/tool");
  EXPECT_EQ(n.path, "/proc/1/root/usr/bin/tool");
  EXPECT_EQ(n.type, 0);
}

}  // namespace
}  // namespace paddock
