// The server side of SOCKS5 (RFC 1928) for paddock's egress proxy, without authentication:
// parses the client's greeting and request, encodes the replies. Pure: no sockets, no I/O.
//
// Strict like the HTTP proxy parser: a domain name follows the same rules (normalize_host_name),
// so both doors of the proxy hand the egress policy the same kind of name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace paddock {

inline constexpr std::uint8_t kSocksVersion = 5;
inline constexpr std::uint8_t kSocksMethodNoAuth = 0x00;
inline constexpr std::uint8_t kSocksMethodNoneAcceptable = 0xFF;
inline constexpr std::uint8_t kSocksCmdConnect = 1;
inline constexpr std::uint8_t kSocksCmdBind = 2;
inline constexpr std::uint8_t kSocksCmdUdpAssociate = 3;

// Reply codes (RFC 1928 section 6)
enum class SocksReply : std::uint8_t {
  Succeeded = 0,
  GeneralFailure = 1,
  NotAllowed = 2,
  NetworkUnreachable = 3,
  HostUnreachable = 4,
  ConnectionRefused = 5,
  TtlExpired = 6,
  CommandNotSupported = 7,
  AddressTypeNotSupported = 8,
};

struct SocksGreeting {
  enum class State { Incomplete, Done, Error };
  State state = State::Incomplete;
  std::size_t size = 0;  // bytes consumed when Done
  bool no_auth = false;  // method 0x00 offered
  std::string error;     // when Error: one line for a person
};

// VER=5, NMETHODS>=1, METHODS. Call again with more bytes while Incomplete. Bytes after the
// greeting (a client that sends its request without waiting) are left to the caller.
SocksGreeting parse_socks5_greeting(std::span<const std::uint8_t> received);

std::array<std::uint8_t, 2> socks5_method_reply(bool accept);  // {5, 0x00} or {5, 0xFF}

struct SocksRequest {
  enum class State { Incomplete, Done, Error };
  State state = State::Incomplete;
  std::size_t size = 0;      // bytes consumed when Done
  std::uint8_t command = 0;  // 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE (any other value is passed on as is)
  std::string host;          // domain (lower-cased, trailing dot stripped) or the literal as text ("10.0.0.1", "::1")
  bool is_domain = false;
  std::array<std::uint8_t, 16> addr{};  // for literals: 4 or 16 bytes
  bool v6 = false;
  std::uint16_t port = 0;
  SocksReply reply_on_error = SocksReply::GeneralFailure;  // when Error: the code to reply with before closing
  std::string error;                                       // when Error: one line for a person
};

// VER=5, CMD, RSV=0, ATYP 1/3/4, address, port. Unknown ATYP -> Error with AddressTypeNotSupported;
// a domain that normalize_host_name refuses -> Error with HostUnreachable; port 0 on CONNECT ->
// Error. A domain that is an IPv4/IPv6 literal is treated as that literal (is_domain=false).
// A command other than CONNECT is NOT an error here (state Done; the caller replies
// CommandNotSupported).
SocksRequest parse_socks5_request(std::span<const std::uint8_t> received);

// VER, REP, RSV, ATYP=1, BND.ADDR (4 bytes), BND.PORT (network order).
std::vector<std::uint8_t> socks5_reply(SocksReply code, std::array<std::uint8_t, 4> bound_addr = {},
                                       std::uint16_t bound_port = 0);

}  // namespace paddock
