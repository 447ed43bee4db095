#include "net/socks5.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "net/host_pattern.h"
#include "net/http_proxy_request.h"

namespace paddock {
namespace {

constexpr std::uint8_t kAtypIpv4 = 1;
constexpr std::uint8_t kAtypDomain = 3;
constexpr std::uint8_t kAtypIpv6 = 4;

SocksGreeting greeting_error(std::string why) {
  SocksGreeting g;
  g.state = SocksGreeting::State::Error;
  g.error = std::move(why);
  return g;
}

SocksRequest request_error(SocksReply reply, std::string why) {
  SocksRequest r;
  r.state = SocksRequest::State::Error;
  r.reply_on_error = reply;
  r.error = std::move(why);
  return r;
}

}  // namespace

SocksGreeting parse_socks5_greeting(std::span<const std::uint8_t> in) {
  if (in.empty()) return {};
  // Checked before the rest arrives: an HTTP client talking to the SOCKS port would otherwise
  // wait for bytes that never come.
  if (in[0] != kSocksVersion) return greeting_error("not a SOCKS5 greeting (version " + std::to_string(in[0]) + ")");
  if (in.size() < 2) return {};
  const std::size_t nmethods = in[1];
  if (nmethods == 0) return greeting_error("SOCKS5 greeting offers no authentication method");
  if (in.size() < 2 + nmethods) return {};
  SocksGreeting g;
  g.state = SocksGreeting::State::Done;
  g.size = 2 + nmethods;
  const auto methods = in.subspan(2, nmethods);
  g.no_auth = std::find(methods.begin(), methods.end(), kSocksMethodNoAuth) != methods.end();
  return g;
}

std::array<std::uint8_t, 2> socks5_method_reply(bool accept) {
  return {kSocksVersion, accept ? kSocksMethodNoAuth : kSocksMethodNoneAcceptable};
}

SocksRequest parse_socks5_request(std::span<const std::uint8_t> in) {
  // Each fixed field is judged as soon as it is in, for the same reason as in the greeting.
  if (in.empty()) return {};
  if (in[0] != kSocksVersion) {
    return request_error(SocksReply::GeneralFailure, "not a SOCKS5 request (version " + std::to_string(in[0]) + ")");
  }
  if (in.size() < 3) return {};
  if (in[2] != 0) return request_error(SocksReply::GeneralFailure, "SOCKS5 request with a non-zero reserved byte");
  if (in.size() < 4) return {};
  const std::uint8_t atyp = in[3];
  std::size_t addr_len = 0;
  std::size_t at = 4;
  if (atyp == kAtypIpv4) {
    addr_len = 4;
  } else if (atyp == kAtypIpv6) {
    addr_len = 16;
  } else if (atyp == kAtypDomain) {
    if (in.size() < 5) return {};
    addr_len = in[4];
    at = 5;
    if (addr_len == 0) return request_error(SocksReply::HostUnreachable, "SOCKS5 request with an empty domain name");
  } else {
    return request_error(SocksReply::AddressTypeNotSupported,
                         "SOCKS5 request with address type " + std::to_string(atyp) + " (1, 3 or 4)");
  }
  if (in.size() < at + addr_len + 2) return {};

  SocksRequest r;
  r.command = in[1];
  const auto addr = in.subspan(at, addr_len);
  if (atyp == kAtypDomain) {
    const std::string_view domain(reinterpret_cast<const char*>(addr.data()), addr.size());
    std::string name;
    if (normalize_host_name(domain, &name)) {
      // An IPv4 literal (possibly with a trailing dot) is an address, whatever the client called it.
      r.is_domain = !parse_ip_literal(name, r.addr, r.v6);
      if (r.is_domain) r.addr = {};
      r.host = std::move(name);
    } else if (parse_ip_literal(domain, r.addr, r.v6) && r.v6) {
      r.host = ip_literal_text(r.addr, r.v6);
    } else {
      return request_error(SocksReply::HostUnreachable, "SOCKS5 request for an invalid domain name");
    }
  } else {
    r.v6 = atyp == kAtypIpv6;
    std::copy(addr.begin(), addr.end(), r.addr.begin());
    r.host = ip_literal_text(r.addr, r.v6);
  }
  r.port = static_cast<std::uint16_t>((in[at + addr_len] << 8) | in[at + addr_len + 1]);
  if (r.command == kSocksCmdConnect && r.port == 0) {
    return request_error(SocksReply::GeneralFailure, "SOCKS5 CONNECT to port 0");
  }
  r.size = at + addr_len + 2;
  r.state = SocksRequest::State::Done;
  return r;
}

std::vector<std::uint8_t> socks5_reply(SocksReply code, std::array<std::uint8_t, 4> bound_addr,
                                       std::uint16_t bound_port) {
  return {kSocksVersion,
          static_cast<std::uint8_t>(code),
          0,
          kAtypIpv4,
          bound_addr[0],
          bound_addr[1],
          bound_addr[2],
          bound_addr[3],
          static_cast<std::uint8_t>(bound_port >> 8),
          static_cast<std::uint8_t>(bound_port & 0xFF)};
}

}  // namespace paddock
