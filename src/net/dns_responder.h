// paddock's resolver inside the sandbox (network mode "proxy"): answers a name the profile allows
// with a fake address from the pool, which the proxy maps back to the name on connect; anything
// else gets NXDOMAIN. Nothing is ever looked up upstream on the sandbox's behalf, so DNS cannot
// carry data out. Pure apart from the pool it assigns from.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/address_pool.h"
#include "net/dns_message.h"
#include "net/egress_policy.h"

namespace paddock {

struct DnsAnswer {
  std::vector<std::uint8_t> response;  // empty: drop (not even a header to answer)
  std::string name;                    // as asked, lower-case ("" when unparseable)
  std::string type;                    // "A", "AAAA", "MX", "TYPE65"...
  bool denied = false;
  std::string reason;  // for the audit event
  std::string hint;    // the profile line that would allow the name, when denied
  std::string rule;    // file:line of the deciding rule, when one decided
  std::string answer;  // the pool address given, when any
};

class DnsResponder {
 public:
  DnsResponder(const EgressPolicy& policy, AddressPool& pool) : policy_(policy), pool_(pool) {}
  DnsAnswer answer(std::span<const std::uint8_t> query);

 private:
  const EgressPolicy& policy_;
  AddressPool& pool_;
};

std::string dns_type_name(std::uint16_t type);

}  // namespace paddock
