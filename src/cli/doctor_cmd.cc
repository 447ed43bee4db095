// `paddock doctor`: what this machine lets paddock enforce, and so what `run` will do.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/cli.h"
#include "sandbox/cgroup.h"
#include "sandbox/features.h"

namespace paddock {
namespace {

void row(const char* status, const std::string& layer, const std::string& detail) {
  std::printf("  %-5s %-22s %s\n", status, layer.c_str(), detail.c_str());
}

const char* layout_name(CgroupInfo::Layout l) {
  switch (l) {
    case CgroupInfo::Layout::Unified: return "v2 (unified)";
    case CgroupInfo::Layout::Hybrid: return "hybrid (v1 controllers, v2 hierarchy)";
    case CgroupInfo::Layout::Legacy: return "v1 (legacy)";
    case CgroupInfo::Layout::None: return "none mounted";
  }
  return "?";
}

}  // namespace

int doctor_command() {
  KernelFeatures f = probe_features();
  std::printf("paddock doctor: kernel %s, running as uid %d%s\n\n", f.kernel_release.c_str(), getuid(),
              getuid() == 0 ? " (root)" : "");

  std::puts("Kernel features:");
  row(f.userns ? "ok" : "NO", "user namespaces",
      f.userns ? (f.userns_detail.empty() ? "can be created by this user" : f.userns_detail) : f.userns_detail);
  row(f.landlock_abi > 0 ? "ok" : "NO", "Landlock",
      f.landlock_abi > 0 ? "ABI " + std::to_string(f.landlock_abi) +
                               (f.landlock_abi >= 4 ? " (filesystem, TCP bind/connect" : " (filesystem") +
                               (f.landlock_abi >= 6 ? ", signal and abstract-socket scoping)" : ")")
                         : f.landlock_detail);
  row(f.seccomp ? "ok" : "NO", "seccomp", f.seccomp ? "filters available" : "not available");
  row(f.seccomp_notify ? "ok" : "NO", "seccomp user notif.",
      f.seccomp_notify ? "denied syscalls can be reported with pid and arguments"
                       : "denials can be enforced but not reported in detail");
  row(f.close_range ? "ok" : "NO", "close_range",
      f.close_range ? "inherited descriptors closed in one call" : "falls back to closing each descriptor");

  const CgroupInfo& c = f.cgroup;
  std::string v2 = c.v2_mount.empty()
                       ? "no v2 hierarchy"
                       : "v2 at " + c.v2_mount + c.v2_path + (c.v2_writable ? " (writable" : " (not writable");
  if (!c.v2_mount.empty()) {
    std::string ctl;
    for (const auto& x : c.v2_controllers) ctl += (ctl.empty() ? "" : " ") + x;
    v2 += ctl.empty() ? ", no controllers)" : ", controllers: " + ctl + ")";
  }
  row("info", "cgroups", layout_name(c.layout));
  // Usable for limits only with a controller paddock sets (memory, pids, cpu).
  bool v2_limits =
      c.v2_writable && std::any_of(c.v2_controllers.begin(), c.v2_controllers.end(),
                                   [](const std::string& x) { return x == "memory" || x == "pids" || x == "cpu"; });
  row(v2_limits ? "ok" : "--", "cgroup v2", v2);
  bool v1_any = c.v1_memory || c.v1_pids || c.v1_cpu;
  row(v1_any ? "ok" : "--", "cgroup v1",
      v1_any ? std::string("writable:") + (c.v1_memory ? " memory" : "") + (c.v1_pids ? " pids" : "") +
                   (c.v1_cpu ? " cpu" : "")
             : "no writable v1 controller");
  row(c.systemd_user_bus ? "ok" : "--", "systemd user bus",
      c.systemd_user_bus ? "can request a delegated scope" : "absent (no transient scope delegation)");

  std::puts("\nWhat `paddock run` will do here:");
  bool ns = f.userns;
  row(ns ? "hold" : "FAIL", "namespaces + root view",
      ns ? "user, mount, pid, ipc, uts, net, cgroup namespaces; bind-mounted root"
         : "refuses to run (exit 125) unless the profile sets sandbox.best_effort = [\"namespaces\"]");
  row(f.landlock_abi > 0 ? "hold" : "FAIL", "Landlock",
      f.landlock_abi > 0 ? "grants enforced a second time by Landlock"
                         : "refuses to run unless sandbox.best_effort includes \"landlock\"");
  row(f.seccomp ? "hold" : "FAIL", "seccomp",
      f.seccomp ? "baseline syscall denylist, non-native ABIs killed" : "refuses to run");
  row("hold", "capabilities", "all sets emptied, no_new_privs");
  bool cg = v2_limits || v1_any || c.systemd_user_bus;
  row(cg ? "hold" : "weak", "resource limits",
      cg ? "a session cgroup where the profile sets limits"
         : "rlimits only for memory/pids (printed as a degradation); profiles with limits.cpu or "
           "limits.cpu_time are refused unless sandbox.best_effort includes \"cgroup\"");
  row(f.seccomp_notify ? "hold" : "FAIL", "denial records",
      f.seccomp_notify ? "every denied system call is recorded by the supervisor"
                       : "refuses to run unless sandbox.best_effort includes \"seccomp-notify\"");

  // A paddock that was killed cannot remove its session cgroup; doctor does.
  int removed = cleanup_stale_cgroups(CgroupRoots::detect());
  if (removed > 0) std::printf("\nRemoved %d stale session cgroup(s) left by a paddock that was killed.\n", removed);
  return 0;
}

}  // namespace paddock
