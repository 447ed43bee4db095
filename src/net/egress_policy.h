// The egress decision of `network.mode = "proxy"`: may the sandbox reach this host and port,
// and, once the name is resolved, this address? Pure: no sockets, no DNS, no I/O.
//
// Rules (issue 5, "Policy"):
//  - network.deny wins over network.allow. A deny entry with ports applies to those ports only;
//    a deny entry without ports applies to every port.
//  - An allow entry without ports means 80 and 443.
//  - A name is allowed on a port when some allow entry matches the name and the port, and no
//    deny entry matches it.
//  - Every address actually connected to is checked too. Loopback, private, link-local (incl.
//    cloud metadata), CGNAT, multicast, unspecified, broadcast, reserved, 6to4, NAT64, Teredo
//    addresses are refused unless an allow entry names that address or a range containing it
//    explicitly (an Ip/Cidr entry). IPv4-mapped IPv6 addresses are judged by their IPv4 address.
//  - A connection to an address literal (no name) needs an Ip/Cidr allow entry covering the
//    address and the port.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "util/error.h"

namespace paddock {

struct EgressDecision {
  bool allowed = false;
  std::string reason;   // for a person, citing the rule: "denied by network.deny \"x\" (p.toml:3)"
  Origin rule;          // the rule that decided; unknown when none did (not listed, built-in refusal)
  std::string pattern;  // that rule's canonical text, e.g. "*.example.com:443"; empty when none
  std::string hint;     // when denied and an allow entry would help: the profile line that would allow it
};

class EgressPolicy {
 public:
  using Decision = EgressDecision;

  explicit EgressPolicy(const Policy& policy);
  // `allow_list` names the allow entries in reasons and hints: "network.allow" for the proxy,
  // "tool.grants.net" for a tool's fetch().
  EgressPolicy(std::vector<HostGrant> allow, std::vector<HostGrant> deny, std::string allow_list = "network.allow");

  // A destination as named by the client (HTTP CONNECT, SOCKS domain, DNS query). The name is
  // lower-cased and one trailing dot stripped; an address literal ("10.0.0.1", "[::1]") is
  // judged as a connection to that address.
  [[nodiscard]] Decision check_name(std::string_view host, std::uint16_t port) const;

  // For the resolver: is the name allowed on at least one port? (Allowed: the decision of the
  // first port that is; denied: the decision for port 443.)
  [[nodiscard]] Decision check_name_any_port(std::string_view host) const;

  // The address about to be connected to (4 bytes, or 16 when v6). `host` is the name it was
  // resolved from (also checked with check_name), or empty for a connection to a literal.
  [[nodiscard]] Decision check_address(const std::string& host, const std::uint8_t* addr, bool v6,
                                       std::uint16_t port) const;

 private:
  [[nodiscard]] std::string hint_for(const std::string& entry) const;

  std::vector<HostGrant> allow_;
  std::vector<HostGrant> deny_;
  std::string allow_list_;
};

// The profile line that would allow host:port, e.g. `network.allow = ["evil.example:443"]`.
std::string allow_hint(std::string_view host, std::uint16_t port);

// What kind of special-use address this is ("a private address", "the cloud metadata address"),
// or empty for an ordinary public address. IPv4-mapped IPv6 is judged by the IPv4 address.
std::string special_address_kind(const std::uint8_t* addr, bool v6);

}  // namespace paddock
