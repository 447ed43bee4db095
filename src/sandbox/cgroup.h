// Resource bounds through cgroups: one cgroup per session, limits written before anything
// runs in it, events read while it runs, everything killed and removed at the end.
//
// Order of preference (what a user's machine offers):
//   1. cgroup v2, a delegated subtree: a child of paddock's own cgroup when paddock may write
//      there, otherwise a transient systemd scope with Delegate=yes (sd-bus) that paddock then
//      subdivides (supervisor/ and sandbox/, because of v2's "no internal processes" rule).
//      The sandbox is spawned straight into it (clone3 CLONE_INTO_CGROUP).
//   2. cgroup v1 (memory, pids, cpu controllers), where writable.
//   3. None: the caller falls back to rlimits and prints that as a degradation.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/unique_fd.h"

namespace paddock {

struct CgroupLimits {
  std::optional<std::uint64_t> memory_max;   // bytes (v2 memory.max / v1 memory.limit_in_bytes)
  std::optional<std::uint64_t> memory_high;  // bytes, ~90 % of max (v2 memory.high / v1 soft limit)
  std::optional<std::uint64_t> pids_max;
  std::optional<double> cpus;  // cores (v2 cpu.max / v1 cfs quota over a 100 ms period)
  [[nodiscard]] bool any() const { return memory_max || pids_max || cpus; }
};

// Counters read from the controllers' event files.
struct CgroupEvents {
  std::uint64_t memory_high = 0;    // times usage went over memory.high (v2) / the warning threshold (v1)
  std::uint64_t memory_max = 0;     // times usage hit the limit
  std::uint64_t oom_kill = 0;       // processes killed by the OOM killer
  std::uint64_t pids_max = 0;       // fork/clone refused at pids.max
  std::uint64_t cpu_throttled = 0;  // periods throttled
  std::uint64_t cpu_usage_usec = 0;
  std::uint64_t memory_peak = 0;  // bytes, when the kernel reports it
};

// Where the cgroup file systems are, so tests can point at a fake tree.
struct CgroupRoots {
  std::string v2 = "/sys/fs/cgroup";  // the unified hierarchy ("" if none)
  std::string v1 = "/sys/fs/cgroup";  // parent of the v1 controller mounts ("" if none)
  std::string proc_self_cgroup = "/proc/self/cgroup";
  // Tests only: the roots are plain directories standing in for cgroupfs. Files are created
  // when written (and removed with their directory), no process is signalled, systemd is never
  // asked, and optional kernel files (memory.swap.max, memory.memsw.*) count as present.
  // Without it every root must be a real cgroup file system, so a plain directory can never be
  // mistaken for a limit.
  bool fake = false;
  // Detect the real layout (unified at /sys/fs/cgroup, or hybrid with /sys/fs/cgroup/unified).
  static CgroupRoots detect();
};

class SessionCgroup {
 public:
  enum class Version { V2, V1 };

  // Creates the session's cgroup(s) named after `session` with the limits written. Returns
  // nullptr (and fills `why`) when no writable cgroup with the needed controllers exists;
  // throws Error when one exists but configuring it fails. On success through v1, `why` says
  // why v2 was not used (a degradation worth printing); it is empty when v2 is used.
  static std::unique_ptr<SessionCgroup> create(const CgroupLimits& limits, const std::string& session,
                                               const CgroupRoots& roots, std::string& why);
  SessionCgroup(const SessionCgroup&) = delete;
  SessionCgroup& operator=(const SessionCgroup&) = delete;
  // Kills whatever is left and removes the cgroup(s).
  ~SessionCgroup();

  [[nodiscard]] Version version() const { return version_; }
  [[nodiscard]] std::string description() const;  // e.g. "cgroup v1 /sys/fs/cgroup/memory/.../paddock-ID"
  // v2: an O_DIRECTORY fd of the sandbox cgroup, for clone3's CLONE_INTO_CGROUP.
  [[nodiscard]] int v2_dirfd() const { return dirfd_.get(); }
  // Moves a process in (v1, or v2 when clone3 cannot be used).
  void add(pid_t pid);
  // Descriptors that become readable (register them with EPOLLIN) when an event counter may
  // have changed; then call ack_events() and events().
  //   v2: one inotify fd (IN_MODIFY) watching memory.events and pids.events: kernfs reports a
  //       change of those files as a file-modified event (it would also raise POLLPRI on the
  //       files themselves; inotify is used so that every fd here is plain EPOLLIN).
  //   v1: an eventfd registered through cgroup.event_control for memory.oom_control (an OOM
  //       happened), an eventfd for a memory.usage_in_bytes threshold at memory_high (crossed
  //       either way; events() counts the upward ones among those ack_events() drained). v1's
  //       pids.events changes without any notification: its counter is only seen by events().
  //       The threshold is registered by the first call, because the kernel makes that wait for
  //       an RCU grace period (5-20 ms measured): call this once the sandbox is on its way.
  // All are non-blocking and close-on-exec; the object owns them.
  [[nodiscard]] std::vector<int> event_fds() const;
  // Drains the event fds after a wake-up.
  void ack_events();
  [[nodiscard]] CgroupEvents events() const;
  // SIGKILLs every process in the cgroup(s) until they are empty (cgroup.kill on v2).
  void kill_all();

 private:
  SessionCgroup() = default;
  Version version_ = Version::V2;
  std::vector<std::string> dirs_;  // v2: the sandbox dir (and its session parent); v1: one per controller
  UniqueFd dirfd_;
  mutable std::vector<UniqueFd> event_fds_;  // mutable: event_fds() arms the v1 threshold on first use
  CgroupLimits limits_;

  friend struct CgroupBuilder;  // cgroup.cc: the v2 / v1 construction steps
  bool fake_ = false;
  std::vector<std::string> created_;             // directories made, in order (removed in reverse)
  std::string sandbox_dir_;                      // v2: where the sandbox runs (cgroup.kill, limits, events)
  std::string session_dir_;                      // v2: paddock-<session>-<pid>
  std::string supervisor_dir_;                   // v2 delegated layout: where paddock itself moved
  std::string moved_from_;                       // v2 delegated layout: paddock's cgroup before it moved
  std::vector<std::string> enabled_in_parent_;   // controllers paddock enabled in moved_from_'s subtree_control
  std::vector<std::string> enabled_in_session_;  // controllers enabled in session_dir_'s subtree_control
  std::string via_;                              // how the cgroup was obtained, for description()
  std::string memory_dir_, pids_dir_, cpu_dir_;  // v1, per controller ("" when not used)
  std::string cpuacct_dir_;                      // v1: CPU time accounting, where a cpuacct hierarchy is writable
  mutable bool high_pending_ = false;            // v1: threshold not registered yet (see event_fds())
  mutable int high_efd_ = -1;                    // v1: the threshold eventfd (owned by event_fds_)
  std::uint64_t high_signals_ = 0;               // v1: threshold notifications drained by ack_events()

  void move_back() noexcept;
};

// Removes cgroups a killed paddock left behind: session cgroups whose supervisor pid (part of
// the name) no longer runs. Returns the number removed; `paddock run` and `paddock doctor`
// call it.
int cleanup_stale_cgroups(const CgroupRoots& roots);

}  // namespace paddock
