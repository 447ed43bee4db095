#include "sandbox/seccomp_baseline.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <utility>

namespace paddock {
namespace {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

using Op = SeccompRule::Cond::Op;
using Cond = SeccompRule::Cond;

Cond eq(unsigned arg, std::uint64_t v) {
  return {arg, Op::Eq, v, 0};
}
Cond ne(unsigned arg, std::uint64_t v) {
  return {arg, Op::Ne, v, 0};
}
Cond gt(unsigned arg, std::uint64_t v) {
  return {arg, Op::Gt, v, 0};
}
Cond lt(unsigned arg, std::uint64_t v) {
  return {arg, Op::Lt, v, 0};
}
Cond masked(unsigned arg, std::uint64_t mask, std::uint64_t v) {
  return {arg, Op::MaskedEq, mask, v};
}

class Builder {
 public:
  // One unconditional rule per name.
  void deny(const char* why, int err, std::initializer_list<const char*> names) {
    for (const char* n : names) add(n, err, {}, why);
  }

  void add(const char* name, int err, std::vector<Cond> conds, const char* why) {
    // Not on this architecture (a pseudo-syscall number < 0), or unknown to this libseccomp:
    // nothing to filter. The unit tests check that every x86_64 name does resolve there.
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name) < 0) return;
    SeccompRule r;
    r.syscall = name;
    r.action = SeccompRule::Action::Errno;
    r.err = err;
    r.conds = std::move(conds);
    r.why = why;
    r.origin = Origin{"built-in seccomp baseline", 0, 0};
    rules_.push_back(std::move(r));
  }

  // `value` of argument `arg` is denied unless it is one of `allowed` (sorted, distinct):
  // one rule per gap between allowed values. Two conditions on the same argument express a
  // range (apply_seccomp turns it into something libseccomp accepts). The whole 64-bit
  // register is compared, so garbage in the upper half of an allowed 32-bit value is refused
  // too (fail closed), never let through.
  void deny_outside(const char* name, int err, unsigned arg, std::initializer_list<std::uint64_t> allowed,
                    const std::vector<Cond>& extra, const char* why) {
    std::uint64_t prev = 0;
    bool first = true;
    for (std::uint64_t v : allowed) {
      std::vector<Cond> c = extra;
      if (first) {
        if (v > 0) {
          c.push_back(lt(arg, v));
          add(name, err, std::move(c), why);
        }
      } else if (v - prev > 1) {
        c.push_back(gt(arg, prev));
        c.push_back(lt(arg, v));
        add(name, err, std::move(c), why);
      }
      prev = v;
      first = false;
    }
    if (prev != UINT64_MAX) {
      std::vector<Cond> c = extra;
      c.push_back(gt(arg, prev));
      add(name, err, std::move(c), why);
    }
  }

  std::vector<SeccompRule> take() { return std::move(rules_); }

 private:
  std::vector<SeccompRule> rules_;
};

}  // namespace

std::vector<SeccompRule> baseline_seccomp_rules() {
  Builder b;

  // --- mounts and the root ------------------------------------------------------------------
  b.deny("@mount", EPERM, {"mount", "umount", "umount2", "pivot_root", "chroot"});
  // The new mount API: ENOSYS, so that callers fall back to mount(2) (and are refused there).
  b.deny("@mount", ENOSYS, {"fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr"});

  // --- namespaces -----------------------------------------------------------------------------
  b.deny("@namespaces", EPERM, {"setns"});
  // clone3 passes its flags in memory where seccomp cannot see them: ENOSYS makes glibc (and
  // every other libc) fall back to clone(2), whose flags are checked below.
  b.deny("@namespaces", ENOSYS, {"clone3"});
  struct Flag {
    std::uint64_t bit;
    bool in_clone;
  };
  // CLONE_NEWTIME (0x80) lies inside clone(2)'s exit-signal byte (CSIGNAL), so clone cannot
  // ask for it (only unshare and clone3 can); a clone rule on that bit would only refuse
  // invalid exit signals.
  for (Flag f :
       {Flag{CLONE_NEWNS, true}, Flag{CLONE_NEWCGROUP, true}, Flag{CLONE_NEWUTS, true}, Flag{CLONE_NEWIPC, true},
        Flag{CLONE_NEWUSER, true}, Flag{CLONE_NEWPID, true}, Flag{CLONE_NEWNET, true}, Flag{CLONE_NEWTIME, false}}) {
    // x86_64 clone(flags, stack, ...): the flags are argument 0, as for unshare(flags).
    if (f.in_clone) b.add("clone", EPERM, {masked(0, f.bit, f.bit)}, "@namespaces");
    b.add("unshare", EPERM, {masked(0, f.bit, f.bit)}, "@namespaces");
  }

  // --- debugging and other processes' memory -----------------------------------------------------
  b.deny(
      "@debug", EPERM,
      {"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "perf_event_open", "lookup_dcookie"});

  // --- classic kernel exploit primitives ------------------------------------------------------
  b.deny("@privileged", EPERM, {"bpf"});
  b.deny("@userfaultfd", EPERM, {"userfaultfd"});
  b.deny("@io_uring", ENOSYS, {"io_uring_setup", "io_uring_enter", "io_uring_register"});

  // --- kernel keyrings (not namespaced) ---------------------------------------------------------
  b.deny("@keyring", EPERM, {"add_key", "request_key", "keyctl"});

  // --- privileged operations ----------------------------------------------------------------------
  // open_by_handle_at is the "shocker" container escape; name_to_handle_at is its other half.
  b.deny("@privileged", EPERM,
         {"open_by_handle_at", "name_to_handle_at", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup",
          "sethostname", "setdomainname", "fanotify_init"});
  b.deny("@module", EPERM, {"init_module", "finit_module", "delete_module", "create_module"});
  b.deny("@reboot", EPERM, {"reboot", "kexec_load", "kexec_file_load"});
  b.deny("@swap", EPERM, {"swapon", "swapoff"});
  b.deny("@clock", EPERM, {"settimeofday", "clock_settime", "clock_adjtime", "adjtimex"});
  b.deny("@raw-io", EPERM, {"iopl", "ioperm"});
  b.deny("@cpu-emulation", EPERM, {"modify_ldt", "vm86", "vm86old"});
  b.deny("@obsolete", EPERM, {"nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "get_kernel_syms", "query_module"});
  // NUMA placement (Docker: CAP_SYS_NICE). get_mempolicy is refused as well, so that libnuma's
  // numa_available() reports "no NUMA" and programs take their non-NUMA path.
  b.deny("@numa", EPERM,
         {"mbind", "migrate_pages", "move_pages", "set_mempolicy", "get_mempolicy", "set_mempolicy_home_node"});

  // --- no setuid/setgid files (systemd's RestrictSUIDSGID=) -------------------------------------
  // Root inside the sandbox still owns what it creates: a setuid-root file left in a writable
  // grant would be root for every host user who can reach it.
  constexpr std::uint64_t kTmpfile = 020000000;  // __O_TMPFILE
  for (std::uint64_t bit : {std::uint64_t{S_ISUID}, std::uint64_t{S_ISGID}}) {
    b.add("chmod", EPERM, {masked(1, bit, bit)}, "@suid");
    b.add("fchmod", EPERM, {masked(1, bit, bit)}, "@suid");
    b.add("fchmodat", EPERM, {masked(2, bit, bit)}, "@suid");
    b.add("creat", EPERM, {masked(1, bit, bit)}, "@suid");
    b.add("mknod", EPERM, {masked(1, bit, bit)}, "@suid");
    b.add("mknodat", EPERM, {masked(2, bit, bit)}, "@suid");
    for (std::uint64_t create : {std::uint64_t{O_CREAT}, kTmpfile}) {
      b.add("open", EPERM, {masked(1, create, create), masked(2, bit, bit)}, "@suid");
      b.add("openat", EPERM, {masked(2, create, create), masked(3, bit, bit)}, "@suid");
    }
  }
  // openat2 passes its mode in memory seccomp cannot read: ENOSYS, callers fall back to openat.
  b.deny("@suid", ENOSYS, {"openat2"});

  // --- terminal injection -----------------------------------------------------------------------
  // The kernel truncates the request to 32 bits: compare the low half only.
  b.add("ioctl", EPERM, {masked(1, 0xffffffffULL, TIOCSTI)}, "@tty");
  b.add("ioctl", EPERM, {masked(1, 0xffffffffULL, TIOCLINUX)}, "@tty");

  // --- sockets ------------------------------------------------------------------------------------
  // Families other than UNIX, INET, INET6 and NETLINK (socket(domain, type, protocol)).
  b.deny_outside("socket", EAFNOSUPPORT, 0, {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}, {}, "@socket");
  // socketpair(2) reaches the same protocol families (and their module autoloading: TIPC
  // has one); only UNIX sockets come in pairs for real.
  b.deny_outside("socketpair", EAFNOSUPPORT, 0, {AF_UNIX}, {}, "@socket");
  // Netlink: only NETLINK_ROUTE (addresses, routes: what getaddrinfo and `ip` read).
  b.add("socket", EAFNOSUPPORT, {eq(0, AF_NETLINK), ne(2, NETLINK_ROUTE)}, "@socket");
  // Raw and packet sockets (the type carries SOCK_NONBLOCK|SOCK_CLOEXEC above the low nibble).
  for (int family : {AF_INET, AF_INET6}) {
    for (int type : {SOCK_RAW, SOCK_PACKET}) {
      b.add("socket", EPERM,
            {eq(0, static_cast<std::uint64_t>(family)), masked(1, 0xf, static_cast<std::uint64_t>(type))}, "@socket");
    }
  }

  // --- personality: only the harmless values -------------------------------------------------------
  // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (query). Anything
  // else (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...) is refused.
  constexpr std::uint64_t linux32 = PER_LINUX32, uname26 = UNAME26;
  b.deny_outside("personality", EPERM, 0, {PER_LINUX, linux32, uname26, uname26 | linux32, 0xffffffffULL}, {},
                 "@personality");

  // --- seccomp: no supervisor of the agent's own -----------------------------------------------------
  b.add("seccomp", EPERM,
        {eq(0, SECCOMP_SET_MODE_FILTER), masked(1, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_NEW_LISTENER)},
        "@seccomp");

  return b.take();
}

std::vector<std::string> baseline_syscall_names() {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& r : baseline_seccomp_rules()) {
    if (seen.insert(r.syscall).second) names.push_back(r.syscall);
  }
  return names;
}

}  // namespace paddock
