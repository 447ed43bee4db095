#include "net/egress_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "net/host_pattern.h"
#include "policy/policy.h"
#include "test_util.h"

namespace paddock {
namespace {

// Entries as a profile "p.toml" would hold them: allow on lines 1.., deny on lines 11...
std::vector<HostGrant> grants(std::initializer_list<const char*> texts, int first_line) {
  std::vector<HostGrant> out;
  int line = first_line;
  for (const char* t : texts) out.push_back({parse_host_pattern(t), Origin{"p.toml", line++, 9}});
  return out;
}

EgressPolicy policy(std::initializer_list<const char*> allow, std::initializer_list<const char*> deny = {}) {
  Policy p;
  p.net_allow = grants(allow, 1);
  p.net_deny = grants(deny, 11);
  return EgressPolicy(p);
}

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

EgressDecision at(const EgressPolicy& p, const std::string& host, const char* address, std::uint16_t port) {
  Addr a = addr(address);
  return p.check_address(host, a.bytes.data(), a.v6, port);
}

bool name_ok(const EgressPolicy& p, const char* host, std::uint16_t port) {
  return p.check_name(host, port).allowed;
}

std::string kind(const char* address) {
  Addr a = addr(address);
  return special_address_kind(a.bytes.data(), a.v6);
}

TEST(EgressPolicy, NothingAllowedByDefault) {
  auto p = policy({});
  auto d = p.check_name("evil.example", 443);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "evil.example:443 is not in network.allow");
  EXPECT_EQ(d.hint, "network.allow = [\"evil.example:443\"]");
  EXPECT_FALSE(d.rule.known());
  EXPECT_TRUE(d.pattern.empty());
}

TEST(EgressPolicy, ExactHostAllowedCitesRule) {
  auto p = policy({"pypi.org", "api.anthropic.com:443"});
  auto d = p.check_name("api.anthropic.com", 443);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, "allowed by network.allow \"api.anthropic.com:443\" (p.toml:2)");
  EXPECT_EQ(d.rule, (Origin{"p.toml", 2, 9}));
  EXPECT_EQ(d.pattern, "api.anthropic.com:443");
  EXPECT_TRUE(d.hint.empty());
  EXPECT_FALSE(name_ok(p, "anthropic.com", 443));
  EXPECT_FALSE(name_ok(p, "x.api.anthropic.com", 443));
  EXPECT_FALSE(name_ok(p, "api.anthropic.com.evil.example", 443));
}

TEST(EgressPolicy, NoPortMeans80And443Only) {
  auto p = policy({"pypi.org"});
  EXPECT_TRUE(name_ok(p, "pypi.org", 80));
  EXPECT_TRUE(name_ok(p, "pypi.org", 443));
  auto d = p.check_name("pypi.org", 8080);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(
      d.reason,
      "pypi.org:8080 is not in network.allow (network.allow \"pypi.org\" (p.toml:1) covers ports 80 and 443 only)");
  EXPECT_EQ(d.hint, "network.allow = [\"pypi.org:8080\"]");
  EXPECT_FALSE(name_ok(p, "pypi.org", 22));
}

TEST(EgressPolicy, ExplicitPortOnly) {
  auto p = policy({"git.example.com:22"});
  EXPECT_TRUE(name_ok(p, "git.example.com", 22));
  EXPECT_FALSE(name_ok(p, "git.example.com", 443));
  EXPECT_EQ(p.check_name("git.example.com", 443).reason,
            "git.example.com:443 is not in network.allow (network.allow \"git.example.com:22\" (p.toml:1) covers port "
            "22 only)");
}

TEST(EgressPolicy, PortRange) {
  auto p = policy({"db.example.com:5432-5439"});
  EXPECT_FALSE(name_ok(p, "db.example.com", 5431));
  EXPECT_TRUE(name_ok(p, "db.example.com", 5432));
  EXPECT_TRUE(name_ok(p, "db.example.com", 5435));
  EXPECT_TRUE(name_ok(p, "db.example.com", 5439));
  EXPECT_FALSE(name_ok(p, "db.example.com", 5440));
  EXPECT_FALSE(name_ok(p, "db.example.com", 443));
  EXPECT_NE(p.check_name("db.example.com", 80).reason.find("covers ports 5432-5439 only"), std::string::npos);
}

TEST(EgressPolicy, SuffixMatchesSubdomainsNotApex) {
  auto p = policy({"*.pythonhosted.org:443"});
  EXPECT_TRUE(name_ok(p, "files.pythonhosted.org", 443));
  EXPECT_TRUE(name_ok(p, "a.b.pythonhosted.org", 443));
  EXPECT_FALSE(name_ok(p, "pythonhosted.org", 443));
  EXPECT_FALSE(name_ok(p, "evilpythonhosted.org", 443));
  EXPECT_FALSE(name_ok(p, "files.pythonhosted.org", 80));
}

TEST(EgressPolicy, CaseInsensitiveAndTrailingDot) {
  auto p = policy({"API.Example.COM"});
  EXPECT_TRUE(name_ok(p, "api.example.com", 443));
  EXPECT_TRUE(name_ok(p, "Api.EXAMPLE.com", 443));
  EXPECT_TRUE(name_ok(p, "api.example.com.", 443));
  EXPECT_FALSE(name_ok(p, "api.example.com..", 443));
  EXPECT_EQ(p.check_name("EVIL.Example.", 443).reason, "evil.example:443 is not in network.allow");
}

TEST(EgressPolicy, InvalidNamesRefused) {
  auto p = policy({"*.example.com"});
  EXPECT_EQ(p.check_name("a b.example.com", 443).reason, "\"a b.example.com\" is not a valid host name");
  EXPECT_FALSE(name_ok(p, "", 443));
  EXPECT_FALSE(name_ok(p, ".", 443));
  EXPECT_FALSE(name_ok(p, "-x.example.com", 443));
  EXPECT_FALSE(p.check_name(std::string_view("a\0.example.com", 14), 443).allowed);
  EXPECT_FALSE(name_ok(p, "fe80::1%eth0", 443));
  // Numeric forms a resolver would read as 127.0.0.1 are not names.
  for (const char* n : {"2130706433", "0x7f.1", "127.1", "0177.0.0.1"}) {
    auto d = p.check_name(n, 443);
    EXPECT_FALSE(d.allowed) << n;
    EXPECT_NE(d.reason.find("not a valid host name"), std::string::npos) << n;
  }
}

TEST(EgressPolicy, DenyWinsWithoutPorts) {
  auto p = policy({"*.example.com:1-65535"}, {"*.internal.example.com"});
  EXPECT_TRUE(name_ok(p, "www.example.com", 443));
  auto d = p.check_name("db.internal.example.com", 443);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "denied by network.deny \"*.internal.example.com\" (p.toml:11)");
  EXPECT_EQ(d.rule, (Origin{"p.toml", 11, 9}));
  EXPECT_TRUE(d.hint.empty());
  // A deny entry without ports covers every port, not only 80 and 443.
  EXPECT_FALSE(name_ok(p, "db.internal.example.com", 5432));
  EXPECT_FALSE(name_ok(p, "db.internal.example.com", 80));
}

TEST(EgressPolicy, DenyWithPortsOnlyThosePorts) {
  auto p = policy({"*.example.com"}, {"*.example.com:80"});
  EXPECT_FALSE(name_ok(p, "www.example.com", 80));
  EXPECT_TRUE(name_ok(p, "www.example.com", 443));
  auto exact = policy({"api.example.com:1000-2000"}, {"api.example.com:1500-1600"});
  EXPECT_TRUE(name_ok(exact, "api.example.com", 1499));
  EXPECT_FALSE(name_ok(exact, "api.example.com", 1500));
  EXPECT_FALSE(name_ok(exact, "api.example.com", 1600));
  EXPECT_TRUE(name_ok(exact, "api.example.com", 1601));
}

TEST(EgressPolicy, ResolvedPublicAddressOfAllowedName) {
  auto p = policy({"api.example.com"});
  auto d = at(p, "api.example.com", "93.184.216.34", 443);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, "allowed by network.allow \"api.example.com\" (p.toml:1)");
  EXPECT_TRUE(at(p, "api.example.com", "2606:2800:220:1:248:1893:25c8:1946", 443).allowed);
  // The name is checked again: a public address does not help an unlisted name or port.
  EXPECT_FALSE(at(p, "evil.example", "93.184.216.34", 443).allowed);
  EXPECT_FALSE(at(p, "api.example.com", "93.184.216.34", 8080).allowed);
}

TEST(EgressPolicy, ResolvedPrivateAddressRefused) {
  auto p = policy({"api.example.com"});
  auto d = at(p, "api.example.com", "10.0.0.5", 443);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason,
            "api.example.com resolved to 10.0.0.5, a private address; allow it explicitly with network.allow = "
            "[\"10.0.0.5\"]");
  EXPECT_EQ(d.hint, "network.allow = [\"10.0.0.5\"]");
  EXPECT_FALSE(d.rule.known());
  for (const char* a : {"127.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.1.1",
                        "224.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "::", "fd00::1", "fc00::1", "fe80::1",
                        "ff02::1", "64:ff9b::a00:5", "2002:a00:5::1", "2001:0:4136:e378::1"}) {
    EXPECT_FALSE(at(p, "api.example.com", a, 443).allowed) << a;
  }
  // Neighbours of the special ranges are public.
  for (const char* a : {"172.32.0.1", "172.15.255.255", "100.128.0.1", "11.0.0.1", "2a00:1450::1"}) {
    EXPECT_TRUE(at(p, "api.example.com", a, 443).allowed) << a;
  }
}

TEST(EgressPolicy, MetadataAddressRefusedEvenWhenNameAllowed) {
  auto p = policy({"metadata.google.internal", "*.example.com"});
  auto d = at(p, "metadata.google.internal", "169.254.169.254", 80);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(
      d.reason,
      "metadata.google.internal resolved to 169.254.169.254, the cloud metadata address; allow it explicitly with "
      "network.allow = [\"169.254.169.254\"]");
  EXPECT_FALSE(at(p, "x.example.com", "::ffff:169.254.169.254", 80).allowed);
  EXPECT_FALSE(at(p, "x.example.com", "fd00:ec2::254", 80).allowed);
}

TEST(EgressPolicy, ExplicitCidrAllowLetsPrivateRangeThrough) {
  auto p = policy({"db.corp.example:5432", "10.0.0.0/8"});
  auto d = at(p, "db.corp.example", "10.1.2.3", 5432);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason,
            "allowed by network.allow \"db.corp.example:5432\" (p.toml:1); 10.1.2.3 is a private address allowed by "
            "network.allow \"10.0.0.0/8\" (p.toml:2)");
  EXPECT_EQ(d.rule, (Origin{"p.toml", 1, 9}));
  // Outside the range: still refused.
  EXPECT_FALSE(at(p, "db.corp.example", "192.168.1.1", 5432).allowed);
  // The range does not make other names reachable.
  EXPECT_FALSE(at(p, "other.corp.example", "10.1.2.3", 5432).allowed);
}

TEST(EgressPolicy, ExplicitIpv6RangeAllow) {
  auto p = policy({"svc.corp.example", "fd00:1::/32"});
  EXPECT_TRUE(at(p, "svc.corp.example", "fd00:1::7", 443).allowed);
  EXPECT_FALSE(at(p, "svc.corp.example", "fd00:2::7", 443).allowed);
}

TEST(EgressPolicy, DenyCidrAppliesToResolvedAddress) {
  auto p = policy({"*.example.com"}, {"93.184.0.0/16"});
  auto d = at(p, "www.example.com", "93.184.216.34", 443);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason,
            "www.example.com resolved to 93.184.216.34, denied by network.deny \"93.184.0.0/16\" (p.toml:11)");
  EXPECT_TRUE(at(p, "www.example.com", "93.185.0.1", 443).allowed);
  // Deny wins over an explicit address allow too.
  auto q = policy({"10.0.0.0/8:1-65535"}, {"10.0.0.5"});
  EXPECT_FALSE(at(q, "", "10.0.0.5", 22).allowed);
  EXPECT_TRUE(at(q, "", "10.0.0.6", 22).allowed);
}

TEST(EgressPolicy, LiteralNeedsAddressEntryAndPort) {
  auto p = policy({"192.0.2.0/24", "198.51.100.7:8000-8100", "example.com"});
  auto d = at(p, "", "192.0.2.10", 443);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, "allowed by network.allow \"192.0.2.0/24\" (p.toml:1)");
  EXPECT_FALSE(at(p, "", "192.0.2.10", 8443).allowed);
  EXPECT_TRUE(at(p, "", "198.51.100.7", 8050).allowed);
  EXPECT_FALSE(at(p, "", "198.51.100.7", 443).allowed);
  // A public literal outside every entry: a name entry does not cover it.
  auto out = at(p, "", "203.0.113.9", 443);
  EXPECT_FALSE(out.allowed);
  EXPECT_EQ(out.reason, "203.0.113.9:443 is not in network.allow");
  EXPECT_EQ(out.hint, "network.allow = [\"203.0.113.9:443\"]");
  // A private literal says what it is.
  EXPECT_EQ(at(p, "", "10.0.0.1", 80).reason, "10.0.0.1:80 is not in network.allow (10.0.0.1 is a private address)");
}

TEST(EgressPolicy, LiteralThroughCheckName) {
  auto p = policy({"192.0.2.1:443", "[2001:db8::1]:443"});
  EXPECT_TRUE(name_ok(p, "192.0.2.1", 443));
  EXPECT_FALSE(name_ok(p, "192.0.2.1", 80));
  EXPECT_TRUE(name_ok(p, "[2001:db8::1]", 443));
  EXPECT_TRUE(name_ok(p, "2001:DB8::1", 443));
  EXPECT_TRUE(name_ok(p, "2001:db8:0:0::1", 443));
  EXPECT_FALSE(name_ok(p, "[2001:db8::2]", 443));
  auto d = p.check_name("[2001:db8::2]", 443);
  EXPECT_EQ(d.reason, "[2001:db8::2]:443 is not in network.allow");
  EXPECT_EQ(d.hint, "network.allow = [\"[2001:db8::2]:443\"]");
  EXPECT_FALSE(name_ok(p, "127.0.0.1", 443));
}

TEST(EgressPolicy, Ipv6Literals) {
  auto p = policy({"[2001:db8::1]", "2001:db8:100::/40"});
  EXPECT_TRUE(at(p, "", "2001:db8::1", 443).allowed);
  EXPECT_FALSE(at(p, "", "2001:db8::1", 22).allowed);
  EXPECT_TRUE(at(p, "", "2001:db8:1ff::9", 80).allowed);
  EXPECT_FALSE(at(p, "", "2001:db8:200::9", 80).allowed);
  EXPECT_FALSE(at(p, "", "::1", 443).allowed);
  EXPECT_EQ(at(p, "", "fe80::1", 443).reason,
            "[fe80::1]:443 is not in network.allow (fe80::1 is a link-local address)");
}

TEST(EgressPolicy, Ipv4MappedJudgedAsIpv4) {
  auto p = policy({"api.example.com", "192.0.2.0/24"});
  // Private behind the mapping: refused, hint names the IPv4 address.
  auto d = at(p, "api.example.com", "::ffff:10.0.0.5", 443);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason,
            "api.example.com resolved to ::ffff:10.0.0.5 (IPv4-mapped 10.0.0.5), a private address; allow it "
            "explicitly with network.allow = [\"10.0.0.5\"]");
  EXPECT_FALSE(at(p, "api.example.com", "::ffff:127.0.0.1", 443).allowed);
  // Public behind the mapping: fine for an allowed name.
  EXPECT_TRUE(at(p, "api.example.com", "::ffff:93.184.216.34", 443).allowed);
  // An IPv4 entry covers the mapped form of its addresses.
  EXPECT_TRUE(at(p, "", "::ffff:192.0.2.8", 443).allowed);
  EXPECT_FALSE(at(p, "", "::ffff:198.51.100.1", 443).allowed);
  // And an IPv4 deny is not dodged by the mapped form.
  auto q = policy({"*.example.com"}, {"93.184.216.34"});
  EXPECT_FALSE(at(q, "www.example.com", "::ffff:93.184.216.34", 443).allowed);
}

TEST(EgressPolicy, ResolvedCheckRejectsDeniedName) {
  auto p = policy({"*.example.com"}, {"bad.example.com"});
  auto d = at(p, "bad.example.com", "93.184.216.34", 443);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "denied by network.deny \"bad.example.com\" (p.toml:11)");
}

TEST(EgressPolicy, SpecialAddressKinds) {
  EXPECT_EQ(kind("169.254.169.254"), "the cloud metadata address");
  EXPECT_EQ(kind("169.254.0.1"), "a link-local address");
  EXPECT_EQ(kind("127.8.9.10"), "a loopback address");
  EXPECT_EQ(kind("100.100.100.100"), "a shared (CGNAT) address");
  EXPECT_EQ(kind("239.255.255.250"), "a multicast address");
  EXPECT_EQ(kind("255.255.255.255"), "the broadcast address");
  EXPECT_EQ(kind("0.1.2.3"), "an unspecified address");
  EXPECT_EQ(kind("::"), "an unspecified address");
  EXPECT_EQ(kind("::1"), "a loopback address");
  EXPECT_EQ(kind("fd12:3456::1"), "a private address");
  EXPECT_EQ(kind("fe80::abcd"), "a link-local address");
  EXPECT_EQ(kind("ff05::2"), "a multicast address");
  EXPECT_EQ(kind("64:ff9b::808:808"), "a NAT64 address");
  EXPECT_EQ(kind("2002:808:808::1"), "a 6to4 address");
  EXPECT_EQ(kind("::ffff:10.1.1.1"), "a private address");
  EXPECT_EQ(kind("::ffff:8.8.8.8"), "");
  EXPECT_EQ(kind("8.8.8.8"), "");
  EXPECT_EQ(kind("2001:4860:4860::8888"), "");
}

TEST(EgressPolicy, AllowHint) {
  EXPECT_EQ(allow_hint("Evil.Example.", 443), "network.allow = [\"evil.example:443\"]");
  EXPECT_EQ(allow_hint("2001:db8::1", 8443), "network.allow = [\"[2001:db8::1]:8443\"]");
  EXPECT_EQ(allow_hint("[2001:db8::1]", 80), "network.allow = [\"[2001:db8::1]:80\"]");
  // The hint is itself a valid entry.
  EXPECT_NO_THROW((void)parse_host_pattern("[2001:db8::1]:8443"));
}

}  // namespace
}  // namespace paddock
