// One sandboxed session seen from the supervisor: start the sandbox from a plan, relay the
// terminal, forward signals, enforce the wall clock, and turn the outcome into an exit status.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/mounts.h"
#include "sandbox/plan.h"
#include "util/unique_fd.h"

namespace paddock {

class AuditWriter;
class SessionCgroup;

struct SessionOptions {
  bool quiet = false;
  bool verbose = false;
  AuditWriter* audit = nullptr;
  std::optional<Setting<std::uint64_t>> max_denials;
  SessionCgroup* cgroup = nullptr;  // limits; the sandbox is started inside it
  // Called once the sandbox exists (after clone, before anything in it can be denied): the
  // session start event goes to the log there, so a plan that clone() refused never has one.
  std::function<void()> on_started;
  // When valid: given to the command as its file descriptor 3 (a tool worker's channel). The
  // session closes it once the sandbox has its copy.
  int pass_fd = -1;
  // Tools served inside (plan.mcp): called once the sandbox has handed over the endpoint's
  // listening sockets ('U': the UNIX socket, 'T': the TCP listener), before the session's event
  // loop starts. May throw: the sandbox is then killed and the error passed on.
  std::function<void(std::vector<std::pair<char, UniqueFd>>)> on_tool_listeners;
  // More descriptors for the event loop: when one is readable its callback runs and says whether
  // to keep watching it, to stop, or to end the session as a kill switch does (exit 137).
  enum class Watch { kKeep, kStop, kKill };
  std::vector<std::pair<int, std::function<Watch()>>> watch_fds;
};

struct SessionResult {
  int exit_code = 0;
  bool timed_out = false;
  bool setup_failed = false;
  bool denials_exceeded = false;
  bool cpu_time_exceeded = false;
  bool watch_killed = false;  // a watched descriptor's callback ended the session (tool kill switch)
  bool oom_killed = false;
  std::string memory_limit;          // for the message when the OOM killer ended the command
  std::uint64_t memory_peak = 0;     // bytes, from the cgroup
  std::uint64_t cpu_usage_usec = 0;  // the whole session's CPU time, from the cgroup (0: none)
  std::uint64_t syscall_denials = 0;
  std::string setup_error;
  std::vector<std::string> warnings;  // from inside (skipped grants)
};

// Reads each declared secret from its source; throws Error naming a secret whose source is
// missing.
std::vector<SecretValue> read_secrets(const Policy& p, const HostFacts& h);

// Thrown by run_session when clone() cannot create the user namespace: the caller may
// re-plan without namespaces if the profile allows it.
class NamespacesUnavailable : public Error {
 public:
  using Error::Error;
};

SessionResult run_session(const SandboxPlan& plan, std::vector<SecretValue> secrets, const SessionOptions& opts);

}  // namespace paddock
