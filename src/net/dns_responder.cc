#include "net/dns_responder.h"

#include <array>

namespace paddock {

std::string dns_type_name(std::uint16_t type) {
  switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default: return "TYPE" + std::to_string(type);
  }
}

DnsAnswer DnsResponder::answer(std::span<const std::uint8_t> message) {
  DnsAnswer out;
  std::string error;
  auto q = parse_query(message, &error);
  if (!q) {
    out.denied = true;
    out.reason = "malformed DNS query: " + error;
    return out;  // no response: a malformed message gets no answer to build on
  }
  out.name = q->question.name;
  out.type = dns_type_name(q->question.type);
  if (q->question.klass != kDnsClassIN) {
    out.denied = true;
    out.reason = "DNS class " + std::to_string(q->question.klass) + " is not served";
    out.response = answer_refused(*q);
    return out;
  }
  EgressDecision d = policy_.check_name_any_port(q->question.name);
  out.rule = d.rule.known() ? d.rule.short_str() : "";
  out.reason = d.reason;
  if (!d.allowed) {
    out.denied = true;
    out.hint = d.hint;
    if (!d.rule.known() && !d.hint.empty()) {
      // No rule decided: the name is simply not listed (on any port, not just the 443 asked).
      out.reason = q->question.name + " is in no network.allow entry";
      out.hint = "network.allow = [\"" + q->question.name + "\"]";
    }
    out.response = answer_nxdomain(*q);
    return out;
  }
  const std::uint16_t t = q->question.type;
  std::array<std::uint8_t, 16> literal{};
  bool v6 = false;
  if (parse_ip_literal(q->question.name, literal, v6)) {
    // An address literal asked as a name: no record (the address is used as it is).
    out.response = answer_nodata(*q);
    return out;
  }
  if (t == kDnsTypeA || t == kDnsTypeANY) {
    std::array<std::array<std::uint8_t, 4>, 1> addrs{pool_.address_for(q->question.name)};
    const auto& a = addrs[0];
    out.answer =
        std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." + std::to_string(a[3]);
    // A short TTL: the mapping is only as stable as the session.
    out.response = answer_a(*q, addrs, 60);
  } else {
    // AAAA and everything else: the name exists, with no such record (clients fall back to A).
    out.response = answer_nodata(*q);
  }
  return out;
}

}  // namespace paddock
