// What this kernel and this user can do, probed without side effects that outlive the probe.
// `paddock doctor` prints it; `paddock run` uses it to fail closed before starting anything.
#pragma once

#include <string>
#include <vector>

namespace paddock {

struct CgroupInfo {
  enum class Layout { Unified, Hybrid, Legacy, None };
  Layout layout = Layout::None;
  std::string v2_path;                                      // our cgroup in the v2 hierarchy ("" if none)
  std::string v2_mount;                                     // where the v2 hierarchy is mounted
  bool v2_writable = false;                                 // we can create a child cgroup there
  std::vector<std::string> v2_controllers;                  // controllers available to our cgroup
  bool v1_memory = false, v1_pids = false, v1_cpu = false;  // writable v1 controllers
  bool systemd_user_bus = false;                            // a user bus exists for transient scopes
  std::string detail;
};

struct KernelFeatures {
  bool userns = false;        // this process can create a user namespace
  std::string userns_detail;  // why not, or which knob restricts it
  bool apparmor_restricts_userns = false;
  int landlock_abi = 0;  // 0: Landlock unavailable
  std::string landlock_detail;
  bool seccomp = false;
  bool seccomp_notify = false;
  bool close_range = false;
  CgroupInfo cgroup;
  std::string kernel_release;
};

KernelFeatures probe_features();

// Whether this process can install a seccomp filter with a user-notification listener. Cheap
// (SECCOMP_GET_ACTION_AVAIL) when no filter is in force yet; under an existing filter (paddock
// inside a sandbox) it is tried for real in a throwaway child, since the outer filter may
// refuse listeners and the kernel allows only one listener per filter chain.
bool seccomp_listener_works();

// Reads a small /proc or /sys file; returns "" when unreadable (trailing newline stripped).
std::string read_small_file(const std::string& path);

}  // namespace paddock
