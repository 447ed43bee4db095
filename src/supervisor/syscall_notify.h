// The supervisor's end of seccomp user notification: every system call the sandbox's filter
// refuses arrives here first, is recorded as an audit event (name, arguments, pid, the rule
// that decided), and is answered with the rule's errno. Rules that kill (and system calls of
// a foreign ABI) are recorded and the process is killed. The call itself never runs.
// With --trace-fs, calls that match only a trace rule (SeccompRule::trace) go to the trace
// handler and then continue as if never stopped (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "audit/writer.h"
#include "sandbox/plan.h"
#include "util/unique_fd.h"

namespace paddock {

class SyscallNotifier {
 public:
  // `on_denial` is called after each recorded denial (the kill switch counts them).
  SyscallNotifier(UniqueFd listener, const SeccompPlan& plan, AuditWriter* audit, bool verbose,
                  std::function<void()> on_denial);
  [[nodiscard]] int fd() const { return fd_.get(); }
  // Handles the pending notification. Returns false when the listener is gone (every
  // filtered process has exited).
  bool on_readable();
  [[nodiscard]] std::uint64_t denials() const { return denials_; }
  // The session is ending (a kill switch tripped): from now on a waiting caller is SIGKILLed
  // instead of answered, so nothing more runs or is recorded.
  void end_session() { ending_ = true; }
  // Called for a notification that matched no deny rule, only a trace rule, before the call is
  // let through: the listener (for SECCOMP_IOCTL_NOTIF_ID_VALID), the request, the call's name.
  using TraceHandler = std::function<void(int, const struct seccomp_notif&, const std::string&)>;
  void set_trace_handler(TraceHandler handler) { trace_ = std::move(handler); }

 private:
  struct Resolved {
    const SeccompRule* rule;
    int nr;
  };
  UniqueFd fd_;
  const SeccompPlan& plan_;
  AuditWriter* audit_;
  bool verbose_;
  std::function<void()> on_denial_;
  TraceHandler trace_;
  std::multimap<int, const SeccompRule*> by_nr_;
  std::map<int, std::string> trace_names_;  // names of the traced calls, by number
  std::uint64_t denials_ = 0;
  bool ending_ = false;
  std::size_t req_size_ = 0, resp_size_ = 0;
};

}  // namespace paddock
