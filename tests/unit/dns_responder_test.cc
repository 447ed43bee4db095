// paddock's resolver inside the sandbox (DnsResponder) and the address pool behind it: allowed
// names get a pool address and map back, everything else gets NXDOMAIN with a reason and hint.
#include "net/dns_responder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "net/address_pool.h"
#include "net/egress_policy.h"

namespace paddock {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;
using Addr = AddressPool::Addr;

Bytes query(const std::string& dotted, unsigned type, unsigned klass = 1) {
  Bytes b = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start < dotted.size()) {
    auto dot = dotted.find('.', start);
    std::string label = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  b.push_back(0);
  for (unsigned v : {type, klass}) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v & 0xff));
  }
  return b;
}

unsigned rcode(const Bytes& r) {
  return r.size() >= 4 ? (r[3] & 0x0f) : 99;
}
unsigned answers(const Bytes& r) {
  return r.size() >= 8 ? (r[6] << 8 | r[7]) : 99;
}
// The last four bytes of an A answer are the address.
Addr last_a(const Bytes& r) {
  return {r[r.size() - 4], r[r.size() - 3], r[r.size() - 2], r[r.size() - 1]};
}

EgressPolicy policy() {
  std::vector<HostGrant> allow = {{parse_host_pattern("api.example.com:443"), {"p.toml", 3, 1}},
                                  {parse_host_pattern("*.pythonhosted.org"), {"p.toml", 4, 1}},
                                  {parse_host_pattern("10.0.0.0/8:22"), {"p.toml", 5, 1}}};
  std::vector<HostGrant> deny = {{parse_host_pattern("bad.pythonhosted.org"), {"p.toml", 7, 1}}};
  return EgressPolicy(allow, deny);
}

TEST(AddressPool, AssignsStableAddressesInsideThePrefixAndMapsBack) {
  AddressPool pool({198, 18, 0, 0}, 15);
  EXPECT_EQ(pool.capacity(), (1u << 17) - 2);
  Addr a = pool.address_for("api.example.com");
  Addr b = pool.address_for("pypi.org");
  EXPECT_EQ(a, (Addr{198, 18, 0, 1}));
  EXPECT_EQ(b, (Addr{198, 18, 0, 2}));
  EXPECT_EQ(pool.address_for("api.example.com"), a);
  EXPECT_EQ(pool.name_for(a), "api.example.com");
  EXPECT_EQ(pool.name_for(b), "pypi.org");
  EXPECT_TRUE(pool.contains({198, 19, 255, 255}));
  EXPECT_FALSE(pool.contains({198, 20, 0, 1}));
  EXPECT_EQ(pool.name_for({198, 18, 0, 3}), std::nullopt);  // never handed out
  EXPECT_EQ(pool.name_for({198, 18, 0, 0}), std::nullopt);  // the network address
  EXPECT_EQ(pool.name_for({10, 0, 0, 1}), std::nullopt);
}

TEST(AddressPool, AFloodOfNamesRecyclesTheOldestInsteadOfRunningOut) {
  AddressPool pool({10, 0, 0, 0}, 30);  // two usable addresses
  Addr a = pool.address_for("a");
  Addr b = pool.address_for("b");
  Addr c = pool.address_for("c");
  EXPECT_EQ(c, a);
  EXPECT_EQ(pool.name_for(a), "c");
  EXPECT_EQ(pool.name_for(b), "b");
  EXPECT_NE(pool.address_for("a"), c);  // "a" got a fresh address, "b"'s
  EXPECT_EQ(pool.name_for(b), "a");
}

TEST(DnsResponder, AllowedNameGetsAPoolAddressThatMapsBack) {
  EgressPolicy p = policy();
  AddressPool pool({198, 18, 0, 0}, 15);
  DnsResponder r(p, pool);
  DnsAnswer a = r.answer(query("API.example.com", 1));
  EXPECT_FALSE(a.denied);
  EXPECT_EQ(a.name, "api.example.com");
  EXPECT_EQ(a.type, "A");
  EXPECT_EQ(a.rule, "p.toml:3");
  EXPECT_EQ(rcode(a.response), 0u);
  EXPECT_EQ(answers(a.response), 1u);
  EXPECT_EQ(pool.name_for(last_a(a.response)), "api.example.com");
  EXPECT_EQ(a.answer, "198.18.0.1");
}

TEST(DnsResponder, AaaaAndOtherTypesOfAnAllowedNameAreNoData) {
  EgressPolicy p = policy();
  AddressPool pool({198, 18, 0, 0}, 15);
  DnsResponder r(p, pool);
  for (unsigned type : {28u, 16u, 15u, 65u}) {
    DnsAnswer a = r.answer(query("files.pythonhosted.org", type));
    EXPECT_FALSE(a.denied) << type;
    EXPECT_EQ(rcode(a.response), 0u) << type;
    EXPECT_EQ(answers(a.response), 0u) << type;
  }
  EXPECT_EQ(r.answer(query("x.pythonhosted.org", 28)).type, "AAAA");
}

TEST(DnsResponder, NameNotAllowedIsNxdomainWithReasonAndHint) {
  EgressPolicy p = policy();
  AddressPool pool({198, 18, 0, 0}, 15);
  DnsResponder r(p, pool);
  DnsAnswer a = r.answer(query("secret-data.evil.example", 1));
  EXPECT_TRUE(a.denied);
  EXPECT_EQ(rcode(a.response), 3u);
  EXPECT_EQ(a.reason, "secret-data.evil.example is in no network.allow entry");
  EXPECT_EQ(a.hint, "network.allow = [\"secret-data.evil.example\"]");
  EXPECT_TRUE(a.answer.empty());
  EXPECT_EQ(pool.name_for({198, 18, 0, 1}), std::nullopt);  // nothing assigned for it
}

TEST(DnsResponder, DenyWinsAndCitesItsLine) {
  EgressPolicy p = policy();
  AddressPool pool({198, 18, 0, 0}, 15);
  DnsResponder r(p, pool);
  DnsAnswer a = r.answer(query("bad.pythonhosted.org", 1));
  EXPECT_TRUE(a.denied);
  EXPECT_EQ(rcode(a.response), 3u);
  EXPECT_EQ(a.rule, "p.toml:7");
}

TEST(DnsResponder, AllowedOnANonDefaultPortOnlyStillResolves) {
  EgressPolicy p(std::vector<HostGrant>{{parse_host_pattern("git.example:2222"), {"p.toml", 1, 1}}}, {});
  AddressPool pool({198, 18, 0, 0}, 15);
  DnsResponder r(p, pool);
  EXPECT_FALSE(r.answer(query("git.example", 1)).denied);
}

TEST(DnsResponder, MalformedQueryGetsNoResponseButADenial) {
  EgressPolicy p = policy();
  AddressPool pool({198, 18, 0, 0}, 15);
  DnsResponder r(p, pool);
  DnsAnswer a = r.answer(Bytes{1, 2, 3});
  EXPECT_TRUE(a.denied);
  EXPECT_TRUE(a.response.empty());
  EXPECT_THAT(a.reason, HasSubstr("malformed"));
}

TEST(DnsResponder, OtherClassIsRefused) {
  EgressPolicy p = policy();
  AddressPool pool({198, 18, 0, 0}, 15);
  DnsResponder r(p, pool);
  DnsAnswer a = r.answer(query("api.example.com", 16, 3));  // CHAOS TXT
  EXPECT_TRUE(a.denied);
  EXPECT_EQ(rcode(a.response), 5u);
}

TEST(EgressPolicyAnyPort, NameAllowedOnSomePortOrDenied) {
  EgressPolicy p = policy();
  EXPECT_TRUE(p.check_name_any_port("api.example.com").allowed);
  EXPECT_TRUE(p.check_name_any_port("a.pythonhosted.org").allowed);
  EXPECT_FALSE(p.check_name_any_port("pythonhosted.org").allowed);
  EXPECT_FALSE(p.check_name_any_port("bad.pythonhosted.org").allowed);
}

}  // namespace
}  // namespace paddock
