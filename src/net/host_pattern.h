// One `network.allow` / `network.deny` entry: which destination hosts and ports it covers.
// Parsing is strict so a typo can never widen egress.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace paddock {

struct HostPattern {
  enum class Kind {
    Exact,   // api.example.com
    Suffix,  // *.example.com : any subdomain, not example.com itself
    Ip,      // 192.0.2.1, [2001:db8::1]
    Cidr,    // 10.0.0.0/8, fd00::/8
  };
  Kind kind = Kind::Exact;
  std::string host;  // lower-case name (without "*."), or the canonical address text
  bool ipv6 = false;
  std::array<std::uint8_t, 16> addr{};  // for Ip and Cidr (IPv4 in the first 4 bytes)
  int prefix = 0;                       // Cidr prefix length (Ip: 32 or 128)
  std::uint16_t port_lo = 0;            // 0 with default_ports means 80 and 443
  std::uint16_t port_hi = 0;
  bool default_ports = true;

  [[nodiscard]] bool matches_port(std::uint16_t port) const;
  // Whether `name` (lower-case, no trailing dot) is covered by this pattern's host part.
  [[nodiscard]] bool matches_name(std::string_view name) const;
  // Whether an address (4 or 16 bytes) is covered by an Ip/Cidr pattern.
  [[nodiscard]] bool matches_address(const std::uint8_t* bytes, bool is_v6) const;
  // Canonical text, e.g. "*.example.com:443", "10.0.0.0/8:80,443".
  [[nodiscard]] std::string str() const;
};

// Throws ValueError with a one-line reason on anything that is not a valid pattern.
HostPattern parse_host_pattern(std::string_view text);

bool is_valid_hostname(std::string_view name);

// An IPv4 or IPv6 address literal into `addr` (4 or 16 bytes used); false if `text` is not one
// (including text with an embedded NUL, which inet_pton would silently cut at).
bool parse_ip_literal(std::string_view text, std::array<std::uint8_t, 16>& addr, bool& v6);

}  // namespace paddock
