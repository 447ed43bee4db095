#include "sandbox/features.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/unique_fd.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace paddock {
namespace {

void probe_userns(KernelFeatures& f) {
  std::string restrict_aa = read_small_file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  f.apparmor_restricts_userns = restrict_aa == "1";
  std::string debian_knob = read_small_file("/proc/sys/kernel/unprivileged_userns_clone");
  std::string max_ns = read_small_file("/proc/sys/user/max_user_namespaces");

  // The only reliable answer is to try, in a throwaway child.
  pid_t pid = fork();
  if (pid == 0) {
    _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0x7f));
  }
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    f.userns = code == 0;
    if (!f.userns) f.userns_detail = std::string("unshare(CLONE_NEWUSER) failed: ") + std::strerror(code);
  } else {
    f.userns_detail = "could not fork a probe process";
  }
  if (!f.userns) {
    if (debian_knob == "0") f.userns_detail += " (kernel.unprivileged_userns_clone = 0)";
    if (max_ns == "0") f.userns_detail += " (user.max_user_namespaces = 0)";
  } else if (f.apparmor_restricts_userns) {
    f.userns_detail =
        "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1);"
        " creating one worked for this process, but capabilities inside it may be denied";
  }
}

void probe_landlock(KernelFeatures& f) {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    f.landlock_abi = 0;
    f.landlock_detail = errno == ENOSYS       ? "kernel built without Landlock"
                        : errno == EOPNOTSUPP ? "Landlock is disabled (add landlock to the lsm= boot parameter)"
                                              : std::string("landlock_create_ruleset: ") + std::strerror(errno);
  } else {
    f.landlock_abi = static_cast<int>(abi);
  }
}

void probe_seccomp(KernelFeatures& f) {
  f.seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  f.seccomp_notify = seccomp_listener_works();
}

void probe_cgroup(CgroupInfo& c) {
  struct statfs sfs {};
  std::string v2_mount;
  bool root_is_v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
  if (root_is_v2) {
    v2_mount = "/sys/fs/cgroup";
    c.layout = CgroupInfo::Layout::Unified;
  } else {
    bool has_v1 = access("/sys/fs/cgroup/memory", F_OK) == 0 || access("/sys/fs/cgroup/pids", F_OK) == 0;
    if (statfs("/sys/fs/cgroup/unified", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
      v2_mount = "/sys/fs/cgroup/unified";
      c.layout = has_v1 ? CgroupInfo::Layout::Hybrid : CgroupInfo::Layout::Unified;
    } else {
      c.layout = has_v1 ? CgroupInfo::Layout::Legacy : CgroupInfo::Layout::None;
    }
  }
  c.v2_mount = v2_mount;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  std::string v1_memory, v1_pids, v1_cpu;
  while (std::getline(in, line)) {
    // "hierarchy-id:controllers:path"
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (line.rfind("0::", 0) == 0) c.v2_path = path;
    std::stringstream ss(ctrls);
    std::string ctl;
    while (std::getline(ss, ctl, ',')) {
      if (ctl == "memory") v1_memory = path;
      if (ctl == "pids") v1_pids = path;
      if (ctl == "cpu") v1_cpu = path;
    }
  }
  if (!v2_mount.empty() && !c.v2_path.empty()) {
    std::string dir = v2_mount + c.v2_path;
    c.v2_writable = access(dir.c_str(), W_OK) == 0 && access((dir + "/cgroup.procs").c_str(), W_OK) == 0;
    std::stringstream ss(read_small_file(dir + "/cgroup.controllers"));
    std::string ctl;
    while (ss >> ctl) c.v2_controllers.push_back(ctl);
  }
  auto v1_ok = [](const std::string& ctl, const std::string& path) {
    if (path.empty()) return false;
    std::string dir = "/sys/fs/cgroup/" + ctl + path;
    return access(dir.c_str(), W_OK) == 0;
  };
  c.v1_memory = v1_ok("memory", v1_memory);
  c.v1_pids = v1_ok("pids", v1_pids);
  c.v1_cpu = v1_ok("cpu", v1_cpu);
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string bus = xdg != nullptr ? std::string(xdg) + "/bus" : "/run/user/" + std::to_string(getuid()) + "/bus";
  c.systemd_user_bus = access(bus.c_str(), F_OK) == 0;
}

}  // namespace

bool seccomp_listener_works() {
  unsigned int action = SECCOMP_RET_USER_NOTIF;
  if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) return false;
  if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0) return true;  // no filter in force: nothing can refuse it
  pid_t pid = fork();
  if (pid == 0) {
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {1, &allow};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    _exit(fd >= 0 ? 0 : 1);
  }
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string read_small_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  char buf[4096];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

KernelFeatures probe_features() {
  KernelFeatures f;
  struct utsname u {};
  if (uname(&u) == 0) f.kernel_release = u.release;
  probe_userns(f);
  probe_landlock(f);
  probe_seccomp(f);
  {
    // close_range on an empty range is a harmless probe.
    f.close_range = syscall(SYS_close_range, ~0U, ~0U, 0) == 0;
  }
  probe_cgroup(f.cgroup);
  return f;
}

}  // namespace paddock
