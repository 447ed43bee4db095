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

}  // namespace paddock
