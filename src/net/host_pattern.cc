#include "net/host_pattern.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "util/error.h"

namespace paddock {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::uint16_t parse_port(std::string_view s, std::string_view whole) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw ValueError("invalid port \"" + std::string(s) + "\" in \"" + std::string(whole) + "\"");
  }
  unsigned long v = std::stoul(std::string(s));
  if (v == 0 || v > 65535) {
    throw ValueError("port " + std::string(s) + " in \"" + std::string(whole) + "\" is out of range (1-65535)");
  }
  return static_cast<std::uint16_t>(v);
}

void parse_ports(HostPattern& p, std::string_view ports, std::string_view whole) {
  auto dash = ports.find('-');
  p.default_ports = false;
  if (dash == std::string_view::npos) {
    p.port_lo = p.port_hi = parse_port(ports, whole);
    return;
  }
  p.port_lo = parse_port(ports.substr(0, dash), whole);
  p.port_hi = parse_port(ports.substr(dash + 1), whole);
  if (p.port_lo > p.port_hi) {
    throw ValueError("port range \"" + std::string(ports) + "\" in \"" + std::string(whole) + "\" is reversed");
  }
}

bool parse_ip(std::string_view text, HostPattern& p) {
  return parse_ip_literal(text, p.addr, p.ipv6);
}

std::string addr_text(const HostPattern& p) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.ipv6 ? AF_INET6 : AF_INET, p.addr.data(), buf, sizeof buf);
  return buf;
}

}  // namespace

bool parse_ip_literal(std::string_view text, std::array<std::uint8_t, 16>& addr, bool& v6) {
  if (text.find('\0') != std::string_view::npos) return false;  // inet_pton would stop at the NUL
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), addr.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), addr.data()) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

bool is_valid_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

HostPattern parse_host_pattern(std::string_view text) {
  HostPattern p;
  const std::string whole(text);
  if (text.empty()) throw ValueError("empty host pattern");
  if (text.find("://") != std::string_view::npos) {
    throw ValueError("\"" + whole + "\" is a URL; write a host, host:port or CIDR (e.g. \"example.com:443\")");
  }
  std::string_view host = text;
  std::string_view ports;
  if (text.front() == '[') {  // [v6]:port or [v6/prefix]:port
    auto close = text.find(']');
    if (close == std::string_view::npos) throw ValueError("unterminated '[' in \"" + whole + "\"");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw ValueError("unexpected text after ']' in \"" + whole + "\"");
      ports = rest.substr(1);
      if (ports.empty()) throw ValueError("missing port after ':' in \"" + whole + "\"");
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    ports = text.substr(colon + 1);
    if (ports.empty()) throw ValueError("missing port after ':' in \"" + whole + "\"");
  }
  // More than one ':' without brackets: a bare IPv6 address or CIDR, no port.

  if (!ports.empty()) parse_ports(p, ports, text);

  const bool bracketed = text.front() == '[';
  auto slash = host.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = host.substr(slash + 1);
    if (!parse_ip(host.substr(0, slash), p)) throw ValueError("invalid network address in CIDR \"" + whole + "\"");
    int max = p.ipv6 ? 128 : 32;
    auto digit = [](unsigned char c) { return std::isdigit(c) != 0; };  // ::isdigit on a plain char is UB above 0x7f
    if (prefix.empty() || prefix.size() > 3 || !std::all_of(prefix.begin(), prefix.end(), digit)) {
      throw ValueError("invalid prefix length in CIDR \"" + whole + "\"");
    }
    p.prefix = std::stoi(std::string(prefix));
    if (p.prefix > max) throw ValueError("prefix length /" + std::string(prefix) + " is too long in \"" + whole + "\"");
    // Host bits set below the prefix usually mean a typo ("10.0.0.1/8"); refuse rather than guess.
    for (int bit = p.prefix; bit < max; ++bit) {
      if (p.addr[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
        throw ValueError("CIDR \"" + whole + "\" has host bits set (did you mean the network address?)");
      }
    }
    p.kind = HostPattern::Kind::Cidr;
    p.host = addr_text(p) + "/" + std::to_string(p.prefix);
    return p;
  }
  if (parse_ip(host, p)) {
    p.kind = HostPattern::Kind::Ip;
    p.prefix = p.ipv6 ? 128 : 32;
    p.host = addr_text(p);
    return p;
  }
  if (bracketed) throw ValueError("\"" + whole + "\": brackets are only for IPv6 addresses");
  std::string name = lower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.rfind("*.", 0) == 0) {
    p.kind = HostPattern::Kind::Suffix;
    name = name.substr(2);
    if (name.find('*') != std::string::npos || !is_valid_hostname(name) || name.find('.') == std::string::npos) {
      throw ValueError("invalid wildcard host \"" + whole +
                       "\" (only a leading \"*.\" before a domain with at least two labels is allowed)");
    }
  } else {
    if (name.find('*') != std::string::npos) {
      throw ValueError("invalid host \"" + whole +
                       "\" (a wildcard must be the whole first label, as in \"*.example.com\")");
    }
    if (!is_valid_hostname(name)) throw ValueError("invalid host name \"" + whole + "\"");
    // All-numeric names that are not valid addresses ("10.0.0", "999.1.1.1") are typos.
    if (std::all_of(name.begin(), name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; })) {
      throw ValueError("invalid IP address \"" + whole + "\"");
    }
    p.kind = HostPattern::Kind::Exact;
  }
  p.host = name;
  return p;
}

bool HostPattern::matches_port(std::uint16_t port) const {
  if (default_ports) return port == 80 || port == 443;
  return port >= port_lo && port <= port_hi;
}

bool HostPattern::matches_name(std::string_view name) const {
  switch (kind) {
    case Kind::Exact: return name == host;
    case Kind::Suffix:
      return name.size() > host.size() + 1 && name.substr(name.size() - host.size()) == host &&
             name[name.size() - host.size() - 1] == '.';
    default: return false;
  }
}

bool HostPattern::matches_address(const std::uint8_t* bytes, bool is_v6) const {
  if ((kind != Kind::Ip && kind != Kind::Cidr) || is_v6 != ipv6) return false;
  int full = prefix / 8;
  if (std::memcmp(bytes, addr.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (addr[static_cast<size_t>(full)] & mask);
}

std::string HostPattern::str() const {
  std::string h = kind == Kind::Suffix ? "*." + host : host;
  if (ipv6) h = "[" + h + "]";
  if (default_ports) return h;
  if (port_lo == port_hi) return h + ":" + std::to_string(port_lo);
  return h + ":" + std::to_string(port_lo) + "-" + std::to_string(port_hi);
}

}  // namespace paddock
