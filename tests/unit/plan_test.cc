// make_plan and print_plan: the SandboxPlan computed from a Policy and hand-made HostFacts.
// Pure functions, so no privileges and no real paths are needed: every host path a test
// relies on is declared in HostFacts.paths (anything else is Missing).
#include "sandbox/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "policy/policy.h"
#include "policy/profile_loader.h"
#include "sandbox/landlock_abi.h"
#include "sandbox/seccomp_baseline.h"
#include "test_util.h"

namespace paddock {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::test_vars;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using K = MountOp::Kind;
using T = PathInfo::Type;

// ---------------------------------------------------------------------------------------------
// Helpers

// One profile, parsed and finalised as the loader does for a single file named p.toml.
Policy policy(const std::string& text) {
  Policy p;
  merge_layer(p, parse_profile_text(text, "p.toml", test_vars(), nullptr, /*check_scripts=*/false));
  finalize_policy(p);
  return p;
}

void dir(HostFacts& h, const std::string& p) {
  h.paths[p] = PathInfo{T::Dir, ""};
}
void file(HostFacts& h, const std::string& p) {
  h.paths[p] = PathInfo{T::File, ""};
}
void symlink(HostFacts& h, const std::string& p, const std::string& to) {
  h.paths[p] = PathInfo{T::Symlink, to};
}

// A host with everything available: user namespaces, Landlock ABI 6; the working directory
// is test_vars().cwd (/work/project) and a few usual folders exist.
HostFacts host() {
  HostFacts h;
  h.uid = 1000;
  h.gid = 1000;
  h.cwd = "/work/project";
  h.env = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/home/tester"}, {"LANG", "C.UTF-8"}, {"EDITOR", "vim"}};
  h.landlock_abi = 6;
  h.userns = true;
  h.userns_detail = "user.max_user_namespaces is 0";
  h.landlock_detail = "landlock is not in the lsm= list";
  for (const char* d :
       {"/", "/usr", "/etc", "/work", "/work/project", "/work/project/src", "/home", "/home/tester", "/tmp"}) {
    dir(h, d);
  }
  file(h, "/etc/hosts");
  return h;
}

SandboxPlan plan_of(const std::string& text, const HostFacts& h = host()) {
  return make_plan(policy(text), h, {"agent", "--flag"});
}

std::string plan_error(const std::string& text, const HostFacts& h = host()) {
  return error_of([&] { (void)make_plan(policy(text), h, {"agent"}); });
}

// Index of the first mount op with this target (and kind, when given); -1 when none.
int index_of(const SandboxPlan& p, const std::string& target) {
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    if (p.mounts[i].target == target) return static_cast<int>(i);
  }
  return -1;
}

int count_target(const SandboxPlan& p, const std::string& target) {
  return static_cast<int>(
      std::count_if(p.mounts.begin(), p.mounts.end(), [&](const MountOp& m) { return m.target == target; }));
}

const MountOp* mount_at(const SandboxPlan& p, const std::string& target) {
  int i = index_of(p, target);
  return i < 0 ? nullptr : &p.mounts[static_cast<size_t>(i)];
}

const LandlockRule* rule_for(const SandboxPlan& p, const std::string& path) {
  for (const auto& r : p.landlock.rules) {
    if (r.path == path) return &r;
  }
  return nullptr;
}

const EnvVar* env_var(const SandboxPlan& p, const std::string& name) {
  for (const auto& e : p.env) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> env_names(const SandboxPlan& p) {
  std::vector<std::string> out;
  for (const auto& e : p.env) out.push_back(e.name);
  return out;
}

int count_rules(const SandboxPlan& p, const std::string& syscall) {
  return static_cast<int>(std::count_if(p.seccomp.rules.begin(), p.seccomp.rules.end(),
                                        [&](const SeccompRule& r) { return r.syscall == syscall; }));
}

bool is_grant_kind(K k) {
  return k == K::BindRo || k == K::BindRw;
}

std::string printed(const SandboxPlan& p) {
  std::ostringstream out;
  print_plan(out, p);
  return out.str();
}

Origin at(int line, int column) {
  return Origin{"p.toml", line, column};
}

constexpr std::uint64_t kAllFs6 = 0xffff;  // the 16 file-system rights of ABI 5 and 6
constexpr std::uint64_t kReadDirRights =
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE;
constexpr std::uint64_t kReadFileRights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_EXECUTE;
constexpr std::uint64_t kAllNamespaces =
    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

// ---------------------------------------------------------------------------------------------
// Mounts: grants

TEST(PlanMounts, ParentsBeforeChildrenWhateverTheProfileOrder) {
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"${CWD}/src\"]\n"
      "write = [\"${CWD}\"]\n");
  ASSERT_GE(p.mounts.size(), 2u);
  EXPECT_EQ(p.mounts[0].kind, K::BindRw);
  EXPECT_EQ(p.mounts[0].source, "/work/project");
  EXPECT_EQ(p.mounts[0].target, "/work/project");
  EXPECT_EQ(p.mounts[0].origin, at(3, 10));
  EXPECT_EQ(p.mounts[1].kind, K::BindRo);
  EXPECT_EQ(p.mounts[1].source, "/work/project/src");
  EXPECT_EQ(p.mounts[1].target, "/work/project/src");
  EXPECT_EQ(p.mounts[1].origin, at(2, 9));
  EXPECT_EQ(p.mounts[2].kind, K::Proc);  // the grants are first, then the built-in file systems
}

TEST(PlanMounts, KindPerGrant) {
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\", \"/etc/hosts\"]\n"
      "write = [\"${CWD}\"]\n"
      "tmpfs = [\"/tmp\"]\n");
  ASSERT_GE(p.mounts.size(), 4u);
  // Sorted: /etc/hosts, /tmp, /usr, /work/project.
  EXPECT_EQ(p.mounts[0].kind, K::BindRo);
  EXPECT_EQ(p.mounts[0].target, "/etc/hosts");
  EXPECT_EQ(p.mounts[0].source, "/etc/hosts");
  EXPECT_EQ(p.mounts[1].kind, K::Tmpfs);
  EXPECT_EQ(p.mounts[1].target, "/tmp");
  EXPECT_EQ(p.mounts[1].source, "");
  EXPECT_EQ(p.mounts[1].origin, at(4, 10));
  EXPECT_EQ(p.mounts[2].kind, K::BindRo);
  EXPECT_EQ(p.mounts[2].target, "/usr");
  EXPECT_EQ(p.mounts[2].origin, at(2, 9));
  EXPECT_EQ(p.mounts[3].kind, K::BindRw);
  EXPECT_EQ(p.mounts[3].target, "/work/project");
  EXPECT_EQ(p.mounts[4].kind, K::Proc);
  EXPECT_THAT(p.notes, IsEmpty());
}

TEST(PlanMounts, MissingGrantIsSkippedWithANote) {
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\", \"/opt/nowhere\"]\n"
      "write = [\"${CWD}\"]\n");
  EXPECT_EQ(index_of(p, "/opt/nowhere"), -1);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_THAT(p.notes[0], AllOf(HasSubstr("/opt/nowhere"), HasSubstr("p.toml:2"), HasSubstr("does not exist")));
  for (const auto& w : p.warnings) EXPECT_THAT(w, Not(HasSubstr("/opt/nowhere")));
  EXPECT_THAT(p.degradations, IsEmpty());
  // The rest is planned as usual.
  ASSERT_NE(mount_at(p, "/usr"), nullptr);
  EXPECT_EQ(mount_at(p, "/usr")->kind, K::BindRo);
}

TEST(PlanMounts, TopLevelSymlinkGrantIsRecreatedAsTheSameSymlink) {
  HostFacts h = host();
  symlink(h, "/lib", "usr/lib");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\", \"/lib\"]\n",
      h);
  const MountOp* m = mount_at(p, "/lib");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->kind, K::Symlink);
  EXPECT_EQ(m->source, "usr/lib");
  EXPECT_EQ(m->origin, at(2, 17));
  EXPECT_EQ(count_target(p, "/lib"), 1);
}

TEST(PlanMounts, SymlinkGrantInsideAnotherGrantIsSkippedWithAWarning) {
  HostFacts h = host();
  symlink(h, "/work/project/current", "releases/7");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"${CWD}/current\"]\n"
      "write = [\"${CWD}\"]\n",
      h);
  EXPECT_EQ(index_of(p, "/work/project/current"), -1);
  EXPECT_THAT(p.warnings, Contains(AllOf(HasSubstr("/work/project/current"), HasSubstr("symlink"))));
  ASSERT_NE(mount_at(p, "/work/project"), nullptr);
  EXPECT_EQ(mount_at(p, "/work/project")->kind, K::BindRw);
}

// ---------------------------------------------------------------------------------------------
// Mounts: the built-in /proc and /dev

TEST(PlanMounts, ProcAndMinimalDevExactly) {
  SandboxPlan p = plan_of("");
  using Op = std::tuple<K, std::string, std::string>;  // kind, target, source
  std::vector<Op> got;
  for (const auto& m : p.mounts) got.emplace_back(m.kind, m.target, m.source);
  EXPECT_THAT(
      got,
      ElementsAre(Op{K::Proc, "/proc", ""},                                                                //
                  Op{K::ReadOnly, "/proc/sys", ""},                                                        //
                  Op{K::ReadOnly, "/proc/sysrq-trigger", ""},                                              //
                  Op{K::ReadOnly, "/proc/irq", ""},                                                        //
                  Op{K::ReadOnly, "/proc/bus", ""},                                                        //
                  Op{K::ReadOnly, "/proc/fs", ""},                                                         //
                  Op{K::Tmpfs, "/dev", ""},                                                                //
                  Op{K::BindDev, "/dev/null", "/dev/null"},                                                //
                  Op{K::BindDev, "/dev/zero", "/dev/zero"},                                                //
                  Op{K::BindDev, "/dev/full", "/dev/full"},                                                //
                  Op{K::BindDev, "/dev/random", "/dev/random"},                                            //
                  Op{K::BindDev, "/dev/urandom", "/dev/urandom"}, Op{K::BindDev, "/dev/tty", "/dev/tty"},  //
                  Op{K::Devpts, "/dev/pts", ""},                                                           //
                  Op{K::Symlink, "/dev/ptmx", "pts/ptmx"},                                                 //
                  Op{K::Tmpfs, "/dev/shm", ""},                                                            //
                  Op{K::Symlink, "/dev/fd", "/proc/self/fd"}, Op{K::Symlink, "/dev/stdin", "/proc/self/fd/0"},
                  Op{K::Symlink, "/dev/stdout", "/proc/self/fd/1"}, Op{K::Symlink, "/dev/stderr", "/proc/self/fd/2"}));
  for (const auto& m : p.mounts) {
    EXPECT_TRUE(m.origin.known()) << m.target;
    EXPECT_THAT(m.origin.file, StartsWith("built-in")) << m.target;
    EXPECT_EQ(m.origin.line, 0) << m.target;
  }
}

TEST(PlanMounts, GrantOfRootStillGetsItsOwnProcAndDev) {
  SandboxPlan p = plan_of("[filesystem]\nread = [\"/\"]\n");
  ASSERT_GE(p.mounts.size(), 2u);
  EXPECT_EQ(p.mounts[0].kind, K::BindRo);
  EXPECT_EQ(p.mounts[0].target, "/");
  EXPECT_EQ(p.mounts[1].kind, K::Proc);
  EXPECT_EQ(mount_at(p, "/dev")->kind, K::Tmpfs);
}

// ---------------------------------------------------------------------------------------------
// Mounts: deny

TEST(PlanMounts, DenyInsideAGrantMasksByType) {
  HostFacts h = host();
  dir(h, "/home/tester/.ssh");
  file(h, "/home/tester/.netrc");
  symlink(h, "/home/tester/.aws", "/mnt/creds/aws");
  // /home/tester/.kube is not in the map: Missing.
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"${HOME}\"]\n"
      "deny = [\"${HOME}/.ssh\", \"${HOME}/.netrc\",\n"
      "        \"${HOME}/.aws\", \"${HOME}/.kube\"]\n",
      h);
  const MountOp* ssh = mount_at(p, "/home/tester/.ssh");
  ASSERT_NE(ssh, nullptr);
  EXPECT_EQ(ssh->kind, K::MaskDir);
  EXPECT_EQ(ssh->source, "");
  EXPECT_EQ(ssh->origin, at(3, 9));
  const MountOp* netrc = mount_at(p, "/home/tester/.netrc");
  ASSERT_NE(netrc, nullptr);
  EXPECT_EQ(netrc->kind, K::MaskFile);
  EXPECT_EQ(netrc->origin, at(3, 25));
  EXPECT_EQ(count_target(p, "/home/tester/.ssh"), 1);
  EXPECT_EQ(count_target(p, "/home/tester/.netrc"), 1);
  EXPECT_EQ(index_of(p, "/home/tester/.kube"), -1);  // nothing to hide
  EXPECT_EQ(index_of(p, "/home/tester/.aws"), -1);   // a symlink is not followed...
  EXPECT_THAT(p.warnings, Contains(AllOf(HasSubstr("/home/tester/.aws"), HasSubstr("symlink"), HasSubstr("p.toml:4"))));
}

TEST(PlanMounts, DenyOutsideEveryGrantMountsNothing) {
  HostFacts h = host();
  dir(h, "/home/tester/.ssh");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\"]\n"
      "deny = [\"${HOME}/.ssh\"]\n",
      h);
  EXPECT_EQ(index_of(p, "/home/tester/.ssh"), -1);
  for (const auto& m : p.mounts) {
    EXPECT_NE(m.kind, K::MaskDir) << m.target;
    EXPECT_NE(m.kind, K::MaskFile) << m.target;
  }
}

TEST(PlanMounts, DenyInsideATmpfsGrantMountsNothing) {
  HostFacts h = host();
  dir(h, "/tmp/cache");
  file(h, "/tmp/token");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "tmpfs = [\"/tmp\"]\n"
      "deny = [\"/tmp/cache\", \"/tmp/token\"]\n",
      h);
  EXPECT_EQ(index_of(p, "/tmp/cache"), -1);
  EXPECT_EQ(index_of(p, "/tmp/token"), -1);
  EXPECT_EQ(mount_at(p, "/tmp")->kind, K::Tmpfs);
}

// A tmpfs nested inside a bound folder hides the host's content below it just as a top-level
// tmpfs does; a mask there would target a path that does not exist on the fresh tmpfs, and the
// sandbox refuses to start ("... lies inside a folder bound from the host").
TEST(PlanMounts, DenyInsideATmpfsNestedInABindMountsNothing) {
  HostFacts h = host();
  dir(h, "/work/project/tmp");
  dir(h, "/work/project/tmp/cache");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "write = [\"${CWD}\"]\n"
      "tmpfs = [\"${CWD}/tmp\"]\n"
      "deny = [\"${CWD}/tmp/cache\"]\n",
      h);
  EXPECT_EQ(mount_at(p, "/work/project/tmp")->kind, K::Tmpfs);
  EXPECT_EQ(index_of(p, "/work/project/tmp/cache"), -1);

  // The same with the whole host read-only and an ssh-agent socket under /tmp (the base
  // profile denies ${SSH_AUTH_SOCK}).
  HostFacts h2 = host();
  dir(h2, "/tmp/ssh-XYZ");
  h2.paths["/tmp/ssh-XYZ/agent.42"] = PathInfo{T::Other, ""};
  SandboxPlan q = plan_of(
      "[filesystem]\n"
      "read = [\"/\"]\n"
      "tmpfs = [\"/tmp\"]\n"
      "deny = [\"/tmp/ssh-XYZ/agent.42\"]\n",
      h2);
  EXPECT_EQ(mount_at(q, "/tmp")->kind, K::Tmpfs);
  EXPECT_EQ(index_of(q, "/tmp/ssh-XYZ/agent.42"), -1);
}

TEST(PlanMounts, MasksComeAfterEveryGrantAndBuiltIn) {
  HostFacts h = host();
  dir(h, "/home/tester/.ssh");
  file(h, "/etc/shadow");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/etc\", \"/usr\", \"${HOME}\"]\n"
      "write = [\"${CWD}\"]\n"
      "tmpfs = [\"/tmp\"]\n"
      "deny = [\"${HOME}/.ssh\", \"/etc/shadow\"]\n",
      h);
  int first_mask = -1, last_other = -1;
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    K k = p.mounts[i].kind;
    if (k == K::MaskDir || k == K::MaskFile) {
      if (first_mask < 0) first_mask = static_cast<int>(i);
    } else {
      last_other = static_cast<int>(i);
    }
  }
  ASSERT_GE(first_mask, 0);
  EXPECT_GT(first_mask, last_other);
  // Both masks, sorted by path, at the very end.
  ASSERT_GE(p.mounts.size(), 2u);
  const auto& a = p.mounts[p.mounts.size() - 2];
  const auto& b = p.mounts[p.mounts.size() - 1];
  EXPECT_EQ(a.kind, K::MaskFile);
  EXPECT_EQ(a.target, "/etc/shadow");
  EXPECT_EQ(b.kind, K::MaskDir);
  EXPECT_EQ(b.target, "/home/tester/.ssh");
  EXPECT_GT(index_of(p, "/etc/shadow"), index_of(p, "/work/project"));
  EXPECT_GT(index_of(p, "/home/tester/.ssh"), index_of(p, "/dev/stderr"));
}

// ---------------------------------------------------------------------------------------------
// Mounts: secrets

TEST(PlanMounts, FileSecretsGetATmpfsAtRunSecrets) {
  HostFacts h = host();
  dir(h, "/home/tester/.ssh");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"${HOME}\"]\n"
      "deny = [\"${HOME}/.ssh\"]\n"
      "[secrets.API_KEY]\n"
      "from_env = \"HOST_API_KEY\"\n"
      "expose = \"file\"\n",
      h);
  ASSERT_EQ(count_target(p, "/run/secrets"), 1);
  EXPECT_EQ(p.mounts.back().kind, K::Secrets);
  EXPECT_EQ(p.mounts.back().target, "/run/secrets");
  EXPECT_EQ(p.mounts.back().source, "");
  // After the masks too.
  EXPECT_GT(index_of(p, "/run/secrets"), index_of(p, "/home/tester/.ssh"));
}

TEST(PlanMounts, EnvSecretsGetNoMount) {
  SandboxPlan p = plan_of(
      "[secrets.API_KEY]\n"
      "from_env = \"HOST_API_KEY\"\n"
      "expose = \"env\"\n");
  EXPECT_EQ(index_of(p, "/run/secrets"), -1);
  for (const auto& m : p.mounts) EXPECT_NE(m.kind, K::Secrets);
}

// ---------------------------------------------------------------------------------------------
// Namespaces and network

TEST(PlanNamespaces, NetworkNoneGetsEveryNamespace) {
  SandboxPlan p = plan_of("[network]\nmode = \"none\"\n");
  EXPECT_TRUE(p.namespaces);
  EXPECT_EQ(p.clone_flags, kAllNamespaces | CLONE_NEWNET);
  EXPECT_EQ(p.net, NetMode::None);
  EXPECT_EQ(p.uid, 1000u);
  EXPECT_EQ(p.gid, 1000u);
  EXPECT_EQ(p.hostname, "paddock");
  EXPECT_THAT(p.command, ElementsAre("agent", "--flag"));
}

TEST(PlanNamespaces, NoNetworkSectionMeansNone) {
  SandboxPlan p = plan_of("");
  EXPECT_EQ(p.clone_flags, kAllNamespaces | CLONE_NEWNET);
  EXPECT_EQ(p.net, NetMode::None);
  EXPECT_THAT(p.warnings, Not(Contains(HasSubstr("host"))));
}

TEST(PlanNamespaces, NetworkHostSharesTheNetworkWithAWarning) {
  SandboxPlan p = plan_of("[network]\nmode = \"host\"\n");
  EXPECT_EQ(p.clone_flags, kAllNamespaces);
  EXPECT_EQ(p.clone_flags & CLONE_NEWNET, 0u);
  EXPECT_EQ(p.net, NetMode::Host);
  EXPECT_THAT(p.warnings, Contains(AllOf(HasSubstr("host"), HasSubstr("p.toml:2"))));
}

TEST(PlanProxy, EndpointsPortsEnvironmentAndFiles) {
  SandboxPlan p = plan_of(
      "[network]\n"
      "mode = \"proxy\"\n"
      "allow = [\"pypi.org\", \"api.example.com:8443\", \"10.0.0.0/8:22\", \"h.example:9000-9002\"]\n"
      "deny = [\"evil.example\"]\n"
      "max_bytes_out = \"10M\"\n"
      "[network.per_host]\n"
      "max_connections = 3\n");
  EXPECT_EQ(p.net, NetMode::Proxy);
  EXPECT_EQ(p.clone_flags, kAllNamespaces | CLONE_NEWNET);
  ASSERT_TRUE(p.proxy.enabled);
  EXPECT_THAT(p.proxy.transparent_ports, ElementsAre(22, 80, 443, 8443, 9000, 9001, 9002));
  EXPECT_THAT(p.proxy.listen_ports(), ElementsAre(22, 53, 80, 443, 1080, 3128, 8443, 9000, 9001, 9002));
  EXPECT_EQ(p.landlock.connect_ports, p.proxy.listen_ports());
  EXPECT_EQ(p.proxy.allow.size(), 4u);
  EXPECT_EQ(p.proxy.deny.size(), 1u);
  ASSERT_TRUE(p.proxy.budget.max_bytes_out);
  EXPECT_EQ(p.proxy.budget.max_bytes_out->value, 10u << 20);
  EXPECT_EQ(p.proxy.budget.max_bytes_out->origin.short_str(), "p.toml:5");
  EXPECT_FALSE(p.proxy.budget.max_connections);
  ASSERT_TRUE(p.proxy.per_host.max_connections);
  EXPECT_EQ(p.proxy.per_host.max_connections->value, 3u);
  auto env = [&](const std::string& n) {
    for (const auto& e : p.env) {
      if (e.name == n) return e.value;
    }
    return std::string("<unset>");
  };
  EXPECT_EQ(env("HTTP_PROXY"), "http://127.0.0.1:3128");
  EXPECT_EQ(env("https_proxy"), "http://127.0.0.1:3128");
  EXPECT_EQ(env("ALL_PROXY"), "socks5h://127.0.0.1:1080");
  EXPECT_EQ(env("no_proxy"), "localhost,127.0.0.1,::1");
  int files = 0;
  for (const auto& m : p.mounts) {
    if (m.kind != K::File) continue;
    ++files;
    if (m.target == "/etc/resolv.conf") {
      EXPECT_THAT(m.source, HasSubstr("nameserver 127.0.0.1\n"));
    } else {
      EXPECT_EQ(m.target, "/etc/hosts");
      EXPECT_THAT(m.source, AllOf(HasSubstr("127.0.0.1\tlocalhost"), HasSubstr("paddock")));
    }
  }
  EXPECT_EQ(files, 2);
  std::ostringstream out;
  print_plan(out, p);
  EXPECT_THAT(out.str(), AllOf(HasSubstr("HTTP proxy 127.0.0.1:3128"), HasSubstr("SOCKS5 127.0.0.1:1080"),
                               HasSubstr("198.18.0.0/15"), HasSubstr("max_bytes_out 10M")));
}

TEST(PlanProxy, ProfileEnvSetWinsOverTheProxyVariables) {
  SandboxPlan p = plan_of(
      "[network]\nmode = \"proxy\"\nallow = [\"pypi.org\"]\n[env]\nset = { NO_PROXY = \"localhost,.internal\" }\n");
  int seen = 0;
  for (const auto& e : p.env) {
    if (e.name == "NO_PROXY") {
      ++seen;
      EXPECT_EQ(e.value, "localhost,.internal");
    }
  }
  EXPECT_EQ(seen, 1);
}

TEST(PlanProxy, SymlinkedResolvConfIsReplacedWhereItPoints) {
  HostFacts h = host();
  symlink(h, "/etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf");
  SandboxPlan p = plan_of("[network]\nmode = \"proxy\"\nallow = [\"pypi.org\"]\n", h);
  std::vector<std::string> targets;
  for (const auto& m : p.mounts) {
    if (m.kind == K::File) targets.push_back(m.target);
  }
  EXPECT_THAT(targets, ElementsAre("/run/systemd/resolve/stub-resolv.conf", "/etc/hosts"));
}

TEST(PlanProxy, EmptyAllowListIsANoteAndNoTransparentPorts) {
  SandboxPlan p = plan_of("[network]\nmode = \"proxy\"\n");
  EXPECT_TRUE(p.proxy.transparent_ports.empty());
  EXPECT_THAT(p.proxy.listen_ports(), ElementsAre(53, 1080, 3128));
  EXPECT_THAT(p.notes, Contains(HasSubstr("empty network.allow")));
}

TEST(PlanProxy, HugePortRangesAreCappedWithANote) {
  SandboxPlan p = plan_of("[network]\nmode = \"proxy\"\nallow = [\"h.example:1-65535\"]\n");
  EXPECT_EQ(p.proxy.transparent_ports.size(), kMaxTransparentPorts);
  EXPECT_THAT(p.notes, Contains(HasSubstr("HTTP proxy and SOCKS serve every allowed port")));
}

TEST(PlanProxy, NeedsANetworkNamespaceEvenWithBestEffort) {
  HostFacts h = host();
  h.userns = false;
  std::string e =
      plan_error("[network]\nmode = \"proxy\"\nallow = [\"pypi.org\"]\n[sandbox]\nbest_effort = [\"namespaces\"]\n", h);
  EXPECT_THAT(e, AllOf(StartsWith("p.toml:2:8: "), HasSubstr("network namespace")));
}

TEST(PlanProxy, OtherModesHaveNoProxy) {
  EXPECT_FALSE(plan_of("[network]\nmode = \"none\"\n").proxy.enabled);
  EXPECT_FALSE(plan_of("[network]\nmode = \"host\"\n").proxy.enabled);
  for (const auto& e : plan_of("").env) EXPECT_NE(e.name, "HTTP_PROXY");
}

// ---------------------------------------------------------------------------------------------
// Fallbacks (fail closed unless best_effort)

TEST(PlanFallback, NoUserNamespacesIsRefused) {
  HostFacts h = host();
  h.userns = false;
  std::string e = plan_error("[filesystem]\nread = [\"/usr\"]\n", h);
  EXPECT_THAT(e, AllOf(HasSubstr("namespaces"), HasSubstr("best_effort"), HasSubstr(h.userns_detail)));
}

TEST(PlanFallback, NoUserNamespacesWithBestEffortDegrades) {
  HostFacts h = host();
  h.userns = false;
  dir(h, "/home/tester/.ssh");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"${HOME}\"]\n"
      "write = [\"${CWD}\"]\n"
      "deny = [\"${HOME}/.ssh\", \"${HOME}/.aws\"]\n"
      "[sandbox]\n"
      "best_effort = [\"namespaces\"]\n",
      h);
  EXPECT_FALSE(p.namespaces);
  EXPECT_EQ(p.clone_flags, 0u);
  EXPECT_THAT(p.mounts, IsEmpty());
  ASSERT_EQ(p.degradations.size(), 1u);
  EXPECT_THAT(p.degradations[0], AllOf(HasSubstr("namespaces"), HasSubstr(h.userns_detail),
                                       HasSubstr("deny /home/tester/.ssh is not enforced"),
                                       HasSubstr("deny /home/tester/.aws is not enforced")));
  // Landlock still applies, without the rules that assume the private mount view (listing
  // "/", /dev/shm, /dev/pts) but with /proc and the harmless devices every command needs.
  EXPECT_EQ(p.landlock.abi, 6);
  EXPECT_EQ(rule_for(p, "/"), nullptr);
  EXPECT_EQ(rule_for(p, "/dev/shm"), nullptr);
  EXPECT_NE(rule_for(p, "/proc"), nullptr);
  EXPECT_NE(rule_for(p, "/dev/null"), nullptr);
  EXPECT_NE(rule_for(p, "/work/project"), nullptr);
  EXPECT_EQ(p.cwd, "/work/project");
}

TEST(PlanFallback, NoLandlockIsRefused) {
  HostFacts h = host();
  h.landlock_abi = 0;
  std::string e = plan_error("[filesystem]\nread = [\"/usr\"]\n", h);
  EXPECT_THAT(e, AllOf(HasSubstr("landlock"), HasSubstr("best_effort"), HasSubstr(h.landlock_detail)));
}

TEST(PlanFallback, NoLandlockWithBestEffortDegrades) {
  HostFacts h = host();
  h.landlock_abi = 0;
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\"]\n"
      "[sandbox]\n"
      "best_effort = [\"landlock\"]\n",
      h);
  EXPECT_EQ(p.landlock.abi, 0);
  EXPECT_EQ(p.landlock.handled_fs, 0u);
  EXPECT_EQ(p.landlock.handled_net, 0u);
  EXPECT_EQ(p.landlock.scoped, 0u);
  EXPECT_THAT(p.landlock.rules, IsEmpty());
  ASSERT_EQ(p.degradations.size(), 1u);
  EXPECT_THAT(p.degradations[0], AllOf(HasSubstr("landlock"), HasSubstr(h.landlock_detail)));
  // The mount view is still there.
  EXPECT_TRUE(p.namespaces);
  ASSERT_NE(mount_at(p, "/usr"), nullptr);
  EXPECT_EQ(mount_at(p, "/usr")->kind, K::BindRo);
}

TEST(PlanFallback, NeitherNamespacesNorLandlockIsAlwaysRefused) {
  HostFacts h = host();
  h.userns = false;
  h.landlock_abi = 0;
  EXPECT_NE(plan_error("[filesystem]\nread = [\"/usr\"]\n", h), "<no error>");
  EXPECT_THAT(plan_error("[sandbox]\nbest_effort = [\"namespaces\"]\n", h), HasSubstr("landlock"));
  EXPECT_THAT(plan_error("[sandbox]\nbest_effort = [\"landlock\"]\n", h), HasSubstr("namespaces"));
  std::string both = plan_error("[sandbox]\nbest_effort = [\"namespaces\", \"landlock\"]\n", h);
  EXPECT_THAT(both, AllOf(HasSubstr("namespaces"), HasSubstr("landlock"), HasSubstr("refusing")));
}

// ---------------------------------------------------------------------------------------------
// Landlock

struct AbiCase {
  int abi;
  std::uint64_t fs;
  std::uint64_t net;
  std::uint64_t scoped;
};

TEST(PlanLandlock, HandledRightsGrowWithTheAbi) {
  const std::uint64_t base = 0x1fff;  // execute .. make_sym: the 13 rights of ABI 1
  const std::uint64_t tcp = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
  const std::uint64_t scope = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
  const AbiCase cases[] = {
      {1, base, 0, 0},
      {2, base | LANDLOCK_ACCESS_FS_REFER, 0, 0},
      {3, base | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE, 0, 0},
      {4, base | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE, tcp, 0},
      {5, kAllFs6, tcp, 0},
      {6, kAllFs6, tcp, scope},
  };
  EXPECT_EQ(base | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV, kAllFs6);
  for (const auto& c : cases) {
    HostFacts h = host();
    h.landlock_abi = c.abi;
    SandboxPlan p = plan_of("[network]\nmode = \"none\"\n", h);
    EXPECT_EQ(p.landlock.abi, c.abi);
    EXPECT_EQ(p.landlock.handled_fs, c.fs) << "ABI " << c.abi;
    EXPECT_EQ(p.landlock.handled_net, c.net) << "ABI " << c.abi;
    EXPECT_EQ(p.landlock.scoped, c.scoped) << "ABI " << c.abi;
    EXPECT_THAT(p.landlock.connect_ports, IsEmpty());
  }
}

TEST(PlanLandlock, NetworkHostHandlesNoTcp) {
  for (int abi : {4, 6}) {
    HostFacts h = host();
    h.landlock_abi = abi;
    SandboxPlan p = plan_of("[network]\nmode = \"host\"\n", h);
    EXPECT_EQ(p.landlock.handled_net, 0u) << "ABI " << abi;
    EXPECT_EQ(p.landlock.handled_fs, kAllFs6 & (abi >= 5 ? kAllFs6 : ~LANDLOCK_ACCESS_FS_IOCTL_DEV));
  }
  HostFacts h = host();
  SandboxPlan p = plan_of("[network]\nmode = \"host\"\n", h);
  EXPECT_EQ(p.landlock.scoped, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL);
}

TEST(PlanLandlock, AbiAboveSixIsClampedToSix) {
  HostFacts h = host();
  h.landlock_abi = 9;
  SandboxPlan p = plan_of("", h);
  EXPECT_EQ(p.landlock.abi, 6);
  EXPECT_EQ(p.landlock.handled_fs, kAllFs6);
  EXPECT_EQ(p.landlock.scoped, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL);
}

TEST(PlanLandlock, RightsPerGrantKindAndType) {
  HostFacts h = host();
  file(h, "/work/notes.txt");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\", \"/etc/hosts\"]\n"
      "write = [\"${CWD}\", \"/work/notes.txt\"]\n"
      "tmpfs = [\"/tmp\", \"/var/tmp\"]\n",
      h);
  const LandlockRule* usr = rule_for(p, "/usr");
  ASSERT_NE(usr, nullptr);
  EXPECT_EQ(usr->access, kReadDirRights);
  EXPECT_EQ(usr->origin, at(2, 9));
  const LandlockRule* hosts = rule_for(p, "/etc/hosts");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ(hosts->access, kReadFileRights);
  EXPECT_EQ(hosts->origin, at(2, 17));
  const LandlockRule* cwd = rule_for(p, "/work/project");
  ASSERT_NE(cwd, nullptr);
  EXPECT_EQ(cwd->access, p.landlock.handled_fs);
  EXPECT_EQ(cwd->access, kAllFs6);
  EXPECT_EQ(cwd->origin, at(3, 10));
  const LandlockRule* notes = rule_for(p, "/work/notes.txt");
  ASSERT_NE(notes, nullptr);
  EXPECT_EQ(notes->access, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                               LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV);
  EXPECT_EQ(notes->origin, at(3, 20));
  // tmpfs: every right, whether or not the host has the folder.
  for (const char* t : {"/tmp", "/var/tmp"}) {
    const LandlockRule* r = rule_for(p, t);
    ASSERT_NE(r, nullptr) << t;
    EXPECT_EQ(r->access, kAllFs6) << t;
  }
  EXPECT_EQ(rule_for(p, "/tmp")->origin, at(4, 10));
}

TEST(PlanLandlock, WriteRightsFollowTheAbi) {
  HostFacts h = host();
  h.landlock_abi = 2;
  file(h, "/work/notes.txt");
  SandboxPlan p = plan_of("[filesystem]\nwrite = [\"${CWD}\", \"/work/notes.txt\"]\n", h);
  EXPECT_EQ(rule_for(p, "/work/project")->access, 0x3fffu);
  EXPECT_EQ(rule_for(p, "/work/notes.txt")->access,
            LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE);
  for (const auto& r : p.landlock.rules) {
    EXPECT_EQ(r.access & ~p.landlock.handled_fs, 0u) << r.path << " has a right the ruleset does not handle";
  }
}

TEST(PlanLandlock, RootListingOnlyWithTheMountView) {
  SandboxPlan with = plan_of("[filesystem]\nread = [\"/usr\"]\n");
  const LandlockRule* root = rule_for(with, "/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->access, static_cast<std::uint64_t>(LANDLOCK_ACCESS_FS_READ_DIR));
  EXPECT_THAT(root->origin.file, StartsWith("built-in"));
  ASSERT_NE(rule_for(with, "/dev/null"), nullptr);
  EXPECT_EQ(rule_for(with, "/dev/null")->access,
            LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV);
  EXPECT_NE(rule_for(with, "/proc"), nullptr);

  HostFacts h = host();
  h.userns = false;
  SandboxPlan without = plan_of("[filesystem]\nread = [\"/usr\"]\n[sandbox]\nbest_effort = [\"namespaces\"]\n", h);
  EXPECT_EQ(rule_for(without, "/"), nullptr);
  EXPECT_NE(rule_for(without, "/dev/null"), nullptr);
  EXPECT_EQ(rule_for(without, "/dev/pts"), nullptr);
  ASSERT_NE(rule_for(without, "/usr"), nullptr);
}

TEST(PlanLandlock, MissingPathsGetNoRule) {
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\", \"/opt/nowhere\"]\n"
      "write = [\"/srv/nowhere\"]\n");
  EXPECT_EQ(rule_for(p, "/opt/nowhere"), nullptr);
  EXPECT_EQ(rule_for(p, "/srv/nowhere"), nullptr);
  EXPECT_NE(rule_for(p, "/usr"), nullptr);
}

TEST(PlanLandlock, FileSecretsAreReadable) {
  SandboxPlan p = plan_of("[secrets.K]\nfrom_env = \"K\"\nexpose = \"file\"\n");
  const LandlockRule* r = rule_for(p, "/run/secrets");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->access, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
  EXPECT_EQ(rule_for(plan_of("[secrets.K]\nfrom_env = \"K\"\n"), "/run/secrets"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// seccomp

TEST(PlanSeccomp, BaselineIsPresent) {
  SandboxPlan p = plan_of("");
  EXPECT_TRUE(p.seccomp.enabled);
  EXPECT_TRUE(p.seccomp.unknown_enosys);
  EXPECT_TRUE(p.seccomp.kill_foreign_arch);
  EXPECT_THAT(p.seccomp.removed, IsEmpty());
  auto baseline = baseline_seccomp_rules();
  ASSERT_EQ(p.seccomp.rules.size(), baseline.size());
  for (size_t i = 0; i < baseline.size(); ++i) EXPECT_EQ(p.seccomp.rules[i].syscall, baseline[i].syscall);
  for (const char* s : {"ptrace", "mount", "keyctl", "bpf", "perf_event_open", "io_uring_setup", "kexec_load",
                        "init_module", "unshare", "setns"}) {
    EXPECT_GE(count_rules(p, s), 1) << s;
  }
  EXPECT_EQ(count_rules(p, "ioctl"), 2);  // TIOCSTI and TIOCLINUX
}

TEST(PlanSeccomp, AllowRemovesEveryRuleOfThatNameWithAWarning) {
  SandboxPlan p = plan_of(
      "[syscalls]\n"
      "allow = [\"ptrace\",\n"
      "         \"ioctl\"]\n");
  EXPECT_EQ(count_rules(p, "ptrace"), 0);
  EXPECT_EQ(count_rules(p, "ioctl"), 0);
  EXPECT_EQ(p.seccomp.rules.size(), baseline_seccomp_rules().size() - 3);
  ASSERT_EQ(p.seccomp.removed.size(), 2u);
  EXPECT_EQ(p.seccomp.removed[0].name, "ptrace");
  EXPECT_EQ(p.seccomp.removed[0].origin, at(2, 10));
  EXPECT_EQ(p.seccomp.removed[1].name, "ioctl");
  EXPECT_EQ(p.seccomp.removed[1].origin, at(3, 10));
  EXPECT_THAT(p.warnings, Contains(AllOf(HasSubstr("\"ptrace\""), HasSubstr("p.toml:2"))));
  EXPECT_THAT(p.warnings, Contains(AllOf(HasSubstr("\"ioctl\""), HasSubstr("p.toml:3"))));
}

TEST(PlanSeccomp, AllowOfASyscallOutsideTheBaselineChangesNothing) {
  SandboxPlan p = plan_of("[syscalls]\nallow = [\"getpid\"]\n");
  EXPECT_EQ(p.seccomp.rules.size(), baseline_seccomp_rules().size());
  EXPECT_THAT(p.seccomp.removed, IsEmpty());
  EXPECT_THAT(p.warnings, Not(Contains(HasSubstr("getpid"))));
}

TEST(PlanSeccomp, DenyIsUnconditionalAndReplacesNarrowerBaselineRules) {
  SandboxPlan p = plan_of(
      "[syscalls]\n"
      "deny = [\"ioctl\", \"personality\", \"uname\"]\n");
  for (const char* s : {"ioctl", "personality", "uname"}) {
    ASSERT_EQ(count_rules(p, s), 1) << s;
    auto it = std::find_if(p.seccomp.rules.begin(), p.seccomp.rules.end(),
                           [&](const SeccompRule& r) { return r.syscall == s; });
    EXPECT_THAT(it->conds, IsEmpty()) << s;
    EXPECT_EQ(it->action, SeccompRule::Action::Errno) << s;
    EXPECT_EQ(it->err, 1) << s;  // EPERM
    EXPECT_EQ(it->why, "syscalls.deny") << s;
    EXPECT_EQ(it->origin.file, "p.toml") << s;
    EXPECT_EQ(it->origin.line, 2) << s;
  }
  auto baseline = baseline_seccomp_rules();
  auto in_baseline = [&](const std::string& s) {
    return std::count_if(baseline.begin(), baseline.end(), [&](const SeccompRule& r) { return r.syscall == s; });
  };
  EXPECT_EQ(in_baseline("ioctl"), 2);
  EXPECT_EQ(p.seccomp.rules.size(),
            baseline.size() - in_baseline("ioctl") - in_baseline("personality") - in_baseline("uname") + 3);
  EXPECT_THAT(p.seccomp.removed, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Environment

TEST(PlanEnv, PassTakesExactNamesAndPrefixesFromTheHost) {
  HostFacts h = host();
  h.env["LC_ALL"] = "C";
  h.env["LC_TIME"] = "en_GB.UTF-8";
  h.env["LCX"] = "not a locale";
  h.env["TERM"] = "xterm";
  SandboxPlan p = plan_of(
      "[env]\n"
      "pass = [\"PATH\", \"LC_*\",\n"
      "        \"NOT_ON_HOST\"]\n",
      h);
  EXPECT_THAT(env_names(p), ::testing::UnorderedElementsAre("PATH", "LC_ALL", "LC_TIME"));
  ASSERT_NE(env_var(p, "PATH"), nullptr);
  EXPECT_EQ(env_var(p, "PATH")->value, "/usr/bin:/bin");
  EXPECT_EQ(env_var(p, "PATH")->from, "pass");
  EXPECT_FALSE(env_var(p, "PATH")->secret);
  EXPECT_EQ(env_var(p, "PATH")->origin, at(2, 9));
  EXPECT_EQ(env_var(p, "LC_ALL")->value, "C");
  EXPECT_EQ(env_var(p, "LC_ALL")->origin, at(2, 17));
  EXPECT_EQ(env_var(p, "LC_TIME")->value, "en_GB.UTF-8");
  for (const char* absent : {"HOME", "LANG", "EDITOR", "LCX", "TERM", "NOT_ON_HOST"}) {
    EXPECT_EQ(env_var(p, absent), nullptr) << absent;
  }
}

TEST(PlanEnv, NothingPassedMeansAnEmptyEnvironment) {
  SandboxPlan p = plan_of("");
  EXPECT_THAT(p.env, IsEmpty());
  EXPECT_THAT(p.secret_files, IsEmpty());
}

TEST(PlanEnv, SetOverridesAPassedValue) {
  SandboxPlan p = plan_of(
      "[env]\n"
      "pass = [\"PATH\", \"LANG\"]\n"
      "set = { PATH = \"/sandbox/bin\", PYTHONUNBUFFERED = \"1\" }\n");
  EXPECT_EQ(std::count_if(p.env.begin(), p.env.end(), [](const EnvVar& e) { return e.name == "PATH"; }), 1);
  const EnvVar* path = env_var(p, "PATH");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(path->value, "/sandbox/bin");
  EXPECT_EQ(path->from, "set");
  EXPECT_EQ(path->origin.line, 3);
  ASSERT_NE(env_var(p, "PYTHONUNBUFFERED"), nullptr);
  EXPECT_EQ(env_var(p, "PYTHONUNBUFFERED")->value, "1");
  EXPECT_EQ(env_var(p, "LANG")->value, "C.UTF-8");
  EXPECT_EQ(env_var(p, "LANG")->from, "pass");
}

TEST(PlanEnv, EnvSecretIsDeclaredWithoutItsValue) {
  HostFacts h = host();
  h.env["HOST_GH"] = "ghp_DO_NOT_LEAK_0123456789";
  SandboxPlan p = plan_of(
      "[env]\n"
      "pass = [\"PATH\"]\n"
      "[secrets.GH_TOKEN]\n"
      "from_env = \"HOST_GH\"\n"
      "expose = \"env\"\n",
      h);
  const EnvVar* s = env_var(p, "GH_TOKEN");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->secret);
  EXPECT_EQ(s->value, "");
  EXPECT_EQ(s->from, "secret");
  EXPECT_EQ(s->origin.file, "p.toml");
  EXPECT_THAT(p.secret_files, IsEmpty());
  for (const auto& e : p.env) EXPECT_THAT(e.value, Not(HasSubstr("ghp_"))) << e.name;
}

TEST(PlanEnv, EnvSecretReplacesAPassedVariableOfTheSameName) {
  HostFacts h = host();
  h.env["GH_TOKEN"] = "ghp_DO_NOT_LEAK_0123456789";
  SandboxPlan p = plan_of(
      "[env]\n"
      "pass = [\"GH_*\"]\n"
      "[secrets.GH_TOKEN]\n"
      "from_env = \"GH_TOKEN\"\n",
      h);
  ASSERT_EQ(p.env.size(), 1u);
  EXPECT_EQ(p.env[0].name, "GH_TOKEN");
  EXPECT_TRUE(p.env[0].secret);
  EXPECT_EQ(p.env[0].value, "");
}

TEST(PlanEnv, FileSecretIsAFileNotAVariable) {
  SandboxPlan p = plan_of(
      "[secrets.DB_PASSWORD]\n"
      "from_file = \"/home/tester/db.pass\"\n"
      "expose = \"file\"\n");
  ASSERT_EQ(p.secret_files.size(), 1u);
  EXPECT_EQ(p.secret_files[0].name, "DB_PASSWORD");
  EXPECT_EQ(p.secret_files[0].origin.file, "p.toml");
  EXPECT_EQ(env_var(p, "DB_PASSWORD"), nullptr);
}

// "secrets enter only as declared": the host variable a secret is read from must not also
// reach the sandbox through an env.pass pattern, or expose = "file" (or a renamed env secret)
// would hand the agent the value in its environment anyway.
TEST(PlanEnv, SecretSourceVariableIsNotPassedThrough) {
  HostFacts h = host();
  h.env["HOST_GH"] = "ghp_DO_NOT_LEAK_0123456789";
  h.env["HOST_DB"] = "hunter2-DO_NOT_LEAK";
  h.env["HOST_NAME"] = "box";
  SandboxPlan p = plan_of(
      "[env]\n"
      "pass = [\"HOST_*\"]\n"
      "[secrets.GH_TOKEN]\n"
      "from_env = \"HOST_GH\"\n"
      "[secrets.DB]\n"
      "from_env = \"HOST_DB\"\n"
      "expose = \"file\"\n",
      h);
  EXPECT_NE(env_var(p, "HOST_NAME"), nullptr);
  EXPECT_EQ(env_var(p, "HOST_GH"), nullptr);
  EXPECT_EQ(env_var(p, "HOST_DB"), nullptr);
  for (const auto& e : p.env) EXPECT_THAT(e.value, Not(HasSubstr("DO_NOT_LEAK"))) << e.name;
}

// ---------------------------------------------------------------------------------------------
// rlimits and wall clock

TEST(PlanLimits, CoreDumpsAreAlwaysOff) {
  SandboxPlan p = plan_of("");
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_CORE);
  EXPECT_EQ(p.rlimits[0].soft, 0u);
  EXPECT_EQ(p.rlimits[0].hard, 0u);
  EXPECT_EQ(p.rlimits[0].name, "core");
  EXPECT_FALSE(p.wall.has_value());
}

TEST(PlanLimits, NofileAndWallComeFromTheProfile) {
  SandboxPlan p = plan_of(
      "[limits]\n"
      "nofile = 1024\n"
      "wall = \"30m\"\n");
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_CORE);
  EXPECT_EQ(p.rlimits[1].resource, RLIMIT_NOFILE);
  EXPECT_EQ(p.rlimits[1].soft, 1024u);
  EXPECT_EQ(p.rlimits[1].hard, 1024u);
  EXPECT_EQ(p.rlimits[1].name, "nofile");
  EXPECT_EQ(p.rlimits[1].origin, at(2, 10));
  ASSERT_TRUE(p.wall.has_value());
  EXPECT_EQ(p.wall->value, std::chrono::milliseconds(30min));
  EXPECT_EQ(p.wall->origin, at(3, 8));
}

// ---------------------------------------------------------------------------------------------
// Working directory

TEST(PlanCwd, HostCwdWhenGranted) {
  SandboxPlan p = plan_of("[filesystem]\nread = [\"/work\"]\n");
  EXPECT_EQ(p.cwd, "/work/project");
  EXPECT_THAT(p.warnings, Not(Contains(HasSubstr("working directory"))));
}

TEST(PlanCwd, RootWithAWarningWhenNotGranted) {
  SandboxPlan p = plan_of("[filesystem]\nread = [\"/usr\"]\n");
  EXPECT_EQ(p.cwd, "/");
  EXPECT_THAT(p.warnings, Contains(AllOf(HasSubstr("/work/project"), HasSubstr("not granted"))));
}

TEST(PlanCwd, RootWhenInsideADeniedPath) {
  HostFacts h = host();
  dir(h, "/home/tester/.ssh");
  dir(h, "/home/tester/.ssh/keys");
  h.cwd = "/home/tester/.ssh/keys";
  SandboxPlan p = plan_of("[filesystem]\nread = [\"${HOME}\"]\ndeny = [\"${HOME}/.ssh\"]\n", h);
  EXPECT_EQ(p.cwd, "/");
  EXPECT_THAT(p.warnings, Contains(HasSubstr("/home/tester/.ssh/keys")));
}

TEST(PlanCwd, TmpfsGrantItselfIsAValidCwd) {
  HostFacts h = host();
  h.cwd = "/tmp";
  SandboxPlan p = plan_of("[filesystem]\ntmpfs = [\"/tmp\"]\n", h);
  EXPECT_EQ(p.cwd, "/tmp");
}

// A folder below a tmpfs grant does not exist on the fresh tmpfs: chdir() would fail in the
// sandbox and the run end with exit 125. Expected: start in / with the usual warning.
TEST(PlanCwd, RootWhenInsideAFreshTmpfs) {
  HostFacts h = host();
  dir(h, "/tmp/build");
  h.cwd = "/tmp/build";
  SandboxPlan p = plan_of("[filesystem]\nread = [\"/usr\"]\ntmpfs = [\"/tmp\"]\n", h);
  EXPECT_EQ(p.cwd, "/");
  EXPECT_THAT(p.warnings, Contains(HasSubstr("/tmp/build")));
}

TEST(PlanCwd, BoundFolderInsideATmpfsIsAValidCwd) {
  HostFacts h = host();
  dir(h, "/tmp/build");
  h.cwd = "/tmp/build";
  SandboxPlan q = plan_of("[filesystem]\nwrite = [\"/tmp/build\"]\ntmpfs = [\"/tmp\"]\n", h);
  EXPECT_EQ(q.cwd, "/tmp/build");
  EXPECT_LT(index_of(q, "/tmp"), index_of(q, "/tmp/build"));
  EXPECT_EQ(mount_at(q, "/tmp/build")->kind, K::BindRw);
}

// ---------------------------------------------------------------------------------------------
// print_plan (--dry-run)

TEST(PrintPlan, ShowsEverythingButSecretValues) {
  HostFacts h = host();
  h.env["HOST_GH"] = "ghp_DO_NOT_LEAK_0123456789";
  h.env["DB_SRC"] = "hunter2-DO_NOT_LEAK";
  dir(h, "/home/tester/.ssh");
  SandboxPlan p = plan_of(
      "[filesystem]\n"
      "read = [\"/usr\", \"${HOME}\"]\n"
      "write = [\"${CWD}\"]\n"
      "tmpfs = [\"/tmp\"]\n"
      "deny = [\"${HOME}/.ssh\"]\n"
      "[env]\n"
      "pass = [\"PATH\", \"LANG\"]\n"
      "set = { PYTHONUNBUFFERED = \"1\" }\n"
      "[secrets.GH_TOKEN]\n"
      "from_env = \"HOST_GH\"\n"
      "[secrets.DB_PASSWORD]\n"
      "from_env = \"DB_SRC\"\n"
      "expose = \"file\"\n"
      "[syscalls]\n"
      "deny = [\"personality\"]\n"
      "[limits]\n"
      "nofile = 1024\n"
      "wall = \"30m\"\n",
      h);
  std::string out = printed(p);
  for (const auto& m : p.mounts) EXPECT_THAT(out, HasSubstr(m.target)) << m.target;
  EXPECT_THAT(out, HasSubstr("ABI 6"));
  for (const auto& r : p.seccomp.rules) EXPECT_THAT(out, HasSubstr(r.syscall)) << r.syscall;
  for (const char* name : {"PATH", "LANG", "PYTHONUNBUFFERED", "GH_TOKEN", "DB_PASSWORD"}) {
    EXPECT_THAT(out, HasSubstr(name)) << name;
  }
  EXPECT_THAT(out, HasSubstr("GH_TOKEN = <secret>"));
  EXPECT_THAT(out, HasSubstr("/run/secrets/DB_PASSWORD (0400) = <secret>"));
  EXPECT_THAT(out, HasSubstr("\"1\""));
  EXPECT_THAT(out, Not(HasSubstr("DO_NOT_LEAK")));
  EXPECT_THAT(out, Not(HasSubstr("ghp_")));
  EXPECT_THAT(out, Not(HasSubstr("hunter2")));
  EXPECT_THAT(out, HasSubstr("working directory: /work/project"));
  EXPECT_THAT(out, HasSubstr("p.toml:2"));  // grants cite their origin
  EXPECT_THAT(out, HasSubstr("nofile = 1024"));
  EXPECT_THAT(out, HasSubstr("wall clock"));
  EXPECT_THAT(out, Not(HasSubstr("DEGRADED")));
}

TEST(PrintPlan, DegradationsArePrinted) {
  HostFacts h = host();
  h.landlock_abi = 0;
  SandboxPlan p = plan_of("[filesystem]\nread = [\"/usr\"]\n[sandbox]\nbest_effort = [\"landlock\"]\n", h);
  std::string out = printed(p);
  EXPECT_THAT(out, HasSubstr("DEGRADED landlock"));
  EXPECT_THAT(out, HasSubstr("not applied (degraded)"));

  HostFacts h2 = host();
  h2.userns = false;
  dir(h2, "/home/tester/.ssh");
  SandboxPlan q = plan_of(
      "[filesystem]\nread = [\"${HOME}\"]\ndeny = [\"${HOME}/.ssh\"]\n[sandbox]\nbest_effort = [\"namespaces\"]\n", h2);
  std::string out2 = printed(q);
  EXPECT_THAT(out2, HasSubstr("DEGRADED namespaces"));
  EXPECT_THAT(out2, HasSubstr("none (degraded)"));
  EXPECT_THAT(out2, HasSubstr("ABI 6"));
  EXPECT_THAT(out2, Not(HasSubstr("[mounts]")));
}

TEST(PrintPlan, AbiAndTcpLinesFollowThePlan) {
  HostFacts h = host();
  h.landlock_abi = 3;
  std::string out = printed(plan_of("", h));
  EXPECT_THAT(out, HasSubstr("ABI 3"));
  EXPECT_THAT(out, HasSubstr("needs ABI 4"));
  EXPECT_THAT(out, HasSubstr("needs ABI 6"));
  std::string host_net = printed(plan_of("[network]\nmode = \"host\"\n"));
  EXPECT_THAT(host_net, HasSubstr("network mode host"));
  EXPECT_THAT(printed(plan_of("")), HasSubstr("TCP bind/connect: denied"));
}

// ---------------------------------------------------------------------------------------------
// Scale

TEST(PlanScale, FiveHundredReadGrants) {
  HostFacts h = host();
  std::string text = "[filesystem]\nread = [\n";
  std::vector<std::string> expected;
  for (int i = 499; i >= 0; --i) {  // listed in reverse: the plan must sort them
    char buf[32];
    std::snprintf(buf, sizeof buf, "/data/d%03d", i);
    dir(h, buf);
    text += std::string("  \"") + buf + "\",\n";
    expected.emplace_back(buf);
  }
  text += "]\n";
  std::sort(expected.begin(), expected.end());
  SandboxPlan p = plan_of(text, h);
  std::vector<std::string> got;
  for (const auto& m : p.mounts) {
    if (is_grant_kind(m.kind)) {
      EXPECT_EQ(m.kind, K::BindRo) << m.target;
      got.push_back(m.target);
    }
  }
  EXPECT_EQ(got, expected);
  ASSERT_GE(p.mounts.size(), 500u);
  EXPECT_EQ(p.mounts[0].target, "/data/d000");
  EXPECT_EQ(p.mounts[499].target, "/data/d499");
  EXPECT_EQ(p.mounts[500].kind, K::Proc);
  EXPECT_EQ(p.landlock.rules.size(), 500u + 1u /* "/" */ + 1u /* /proc */ + 6u /* devices */ + 3u /* pts shm dev */);
  EXPECT_THAT(p.notes, IsEmpty());
}

}  // namespace
}  // namespace paddock
