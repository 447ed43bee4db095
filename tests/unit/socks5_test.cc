#include "net/socks5.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {
namespace {

using Bytes = std::vector<std::uint8_t>;
using GState = SocksGreeting::State;
using RState = SocksRequest::State;

Bytes bytes(std::initializer_list<unsigned> v) {
  Bytes b;
  for (unsigned x : v) b.push_back(static_cast<std::uint8_t>(x));
  return b;
}

// A request with a domain address (ATYP 3).
Bytes domain_request(std::string_view name, unsigned port, unsigned cmd = 1) {
  Bytes b = bytes({5, cmd, 0, 3, static_cast<unsigned>(name.size())});
  b.insert(b.end(), name.begin(), name.end());
  b.push_back(static_cast<std::uint8_t>(port >> 8));
  b.push_back(static_cast<std::uint8_t>(port & 0xFF));
  return b;
}

Bytes ipv4_request(std::array<std::uint8_t, 4> a, unsigned port, unsigned cmd = 1) {
  return bytes({5, cmd, 0, 1, a[0], a[1], a[2], a[3], port >> 8, port & 0xFF});
}

Bytes ipv6_request(const std::array<std::uint8_t, 16>& a, unsigned port) {
  Bytes b = bytes({5, 1, 0, 4});
  b.insert(b.end(), a.begin(), a.end());
  b.push_back(static_cast<std::uint8_t>(port >> 8));
  b.push_back(static_cast<std::uint8_t>(port & 0xFF));
  return b;
}

SocksRequest request_done(const Bytes& in) {
  const SocksRequest r = parse_socks5_request(in);
  EXPECT_EQ(r.state, RState::Done) << r.error;
  EXPECT_EQ(r.size, in.size());
  return r;
}

SocksRequest request_error(const Bytes& in) {
  const SocksRequest r = parse_socks5_request(in);
  EXPECT_EQ(r.state, RState::Error) << "host=" << r.host;
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.error.find_first_of("\r\n"), std::string::npos);
  EXPECT_NE(r.reply_on_error, SocksReply::Succeeded);
  return r;
}

// Every strict prefix of a complete message is Incomplete, so a client trickling its bytes
// gets the same answer as one sending them at once.
void expect_prefixes_incomplete(const Bytes& in) {
  for (std::size_t n = 0; n < in.size(); ++n) {
    const std::span<const std::uint8_t> prefix(in.data(), n);
    EXPECT_EQ(parse_socks5_request(prefix).state, RState::Incomplete) << n << " bytes";
  }
}

// --- Greeting ---

TEST(Socks5Greeting, NoAuthOffered) {
  const auto g = parse_socks5_greeting(bytes({5, 1, 0}));
  EXPECT_EQ(g.state, GState::Done);
  EXPECT_EQ(g.size, 3u);
  EXPECT_TRUE(g.no_auth);
  const auto g2 = parse_socks5_greeting(bytes({5, 3, 2, 1, 0}));
  EXPECT_EQ(g2.state, GState::Done);
  EXPECT_EQ(g2.size, 5u);
  EXPECT_TRUE(g2.no_auth);
}

TEST(Socks5Greeting, NoAuthNotOffered) {
  const auto g = parse_socks5_greeting(bytes({5, 2, 1, 2}));
  EXPECT_EQ(g.state, GState::Done);
  EXPECT_EQ(g.size, 4u);
  EXPECT_FALSE(g.no_auth);
}

TEST(Socks5Greeting, AllMethods) {
  Bytes in = bytes({5, 255});
  for (unsigned m = 1; m <= 255; ++m) in.push_back(static_cast<std::uint8_t>(m));
  auto g = parse_socks5_greeting(in);
  EXPECT_EQ(g.state, GState::Done);
  EXPECT_EQ(g.size, 257u);
  EXPECT_FALSE(g.no_auth);
  in.back() = 0;
  g = parse_socks5_greeting(in);
  EXPECT_TRUE(g.no_auth);
}

TEST(Socks5Greeting, LeavesFollowingBytes) {
  // A client that sends its request without waiting for the method reply.
  Bytes in = bytes({5, 1, 0});
  const Bytes req = ipv4_request({192, 0, 2, 1}, 443);
  in.insert(in.end(), req.begin(), req.end());
  const auto g = parse_socks5_greeting(in);
  EXPECT_EQ(g.state, GState::Done);
  EXPECT_EQ(g.size, 3u);
  EXPECT_EQ(request_done(Bytes(in.begin() + 3, in.end())).host, "192.0.2.1");
}

TEST(Socks5Greeting, PartialInput) {
  for (const Bytes& in : {Bytes{}, bytes({5}), bytes({5, 1}), bytes({5, 3, 0, 1})}) {
    const auto g = parse_socks5_greeting(in);
    EXPECT_EQ(g.state, GState::Incomplete) << in.size();
    EXPECT_EQ(g.size, 0u);
  }
}

TEST(Socks5Greeting, BadVersion) {
  // SOCKS4, an HTTP client on the wrong port: refused from the first byte.
  for (const Bytes& in : {bytes({4}), bytes({4, 1, 0}), bytes({'G', 'E', 'T'}), bytes({0}), bytes({6, 1, 0})}) {
    const auto g = parse_socks5_greeting(in);
    EXPECT_EQ(g.state, GState::Error);
    EXPECT_FALSE(g.error.empty());
    EXPECT_EQ(g.error.find('\n'), std::string::npos);
  }
}

TEST(Socks5Greeting, ZeroMethods) {
  const auto g = parse_socks5_greeting(bytes({5, 0}));
  EXPECT_EQ(g.state, GState::Error);
  EXPECT_FALSE(g.error.empty());
  EXPECT_EQ(parse_socks5_greeting(bytes({5, 0, 0})).state, GState::Error);
}

TEST(Socks5Greeting, MethodReply) {
  EXPECT_EQ(socks5_method_reply(true), (std::array<std::uint8_t, 2>{5, 0x00}));
  EXPECT_EQ(socks5_method_reply(false), (std::array<std::uint8_t, 2>{5, 0xFF}));
}

// --- Request ---

TEST(Socks5Request, Ipv4) {
  const auto r = request_done(ipv4_request({192, 0, 2, 10}, 443));
  EXPECT_EQ(r.command, kSocksCmdConnect);
  EXPECT_EQ(r.host, "192.0.2.10");
  EXPECT_FALSE(r.is_domain);
  EXPECT_FALSE(r.v6);
  EXPECT_EQ(r.addr, (std::array<std::uint8_t, 16>{192, 0, 2, 10}));
  EXPECT_EQ(r.port, 443);
  EXPECT_EQ(r.size, 10u);
}

TEST(Socks5Request, Ipv6) {
  std::array<std::uint8_t, 16> a{};
  a[0] = 0x20;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[15] = 0x01;
  const auto r = request_done(ipv6_request(a, 8443));
  EXPECT_EQ(r.host, "2001:db8::1");
  EXPECT_FALSE(r.is_domain);
  EXPECT_TRUE(r.v6);
  EXPECT_EQ(r.addr, a);
  EXPECT_EQ(r.port, 8443);
  EXPECT_EQ(r.size, 22u);

  std::array<std::uint8_t, 16> loop{};
  loop[15] = 1;
  EXPECT_EQ(request_done(ipv6_request(loop, 22)).host, "::1");
  std::array<std::uint8_t, 16> mapped{};
  mapped[10] = mapped[11] = 0xFF;
  mapped[12] = 10;
  mapped[15] = 1;
  EXPECT_EQ(request_done(ipv6_request(mapped, 22)).host, "::ffff:10.0.0.1");
}

TEST(Socks5Request, Domain) {
  const auto r = request_done(domain_request("Api.Example.COM", 443));
  EXPECT_EQ(r.host, "api.example.com");
  EXPECT_TRUE(r.is_domain);
  EXPECT_FALSE(r.v6);
  EXPECT_EQ(r.addr, (std::array<std::uint8_t, 16>{}));
  EXPECT_EQ(r.port, 443);
  EXPECT_EQ(r.size, 5u + 15u + 2u);
  EXPECT_EQ(request_done(domain_request("example.com.", 80)).host, "example.com");
  EXPECT_EQ(request_done(domain_request("_srv-1.example", 80)).host, "_srv-1.example");
  EXPECT_EQ(request_done(domain_request("localhost", 80)).host, "localhost");
}

TEST(Socks5Request, DomainThatIsALiteral) {
  auto r = request_done(domain_request("192.0.2.1", 443));
  EXPECT_FALSE(r.is_domain);
  EXPECT_FALSE(r.v6);
  EXPECT_EQ(r.host, "192.0.2.1");
  EXPECT_EQ(r.addr, (std::array<std::uint8_t, 16>{192, 0, 2, 1}));
  r = request_done(domain_request("192.0.2.1.", 443));
  EXPECT_FALSE(r.is_domain);
  EXPECT_EQ(r.host, "192.0.2.1");
  r = request_done(domain_request("::1", 443));
  EXPECT_FALSE(r.is_domain);
  EXPECT_TRUE(r.v6);
  EXPECT_EQ(r.host, "::1");
  EXPECT_EQ(r.addr[15], 1);
  r = request_done(domain_request("2001:DB8:0:0::A", 443));
  EXPECT_FALSE(r.is_domain);
  EXPECT_EQ(r.host, "2001:db8::a");
}

TEST(Socks5Request, BadDomain) {
  for (std::string_view name : {"a..b", ".a", "..", ".", "ex ample.com", "ex%41mple.com", "a/b", "[::1]", "127.1",
                                "0x7f.0.0.1", "1.2.3", "256.0.0.1", "ex\xc3\xa9.com", "fe80::1%eth0"}) {
    EXPECT_EQ(request_error(domain_request(name, 443)).reply_on_error, SocksReply::HostUnreachable) << name;
  }
  using namespace std::string_view_literals;
  EXPECT_EQ(request_error(domain_request("example.com\0.evil"sv, 443)).reply_on_error, SocksReply::HostUnreachable);
  EXPECT_EQ(request_error(domain_request("", 443)).reply_on_error, SocksReply::HostUnreachable);
  // Known as soon as the length byte is in.
  EXPECT_EQ(request_error(bytes({5, 1, 0, 3, 0})).reply_on_error, SocksReply::HostUnreachable);
}

TEST(Socks5Request, DomainLengths) {
  const std::string label63(63, 'a');
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  EXPECT_EQ(request_done(domain_request(name253, 443)).host, name253);
  EXPECT_EQ(request_done(domain_request(name253 + ".", 443)).host, name253);
  request_error(domain_request(name253 + "b", 443));
  request_error(domain_request(std::string(64, 'a') + ".example", 443));
  // 255 bytes, the most a length byte can say.
  request_error(domain_request(name253 + "bb", 443));
}

TEST(Socks5Request, BadAddressType) {
  for (unsigned atyp : {0u, 2u, 5u, 255u}) {
    const auto r = request_error(bytes({5, 1, 0, atyp, 1, 2, 3, 4, 0, 80}));
    EXPECT_EQ(r.reply_on_error, SocksReply::AddressTypeNotSupported) << atyp;
    // Refused before any address bytes arrive: their length is unknown.
    EXPECT_EQ(request_error(bytes({5, 1, 0, atyp})).reply_on_error, SocksReply::AddressTypeNotSupported);
  }
}

TEST(Socks5Request, BadVersionOrReserved) {
  EXPECT_EQ(request_error(bytes({4, 1, 0, 1, 1, 2, 3, 4, 0, 80})).reply_on_error, SocksReply::GeneralFailure);
  EXPECT_EQ(request_error(bytes({4})).reply_on_error, SocksReply::GeneralFailure);
  EXPECT_EQ(request_error(bytes({5, 1, 1, 1, 1, 2, 3, 4, 0, 80})).reply_on_error, SocksReply::GeneralFailure);
  EXPECT_EQ(request_error(bytes({5, 1, 0x80})).reply_on_error, SocksReply::GeneralFailure);
}

TEST(Socks5Request, TooShortIsIncomplete) {
  expect_prefixes_incomplete(ipv4_request({10, 0, 0, 1}, 80));
  std::array<std::uint8_t, 16> a{};
  a[15] = 1;
  expect_prefixes_incomplete(ipv6_request(a, 80));
  expect_prefixes_incomplete(domain_request("example.com", 80));
  expect_prefixes_incomplete(domain_request("::1", 80));
}

TEST(Socks5Request, LeavesFollowingBytes) {
  Bytes in = domain_request("example.com", 80);
  const std::size_t size = in.size();
  for (char c : std::string_view("GET / HTTP/1.1\r\n")) in.push_back(static_cast<std::uint8_t>(c));
  const auto r = parse_socks5_request(in);
  EXPECT_EQ(r.state, RState::Done);
  EXPECT_EQ(r.size, size);
}

TEST(Socks5Request, PortIsNetworkOrder) {
  EXPECT_EQ(request_done(ipv4_request({10, 0, 0, 1}, 0x1234)).port, 0x1234);
  EXPECT_EQ(request_done(bytes({5, 1, 0, 1, 10, 0, 0, 1, 0x01, 0xBB})).port, 443);
  EXPECT_EQ(request_done(bytes({5, 1, 0, 1, 10, 0, 0, 1, 0xFF, 0xFF})).port, 65535);
  EXPECT_EQ(request_done(bytes({5, 1, 0, 3, 1, 'x', 0x00, 0x50})).port, 80);
}

TEST(Socks5Request, ConnectToPortZero) {
  request_error(ipv4_request({10, 0, 0, 1}, 0));
  request_error(domain_request("example.com", 0));
}

TEST(Socks5Request, OtherCommandsAreParsed) {
  // Not an error here: the caller answers CommandNotSupported with a proper reply.
  auto r = request_done(ipv4_request({192, 0, 2, 1}, 8000, kSocksCmdBind));
  EXPECT_EQ(r.command, 2);
  EXPECT_EQ(r.host, "192.0.2.1");
  EXPECT_EQ(r.port, 8000);
  r = request_done(ipv4_request({0, 0, 0, 0}, 0, kSocksCmdUdpAssociate));
  EXPECT_EQ(r.command, 3);
  EXPECT_EQ(r.host, "0.0.0.0");
  EXPECT_EQ(r.port, 0);
  r = request_done(domain_request("example.com", 80, 9));
  EXPECT_EQ(r.command, 9);
}

// --- Replies ---

TEST(Socks5Reply, Encoding) {
  EXPECT_EQ(socks5_reply(SocksReply::Succeeded), bytes({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(socks5_reply(SocksReply::NotAllowed), bytes({5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(socks5_reply(SocksReply::Succeeded, {127, 0, 0, 1}, 1080), bytes({5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38}));
  EXPECT_EQ(socks5_reply(SocksReply::HostUnreachable, {10, 1, 2, 3}, 0xABCD),
            bytes({5, 4, 0, 1, 10, 1, 2, 3, 0xAB, 0xCD}));
}

TEST(Socks5Reply, Codes) {
  // RFC 1928 section 6.
  EXPECT_EQ(socks5_reply(SocksReply::GeneralFailure)[1], 1);
  EXPECT_EQ(socks5_reply(SocksReply::NetworkUnreachable)[1], 3);
  EXPECT_EQ(socks5_reply(SocksReply::ConnectionRefused)[1], 5);
  EXPECT_EQ(socks5_reply(SocksReply::TtlExpired)[1], 6);
  EXPECT_EQ(socks5_reply(SocksReply::CommandNotSupported)[1], 7);
  EXPECT_EQ(socks5_reply(SocksReply::AddressTypeNotSupported)[1], 8);
}

}  // namespace
}  // namespace paddock
