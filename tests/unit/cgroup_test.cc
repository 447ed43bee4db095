// Session cgroups: v2 against a fake tree (no privileges needed), v1 for real where paddock
// runs as root on a machine with writable v1 controllers, and the systemd scope request
// against a fake systemd speaking D-Bus over a socketpair.
#include "sandbox/cgroup.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "sandbox/systemd_scope.h"
#include "test_util.h"

namespace paddock {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

constexpr const char* kSession = "20261123T185701Z-3f9a1c2b7d4e5a60";
constexpr std::uint64_t k2G = 2147483648ULL;

std::string own(const std::string& session = kSession) {
  return "paddock-" + session + "-" + std::to_string(getpid());
}

std::string slurp(const std::string& path) {
  return test::read_file(path);
}

// A pid that is certainly dead: a child that exited and was reaped.
pid_t dead_pid() {
  pid_t p = fork();
  if (p == 0) _exit(0);
  int st = 0;
  waitpid(p, &st, 0);
  return p;
}

bool readable_now(int fd, int timeout_ms = 0) {
  struct pollfd p {
    fd, POLLIN, 0
  };
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

// A cgroup v2 tree in a temporary folder: paddock "is" in /user.slice/u.scope.
struct FakeV2 {
  test::TempDir tmp;
  CgroupRoots roots;
  std::string c;  // paddock's own cgroup

  FakeV2(const std::string& controllers, const std::string& subtree_control, const std::string& procs) {
    roots.v2 = tmp / "v2";
    roots.v1 = "";
    roots.proc_self_cgroup = tmp.write("proc_self_cgroup", "0::/user.slice/u.scope\n");
    roots.fake = true;
    c = roots.v2 + "/user.slice/u.scope";
    tmp.write("v2/user.slice/u.scope/cgroup.controllers", controllers + "\n");
    tmp.write("v2/user.slice/u.scope/cgroup.subtree_control", subtree_control + "\n");
    tmp.write("v2/user.slice/u.scope/cgroup.procs", procs);
  }
  [[nodiscard]] std::string session_dir() const { return c + "/" + own(); }
};

CgroupLimits all_limits() {
  CgroupLimits l;
  l.memory_max = k2G;
  l.pids_max = 512;
  l.cpus = 1.5;
  return l;
}

std::string others_and_self() {
  return "1\n4242\n" + std::to_string(getpid()) + "\n";
}
std::string only_self() {
  return std::to_string(getpid()) + "\n";
}

// ---------------------------------------------------------------------------------------------
// v2, fake tree

TEST(CgroupV2, ChildOfACgroupThatAlreadyHandsControllersDown) {
  FakeV2 t("cpuset cpu io memory pids", "cpu memory pids", others_and_self());
  std::string why;
  auto cg = SessionCgroup::create(all_limits(), kSession, t.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  EXPECT_EQ(why, "");
  EXPECT_EQ(cg->version(), SessionCgroup::Version::V2);
  const std::string d = t.session_dir();
  EXPECT_EQ(cg->description(), "cgroup v2 " + d);
  EXPECT_EQ(slurp(d + "/memory.max"), "2147483648");
  EXPECT_EQ(slurp(d + "/memory.high"), "1932735283");  // 90 %
  EXPECT_EQ(slurp(d + "/memory.swap.max"), "0");
  EXPECT_EQ(slurp(d + "/pids.max"), "512");
  EXPECT_EQ(slurp(d + "/cpu.max"), "150000 100000");
  EXPECT_FALSE(fs::exists(d + "/supervisor"));
  EXPECT_FALSE(fs::exists(d + "/sandbox"));
  // paddock itself stays where it was; its parent's files are untouched.
  EXPECT_EQ(slurp(t.c + "/cgroup.procs"), others_and_self());
  EXPECT_EQ(slurp(t.c + "/cgroup.subtree_control"), "cpu memory pids\n");
  // The dirfd for CLONE_INTO_CGROUP is the session dir.
  ASSERT_GE(cg->v2_dirfd(), 0);
  struct stat a {
  }, b{};
  ASSERT_EQ(fstat(cg->v2_dirfd(), &a), 0);
  ASSERT_EQ(stat(d.c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);

  cg.reset();
  EXPECT_FALSE(fs::exists(d));
  EXPECT_TRUE(fs::exists(t.c));
}

TEST(CgroupV2, FreshDelegatedScopeIsSplitIntoSupervisorAndSandbox) {
  FakeV2 t("cpuset cpu io memory pids", "", only_self());
  std::string why;
  auto cg = SessionCgroup::create(all_limits(), kSession, t.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  const std::string p = t.session_dir();
  EXPECT_TRUE(fs::is_directory(p + "/supervisor"));
  EXPECT_TRUE(fs::is_directory(p + "/sandbox"));
  EXPECT_EQ(slurp(p + "/supervisor/cgroup.procs"), std::to_string(getpid()));
  EXPECT_EQ(slurp(t.c + "/cgroup.subtree_control"), "+memory +pids +cpu");
  EXPECT_EQ(slurp(p + "/cgroup.subtree_control"), "+memory +pids +cpu");
  // The limits are on the sandbox, not on paddock.
  EXPECT_EQ(slurp(p + "/sandbox/memory.max"), "2147483648");
  EXPECT_EQ(slurp(p + "/sandbox/memory.high"), "1932735283");
  EXPECT_EQ(slurp(p + "/sandbox/memory.swap.max"), "0");
  EXPECT_EQ(slurp(p + "/sandbox/pids.max"), "512");
  EXPECT_EQ(slurp(p + "/sandbox/cpu.max"), "150000 100000");
  EXPECT_FALSE(fs::exists(p + "/supervisor/memory.max"));
  EXPECT_EQ(cg->description(), "cgroup v2 " + p + "/sandbox");

  cg->add(4242);
  EXPECT_EQ(slurp(p + "/sandbox/cgroup.procs"), "4242");

  cg.reset();
  EXPECT_FALSE(fs::exists(p));
  // paddock moved back, after the controllers it enabled were handed back.
  EXPECT_EQ(slurp(t.c + "/cgroup.procs"), std::to_string(getpid()));
  EXPECT_EQ(slurp(t.c + "/cgroup.subtree_control"), "-memory -pids -cpu");
}

TEST(CgroupV2, DelegationEnablesOnlyWhatTheParentLacks) {
  FakeV2 t("cpu memory pids", "memory", only_self());
  CgroupLimits l;
  l.memory_max = k2G;
  l.pids_max = 64;
  std::string why;
  auto cg = SessionCgroup::create(l, kSession, t.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  EXPECT_EQ(slurp(t.c + "/cgroup.subtree_control"), "+pids");
  EXPECT_EQ(slurp(t.session_dir() + "/cgroup.subtree_control"), "+memory +pids");
  EXPECT_FALSE(fs::exists(t.session_dir() + "/sandbox/cpu.max"));
}

TEST(CgroupV2, ExplicitMemoryHighIsKept) {
  FakeV2 t("memory", "memory", others_and_self());
  CgroupLimits l;
  l.memory_max = 1000000;
  l.memory_high = 123456;
  std::string why;
  auto cg = SessionCgroup::create(l, kSession, t.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  EXPECT_EQ(slurp(t.session_dir() + "/memory.high"), "123456");
}

TEST(CgroupV2, OnlyTheControllersTheLimitsNeedAreRequired) {
  {
    FakeV2 t("pids", "", only_self());
    CgroupLimits l;
    l.pids_max = 10;
    std::string why;
    auto cg = SessionCgroup::create(l, kSession, t.roots, why);
    ASSERT_NE(cg, nullptr) << why;
    EXPECT_EQ(slurp(t.c + "/cgroup.subtree_control"), "+pids");
    EXPECT_EQ(slurp(t.session_dir() + "/sandbox/pids.max"), "10");
    EXPECT_FALSE(fs::exists(t.session_dir() + "/sandbox/memory.max"));
    EXPECT_FALSE(fs::exists(t.session_dir() + "/sandbox/cpu.max"));
  }
  {
    FakeV2 t("pids", "", only_self());
    CgroupLimits l;
    l.pids_max = 10;
    l.memory_max = k2G;
    std::string why;
    EXPECT_EQ(SessionCgroup::create(l, kSession, t.roots, why), nullptr);
    EXPECT_THAT(why, HasSubstr("cgroup v2 at " + t.c + " lacks the memory controller (available: pids)"));
    EXPECT_FALSE(fs::exists(t.session_dir()));
  }
}

TEST(CgroupV2, NoLimitsStillGivesACgroupToKillEverythingIn) {
  FakeV2 t("", "", others_and_self());
  std::string why;
  auto cg = SessionCgroup::create(CgroupLimits{}, kSession, t.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  EXPECT_TRUE(fs::is_directory(t.session_dir()));
}

TEST(CgroupV2, BusyCgroupWithoutDelegationIsRefusedWithAReason) {
  FakeV2 t("cpu memory pids", "", others_and_self());
  std::string why;
  EXPECT_EQ(SessionCgroup::create(all_limits(), kSession, t.roots, why), nullptr);
  EXPECT_THAT(why, HasSubstr("cgroup v2 at " + t.c + " holds other processes and does not enable memory, pids, cpu"));
  EXPECT_THAT(why, HasSubstr("systemd"));
  EXPECT_THAT(why, HasSubstr("no cgroup v1 hierarchy"));
  EXPECT_FALSE(fs::exists(t.session_dir()));
}

TEST(CgroupV2, NotWritableIsRefusedWithAReason) {
  FakeV2 t("cpu memory pids", "", only_self());
  std::string why;
  bool made = false;
  if (geteuid() != 0) {
    ASSERT_EQ(chmod(t.c.c_str(), 0555), 0);
    auto cg = SessionCgroup::create(all_limits(), kSession, t.roots, why);
    made = cg != nullptr;
    chmod(t.c.c_str(), 0755);
  } else {
    // Root writes anywhere: ask from a child that is nobody.
    ASSERT_EQ(chmod(t.tmp.path().c_str(), 0755), 0);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      std::string out = "0";
      if (setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0) {
        std::string w;
        auto cg = SessionCgroup::create(all_limits(), kSession, t.roots, w);
        out = (cg ? "1" : "0") + w;
      } else {
        out += "cannot become nobody";
      }
      (void)!write(fds[1], out.data(), out.size());
      _exit(0);
    }
    close(fds[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int st = 0;
    waitpid(child, &st, 0);
    ASSERT_FALSE(out.empty());
    made = out[0] == '1';
    why = out.substr(1);
  }
  EXPECT_FALSE(made);
  EXPECT_THAT(why, StartsWith("cgroup v2 at " + t.c + " is not writable and "));
  EXPECT_FALSE(fs::exists(t.session_dir()));
}

TEST(CgroupV2, HalfwayFailureUndoesEverything) {
  FakeV2 t("cpu memory pids", "", only_self());
  // The parent's subtree_control cannot be written (a folder in the fake tree): the failure
  // comes after the session dirs were made and paddock moved into supervisor/.
  fs::remove(t.c + "/cgroup.subtree_control");
  fs::create_directory(t.c + "/cgroup.subtree_control");
  std::string why;
  std::string err = test::error_of([&] { SessionCgroup::create(all_limits(), kSession, t.roots, why); });
  EXPECT_THAT(err, HasSubstr("cannot write \"+memory +pids +cpu\" to " + t.c + "/cgroup.subtree_control"));
  EXPECT_FALSE(fs::exists(t.session_dir()));
  EXPECT_EQ(slurp(t.c + "/cgroup.procs"), std::to_string(getpid()));  // moved back
}

TEST(CgroupV2, ExistingSessionDirIsAnError) {
  FakeV2 t("cpu memory pids", "cpu memory pids", others_and_self());
  fs::create_directory(t.session_dir());
  std::string why;
  EXPECT_THAT(test::error_of([&] { SessionCgroup::create(all_limits(), kSession, t.roots, why); }),
              HasSubstr("already exists"));
  EXPECT_TRUE(fs::exists(t.session_dir()));  // not ours to remove
}

TEST(CgroupV2, InvalidSessionIdsAreRefused) {
  FakeV2 t("cpu memory pids", "cpu memory pids", others_and_self());
  std::string why;
  for (const char* bad : {"", "../x", "a/b", ".hidden", "a b"}) {
    EXPECT_THAT(test::error_of([&] { SessionCgroup::create(all_limits(), bad, t.roots, why); }),
                HasSubstr("invalid session id"))
        << bad;
  }
}

TEST(CgroupV2, OddProcSelfCgroupIsRefused) {
  FakeV2 t("cpu memory pids", "cpu memory pids", others_and_self());
  t.tmp.write("proc_self_cgroup", "0::/user.slice/../../etc\n");
  std::string why;
  EXPECT_EQ(SessionCgroup::create(all_limits(), kSession, t.roots, why), nullptr);
  EXPECT_THAT(why, HasSubstr("unexpected cgroup v2 path"));
  t.tmp.write("proc_self_cgroup", "4:memory:/x\n");
  EXPECT_EQ(SessionCgroup::create(all_limits(), kSession, t.roots, why), nullptr);
  EXPECT_THAT(why, HasSubstr("no \"0::\" line"));
}

TEST(CgroupV2, EventsAreParsedFromTheKernelFiles) {
  FakeV2 t("cpu memory pids", "cpu memory pids", others_and_self());
  std::string why;
  auto cg = SessionCgroup::create(all_limits(), kSession, t.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  const std::string d = t.session_dir();
  t.tmp.write(d.substr(t.tmp.path().size() + 1) + "/memory.events",
              "low 0\nhigh 17\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n");
  t.tmp.write(d.substr(t.tmp.path().size() + 1) + "/pids.events", "max 9\n");
  t.tmp.write(d.substr(t.tmp.path().size() + 1) + "/cpu.stat",
              "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods 40\nnr_throttled 12\n"
              "throttled_usec 999\nnr_bursts 0\nburst_usec 0\n");
  t.tmp.write(d.substr(t.tmp.path().size() + 1) + "/memory.peak", "987654321\n");
  CgroupEvents ev = cg->events();
  EXPECT_EQ(ev.memory_high, 17U);
  EXPECT_EQ(ev.memory_max, 5U);
  EXPECT_EQ(ev.oom_kill, 1U);
  EXPECT_EQ(ev.pids_max, 9U);
  EXPECT_EQ(ev.cpu_throttled, 12U);
  EXPECT_EQ(ev.cpu_usage_usec, 123456U);
  EXPECT_EQ(ev.memory_peak, 987654321U);
}

TEST(CgroupV2, EventFdIsAnInotifyWatchThatWakesOnModification) {
  FakeV2 t("cpu memory pids", "cpu memory pids", others_and_self());
  std::string why;
  auto cg = SessionCgroup::create(all_limits(), kSession, t.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  auto fds = cg->event_fds();
  ASSERT_EQ(fds.size(), 1U);
  EXPECT_FALSE(readable_now(fds[0]));
  {
    std::ofstream out(t.session_dir() + "/pids.events", std::ios::app);
    out << "max 1\n";
  }
  EXPECT_TRUE(readable_now(fds[0], 1000));
  cg->ack_events();
  EXPECT_FALSE(readable_now(fds[0]));
  EXPECT_EQ(cg->events().pids_max, 1U);
  {
    std::ofstream out(t.session_dir() + "/memory.events", std::ios::app);
    out << "oom_kill 3\n";
  }
  EXPECT_TRUE(readable_now(fds[0], 1000));
  cg->ack_events();
  EXPECT_EQ(cg->events().oom_kill, 3U);
}

// ---------------------------------------------------------------------------------------------
// v1, fake tree (mount discovery and file names); the real thing is further down.

TEST(CgroupV1Fake, LimitsGoToEachControllerIncludingACoMountedCpu) {
  test::TempDir tmp;
  CgroupRoots roots;
  roots.v2 = "";
  roots.v1 = tmp / "v1";
  roots.fake = true;
  roots.proc_self_cgroup =
      tmp.write("proc_self_cgroup", "8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n");
  tmp.mkdir("v1/memory/process_api/abc");
  tmp.mkdir("v1/pids");
  tmp.mkdir("v1/cpu,cpuacct");
  std::string why;
  auto cg = SessionCgroup::create(all_limits(), kSession, roots, why);
  ASSERT_NE(cg, nullptr) << why;
  EXPECT_EQ(why, "no cgroup v2 hierarchy");
  EXPECT_EQ(cg->version(), SessionCgroup::Version::V1);
  EXPECT_EQ(cg->v2_dirfd(), -1);
  const std::string mem = roots.v1 + "/memory/process_api/abc/" + own();
  const std::string pids = roots.v1 + "/pids/" + own();
  const std::string cpu = roots.v1 + "/cpu,cpuacct/" + own();
  EXPECT_EQ(cg->description(), "cgroup v1 " + mem + ", " + pids + ", " + cpu);
  EXPECT_EQ(slurp(mem + "/memory.limit_in_bytes"), "2147483648");
  EXPECT_EQ(slurp(mem + "/memory.memsw.limit_in_bytes"), "2147483648");
  EXPECT_EQ(slurp(mem + "/memory.soft_limit_in_bytes"), "1932735283");
  EXPECT_EQ(slurp(pids + "/pids.max"), "512");
  EXPECT_EQ(slurp(cpu + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(slurp(cpu + "/cpu.cfs_quota_us"), "150000");

  cg->add(4242);
  for (const auto& d : {mem, pids, cpu}) EXPECT_EQ(slurp(d + "/cgroup.procs"), "4242") << d;

  tmp.write(mem.substr(tmp.path().size() + 1) + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  tmp.write(mem.substr(tmp.path().size() + 1) + "/memory.failcnt", "31\n");
  tmp.write(mem.substr(tmp.path().size() + 1) + "/memory.max_usage_in_bytes", "67108864\n");
  tmp.write(pids.substr(tmp.path().size() + 1) + "/pids.events", "max 4\n");
  tmp.write(cpu.substr(tmp.path().size() + 1) + "/cpu.stat", "nr_periods 9\nnr_throttled 3\nthrottled_time 5\n");
  tmp.write(cpu.substr(tmp.path().size() + 1) + "/cpuacct.usage", "2500000000\n");
  CgroupEvents ev = cg->events();
  EXPECT_EQ(ev.oom_kill, 2U);
  EXPECT_EQ(ev.memory_max, 31U);
  EXPECT_EQ(ev.memory_peak, 67108864U);
  EXPECT_EQ(ev.pids_max, 4U);
  EXPECT_EQ(ev.cpu_throttled, 3U);
  EXPECT_EQ(ev.cpu_usage_usec, 2500000U);

  cg.reset();
  for (const auto& d : {mem, pids, cpu}) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST(CgroupV1Fake, MissingControllerHierarchyIsAReason) {
  test::TempDir tmp;
  CgroupRoots roots;
  roots.v2 = "";
  roots.v1 = tmp / "v1";
  roots.fake = true;
  roots.proc_self_cgroup = tmp.write("proc_self_cgroup", "8:pids:/\n4:memory:/\n");
  tmp.mkdir("v1/memory");
  tmp.mkdir("v1/pids");
  std::string why;
  EXPECT_EQ(SessionCgroup::create(all_limits(), kSession, roots, why), nullptr);
  EXPECT_THAT(why, HasSubstr("no cgroup v1 cpu hierarchy under " + roots.v1));
  EXPECT_FALSE(fs::exists(roots.v1 + "/memory/" + own()));  // checked before anything was made
}

// ---------------------------------------------------------------------------------------------
// Stale cgroups

TEST(CgroupCleanup, RemovesOnlySessionsWhoseSupervisorIsDead) {
  test::TempDir tmp;
  CgroupRoots roots;
  roots.v2 = tmp / "v2";
  roots.v1 = tmp / "v1";
  roots.fake = true;
  const std::string dead = std::to_string(dead_pid());
  const std::string alive = std::to_string(getpid());
  const std::string stale_v2 = tmp.mkdir("v2/user.slice/u.scope/paddock-" + std::string(kSession) + "-" + dead);
  tmp.mkdir("v2/user.slice/u.scope/paddock-" + std::string(kSession) + "-" + dead + "/supervisor");
  tmp.mkdir("v2/user.slice/u.scope/paddock-" + std::string(kSession) + "-" + dead + "/sandbox");
  const std::string live = tmp.mkdir("v2/paddock-" + std::string(kSession) + "-" + alive);
  const std::string stale_v1 = tmp.mkdir("v1/memory/process_api/x/paddock-S-" + dead);
  const std::string stale_cpu = tmp.mkdir("v1/cpu,cpuacct/paddock-S-" + dead);
  const std::string not_ours[] = {
      tmp.mkdir("v2/paddock-" + std::string(kSession) + ".scope"),
      tmp.mkdir("v2/paddock--" + dead),
      tmp.mkdir("v2/paddock-x-12ab"),
      tmp.mkdir("v2/system.slice/sshd.service"),
      tmp.mkdir("v2/mypaddock-x-" + dead),
      tmp.mkdir("v1/blkio/paddock-S-" + dead),  // a hierarchy paddock never uses
  };
  EXPECT_EQ(cleanup_stale_cgroups(roots), 3);
  EXPECT_FALSE(fs::exists(stale_v2));
  EXPECT_FALSE(fs::exists(stale_v1));
  EXPECT_FALSE(fs::exists(stale_cpu));
  EXPECT_TRUE(fs::exists(live));
  for (const auto& d : not_ours) EXPECT_TRUE(fs::exists(d)) << d;
  EXPECT_EQ(cleanup_stale_cgroups(roots), 0);
}

// ---------------------------------------------------------------------------------------------
// v1 for real (root, hybrid or legacy layout)

struct RealV1 {
  CgroupRoots roots;
  std::string skip;
  RealV1() {
    roots = CgroupRoots::detect();
    roots.v2 = "";  // v1 on purpose
    struct statfs s {};
    if (geteuid() != 0) {
      skip = "needs root";
    } else if (roots.v1.empty() || statfs("/sys/fs/cgroup/memory", &s) != 0 || s.f_type != 0x27e0eb ||
               statfs("/sys/fs/cgroup/pids", &s) != 0 || s.f_type != 0x27e0eb) {
      skip = "no cgroup v1 memory and pids hierarchies";
    }
  }
  // Where a v1 controller's session dir is, from /proc/self/cgroup.
  static std::string dir(const std::string& ctrl, const std::string& session) {
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
      auto a = line.find(':');
      auto b = line.find(':', a + 1);
      std::stringstream ss(line.substr(a + 1, b - a - 1));
      std::string c;
      while (std::getline(ss, c, ',')) {
        if (c == ctrl) {
          std::string path = line.substr(b + 1);
          return "/sys/fs/cgroup/" + ctrl + (path == "/" ? "" : path) + "/" + own(session);
        }
      }
    }
    return "";
  }
};

std::string trimmed(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

TEST(CgroupV1Real, LimitsMembershipAndTeardown) {
  RealV1 r;
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  const std::string session = "20261123T185701Z-unitv1real";
  CgroupLimits l;
  l.memory_max = 64ULL << 20;
  l.pids_max = 10;
  std::string why;
  auto cg = SessionCgroup::create(l, session, r.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  ASSERT_EQ(cg->version(), SessionCgroup::Version::V1);
  const std::string mem = RealV1::dir("memory", session);
  const std::string pids = RealV1::dir("pids", session);
  EXPECT_EQ(trimmed(slurp(mem + "/memory.limit_in_bytes")), std::to_string(64ULL << 20));
  if (fs::exists(mem + "/memory.memsw.limit_in_bytes")) {
    EXPECT_EQ(trimmed(slurp(mem + "/memory.memsw.limit_in_bytes")), std::to_string(64ULL << 20));
  }
  EXPECT_EQ(trimmed(slurp(pids + "/pids.max")), "10");
  EXPECT_THAT(cg->description(), HasSubstr(mem));

  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  ASSERT_GT(child, 0);
  cg->add(child);
  EXPECT_THAT(slurp(mem + "/cgroup.procs"), HasSubstr(std::to_string(child)));
  EXPECT_THAT(slurp(pids + "/cgroup.procs"), HasSubstr(std::to_string(child)));
  EXPECT_EQ(trimmed(slurp(pids + "/pids.current")), "1");

  // CPU time is accounted even without a cpu limit, where a cpuacct hierarchy exists.
  const std::string acct = RealV1::dir("cpuacct", session);
  if (!acct.empty()) {
    EXPECT_THAT(slurp(acct + "/cgroup.procs"), HasSubstr(std::to_string(child)));
  }

  cg.reset();  // kills the child and removes the dirs
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_FALSE(fs::exists(mem));
  EXPECT_FALSE(fs::exists(pids));
  if (!acct.empty()) {
    EXPECT_FALSE(fs::exists(acct));
  }
}

TEST(CgroupV1Real, ForkBombHitsPidsMax) {
  RealV1 r;
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  CgroupLimits l;
  l.pids_max = 5;
  std::string why;
  auto cg = SessionCgroup::create(l, "20261123T185701Z-unitforkbomb", r.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  auto fds = cg->event_fds();
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t child = fork();
  if (child == 0) {
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(5);
    std::vector<pid_t> kids;
    int code = 2;  // no EAGAIN seen
    for (int i = 0; i < 100; ++i) {
      pid_t p = fork();
      if (p == 0) {
        for (;;) pause();
      }
      if (p < 0) {
        code = errno == EAGAIN ? (kids.size() == 4 ? 0 : 4) : 3;
        break;
      }
      kids.push_back(p);
    }
    for (pid_t k : kids) kill(k, SIGKILL);
    for (pid_t k : kids) waitpid(k, nullptr, 0);
    _exit(code);
  }
  close(go[0]);
  cg->add(child);
  ASSERT_EQ(write(go[1], "x", 1), 1);
  close(go[1]);
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "2: fork never failed, 3: failed with another errno, 4: wrong count";
  EXPECT_GT(cg->events().pids_max, 0U);
  EXPECT_TRUE(fds.empty());  // v1 pids.events has no notification (see cgroup.h)
}

TEST(CgroupV1Real, MemoryBombIsOomKilledAndReported) {
  RealV1 r;
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  CgroupLimits l;
  l.memory_max = 32ULL << 20;
  std::string why;
  auto cg = SessionCgroup::create(l, "20261123T185701Z-unitmembomb", r.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  auto fds = cg->event_fds();
  ASSERT_EQ(fds.size(), 2U);  // OOM and the memory_high threshold
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t child = fork();
  if (child == 0) {
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(5);
    std::vector<std::vector<char>> hog;
    for (int i = 0; i < 512; ++i) hog.emplace_back(1 << 20, static_cast<char>(i | 1));  // touched, so charged
    _exit(0);
  }
  close(go[0]);
  cg->add(child);
  ASSERT_EQ(write(go[1], "x", 1), 1);
  close(go[1]);
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "status " << st;
  bool any = false;
  for (int fd : fds) any = readable_now(fd, 1000) || any;
  EXPECT_TRUE(any);
  cg->ack_events();
  CgroupEvents ev = cg->events();
  EXPECT_GE(ev.oom_kill, 1U);
  EXPECT_GT(ev.memory_max, 0U);
  EXPECT_GE(ev.memory_high, 1U);
  EXPECT_GE(ev.memory_peak, 30ULL << 20);
}

TEST(CgroupV1Real, StaleSessionIsKilledAndRemoved) {
  RealV1 r;
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  // A session cgroup left by a "supervisor" that died, with a survivor inside.
  const std::string name = "paddock-20261123T185701Z-unitstale-" + std::to_string(dead_pid());
  const std::string dir = "/sys/fs/cgroup/pids/" + name;
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << strerror(errno);
  pid_t survivor = fork();
  if (survivor == 0) {
    for (;;) pause();
  }
  {
    std::ofstream out(dir + "/cgroup.procs");
    out << survivor;
  }
  EXPECT_GE(cleanup_stale_cgroups(r.roots), 1);
  int st = 0;
  ASSERT_EQ(waitpid(survivor, &st, 0), survivor);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(CgroupV1Real, CpuQuotaThrottles) {
  RealV1 r;
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  if (RealV1::dir("cpu", "x").empty() || !fs::exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {
    GTEST_SKIP() << "no cgroup v1 cpu hierarchy with CFS bandwidth control";
  }
  const std::string session = "20261123T185701Z-unitcpu";
  CgroupLimits l;
  l.cpus = 0.1;
  std::string why;
  auto cg = SessionCgroup::create(l, session, r.roots, why);
  ASSERT_NE(cg, nullptr) << why;
  const std::string cpu = RealV1::dir("cpu", session);
  EXPECT_EQ(trimmed(slurp(cpu + "/cpu.cfs_quota_us")), "10000");
  EXPECT_EQ(trimmed(slurp(cpu + "/cpu.cfs_period_us")), "100000");
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t child = fork();
  if (child == 0) {
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(5);
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
    volatile unsigned long n = 0;
    while (std::chrono::steady_clock::now() < end) n = n + 1;
    _exit(0);
  }
  close(go[0]);
  cg->add(child);
  ASSERT_EQ(write(go[1], "x", 1), 1);
  close(go[1]);
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  CgroupEvents ev = cg->events();
  EXPECT_GT(ev.cpu_throttled, 0U);
  if (!RealV1::dir("cpuacct", "x").empty()) {
    // About 40 ms of CPU in 400 ms of wall time at 0.1 cpus.
    EXPECT_GT(ev.cpu_usage_usec, 10000U);
    EXPECT_LT(ev.cpu_usage_usec, 200000U);
  }
}

TEST(CgroupRealLayout, DetectedRootsOnThisMachine) {
  RealV1 r;
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  CgroupRoots roots = CgroupRoots::detect();
  CgroupLimits l;
  l.memory_max = 64ULL << 20;
  l.pids_max = 32;
  std::string why;
  auto cg = SessionCgroup::create(l, "20261123T185701Z-unitdetect", roots, why);
  ASSERT_NE(cg, nullptr) << why;
  if (cg->version() == SessionCgroup::Version::V1 && !roots.v2.empty()) {
    EXPECT_THAT(why, HasSubstr("cgroup v2 at " + roots.v2)) << "a v1 fallback says why v2 was not used";
  }
}

// No limits need no controllers, so even the controller-less v2 hierarchy of a hybrid layout
// can hold a session: that runs the v2 path for real, clone3(CLONE_INTO_CGROUP) and cgroup.kill.
TEST(CgroupV2Real, NoLimitsSessionWithCloneIntoCgroupAndCgroupKill) {
  CgroupRoots roots = CgroupRoots::detect();
  if (geteuid() != 0 || roots.v2.empty()) GTEST_SKIP() << "needs root and a cgroup v2 hierarchy";
  std::ifstream in("/proc/self/cgroup");
  std::string line, v2path;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) v2path = line.substr(3);
  }
  if (v2path != "/") GTEST_SKIP() << "paddock is not at the root of the v2 hierarchy";
  std::string why;
  const std::string session = "20261123T185701Z-unitv2real";
  auto cg = SessionCgroup::create(CgroupLimits{}, session, roots, why);
  ASSERT_NE(cg, nullptr) << why;
  ASSERT_EQ(cg->version(), SessionCgroup::Version::V2);
  const std::string dir = roots.v2 + "/" + own(session);
  EXPECT_EQ(cg->description(), "cgroup v2 " + dir);

  struct clone_args args {};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<std::uint64_t>(cg->v2_dirfd());
  long child = syscall(SYS_clone3, &args, sizeof args);
  if (child == 0) {
    for (;;) pause();
  }
  ASSERT_GT(child, 0) << strerror(errno);
  EXPECT_EQ(trimmed(slurp(dir + "/cgroup.procs")), std::to_string(child));
  EXPECT_THAT(slurp("/proc/" + std::to_string(child) + "/cgroup"), HasSubstr("0::/" + own(session) + "\n"));

  cg.reset();
  int st = 0;
  ASSERT_EQ(waitpid(static_cast<pid_t>(child), &st, 0), child);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_FALSE(fs::exists(dir));
}

// ---------------------------------------------------------------------------------------------
// systemd: StartTransientUnit against a fake systemd on a socketpair

TEST(SystemdScope, UnitNamesAreSafe) {
  EXPECT_EQ(scope_unit_name(kSession), "paddock-20261123T185701Z-3f9a1c2b7d4e5a60.scope");
  EXPECT_EQ(scope_unit_name("a b/c"), "paddock-a_b_c.scope");
}

struct FakeSystemd {
  enum class Mode { Done, Failed, SignalFirst, NoSignal, ErrorReply };
  Mode mode;
  SdBusPtr server, client;
  std::thread thread;
  std::atomic<bool> stop{false};
  // What the fake received.
  std::string member, unit, job_mode, signature;
  std::map<std::string, std::string> props;
  std::vector<std::uint32_t> pids;

  explicit FakeSystemd(Mode m) : mode(m) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
    sd_bus* s = nullptr;
    sd_bus* c = nullptr;
    sd_id128_t id;
    sd_id128_randomize(&id);
    if (sd_bus_new(&s) < 0 || sd_bus_set_fd(s, fds[0], fds[0]) < 0 || sd_bus_set_server(s, 1, id) < 0 ||
        sd_bus_set_anonymous(s, 1) < 0 || sd_bus_start(s) < 0) {
      throw std::runtime_error("server bus");
    }
    server.reset(s);
    if (sd_bus_new(&c) < 0 || sd_bus_set_fd(c, fds[1], fds[1]) < 0 || sd_bus_set_anonymous(c, 1) < 0 ||
        sd_bus_start(c) < 0) {
      throw std::runtime_error("client bus");
    }
    client.reset(c);
    thread = std::thread([this] { serve(); });
  }
  ~FakeSystemd() {
    stop = true;
    thread.join();
  }

  void job_removed(const char* job, const char* result) {
    sd_bus_emit_signal(server.get(), "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved",
                       "uoss", 42U, job, unit.c_str(), result);
  }

  void handle(sd_bus_message* m) {
    member = sd_bus_message_get_member(m) != nullptr ? sd_bus_message_get_member(m) : "";
    signature = sd_bus_message_get_signature(m, 1) != nullptr ? sd_bus_message_get_signature(m, 1) : "";
    const char* u = nullptr;
    const char* jm = nullptr;
    sd_bus_message_read(m, "ss", &u, &jm);
    unit = u != nullptr ? u : "";
    job_mode = jm != nullptr ? jm : "";
    sd_bus_message_enter_container(m, 'a', "(sv)");
    while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
      const char* name = nullptr;
      sd_bus_message_read(m, "s", &name);
      char type = 0;
      const char* contents = nullptr;
      sd_bus_message_peek_type(m, &type, &contents);
      std::string sig = contents != nullptr ? contents : "";
      sd_bus_message_enter_container(m, 'v', sig.c_str());
      if (sig == "s") {
        const char* v = nullptr;
        sd_bus_message_read(m, "s", &v);
        props[name] = v;
      } else if (sig == "b") {
        int v = 0;
        sd_bus_message_read(m, "b", &v);
        props[name] = v ? "true" : "false";
      } else if (sig == "au") {
        sd_bus_message_enter_container(m, 'a', "u");
        std::uint32_t p = 0;
        while (sd_bus_message_read(m, "u", &p) > 0) pids.push_back(p);
        sd_bus_message_exit_container(m);
        props[name] = "au";
      } else {
        sd_bus_message_skip(m, sig.c_str());
        props[name] = "?" + sig;
      }
      sd_bus_message_exit_container(m);
      sd_bus_message_exit_container(m);
    }
    sd_bus_message_exit_container(m);

    const char* job = "/org/freedesktop/systemd1/job/42";
    if (mode == Mode::ErrorReply) {
      sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.UnitExists", "Unit %s already exists.", unit.c_str());
      return;
    }
    if (mode == Mode::SignalFirst) job_removed(job, "done");
    // Another job finishing first must not be mistaken for ours.
    job_removed("/org/freedesktop/systemd1/job/7", "failed");
    sd_bus_reply_method_return(m, "o", job);
    if (mode == Mode::Done) job_removed(job, "done");
    if (mode == Mode::Failed) job_removed(job, "failed");
  }

  void serve() {
    while (!stop) {
      sd_bus_message* m = nullptr;
      int r = sd_bus_process(server.get(), &m);
      if (r < 0) break;
      if (m != nullptr) {
        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "StartTransientUnit") > 0) handle(m);
        sd_bus_message_unref(m);
      }
      if (r == 0) sd_bus_wait(server.get(), 20000);
    }
    sd_bus_flush(server.get());
  }
};

TransientScope test_scope() {
  return {scope_unit_name(kSession), "paddock session test", 4242};
}

TEST(SystemdScope, RequestCarriesTheDelegationProperties) {
  FakeSystemd fake(FakeSystemd::Mode::Done);
  start_transient_scope(fake.client.get(), test_scope(), std::chrono::milliseconds(5000));
  EXPECT_EQ(fake.member, "StartTransientUnit");
  EXPECT_EQ(fake.signature, "ssa(sv)a(sa(sv))");
  EXPECT_EQ(fake.unit, "paddock-20261123T185701Z-3f9a1c2b7d4e5a60.scope");
  EXPECT_EQ(fake.job_mode, "fail");
  EXPECT_EQ(fake.props["Delegate"], "true");
  EXPECT_EQ(fake.props["CollectMode"], "inactive-or-failed");
  EXPECT_EQ(fake.props["Description"], "paddock session test");
  EXPECT_EQ(fake.props["PIDs"], "au");
  EXPECT_EQ(fake.pids, std::vector<std::uint32_t>{4242});
}

TEST(SystemdScope, SignalBeforeTheReplyIsNotMissed) {
  FakeSystemd fake(FakeSystemd::Mode::SignalFirst);
  EXPECT_EQ(
      test::error_of([&] { start_transient_scope(fake.client.get(), test_scope(), std::chrono::milliseconds(5000)); }),
      "<no error>");
}

TEST(SystemdScope, FailedJobIsAnError) {
  FakeSystemd fake(FakeSystemd::Mode::Failed);
  EXPECT_EQ(
      test::error_of([&] { start_transient_scope(fake.client.get(), test_scope(), std::chrono::milliseconds(5000)); }),
      "systemd: starting paddock-20261123T185701Z-3f9a1c2b7d4e5a60.scope ended with result \"failed\"");
}

TEST(SystemdScope, MethodErrorIsReported) {
  FakeSystemd fake(FakeSystemd::Mode::ErrorReply);
  EXPECT_THAT(
      test::error_of([&] { start_transient_scope(fake.client.get(), test_scope(), std::chrono::milliseconds(5000)); }),
      HasSubstr("StartTransientUnit(paddock-20261123T185701Z-3f9a1c2b7d4e5a60.scope) failed: Unit "
                "paddock-20261123T185701Z-3f9a1c2b7d4e5a60.scope already exists."));
}

TEST(SystemdScope, MissingJobRemovedTimesOut) {
  FakeSystemd fake(FakeSystemd::Mode::NoSignal);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(
      test::error_of([&] { start_transient_scope(fake.client.get(), test_scope(), std::chrono::milliseconds(300)); }),
      HasSubstr("was not started within 300 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(SystemdScope, NoBusIsAReasonNotAnError) {
  // This machine runs no systemd; elsewhere the answer depends on the host, so only check
  // that a refusal comes with a reason.
  std::string why;
  auto bus = open_systemd_bus(why);
  if (bus == nullptr) {
    EXPECT_FALSE(why.empty());
  }
}

}  // namespace
}  // namespace paddock
