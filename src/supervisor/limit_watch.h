// Turns the session cgroup's event counters into audit events while the sandbox runs:
// memory.high crossings become limit/warn, OOM kills limit/kill, refused forks at pids.max
// limit/deny (a denial, counted by max_denials), and the session's CPU time is checked
// against limits.cpu_time.
#pragma once

#include <cstdint>
#include <string>

#include "audit/writer.h"
#include "sandbox/cgroup.h"
#include "sandbox/plan.h"

namespace paddock {

class LimitWatch {
 public:
  LimitWatch(SessionCgroup& cgroup, const ResourcePlan& plan, AuditWriter* audit, bool verbose);
  // After an event fd woke the supervisor. Returns the number of new denials recorded.
  std::uint64_t on_event();
  // True when the session's CPU time reached limits.cpu_time (the caller ends the session).
  bool cpu_time_exceeded();
  // Final counters at exit (throttling, peak memory).
  void finish();
  [[nodiscard]] bool oom_killed() const { return last_.oom_kill > 0; }
  [[nodiscard]] std::uint64_t memory_peak() const { return last_.memory_peak; }
  [[nodiscard]] std::uint64_t cpu_usage_usec() const { return last_.cpu_usage_usec; }
  [[nodiscard]] std::string memory_limit_text() const;

 private:
  void record(const char* action, const std::string& limit, const std::string& reason, std::uint64_t value);
  SessionCgroup& cgroup_;
  const ResourcePlan& plan_;
  AuditWriter* audit_;
  bool verbose_;
  CgroupEvents last_;
};

}  // namespace paddock
