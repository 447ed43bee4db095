// The seccomp layer: the baseline denylist (pure data) and real filters loaded into forked
// children (no privileges needed: each child sets no_new_privs itself). Each denial is checked
// twice: with the baseline (the exact errno the agent sees) and with every rule's errno
// replaced by a sentinel, which proves the filter answered and not the kernel (an unprivileged
// mount() is EPERM with or without seccomp).
#include "sandbox/seccomp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sandbox/seccomp_baseline.h"
#include "test_util.h"
#include "util/error.h"

namespace paddock {
namespace {

using test::error_of;
using Op = SeccompRule::Cond::Op;

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

constexpr int kSentinel = 4000;  // an errno no kernel path returns
constexpr long kChildFailed = LONG_MIN;

// ---------------------------------------------------------------------------------------------
// Running code under a filter

struct Outcome {
  std::string setup_error;   // apply_seccomp threw this
  std::vector<long> values;  // what the body returned
  int signal = 0;            // the child died of this signal
  int exit_code = -1;
};

// Forks; the child sets no_new_privs (unless told not to), applies `plan` (if any), runs
// `body` and sends its values back through a pipe.
Outcome run_child(const std::optional<SeccompPlan>& plan, const std::function<std::vector<long>()>& body,
                  bool set_nnp = true) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    auto send = [&](const void* p, std::size_t n) {
      const char* c = static_cast<const char*>(p);
      while (n > 0) {
        ssize_t w = ::write(fds[1], c, n);
        if (w <= 0) ::_exit(120);
        c += w;
        n -= static_cast<std::size_t>(w);
      }
    };
    try {
      if (set_nnp && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(121);
      if (plan) apply_seccomp(*plan);
    } catch (const std::exception& e) {
      send("E", 1);
      send(e.what(), std::strlen(e.what()));
      ::_exit(0);
    }
    std::vector<long> v = body();
    send("V", 1);
    if (!v.empty()) send(v.data(), v.size() * sizeof(long));
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    data.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  Outcome o;
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  if (!data.empty() && data[0] == 'E') o.setup_error = data.substr(1);
  if (!data.empty() && data[0] == 'V') {
    o.values.resize((data.size() - 1) / sizeof(long));
    std::memcpy(o.values.data(), data.data() + 1, o.values.size() * sizeof(long));
  }
  return o;
}

// A system call's result as one number: -errno on failure, the result otherwise.
long res(long r) {
  return r == -1 ? -errno : r;
}

// Runs one call under `plan` and returns its result, or kChildFailed (with a test failure)
// when the child did not report.
long under(const SeccompPlan& plan, const std::function<long()>& f) {
  Outcome o = run_child(plan, [&] { return std::vector<long>{f()}; });
  if (!o.setup_error.empty()) {
    ADD_FAILURE() << "apply_seccomp failed: " << o.setup_error;
    return kChildFailed;
  }
  if (o.values.size() != 1) {
    ADD_FAILURE() << "child did not report (signal " << o.signal << ", exit " << o.exit_code << ")";
    return kChildFailed;
  }
  return o.values[0];
}

long baseline(const std::function<long()>& f) {
  return under(baseline_plan(), f);
}

long unfiltered(const std::function<long()>& f) {
  Outcome o = run_child(std::nullopt, [&] { return std::vector<long>{f()}; });
  return o.values.size() == 1 ? o.values[0] : kChildFailed;
}

// The baseline with every errno replaced by kSentinel.
SeccompPlan sentinel_plan() {
  SeccompPlan p = baseline_plan();
  for (auto& r : p.rules) r.err = kSentinel;
  return p;
}

std::string err_str(long v) {
  if (v == kChildFailed) return "<child failed>";
  if (v >= 0) return "success (" + std::to_string(v) + ")";
  const char* n = ::strerrorname_np(static_cast<int>(-v));
  return n != nullptr ? std::string(n) : "errno " + std::to_string(-v);
}

// The call fails with exactly `err` under the baseline, and a rule of the filter is what
// answered (the sentinel shows through).
::testing::AssertionResult DeniedWith(const std::function<long()>& f, int err) {
  long b = baseline(f);
  if (b != -err) {
    return ::testing::AssertionFailure() << "expected " << err_str(-err) << " under the baseline, got " << err_str(b);
  }
  long s = under(sentinel_plan(), f);
  if (s != -kSentinel) {
    return ::testing::AssertionFailure() << "the filter did not answer (errno " << err_str(s)
                                         << " with every rule's errno set to " << kSentinel << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Allowed(const std::function<long()>& f) {
  long b = baseline(f);
  if (b < 0) return ::testing::AssertionFailure() << "expected success under the baseline, got " << err_str(b);
  return ::testing::AssertionSuccess();
}

long sys0(long nr) {
  return res(::syscall(nr, 0, 0, 0, 0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// The baseline as data

TEST(SeccompBaseline, ContainsTheRequiredSystemCalls) {
  std::vector<std::string> names = baseline_syscall_names();
  std::set<std::string> have(names.begin(), names.end());
  const char* required[] = {"mount",
                            "umount2",
                            "pivot_root",
                            "chroot",
                            "ptrace",
                            "process_vm_readv",
                            "process_vm_writev",
                            "kcmp",
                            "pidfd_getfd",
                            "bpf",
                            "perf_event_open",
                            "userfaultfd",
                            "add_key",
                            "request_key",
                            "keyctl",
                            "open_by_handle_at",
                            "name_to_handle_at",
                            "kexec_load",
                            "kexec_file_load",
                            "init_module",
                            "finit_module",
                            "delete_module",
                            "create_module",
                            "reboot",
                            "swapon",
                            "swapoff",
                            "acct",
                            "quotactl",
                            "quotactl_fd",
                            "nfsservctl",
                            "syslog",
                            "vhangup",
                            "lookup_dcookie",
                            "uselib",
                            "ustat",
                            "sysfs",
                            "_sysctl",
                            "iopl",
                            "ioperm",
                            "modify_ldt",
                            "settimeofday",
                            "clock_settime",
                            "clock_adjtime",
                            "adjtimex",
                            "sethostname",
                            "setdomainname",
                            "setns",
                            "fanotify_init",
                            "mbind",
                            "migrate_pages",
                            "move_pages",
                            "set_mempolicy",
                            "clone3",
                            "fsopen",
                            "fsconfig",
                            "fsmount",
                            "fspick",
                            "open_tree",
                            "move_mount",
                            "mount_setattr",
                            "io_uring_setup",
                            "io_uring_enter",
                            "io_uring_register",
                            "clone",
                            "unshare",
                            "ioctl",
                            "socket",
                            "personality",
                            "seccomp"};
  for (const char* n : required) {
#if !defined(__x86_64__)
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, n) < 0) continue;
#endif
    EXPECT_TRUE(have.count(n)) << n << " is missing from the baseline";
  }
}

TEST(SeccompBaseline, EveryRuleResolvesAndNamesItsGroup) {
  for (const auto& r : baseline_seccomp_rules()) {
    EXPECT_GE(seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, r.syscall.c_str()), 0) << r.syscall;
    EXPECT_EQ(r.why.substr(0, 1), "@") << describe_rule(r);
    EXPECT_EQ(r.action, SeccompRule::Action::Errno) << describe_rule(r);
    EXPECT_TRUE(r.origin.known()) << describe_rule(r);
  }
}

TEST(SeccompBaseline, NamesAreDistinctAndCoverEveryRule) {
  std::vector<std::string> names = baseline_syscall_names();
  std::set<std::string> distinct(names.begin(), names.end());
  EXPECT_EQ(distinct.size(), names.size());
  for (const auto& r : baseline_seccomp_rules()) EXPECT_TRUE(distinct.count(r.syscall)) << r.syscall;
}

TEST(SeccompBaseline, FallbackCallsAnswerEnosys) {
  std::set<std::string> enosys{"clone3",         "fsopen",         "fsconfig",         "fsmount",
                               "fspick",         "open_tree",      "move_mount",       "mount_setattr",
                               "io_uring_setup", "io_uring_enter", "io_uring_register"};
  std::set<std::string> seen;
  for (const auto& r : baseline_seccomp_rules()) {
    if (enosys.count(r.syscall)) {
      EXPECT_EQ(r.err, ENOSYS) << describe_rule(r);
      EXPECT_TRUE(r.conds.empty()) << describe_rule(r);
      seen.insert(r.syscall);
    }
  }
  EXPECT_EQ(seen, enosys);
}

TEST(SeccompBaseline, OneNamespaceRulePerFlag) {
  std::set<std::uint64_t> clone_bits, unshare_bits;
  for (const auto& r : baseline_seccomp_rules()) {
    if (r.syscall != "clone" && r.syscall != "unshare") continue;
    ASSERT_EQ(r.conds.size(), 1u) << describe_rule(r);
    const auto& c = r.conds[0];
    EXPECT_EQ(c.arg, 0u);
    EXPECT_EQ(c.op, Op::MaskedEq);
    EXPECT_EQ(c.a, c.b);
    EXPECT_EQ(r.err, EPERM);
    (r.syscall == "clone" ? clone_bits : unshare_bits).insert(c.a);
  }
  std::set<std::uint64_t> all{CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                              CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, CLONE_NEWTIME};
  EXPECT_EQ(unshare_bits, all);
  all.erase(CLONE_NEWTIME);  // inside clone(2)'s exit-signal byte: clone cannot ask for it
  EXPECT_EQ(clone_bits, all);
}

// ---------------------------------------------------------------------------------------------
// Display and compilation

TEST(SeccompDescribe, OneLinePerRule) {
  auto rules = baseline_seccomp_rules();
  auto find = [&](const std::string& text) {
    return std::any_of(rules.begin(), rules.end(), [&](const SeccompRule& r) { return describe_rule(r) == text; });
  };
  EXPECT_TRUE(find("ioctl(arg1 & 0xffffffff == 0x5412) -> EPERM  [@tty]"));
  EXPECT_TRUE(find("mount -> EPERM  [@mount]"));
  EXPECT_TRUE(find("clone3 -> ENOSYS  [@namespaces]"));
  EXPECT_TRUE(find("unshare(arg0 & 0x10000000 == 0x10000000) -> EPERM  [@namespaces]"));
  EXPECT_TRUE(find("socket(arg0 > 2 && arg0 < 10) -> EAFNOSUPPORT  [@socket]"));
  EXPECT_TRUE(find("socket(arg0 == 2 && arg1 & 0xf == 3) -> EPERM  [@socket]"));
  EXPECT_TRUE(find("personality(arg0 > 0x20008 && arg0 < 0xffffffff) -> EPERM  [@personality]"));
  for (const auto& r : rules) EXPECT_EQ(describe_rule(r).find('\n'), std::string::npos);

  SeccompRule user;
  user.syscall = "getcwd";
  user.err = EACCES;
  user.why = "syscalls.deny";
  user.origin = Origin{"agent.toml", 12, 3};
  EXPECT_EQ(describe_rule(user), "getcwd -> EACCES  [syscalls.deny]   # agent.toml:12");
  SeccompRule kill;
  kill.syscall = "getppid";
  kill.action = SeccompRule::Action::Kill;
  EXPECT_EQ(describe_rule(kill), "getppid -> KILL");
}

TEST(SeccompCompile, BaselineFitsInOneProgram) {
  std::size_t n = seccomp_program_size(baseline_plan());
  EXPECT_GT(n, 100u);
  EXPECT_LE(n, 4096u);  // BPF_MAXINSNS
  SeccompPlan compat = baseline_plan();
  compat.kill_foreign_arch = false;
  EXPECT_LE(seccomp_program_size(compat), 4096u);
}

TEST(SeccompCompile, BadRulesAreOneLineErrors) {
  SeccompPlan p = baseline_plan();
  p.rules.push_back(SeccompRule{"no_such_call", SeccompRule::Action::Errno, EPERM, {}, "syscalls.deny", {}});
  EXPECT_EQ(error_of([&] { seccomp_program_size(p); }), "seccomp: unknown system call \"no_such_call\"");

  SeccompRule r{"getppid", SeccompRule::Action::Errno, EPERM, {{6, Op::Eq, 1, 0}}, "", {}};
  EXPECT_EQ(error_of([&] {
              seccomp_program_size(SeccompPlan{true, {r}, false, true, false, {}});
            }),
            "seccomp: argument index 6 out of range (0-5) in rule getppid(arg6 == 1) -> EPERM");

  r.conds = {};
  r.err = 5000;
  EXPECT_EQ(error_of([&] {
              seccomp_program_size(SeccompPlan{true, {r}, false, true, false, {}});
            }),
            "seccomp: errno 5000 out of range (0-4095) in rule getppid -> errno 5000");

  r.err = EPERM;
  r.conds = {{0, Op::MaskedEq, 0xf, 1}, {0, Op::Lt, 100, 0}};
  EXPECT_NE(error_of([&] {
              seccomp_program_size(SeccompPlan{true, {r}, false, true, false, {}});
            }).find("cannot combine a masked comparison"),
            std::string::npos);
}

TEST(SeccompCompile, RulesForOtherArchitecturesAreSkipped) {
  // umount and vm86 exist on i386 only: nothing to filter on x86_64, and no error.
#if defined(__x86_64__)
  SeccompPlan p;
  p.rules.push_back(SeccompRule{"umount", SeccompRule::Action::Errno, EPERM, {}, "", {}});
  p.rules.push_back(SeccompRule{"vm86", SeccompRule::Action::Errno, EPERM, {}, "", {}});
  EXPECT_EQ(error_of([&] { seccomp_program_size(p); }), "<no error>");
#else
  GTEST_SKIP() << "x86_64 only";
#endif
}

TEST(SeccompApply, RequiresNoNewPrivs) {
  // Even root is refused: the layer order (no_new_privs before seccomp) is checked.
  Outcome o = run_child(
      baseline_plan(), [] { return std::vector<long>{}; }, /*set_nnp=*/false);
  EXPECT_EQ(o.setup_error, "seccomp: no_new_privs is not set; it must be set before the filter is loaded");
}

// ---------------------------------------------------------------------------------------------
// Namespaces

TEST(SeccompFilter, UnshareNewUserDenied) {
  EXPECT_TRUE(DeniedWith([] { return res(::unshare(CLONE_NEWUSER)); }, EPERM));
}

TEST(SeccompFilter, UnshareFilesAllowed) {
  EXPECT_EQ(baseline([] { return res(::unshare(CLONE_FILES)); }), 0);
}

TEST(SeccompFilter, UnshareEveryNamespaceFlagDenied) {
  for (unsigned long flag :
       std::initializer_list<unsigned long>{CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                                            CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME}) {
    SCOPED_TRACE(flag);
    EXPECT_TRUE(DeniedWith([flag] { return res(::syscall(SYS_unshare, flag | CLONE_FILES)); }, EPERM));
  }
}

long raw_clone(unsigned long flags) {
  long r = ::syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) ::_exit(0);
  if (r > 0) ::waitpid(static_cast<pid_t>(r), nullptr, 0);
  return r > 0 ? 0 : res(r);
}

TEST(SeccompFilter, CloneNewNetDenied) {
  EXPECT_TRUE(DeniedWith([] { return raw_clone(CLONE_NEWNET); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return raw_clone(CLONE_NEWUSER | CLONE_NEWNET); }, EPERM));
}

TEST(SeccompFilter, ForkAllowed) {
  EXPECT_EQ(baseline([] {
              pid_t p = ::fork();
              if (p == 0) ::_exit(7);
              if (p < 0) return res(-1);
              int st = 0;
              ::waitpid(p, &st, 0);
              return WIFEXITED(st) ? static_cast<long>(WEXITSTATUS(st)) : -1000L;
            }),
            7);
  EXPECT_EQ(baseline([] { return raw_clone(0); }), 0);
}

TEST(SeccompFilter, Clone3Enosys) {
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_clone3); }, ENOSYS));
}

void* thread_fn(void* arg) {
  *static_cast<int*>(arg) = 42;
  return nullptr;
}

TEST(SeccompFilter, ThreadsAndExecStillWork) {
  // glibc tries clone3 first and falls back to clone on ENOSYS.
  EXPECT_EQ(baseline([] {
              int v = 0;
              pthread_t t;
              if (::pthread_create(&t, nullptr, thread_fn, &v) != 0) return -1L;
              ::pthread_join(t, nullptr);
              return static_cast<long>(v);
            }),
            42);
  if (::access("/bin/true", X_OK) == 0) {
    EXPECT_EQ(baseline([] {
                pid_t p = ::fork();
                if (p == 0) {
                  ::execl("/bin/true", "true", static_cast<char*>(nullptr));
                  ::_exit(99);
                }
                int st = 0;
                ::waitpid(p, &st, 0);
                return WIFEXITED(st) ? static_cast<long>(WEXITSTATUS(st)) : -1000L;
              }),
              0);
  }
}

// ---------------------------------------------------------------------------------------------
// Terminal injection

// fd 0 becomes the slave of a fresh pseudo-terminal: TIOCSTI there could only type into
// our own pty, never into the terminal running the tests.
long with_pty_stdin(const std::function<long()>& f) {
  int m = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (m < 0 || ::grantpt(m) != 0 || ::unlockpt(m) != 0) return -2000;
  const char* name = ::ptsname(m);
  int s = name != nullptr ? ::open(name, O_RDWR | O_NOCTTY) : -1;
  if (s < 0 || ::dup2(s, 0) < 0) return -2000;
  return f();
}

TEST(SeccompFilter, TiocstiDenied) {
  EXPECT_TRUE(DeniedWith(
      [] {
        return with_pty_stdin([] {
          char c = 'x';
          return res(::ioctl(0, TIOCSTI, &c));
        });
      },
      EPERM));
  EXPECT_TRUE(DeniedWith(
      [] {
        return with_pty_stdin([] {
          char c = 0;
          return res(::ioctl(0, TIOCLINUX, &c));
        });
      },
      EPERM));
}

TEST(SeccompFilter, TiocstiWithGarbageInTheHighHalfDenied) {
  EXPECT_TRUE(DeniedWith(
      [] {
        return with_pty_stdin([] {
          char c = 'x';
          return res(::syscall(SYS_ioctl, 0, 0xdeadbeef00000000UL | TIOCSTI, &c));
        });
      },
      EPERM));
}

TEST(SeccompFilter, TiocgwinszAllowed) {
  long r = baseline([] {
    return with_pty_stdin([] {
      struct winsize ws {};
      return res(::ioctl(0, TIOCGWINSZ, &ws));
    });
  });
  EXPECT_NE(r, -EPERM);
  EXPECT_EQ(r, 0);
}

// ---------------------------------------------------------------------------------------------
// Sockets

long sock(long domain, long type, long proto) {
  long fd = res(::syscall(SYS_socket, domain, type, proto));
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    return 0;
  }
  return fd;
}

TEST(SeccompFilter, PacketSocketDenied) {
  EXPECT_TRUE(DeniedWith([] { return sock(AF_PACKET, SOCK_RAW, 0); }, EAFNOSUPPORT));
  EXPECT_TRUE(DeniedWith([] { return sock(AF_VSOCK, SOCK_STREAM, 0); }, EAFNOSUPPORT));
  EXPECT_TRUE(DeniedWith([] { return sock(AF_ALG, SOCK_SEQPACKET, 0); }, EAFNOSUPPORT));
  EXPECT_TRUE(DeniedWith([] { return sock(AF_UNSPEC, SOCK_STREAM, 0); }, EAFNOSUPPORT));
  // The kernel reads the family as an int: garbage in the high half must not slip past.
  EXPECT_TRUE(DeniedWith([] { return sock((1L << 32) | AF_PACKET, SOCK_RAW, 0); }, EAFNOSUPPORT));
}

TEST(SeccompFilter, UnixAndInetSocketsAllowed) {
  EXPECT_TRUE(Allowed([] { return sock(AF_UNIX, SOCK_STREAM, 0); }));
  EXPECT_TRUE(Allowed([] { return sock(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0); }));
  EXPECT_TRUE(Allowed([] { return sock(AF_INET, SOCK_STREAM, 0); }));
  EXPECT_TRUE(Allowed([] { return sock(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0); }));
  long v6 = baseline([] { return sock(AF_INET6, SOCK_STREAM, 0); });
  EXPECT_TRUE(v6 == 0 || v6 == -EAFNOSUPPORT) << err_str(v6);  // a host without IPv6
  if (v6 == -EAFNOSUPPORT) {
    EXPECT_EQ(unfiltered([] { return sock(AF_INET6, SOCK_STREAM, 0); }), -EAFNOSUPPORT);
  }
}

TEST(SeccompFilter, RawInetSocketDenied) {
  EXPECT_TRUE(DeniedWith([] { return sock(AF_INET, SOCK_RAW, IPPROTO_ICMP); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sock(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sock(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sock(AF_INET, SOCK_PACKET, 0); }, EPERM));
  EXPECT_TRUE(Allowed([] { return sock(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
}

long sockpair(long domain, long type) {
  int sv[2];
  long r = res(::syscall(SYS_socketpair, domain, type, 0, sv));
  if (r == 0) {
    ::close(sv[0]);
    ::close(sv[1]);
  }
  return r;
}

TEST(SeccompFilter, SocketpairOnlyUnix) {
  EXPECT_TRUE(DeniedWith([] { return sockpair(AF_TIPC, SOCK_SEQPACKET); }, EAFNOSUPPORT));
  EXPECT_TRUE(DeniedWith([] { return sockpair(AF_INET, SOCK_STREAM); }, EAFNOSUPPORT));
  EXPECT_TRUE(Allowed([] { return sockpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC); }));
}

TEST(SeccompFilter, NetlinkOnlyRoute) {
  EXPECT_TRUE(DeniedWith([] { return sock(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT); }, EAFNOSUPPORT));
  EXPECT_TRUE(DeniedWith([] { return sock(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT); }, EAFNOSUPPORT));
  EXPECT_TRUE(Allowed([] { return sock(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }));
}

// ---------------------------------------------------------------------------------------------
// personality

long pers(unsigned long v) {
  return res(::syscall(SYS_personality, v));
}

TEST(SeccompFilter, PersonalityAddrNoRandomizeDenied) {
  EXPECT_TRUE(DeniedWith([] { return pers(ADDR_NO_RANDOMIZE); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return pers(READ_IMPLIES_EXEC); }, EPERM));
}

TEST(SeccompFilter, PersonalityQueryAllowed) {
  EXPECT_TRUE(Allowed([] { return pers(0xffffffffUL); }));
  EXPECT_TRUE(Allowed([] { return res(::personality(0xffffffff)); }));  // through glibc's wrapper
}

TEST(SeccompFilter, PersonalityOnlyTheHarmlessValues) {
  const std::vector<unsigned long> allowed{0, 8, 0x20000, 0x20008, 0xffffffffUL};
  const std::vector<unsigned long> denied{
      1, 7, 9, 0x1ffff, 0x20001, 0x20007, 0x20009, 0x0400000, 0xfffffffeUL, 0x100000000UL, 0x100000008UL, ~0UL};
  Outcome o = run_child(baseline_plan(), [&] {
    std::vector<long> v;
    for (unsigned long x : allowed) v.push_back(pers(x));
    for (unsigned long x : denied) v.push_back(pers(x));
    return v;
  });
  ASSERT_EQ(o.values.size(), allowed.size() + denied.size()) << o.setup_error;
  for (std::size_t i = 0; i < allowed.size(); ++i) EXPECT_GE(o.values[i], 0) << std::hex << allowed[i];
  for (std::size_t i = 0; i < denied.size(); ++i) {
    EXPECT_EQ(o.values[allowed.size() + i], -EPERM) << std::hex << denied[i];
  }
}

// ---------------------------------------------------------------------------------------------
// Unconditional denials

TEST(SeccompFilter, IoUringSetupEnosys) {
  EXPECT_TRUE(DeniedWith(
      [] {
        struct io_uring_params p {};
        return res(::syscall(SYS_io_uring_setup, 1, &p));
      },
      ENOSYS));
}

TEST(SeccompFilter, OpenTreeEnosys) {
  EXPECT_TRUE(DeniedWith([] { return res(::syscall(SYS_open_tree, AT_FDCWD, "/", 0)); }, ENOSYS));
  EXPECT_TRUE(DeniedWith([] { return res(::syscall(SYS_fsopen, "tmpfs", 0)); }, ENOSYS));
}

TEST(SeccompFilter, MountDenied) {
  EXPECT_TRUE(DeniedWith([] { return res(::mount("none", "/tmp", "tmpfs", 0, nullptr)); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return res(::umount2("/tmp", MNT_DETACH)); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return res(::chroot("/")); }, EPERM));
}

TEST(SeccompFilter, PtraceDenied) {
  EXPECT_TRUE(DeniedWith([] { return res(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }, EPERM));
}

TEST(SeccompFilter, KeyctlDenied) {
  EXPECT_TRUE(
      DeniedWith([] { return res(::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)); }, EPERM));
  EXPECT_TRUE(
      DeniedWith([] { return res(::syscall(SYS_add_key, "user", "k", "v", 1, KEY_SPEC_PROCESS_KEYRING)); }, EPERM));
}

TEST(SeccompFilter, BpfDenied) {
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_bpf); }, EPERM));
}

TEST(SeccompFilter, PerfEventOpenDenied) {
  EXPECT_TRUE(DeniedWith(
      [] {
        struct perf_event_attr a {};
        a.size = sizeof a;
        a.type = PERF_TYPE_SOFTWARE;
        a.config = PERF_COUNT_SW_CPU_CLOCK;
        a.exclude_kernel = 1;
        return res(::syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
      },
      EPERM));
}

TEST(SeccompFilter, UserfaultfdDenied) {
  EXPECT_TRUE(DeniedWith([] { return res(::syscall(SYS_userfaultfd, O_CLOEXEC)); }, EPERM));
}

TEST(SeccompFilter, OtherPrivilegedCallsDenied) {
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_setns); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_pivot_root); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return res(::syscall(SYS_sethostname, "x", 1)); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_open_by_handle_at); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_kexec_load); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_init_module); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_process_vm_readv); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_iopl); }, EPERM));
  EXPECT_TRUE(DeniedWith([] { return sys0(SYS_syslog); }, EPERM));
}

// ---------------------------------------------------------------------------------------------
// System call numbers libseccomp does not know

TEST(SeccompFilter, UnknownNumberEnosys) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, 1000);
  ASSERT_EQ(name, nullptr);
  EXPECT_EQ(baseline([] { return sys0(1000); }), -ENOSYS);
}

TEST(SeccompFilter, NumbersAboveTheTableEnosys) {
  Outcome o = run_child(baseline_plan(), [] {
    return std::vector<long>{sys0(1023), sys0(2000), sys0(0x3fffffff), static_cast<long>(::getppid() > 0)};
  });
  ASSERT_EQ(o.values.size(), 4u) << o.setup_error << " signal " << o.signal;
  EXPECT_EQ(o.values[0], -ENOSYS);
  EXPECT_EQ(o.values[1], -ENOSYS);
  EXPECT_EQ(o.values[2], -ENOSYS);
  EXPECT_EQ(o.values[3], 1);
}

TEST(SeccompFilter, NumbersNewerThanLibseccompEnosys) {
  // 451-462 (cachestat ... mseal): those libseccomp 2.5.x does not know answer ENOSYS, even
  // where the running kernel implements them. With unknown_enosys off they reach the kernel.
  std::vector<long> unknown;
  for (long nr = 451; nr <= 462; ++nr) {
    char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(nr));
    if (n == nullptr) unknown.push_back(nr);
    std::free(n);
  }
  if (unknown.empty()) GTEST_SKIP() << "this libseccomp knows every number up to 462";
  auto body = [&] {
    std::vector<long> v;
    for (long nr : unknown) v.push_back(sys0(nr));
    return v;
  };
  Outcome filtered = run_child(baseline_plan(), body);
  SeccompPlan off = baseline_plan();
  off.unknown_enosys = false;
  Outcome passed = run_child(off, body);
  Outcome native = run_child(std::nullopt, body);
  ASSERT_EQ(filtered.values.size(), unknown.size()) << filtered.setup_error;
  ASSERT_EQ(passed.values.size(), unknown.size()) << passed.setup_error;
  ASSERT_EQ(native.values.size(), unknown.size());
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    EXPECT_EQ(filtered.values[i], -ENOSYS) << "syscall " << unknown[i];
    EXPECT_EQ(passed.values[i], native.values[i]) << "syscall " << unknown[i];
  }
}

// ---------------------------------------------------------------------------------------------
// seccomp itself

long install_allow_all(unsigned long flags) {
  struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog {
    1, &insn
  };
  long r = res(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog));
  if (r > 0) ::close(static_cast<int>(r));  // a listener fd
  return r > 0 ? 0 : r;
}

TEST(SeccompFilter, SeccompNewListenerDenied) {
  EXPECT_TRUE(DeniedWith([] { return install_allow_all(SECCOMP_FILTER_FLAG_NEW_LISTENER); }, EPERM));
}

TEST(SeccompFilter, NestedFiltersAllowed) {
  EXPECT_EQ(baseline([] { return install_allow_all(0); }), 0);
  EXPECT_EQ(baseline([] {
              unsigned int action = SECCOMP_RET_ERRNO;
              return res(::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));
            }),
            0);
}

// ---------------------------------------------------------------------------------------------
// Foreign ABIs

#if defined(__x86_64__)
long x32_syscall(long nr) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(nr) : "rcx", "r11", "memory");
  return r;
}

long int80(long nr, long b = 0, long c = 0, long d = 0) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d) : "r8", "r9", "r10", "r11", "memory");
  return r;
}

constexpr long kX32Bit = 0x40000000;

TEST(SeccompFilter, X32Killed) {
  Outcome o = run_child(baseline_plan(), [] { return std::vector<long>{x32_syscall(kX32Bit | 39)}; });
  EXPECT_EQ(o.setup_error, "");
  EXPECT_EQ(o.signal, SIGSYS) << "x32 getpid returned " << (o.values.empty() ? 0 : o.values[0]);
}

void* x32_thread(void*) {
  x32_syscall(kX32Bit | 39);
  return nullptr;
}

TEST(SeccompFilter, X32KillsTheWholeProcessNotJustTheThread) {
  Outcome o = run_child(baseline_plan(), [] {
    pthread_t t;
    if (::pthread_create(&t, nullptr, x32_thread, nullptr) != 0) return std::vector<long>{-1};
    struct timespec deadline {};
    ::clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    ::pthread_timedjoin_np(t, nullptr, &deadline);
    return std::vector<long>{1};
  });
  EXPECT_EQ(o.signal, SIGSYS);
  EXPECT_TRUE(o.values.empty());
}

TEST(SeccompFilter, I386Int80Killed) {
  Outcome control = run_child(std::nullopt, [] { return std::vector<long>{int80(20), ::getpid()}; });
  if (control.values.size() != 2 || static_cast<int>(control.values[0]) != control.values[1]) {
    GTEST_SKIP() << "int $0x80 does not work here without a filter (no IA32 emulation), signal " << control.signal;
  }
  Outcome o = run_child(baseline_plan(), [] { return std::vector<long>{int80(20)}; });
  EXPECT_EQ(o.setup_error, "");
  EXPECT_EQ(o.signal, SIGSYS);
}

TEST(SeccompFilter, I386FilteredNotKilledWhenAllowed) {
  Outcome control = run_child(std::nullopt, [] { return std::vector<long>{int80(20), ::getpid()}; });
  if (control.values.size() != 2 || static_cast<int>(control.values[0]) != control.values[1]) {
    GTEST_SKIP() << "int $0x80 does not work here without a filter (no IA32 emulation)";
  }
  SeccompPlan p = baseline_plan();
  p.kill_foreign_arch = false;
  // i386: getpid is 20, ptrace is 26 (PTRACE_TRACEME in ebx = 0).
  Outcome o = run_child(p, [] { return std::vector<long>{int80(20), ::getpid(), int80(26, PTRACE_TRACEME)}; });
  ASSERT_EQ(o.values.size(), 3u) << o.setup_error << " signal " << o.signal;
  EXPECT_EQ(static_cast<int>(o.values[0]), o.values[1]);
  EXPECT_EQ(static_cast<int>(o.values[2]), -EPERM);
}
#endif

// ---------------------------------------------------------------------------------------------
// Plans that differ from the baseline

TEST(SeccompPlanRules, RemovedRuleAllowsTheCall) {
  SeccompPlan p = baseline_plan();
  std::erase_if(p.rules, [](const SeccompRule& r) { return r.syscall == "ptrace"; });
  EXPECT_EQ(under(p, [] { return res(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }), 0);
  // The rest still holds.
  EXPECT_EQ(under(p, [] { return res(::unshare(CLONE_NEWUSER)); }), -EPERM);
}

TEST(SeccompPlanRules, ExtraRuleDeniesAHarmlessCall) {
  SeccompPlan p = baseline_plan();
  auto getcwd_call = [] {
    char buf[4096];
    return ::getcwd(buf, sizeof buf) == nullptr ? -static_cast<long>(errno) : 0L;
  };
  EXPECT_EQ(under(p, getcwd_call), 0);
  p.rules.push_back(SeccompRule{"getcwd", SeccompRule::Action::Errno, EACCES, {}, "syscalls.deny", {}});
  EXPECT_EQ(under(p, getcwd_call), -EACCES);
}

TEST(SeccompPlanRules, DenyingSeccompItselfStillLoads) {
  // The unknown-number program is loaded before the main filter, which may deny seccomp(2).
  SeccompPlan p = baseline_plan();
  std::erase_if(p.rules, [](const SeccompRule& r) { return r.syscall == "seccomp"; });
  p.rules.push_back(SeccompRule{"seccomp", SeccompRule::Action::Errno, EPERM, {}, "syscalls.deny", {}});
  EXPECT_EQ(under(p, [] { return install_allow_all(0); }), -EPERM);
  EXPECT_EQ(under(p, [] { return sys0(2000); }), -ENOSYS);
}

TEST(SeccompPlanRules, KillRuleKillsTheProcess) {
  SeccompPlan p;
  p.rules.push_back(SeccompRule{"getppid", SeccompRule::Action::Kill, 0, {}, "test", {}});
  Outcome o = run_child(p, [] { return std::vector<long>{static_cast<long>(::syscall(SYS_getppid))}; });
  EXPECT_EQ(o.setup_error, "");
  EXPECT_EQ(o.signal, SIGSYS);
}

// Several comparisons of one argument (ranges, exclusions, merged masks) are solved by
// apply_seccomp into rules libseccomp accepts. getppid ignores its arguments, so the filter
// alone decides; a naive evaluator of the conditions gives the expected answer.
bool holds(const SeccompRule::Cond& c, const std::uint64_t* args) {
  std::uint64_t x = args[c.arg];
  switch (c.op) {
    case Op::Eq: return x == c.a;
    case Op::Ne: return x != c.a;
    case Op::Gt: return x > c.a;
    case Op::Ge: return x >= c.a;
    case Op::Lt: return x < c.a;
    case Op::MaskedEq: return (x & c.a) == c.b;
  }
  return false;
}

TEST(SeccompPlanRules, SeveralComparisonsOfOneArgument) {
  const std::uint64_t big = 0xffffffffffffffffULL;
  SeccompPlan p;
  p.unknown_enosys = false;
  auto rule = [&](int err, std::vector<SeccompRule::Cond> conds) {
    p.rules.push_back(SeccompRule{"getppid", SeccompRule::Action::Errno, err, std::move(conds), "test", {}});
  };
  rule(101, {{0, Op::Gt, 10, 0}, {0, Op::Lt, 20, 0}});
  rule(102, {{0, Op::Ge, 0x100, 0}, {0, Op::Lt, 0x1000, 0}, {0, Op::Ne, 0x200, 0}, {0, Op::Ne, 0x300, 0}});
  rule(103, {{0, Op::Gt, big - 16, 0}});
  rule(104, {{0, Op::Eq, 7, 0}, {1, Op::MaskedEq, 0xff00, 0x1200}, {1, Op::MaskedEq, 0xf, 0x3}});
  rule(105, {{0, Op::Eq, 5, 0}, {0, Op::Ne, 5, 0}});  // never
  rule(106, {{0, Op::Gt, 0xffffffffULL, 0}, {0, Op::Lt, 0x100000010ULL, 0}, {1, Op::Gt, 1, 0}});
  rule(107, {{0, Op::Ge, 30, 0}, {0, Op::Lt, 40, 0}, {1, Op::Ge, 2, 0}, {1, Op::Lt, 4, 0}});
  rule(108, {{0, Op::Gt, 0x1000, 0}, {0, Op::Lt, 0x1003, 0}});
  rule(109, {{0, Op::Gt, 0x2000, 0}, {0, Op::Lt, 0x2fff, 0}, {0, Op::Ne, 0x2ffe, 0}});

  std::vector<std::uint64_t> a0{0,
                                5,
                                7,
                                9,
                                10,
                                11,
                                19,
                                20,
                                21,
                                29,
                                30,
                                39,
                                40,
                                0xff,
                                0x100,
                                0x101,
                                0x1ff,
                                0x200,
                                0x201,
                                0x2ff,
                                0x300,
                                0x301,
                                0xfff,
                                0x1000,
                                0x1001,
                                0x1002,
                                0x1003,
                                0x2000,
                                0x2001,
                                0x2ffd,
                                0x2ffe,
                                0x2fff,
                                0xffffffffULL,
                                0x100000000ULL,
                                0x10000000fULL,
                                0x100000010ULL,
                                (1ULL << 32) | 15,
                                big - 16,
                                big - 15,
                                big};
  std::vector<std::uint64_t> a1{0, 1, 2, 3, 4, 0x1203, 0x1213, 0x2203, (1ULL << 40) | 0x1203};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> probes;
  std::vector<long> expected;
  for (auto x : a0) {
    for (auto y : a1) {
      probes.emplace_back(x, y);
      std::uint64_t args[6] = {x, y, 0, 0, 0, 0};
      long e = 0;
      for (const auto& r : p.rules) {
        if (std::all_of(r.conds.begin(), r.conds.end(), [&](const auto& c) { return holds(c, args); })) e = -r.err;
      }
      expected.push_back(e);
    }
  }
  Outcome o = run_child(p, [&] {
    std::vector<long> v;
    for (auto [x, y] : probes) {
      long r = res(::syscall(SYS_getppid, x, y, 0, 0, 0, 0));
      v.push_back(r > 0 ? 0 : r);
    }
    return v;
  });
  ASSERT_EQ(o.values.size(), probes.size()) << o.setup_error << " signal " << o.signal;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    EXPECT_EQ(o.values[i], expected[i]) << std::hex << "arg0=0x" << probes[i].first << " arg1=0x" << probes[i].second;
  }
}

}  // namespace
}  // namespace paddock
