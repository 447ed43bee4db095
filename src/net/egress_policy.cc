#include "net/egress_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <utility>

namespace paddock {
namespace {

struct Addr {
  std::array<std::uint8_t, 16> b{};
  bool v6 = false;
};

Addr make_addr(const std::uint8_t* bytes, bool v6) {
  Addr a;
  a.v6 = v6;
  std::memcpy(a.b.data(), bytes, v6 ? 16 : 4);
  return a;
}

bool is_v4_mapped(const Addr& a) {
  if (!a.v6) return false;
  for (int i = 0; i < 10; ++i) {
    if (a.b[static_cast<size_t>(i)] != 0) return false;
  }
  return a.b[10] == 0xff && a.b[11] == 0xff;
}

// ::ffff:a.b.c.d becomes a.b.c.d; anything else is returned unchanged.
Addr unmap(const Addr& a) {
  if (!is_v4_mapped(a)) return a;
  Addr v4;
  std::memcpy(v4.b.data(), a.b.data() + 12, 4);
  return v4;
}

std::string addr_text(const Addr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.b.data(), buf, sizeof buf);
  return buf;
}

// Text of an address with a port: "10.0.0.1:443", "[fd00::1]:443".
std::string with_port(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool in_prefix(const Addr& a, const std::array<std::uint8_t, 16>& net, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a.b.data(), net.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.b[static_cast<size_t>(full)] & mask) == (net[static_cast<size_t>(full)] & mask);
}

struct SpecialRange {
  bool v6;
  std::array<std::uint8_t, 16> net;
  int prefix;
  const char* what;
};

// Most specific first: the first match names the address.
const SpecialRange kSpecial[] = {
    {false, {169, 254, 169, 254}, 32, "the cloud metadata address"},
    {false, {0}, 8, "an unspecified address"},
    {false, {127}, 8, "a loopback address"},
    {false, {10}, 8, "a private address"},
    {false, {172, 16}, 12, "a private address"},
    {false, {192, 168}, 16, "a private address"},
    {false, {100, 64}, 10, "a shared (CGNAT) address"},
    {false, {169, 254}, 16, "a link-local address"},
    {false, {192, 0, 0}, 24, "a reserved address"},
    {false, {198, 18}, 15, "a reserved (benchmarking) address"},
    {false, {224}, 4, "a multicast address"},
    {false, {255, 255, 255, 255}, 32, "the broadcast address"},
    {false, {240}, 4, "a reserved address"},
    {true, {}, 128, "an unspecified address"},
    {true, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "a loopback address"},
    {true, {}, 96, "an IPv4-compatible address"},
    {true, {0x00, 0x64, 0xff, 0x9b}, 96, "a NAT64 address"},
    {true, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "a NAT64 address"},
    {true, {0x20, 0x02}, 16, "a 6to4 address"},
    {true, {0x20, 0x01, 0x00, 0x00}, 32, "a Teredo address"},
    {true, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64, "a discard-only address"},
    {true, {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54}, 128, "the cloud metadata address"},
    {true, {0xfc}, 7, "a private address"},
    {true, {0xfe, 0x80}, 10, "a link-local address"},
    {true, {0xfe, 0xc0}, 10, "a site-local address"},
    {true, {0xff}, 8, "a multicast address"},
};

std::string special_kind(const Addr& a) {
  for (const auto& r : kSpecial) {
    if (r.v6 == a.v6 && in_prefix(a, r.net, r.prefix)) return r.what;
  }
  return {};
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Lower-case, one trailing dot stripped, brackets around an IPv6 literal removed.
std::string normalize_host(std::string_view host) {
  std::string h = lower(host);
  if (!h.empty() && h.back() == '.') h.pop_back();
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

bool parse_literal(const std::string& text, Addr& out) {
  return parse_ip_literal(text, out.b, out.v6);
}

// Numeric forms a resolver would read as an address ("10.1", "0x7f.1", "2130706433", "010.0.0.1")
// but inet_pton does not: refuse them as names so they can never slip past the address check.
bool ambiguous_numeric(const std::string& name) {
  in_addr ignored{};
  return inet_aton(name.c_str(), &ignored) != 0;
}

std::string cite(const std::string& list, const HostGrant& g) {
  std::string s = list + " \"" + g.pattern.str() + "\"";
  if (g.origin.known()) s += " (" + g.origin.short_str() + ")";
  return s;
}

std::string ports_text(const HostPattern& p) {
  if (p.default_ports) return "ports 80 and 443";
  if (p.port_lo == p.port_hi) return "port " + std::to_string(p.port_lo);
  return "ports " + std::to_string(p.port_lo) + "-" + std::to_string(p.port_hi);
}

bool is_address_pattern(const HostPattern& p) {
  return p.kind == HostPattern::Kind::Ip || p.kind == HostPattern::Kind::Cidr;
}

// A deny entry without ports applies to every port.
bool deny_port(const HostPattern& p, std::uint16_t port) {
  return p.default_ports || p.matches_port(port);
}

// Address patterns are matched against the address and, for IPv4-mapped IPv6, its IPv4 form.
bool covers(const HostPattern& p, const Addr& original, const Addr& judged) {
  return p.matches_address(judged.b.data(), judged.v6) || p.matches_address(original.b.data(), original.v6);
}

EgressDecision allow_by(const std::string& list, const HostGrant& g) {
  return {true, "allowed by " + cite(list, g), g.origin, g.pattern.str(), {}};
}

EgressDecision deny_by(const HostGrant& g, const std::string& prefix) {
  return {false, prefix + "denied by " + cite("network.deny", g), g.origin, g.pattern.str(), {}};
}

EgressDecision refuse(std::string reason, std::string hint) {
  return {false, std::move(reason), {}, {}, std::move(hint)};
}

}  // namespace

std::string special_address_kind(const std::uint8_t* addr, bool v6) {
  return special_kind(unmap(make_addr(addr, v6)));
}

std::string allow_hint(std::string_view host, std::uint16_t port) {
  return "network.allow = [\"" + with_port(normalize_host(host), port) + "\"]";
}

EgressPolicy::EgressPolicy(const Policy& policy) : EgressPolicy(policy.net_allow, policy.net_deny) {}

EgressPolicy::EgressPolicy(std::vector<HostGrant> allow, std::vector<HostGrant> deny, std::string allow_list)
    : allow_(std::move(allow)), deny_(std::move(deny)), allow_list_(std::move(allow_list)) {}

EgressDecision EgressPolicy::check_name(std::string_view host, std::uint16_t port) const {
  const std::string name = normalize_host(host);
  Addr literal;
  if (parse_literal(name, literal)) return check_address({}, literal.b.data(), literal.v6, port);
  if (!is_valid_hostname(name) || ambiguous_numeric(name)) {
    return refuse("\"" + std::string(host) + "\" is not a valid host name", {});
  }
  for (const auto& g : deny_) {
    if (g.pattern.matches_name(name) && deny_port(g.pattern, port)) return deny_by(g, "");
  }
  const HostGrant* other_port = nullptr;
  for (const auto& g : allow_) {
    if (!g.pattern.matches_name(name)) continue;
    if (g.pattern.matches_port(port)) return allow_by(allow_list_, g);
    if (other_port == nullptr) other_port = &g;
  }
  std::string reason = with_port(name, port) + " is not in " + allow_list_;
  if (other_port != nullptr)
    reason += " (" + cite(allow_list_, *other_port) + " covers " + ports_text(other_port->pattern) + " only)";
  return refuse(reason, hint_for(with_port(name, port)));
}

std::string EgressPolicy::hint_for(const std::string& entry) const {
  if (allow_list_ == "network.allow") return "network.allow = [\"" + entry + "\"]";
  return allow_list_ + ": add \"" + entry + "\"";
}

EgressDecision EgressPolicy::check_name_any_port(std::string_view host) const {
  const std::string name = normalize_host(host);
  for (const auto& g : allow_) {
    if (!g.pattern.matches_name(name)) continue;
    for (std::uint16_t port : {g.pattern.default_ports ? std::uint16_t{443} : g.pattern.port_lo,
                               g.pattern.default_ports ? std::uint16_t{80} : g.pattern.port_hi}) {
      EgressDecision d = check_name(name, port);
      if (d.allowed) return d;
    }
  }
  return check_name(name, 443);
}

EgressDecision EgressPolicy::check_address(const std::string& host, const std::uint8_t* addr, bool v6,
                                           std::uint16_t port) const {
  const Addr original = make_addr(addr, v6);
  const Addr judged = unmap(original);
  std::string shown = addr_text(original);
  if (is_v4_mapped(original)) shown += " (IPv4-mapped " + addr_text(judged) + ")";
  const std::string kind = special_kind(judged);

  // A named destination: the name must pass on its own first.
  EgressDecision by_name;
  std::string name;
  if (!host.empty()) {
    by_name = check_name(host, port);
    if (!by_name.allowed) return by_name;
    name = normalize_host(host);
    Addr ignored;
    if (parse_literal(name, ignored)) name.clear();  // the literal was judged; now judge the address itself
  }
  const std::string subject = name.empty() ? "" : name + " resolved to " + shown + ", ";

  for (const auto& g : deny_) {
    if (is_address_pattern(g.pattern) && covers(g.pattern, original, judged) && deny_port(g.pattern, port)) {
      return deny_by(g, subject);
    }
  }

  const HostGrant* explicit_any_port = nullptr;
  const HostGrant* explicit_port = nullptr;
  for (const auto& g : allow_) {
    if (!is_address_pattern(g.pattern) || !covers(g.pattern, original, judged)) continue;
    if (explicit_any_port == nullptr) explicit_any_port = &g;
    if (explicit_port == nullptr && g.pattern.matches_port(port)) explicit_port = &g;
  }

  if (name.empty()) {  // a literal: needs an address entry covering address and port
    if (explicit_port != nullptr) return allow_by(allow_list_, *explicit_port);
    std::string reason = with_port(addr_text(original), port) + " is not in " + allow_list_;
    if (explicit_any_port != nullptr) {
      reason +=
          " (" + cite(allow_list_, *explicit_any_port) + " covers " + ports_text(explicit_any_port->pattern) + " only)";
    } else if (!kind.empty()) {
      reason += " (" + shown + " is " + kind + ")";
    }
    return refuse(reason, hint_for(with_port(addr_text(judged), port)));
  }

  if (kind.empty()) return by_name;  // an ordinary public address of an allowed name
  // A special-use address behind an allowed name: only an explicit address entry lets it through
  // (the port was already checked against the name's entry).
  if (explicit_any_port != nullptr) {
    by_name.reason += "; " + shown + " is " + kind + " allowed by " + cite(allow_list_, *explicit_any_port);
    return by_name;
  }
  std::string hint = hint_for(addr_text(judged));
  return refuse(subject + kind + "; allow it explicitly with " + hint, hint);
}

}  // namespace paddock
