// Network namespace setup from inside the sandbox: bring up lo (the only interface, in modes
// "none" and "proxy"), and for mode "proxy" make every address local and open the listening
// sockets the supervisor serves.
#pragma once

#include <cstdint>
#include <vector>

#include "sandbox/plan.h"
#include "util/unique_fd.h"

namespace paddock {

void bring_up_loopback();

struct ProxyListeners {
  std::vector<UniqueFd> tcp;  // one per ProxyPlan::listen_ports(), on every address
  UniqueFd dns_udp;           // 127.0.0.1:dns_port
};

// Routes every IPv4 and IPv6 destination to lo as a local address (the namespace has no other
// interface, so nothing can leave it), then binds the listeners. Throws Error naming the layer.
ProxyListeners open_proxy_listeners(const ProxyPlan& plan);

struct McpListeners {
  UniqueFd unix_socket;  // bound at McpEndpointPlan::socket_path, mode 0600
  UniqueFd tcp;          // 127.0.0.1:tcp_port; invalid when the plan has no TCP port
};

// The tools endpoint (plan.mcp): called by the sandbox's init after pivot_root, in the sandbox's
// own network namespace; then makes the socket's folder read-only, so the command can neither
// remove the socket nor put another in its place. Throws Error naming the layer.
McpListeners open_mcp_listeners(const McpEndpointPlan& plan);

}  // namespace paddock
