// The supervisor's end of seccomp user notification: every system call the sandbox's filter
// refuses arrives here first, is recorded as an audit event (name, arguments, pid, the rule
// that decided), and is answered with the rule's errno. Rules that kill (and system calls of
// a foreign ABI) are recorded and the process is killed. The call itself never runs.
#pragma once

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
  std::multimap<int, const SeccompRule*> by_nr_;
  std::uint64_t denials_ = 0;
  std::size_t req_size_ = 0, resp_size_ = 0;
};

}  // namespace paddock
