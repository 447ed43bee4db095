#include "net/host_pattern.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "test_util.h"
#include "util/error.h"

namespace paddock {
namespace {

using test::error_of;
using Kind = HostPattern::Kind;

std::string pattern_error(const std::string& text) {
  return error_of([&] { (void)parse_host_pattern(text); });
}

// Address bytes for matches_address.
struct Addr {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
};
Addr addr(const char* text) {
  Addr a;
  if (inet_pton(AF_INET, text, a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, text, a.bytes.data()) != 1) ADD_FAILURE() << "bad test address " << text;
  return a;
}
bool covers(const HostPattern& p, const char* text) {
  Addr a = addr(text);
  return p.matches_address(a.bytes.data(), a.v6);
}

TEST(HostPattern, ExactName) {
  HostPattern p = parse_host_pattern("api.example.com");
  EXPECT_EQ(p.kind, Kind::Exact);
  EXPECT_EQ(p.host, "api.example.com");
  EXPECT_TRUE(p.default_ports);
  EXPECT_EQ(p.str(), "api.example.com");
  EXPECT_TRUE(p.matches_name("api.example.com"));
  EXPECT_FALSE(p.matches_name("x.api.example.com"));
  EXPECT_FALSE(p.matches_name("example.com"));
  EXPECT_FALSE(p.matches_name("api.example.co"));
}

TEST(HostPattern, NameIsLowerCasedAndTrailingDotDropped) {
  HostPattern p = parse_host_pattern("API.Example.COM.");
  EXPECT_EQ(p.kind, Kind::Exact);
  EXPECT_EQ(p.host, "api.example.com");
  EXPECT_TRUE(p.matches_name("api.example.com"));
}

TEST(HostPattern, SingleLabelAndUnderscore) {
  EXPECT_EQ(parse_host_pattern("localhost").host, "localhost");
  EXPECT_EQ(parse_host_pattern("_srv.example.com").host, "_srv.example.com");
}

TEST(HostPattern, Wildcard) {
  HostPattern p = parse_host_pattern("*.example.com");
  EXPECT_EQ(p.kind, Kind::Suffix);
  EXPECT_EQ(p.host, "example.com");
  EXPECT_EQ(p.str(), "*.example.com");
  EXPECT_TRUE(p.matches_name("a.example.com"));
  EXPECT_TRUE(p.matches_name("b.a.example.com"));
  EXPECT_FALSE(p.matches_name("example.com"));
  EXPECT_FALSE(p.matches_name("badexample.com"));
  EXPECT_FALSE(p.matches_name(".example.com"));
  EXPECT_FALSE(p.matches_name("a.example.com.evil"));
  EXPECT_FALSE(p.matches_name("a.example.org"));
}

TEST(HostPattern, WildcardWithPort) {
  HostPattern p = parse_host_pattern("*.pythonhosted.org:443");
  EXPECT_EQ(p.kind, Kind::Suffix);
  EXPECT_EQ(p.host, "pythonhosted.org");
  EXPECT_FALSE(p.default_ports);
  EXPECT_TRUE(p.matches_port(443));
  EXPECT_FALSE(p.matches_port(80));
  EXPECT_EQ(p.str(), "*.pythonhosted.org:443");
}

TEST(HostPattern, BadWildcardPlacement) {
  const std::string wc_tail = " (only a leading \"*.\" before a domain with at least two labels is allowed)";
  const std::string host_tail = " (a wildcard must be the whole first label, as in \"*.example.com\")";
  EXPECT_EQ(pattern_error("*.com"), "ValueError: invalid wildcard host \"*.com\"" + wc_tail);
  EXPECT_EQ(pattern_error("*.*.example.com"), "ValueError: invalid wildcard host \"*.*.example.com\"" + wc_tail);
  EXPECT_EQ(pattern_error("*.."), "ValueError: invalid wildcard host \"*..\"" + wc_tail);
  EXPECT_EQ(pattern_error("*."), "ValueError: invalid host \"*.\"" + host_tail);  // "*" once the root dot goes
  EXPECT_EQ(pattern_error("a.*.example.com"), "ValueError: invalid host \"a.*.example.com\"" + host_tail);
  EXPECT_EQ(pattern_error("*example.com"), "ValueError: invalid host \"*example.com\"" + host_tail);
  EXPECT_EQ(pattern_error("example.*"), "ValueError: invalid host \"example.*\"" + host_tail);
  EXPECT_EQ(pattern_error("*"), "ValueError: invalid host \"*\"" + host_tail);
  EXPECT_EQ(pattern_error("ex*ample.com"), "ValueError: invalid host \"ex*ample.com\"" + host_tail);
}

TEST(HostPattern, HostAndPort) {
  HostPattern p = parse_host_pattern("example.com:8443");
  EXPECT_EQ(p.kind, Kind::Exact);
  EXPECT_EQ(p.host, "example.com");
  EXPECT_FALSE(p.default_ports);
  EXPECT_EQ(p.port_lo, 8443);
  EXPECT_EQ(p.port_hi, 8443);
  EXPECT_TRUE(p.matches_port(8443));
  EXPECT_FALSE(p.matches_port(443));
  EXPECT_FALSE(p.matches_port(80));
  EXPECT_EQ(p.str(), "example.com:8443");
}

TEST(HostPattern, PortRange) {
  HostPattern p = parse_host_pattern("example.com:8000-8080");
  EXPECT_EQ(p.port_lo, 8000);
  EXPECT_EQ(p.port_hi, 8080);
  EXPECT_TRUE(p.matches_port(8000));
  EXPECT_TRUE(p.matches_port(8040));
  EXPECT_TRUE(p.matches_port(8080));
  EXPECT_FALSE(p.matches_port(7999));
  EXPECT_FALSE(p.matches_port(8081));
  EXPECT_EQ(p.str(), "example.com:8000-8080");
  EXPECT_EQ(parse_host_pattern("example.com:1-65535").str(), "example.com:1-65535");
  HostPattern single = parse_host_pattern("example.com:22-22");
  EXPECT_TRUE(single.matches_port(22));
  EXPECT_FALSE(single.matches_port(23));
}

TEST(HostPattern, ReversedRangeRefused) {
  EXPECT_EQ(pattern_error("example.com:8080-8000"),
            "ValueError: port range \"8080-8000\" in \"example.com:8080-8000\" is reversed");
}

TEST(HostPattern, PortOutOfRange) {
  EXPECT_EQ(pattern_error("example.com:0"), "ValueError: port 0 in \"example.com:0\" is out of range (1-65535)");
  EXPECT_EQ(pattern_error("example.com:65536"),
            "ValueError: port 65536 in \"example.com:65536\" is out of range (1-65535)");
  EXPECT_EQ(pattern_error("example.com:0-80"), "ValueError: port 0 in \"example.com:0-80\" is out of range (1-65535)");
  EXPECT_EQ(pattern_error("example.com:80-65536"),
            "ValueError: port 65536 in \"example.com:80-65536\" is out of range (1-65535)");
  EXPECT_EQ(parse_host_pattern("example.com:65535").port_lo, 65535);
  EXPECT_EQ(parse_host_pattern("example.com:1").port_lo, 1);
}

TEST(HostPattern, MalformedPort) {
  EXPECT_EQ(pattern_error("example.com:"), "ValueError: missing port after ':' in \"example.com:\"");
  EXPECT_EQ(pattern_error("example.com:http"), "ValueError: invalid port \"http\" in \"example.com:http\"");
  EXPECT_EQ(pattern_error("example.com:123456"), "ValueError: invalid port \"123456\" in \"example.com:123456\"");
  EXPECT_EQ(pattern_error("example.com:80-"), "ValueError: invalid port \"\" in \"example.com:80-\"");
  EXPECT_EQ(pattern_error("example.com:-80"), "ValueError: invalid port \"\" in \"example.com:-80\"");
  EXPECT_EQ(pattern_error("example.com:+80"), "ValueError: invalid port \"+80\" in \"example.com:+80\"");
  EXPECT_THROW((void)parse_host_pattern("example.com:80,443"), ValueError);
  EXPECT_THROW((void)parse_host_pattern("example.com: 80"), ValueError);
}

TEST(HostPattern, DefaultPortsAre80And443) {
  HostPattern p = parse_host_pattern("pypi.org");
  EXPECT_TRUE(p.default_ports);
  EXPECT_TRUE(p.matches_port(80));
  EXPECT_TRUE(p.matches_port(443));
  EXPECT_FALSE(p.matches_port(8080));
  EXPECT_FALSE(p.matches_port(22));
  EXPECT_FALSE(p.matches_port(1));
  EXPECT_FALSE(p.matches_port(65535));
}

TEST(HostPattern, Ipv4) {
  HostPattern p = parse_host_pattern("192.0.2.1");
  EXPECT_EQ(p.kind, Kind::Ip);
  EXPECT_FALSE(p.ipv6);
  EXPECT_EQ(p.prefix, 32);
  EXPECT_EQ(p.host, "192.0.2.1");
  EXPECT_TRUE(p.default_ports);
  EXPECT_EQ(p.str(), "192.0.2.1");
  EXPECT_FALSE(p.matches_name("192.0.2.1"));  // addresses match by address, not by name

  HostPattern q = parse_host_pattern("192.0.2.1:8080");
  EXPECT_EQ(q.kind, Kind::Ip);
  EXPECT_EQ(q.port_lo, 8080);
  EXPECT_EQ(q.str(), "192.0.2.1:8080");
}

TEST(HostPattern, BadIpv4LooksLikeTypo) {
  EXPECT_EQ(pattern_error("999.1.1.1"), "ValueError: invalid IP address \"999.1.1.1\"");
  EXPECT_EQ(pattern_error("10.0.0"), "ValueError: invalid IP address \"10.0.0\"");
  EXPECT_EQ(pattern_error("1.2.3.4.5:80"), "ValueError: invalid IP address \"1.2.3.4.5:80\"");
}

TEST(HostPattern, BracketedIpv6WithPort) {
  HostPattern p = parse_host_pattern("[2001:DB8:0:0::1]:443");
  EXPECT_EQ(p.kind, Kind::Ip);
  EXPECT_TRUE(p.ipv6);
  EXPECT_EQ(p.prefix, 128);
  EXPECT_EQ(p.host, "2001:db8::1");
  EXPECT_FALSE(p.default_ports);
  EXPECT_EQ(p.port_lo, 443);
  EXPECT_EQ(p.str(), "[2001:db8::1]:443");

  HostPattern q = parse_host_pattern("[::1]");
  EXPECT_TRUE(q.ipv6);
  EXPECT_TRUE(q.default_ports);
  EXPECT_EQ(q.str(), "[::1]");
}

TEST(HostPattern, BareIpv6) {
  HostPattern p = parse_host_pattern("2001:db8::1");
  EXPECT_EQ(p.kind, Kind::Ip);
  EXPECT_TRUE(p.ipv6);
  EXPECT_TRUE(p.default_ports);  // colons of a bare IPv6 address are never a port
  EXPECT_EQ(p.host, "2001:db8::1");
  EXPECT_EQ(parse_host_pattern("::1").host, "::1");
}

TEST(HostPattern, BracketErrors) {
  EXPECT_EQ(pattern_error("[::1"), "ValueError: unterminated '[' in \"[::1\"");
  EXPECT_EQ(pattern_error("[::1]443"), "ValueError: unexpected text after ']' in \"[::1]443\"");
  EXPECT_EQ(pattern_error("[::1]:"), "ValueError: missing port after ':' in \"[::1]:\"");
  EXPECT_EQ(pattern_error("[::1]:0"), "ValueError: port 0 in \"[::1]:0\" is out of range (1-65535)");
  EXPECT_THROW((void)parse_host_pattern("[]"), ValueError);
  EXPECT_THROW((void)parse_host_pattern("[2001:db8::zz]:443"), ValueError);
}

TEST(HostPattern, CidrV4) {
  HostPattern p = parse_host_pattern("10.0.0.0/8");
  EXPECT_EQ(p.kind, Kind::Cidr);
  EXPECT_FALSE(p.ipv6);
  EXPECT_EQ(p.prefix, 8);
  EXPECT_EQ(p.host, "10.0.0.0/8");
  EXPECT_TRUE(p.default_ports);
  EXPECT_EQ(p.str(), "10.0.0.0/8");

  HostPattern q = parse_host_pattern("172.16.0.0/12:5432");
  EXPECT_EQ(q.kind, Kind::Cidr);
  EXPECT_EQ(q.prefix, 12);
  EXPECT_EQ(q.port_lo, 5432);
  EXPECT_EQ(q.str(), "172.16.0.0/12:5432");

  EXPECT_EQ(parse_host_pattern("0.0.0.0/0").prefix, 0);
  EXPECT_EQ(parse_host_pattern("192.0.2.1/32").prefix, 32);
}

TEST(HostPattern, CidrV6) {
  HostPattern p = parse_host_pattern("fd00::/8");
  EXPECT_EQ(p.kind, Kind::Cidr);
  EXPECT_TRUE(p.ipv6);
  EXPECT_EQ(p.prefix, 8);
  EXPECT_EQ(p.host, "fd00::/8");
  EXPECT_EQ(p.str(), "[fd00::/8]");

  HostPattern q = parse_host_pattern("[2001:db8::/32]:443");
  EXPECT_EQ(q.kind, Kind::Cidr);
  EXPECT_TRUE(q.ipv6);
  EXPECT_EQ(q.prefix, 32);
  EXPECT_EQ(q.port_lo, 443);
  EXPECT_EQ(q.str(), "[2001:db8::/32]:443");
}

TEST(HostPattern, CidrHostBitsRefused) {
  EXPECT_EQ(pattern_error("10.0.0.1/8"),
            "ValueError: CIDR \"10.0.0.1/8\" has host bits set (did you mean the network address?)");
  EXPECT_EQ(pattern_error("172.17.0.0/12"),
            "ValueError: CIDR \"172.17.0.0/12\" has host bits set (did you mean the network address?)");
  EXPECT_EQ(pattern_error("fd00::1/8"),
            "ValueError: CIDR \"fd00::1/8\" has host bits set (did you mean the network address?)");
  EXPECT_EQ(pattern_error("[2001:db8::1/32]:443"),
            "ValueError: CIDR \"[2001:db8::1/32]:443\" has host bits set (did you mean the network address?)");
}

TEST(HostPattern, CidrBadPrefix) {
  EXPECT_EQ(pattern_error("10.0.0.0/33"), "ValueError: prefix length /33 is too long in \"10.0.0.0/33\"");
  EXPECT_EQ(pattern_error("fd00::/129"), "ValueError: prefix length /129 is too long in \"fd00::/129\"");
  EXPECT_EQ(pattern_error("10.0.0.0/"), "ValueError: invalid prefix length in CIDR \"10.0.0.0/\"");
  EXPECT_EQ(pattern_error("10.0.0.0/x"), "ValueError: invalid prefix length in CIDR \"10.0.0.0/x\"");
  EXPECT_EQ(pattern_error("10.0.0.0/1000"), "ValueError: invalid prefix length in CIDR \"10.0.0.0/1000\"");
  EXPECT_EQ(pattern_error("10.0.0.0/-1"), "ValueError: invalid prefix length in CIDR \"10.0.0.0/-1\"");
  EXPECT_EQ(pattern_error("/8"), "ValueError: invalid network address in CIDR \"/8\"");
  EXPECT_EQ(pattern_error("example.com/24"), "ValueError: invalid network address in CIDR \"example.com/24\"");
}

TEST(HostPattern, UrlsRefused) {
  const std::string tail = " is a URL; write a host, host:port or CIDR (e.g. \"example.com:443\")";
  EXPECT_EQ(pattern_error("https://example.com"), "ValueError: \"https://example.com\"" + tail);
  EXPECT_EQ(pattern_error("http://example.com:8080/x"), "ValueError: \"http://example.com:8080/x\"" + tail);
  EXPECT_THROW((void)parse_host_pattern("example.com/path"), ValueError);
}

TEST(HostPattern, BadNames) {
  EXPECT_EQ(pattern_error(""), "ValueError: empty host pattern");
  EXPECT_EQ(pattern_error("bad host.com"), "ValueError: invalid host name \"bad host.com\"");
  EXPECT_EQ(pattern_error("-a.example.com"), "ValueError: invalid host name \"-a.example.com\"");
  EXPECT_EQ(pattern_error("a..example.com"), "ValueError: invalid host name \"a..example.com\"");
  EXPECT_EQ(pattern_error(":443"), "ValueError: invalid host name \":443\"");
  EXPECT_THROW((void)parse_host_pattern(std::string(64, 'a') + ".com"), ValueError);
  EXPECT_THROW((void)parse_host_pattern("exa$mple.com"), ValueError);
}

TEST(HostPattern, EmbeddedNulRefused) {
  // TOML strings may carry \u0000; text after it must not be silently ignored.
  EXPECT_THROW((void)parse_host_pattern(std::string("10.0.0.1\0junk", 13)), ValueError);
  EXPECT_THROW((void)parse_host_pattern(std::string("10.0.0.0\0junk/8", 15)), ValueError);
  EXPECT_THROW((void)parse_host_pattern(std::string("[::1\0x]:443", 11)), ValueError);
  EXPECT_THROW((void)parse_host_pattern(std::string("example.com\0", 12)), ValueError);
}

TEST(HostPattern, NonAsciiRefused) {
  EXPECT_THROW((void)parse_host_pattern("\xc3\xa9xample.com"), ValueError);
  EXPECT_THROW((void)parse_host_pattern("10.0.0.0/\xd9\xa8"), ValueError);  // an Arabic-Indic digit
}

TEST(HostPattern, IsValidHostname) {
  EXPECT_TRUE(is_valid_hostname("example.com"));
  EXPECT_TRUE(is_valid_hostname("a-b.example.com"));
  EXPECT_TRUE(is_valid_hostname(std::string(63, 'a') + ".com"));
  EXPECT_FALSE(is_valid_hostname(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(is_valid_hostname(""));
  EXPECT_FALSE(is_valid_hostname("example.com."));  // callers strip the root dot first
  EXPECT_FALSE(is_valid_hostname(".example.com"));
  EXPECT_FALSE(is_valid_hostname("a-.example.com"));
  EXPECT_FALSE(is_valid_hostname("exa mple.com"));
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefghi.";
  long_name.resize(254);
  long_name.back() = 'x';
  EXPECT_FALSE(is_valid_hostname(long_name));
}

TEST(HostPattern, MatchesAddressV4) {
  HostPattern net = parse_host_pattern("10.0.0.0/8");
  EXPECT_TRUE(covers(net, "10.0.0.0"));
  EXPECT_TRUE(covers(net, "10.1.2.3"));
  EXPECT_TRUE(covers(net, "10.255.255.255"));
  EXPECT_FALSE(covers(net, "11.0.0.1"));
  EXPECT_FALSE(covers(net, "9.255.255.255"));

  HostPattern odd = parse_host_pattern("172.16.0.0/12");  // a prefix that ends inside a byte
  EXPECT_TRUE(covers(odd, "172.16.0.1"));
  EXPECT_TRUE(covers(odd, "172.31.255.255"));
  EXPECT_FALSE(covers(odd, "172.32.0.0"));
  EXPECT_FALSE(covers(odd, "172.15.255.255"));

  HostPattern host = parse_host_pattern("192.0.2.1");
  EXPECT_TRUE(covers(host, "192.0.2.1"));
  EXPECT_FALSE(covers(host, "192.0.2.2"));

  HostPattern all = parse_host_pattern("0.0.0.0/0");
  EXPECT_TRUE(covers(all, "1.2.3.4"));
  EXPECT_TRUE(covers(all, "255.255.255.255"));
  EXPECT_FALSE(covers(all, "::1"));  // an IPv4 pattern never covers an IPv6 address

  HostPattern h32 = parse_host_pattern("192.0.2.1/32");
  EXPECT_TRUE(covers(h32, "192.0.2.1"));
  EXPECT_FALSE(covers(h32, "192.0.2.0"));
}

TEST(HostPattern, MatchesAddressV6) {
  HostPattern ula = parse_host_pattern("fd00::/8");
  EXPECT_TRUE(covers(ula, "fd12:3456::1"));
  EXPECT_FALSE(covers(ula, "fe80::1"));
  EXPECT_FALSE(covers(ula, "10.0.0.1"));

  HostPattern doc = parse_host_pattern("2001:db8::/32");
  EXPECT_TRUE(covers(doc, "2001:db8:ffff::1"));
  EXPECT_FALSE(covers(doc, "2001:db9::1"));

  HostPattern odd = parse_host_pattern("2001:db8::/33");
  EXPECT_TRUE(covers(odd, "2001:db8:7fff::1"));
  EXPECT_FALSE(covers(odd, "2001:db8:8000::1"));

  HostPattern one = parse_host_pattern("[::1]:8080");
  EXPECT_TRUE(covers(one, "::1"));
  EXPECT_FALSE(covers(one, "::2"));
  EXPECT_FALSE(covers(one, "127.0.0.1"));
}

TEST(HostPattern, NamesNeverMatchAddresses) {
  HostPattern name = parse_host_pattern("example.com");
  EXPECT_FALSE(covers(name, "93.184.216.34"));
  HostPattern wc = parse_host_pattern("*.example.com");
  EXPECT_FALSE(covers(wc, "93.184.216.34"));
  HostPattern net = parse_host_pattern("10.0.0.0/8");
  EXPECT_FALSE(net.matches_name("10.0.0.1"));
}

}  // namespace
}  // namespace paddock
