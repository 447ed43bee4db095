// The egress proxy of network mode "proxy", run by the supervisor on the host side. It serves the
// listening sockets the sandbox created in its own network namespace (HTTP proxy, SOCKS5, DNS,
// and the transparent ports), decides every destination with EgressPolicy, dials allowed ones
// from the host, relays bytes (splice), enforces the egress budgets and writes an audit event for
// every attempt.
//
// One epoll set of its own, nested in the session's event loop: the loop calls run_ready()
// when fd() is readable, and it never blocks (host-side name resolution happens on
// HostResolver's worker threads).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sandbox/plan.h"
#include "util/unique_fd.h"

namespace paddock {

class AuditWriter;

struct ProxyOptions {
  AuditWriter* audit = nullptr;
  bool verbose = false;
  bool quiet = false;
  std::function<void()> on_denial;  // after every denial event (the max_denials kill switch)
};

struct ProxyStats {
  std::uint64_t connections = 0;  // outbound connections opened
  std::uint64_t denials = 0;
  std::uint64_t bytes_out = 0, bytes_in = 0;
};

class EgressProxy {
 public:
  EgressProxy(const ProxyPlan& plan, std::vector<UniqueFd> tcp_listeners, UniqueFd dns_udp, ProxyOptions options);
  // Closes every connection, each with its result event.
  ~EgressProxy();
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;

  [[nodiscard]] int fd() const;
  // Handles whatever is ready, without waiting.
  void run_ready();
  [[nodiscard]] ProxyStats stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace paddock
