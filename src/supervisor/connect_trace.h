// Network mode "proxy": records direct connection attempts the proxy never sees. A connect()
// to a port paddock does not serve inside the sandbox is refused by the kernel (Landlock ABI
// >= 4: EACCES; otherwise nothing listens: ECONNREFUSED) and, without this, by nobody in the
// log. The sandbox's filter sends connect() here (a trace rule); this reads the address,
// records the refused ones, and the call then continues to the kernel, which decides: a trace
// never allows anything.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <functional>
#include <set>

#include "sandbox/plan.h"

namespace paddock {

class AuditWriter;

class ConnectTracer {
 public:
  ConnectTracer(const ProxyPlan& plan, AuditWriter* audit, bool verbose, std::function<void()> on_denial);
  // The caller waits in connect(); the notifier lets it continue afterwards.
  void on_notification(int listener, const struct seccomp_notif& req);

 private:
  std::set<std::uint16_t> served_;
  AuditWriter* audit_;
  bool verbose_;
  std::function<void()> on_denial_;
};

}  // namespace paddock
