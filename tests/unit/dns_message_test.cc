#include "net/dns_message.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace paddock {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Hand-built wire messages.
struct Wire {
  Bytes b;
  Wire& u8(unsigned v) {
    b.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Wire& u16(unsigned v) { return u8(v >> 8).u8(v & 0xFF); }
  Wire& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xFFFF); }
  Wire& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  Wire& label(std::string_view text) {
    u8(static_cast<unsigned>(text.size()));
    for (char c : text) u8(static_cast<std::uint8_t>(c));
    return *this;
  }
  // A dotted name, uncompressed, with the terminating root label.
  Wire& name(std::string_view dotted) {
    while (!dotted.empty()) {
      const auto dot = dotted.find('.');
      label(dotted.substr(0, dot));
      if (dot == std::string_view::npos) break;
      dotted.remove_prefix(dot + 1);
    }
    return u8(0);
  }
  // OPT record: root owner, type 41, class = UDP size, TTL = ext-rcode/version/flags.
  Wire& opt(unsigned udp_size, unsigned version = 0, unsigned rdlen = 0) {
    return u8(0).u16(41).u16(udp_size).u8(0).u8(version).u16(0).u16(rdlen);
  }
};

constexpr unsigned kRD = 0x0100;

Bytes simple_query(std::string_view name, unsigned type, unsigned id = 0xBEEF, unsigned flags = kRD) {
  return Wire{}.header(id, flags, 1, 0, 0, 0).name(name).u16(type).u16(1).b;
}
Bytes edns_query(std::string_view name, unsigned type, unsigned udp_size, unsigned id = 0xBEEF) {
  return Wire{}.header(id, kRD, 1, 0, 0, 1).name(name).u16(type).u16(1).opt(udp_size).b;
}

DnsQuery parse_ok(const Bytes& wire) {
  std::string error;
  auto q = parse_query(wire, &error);
  EXPECT_TRUE(q.has_value()) << error;
  return q.value_or(DnsQuery{});
}

std::string parse_error(const Bytes& wire) {
  std::string error;
  auto q = parse_query(wire, &error);
  EXPECT_FALSE(q.has_value()) << "accepted: " << q->question.name;
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(error.find('\n'), std::string::npos);
  return error;
}

// Test-only response parser: header, question (uncompressed), answers whose owner must be a
// pointer, and an optional trailing OPT record. Fails the test on anything else.
struct Answer {
  unsigned owner = 0, type = 0, klass = 0;
  std::uint32_t ttl = 0;
  Bytes rdata;
};
struct Response {
  unsigned id = 0, flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
  std::string qname;
  unsigned qtype = 0, qclass = 0;
  std::vector<Answer> answers;
  bool opt = false;
  unsigned opt_udp = 0;
  unsigned rcode() const { return flags & 0xF; }
  bool bit(unsigned mask) const { return (flags & mask) != 0; }
};

Response read_response(const Bytes& m) {
  Response r;
  std::size_t pos = 0;
  bool ok = true;
  auto need = [&](std::size_t n) {
    if (m.size() - pos < n) ok = false;
    return ok;
  };
  auto u16 = [&] {
    if (!need(2)) return 0u;
    const unsigned v = (unsigned{m[pos]} << 8) | m[pos + 1];
    pos += 2;
    return v;
  };
  r.id = u16();
  r.flags = u16();
  r.qd = u16();
  r.an = u16();
  r.ns = u16();
  r.ar = u16();
  while (ok && need(1) && m[pos] != 0) {
    const std::size_t len = m[pos++];
    if (!need(len)) break;
    if (!r.qname.empty()) r.qname += '.';
    r.qname.append(m.begin() + static_cast<std::ptrdiff_t>(pos), m.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
  ++pos;
  r.qtype = u16();
  r.qclass = u16();
  for (unsigned i = 0; ok && i < r.an; ++i) {
    Answer a;
    a.owner = u16();
    a.type = u16();
    a.klass = u16();
    a.ttl = (std::uint32_t{u16()} << 16) | u16();
    const unsigned len = u16();
    if (!need(len)) break;
    a.rdata.assign(m.begin() + static_cast<std::ptrdiff_t>(pos), m.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
    r.answers.push_back(a);
  }
  if (ok && r.ar == 1) {
    EXPECT_TRUE(need(11) && m[pos] == 0);
    ++pos;
    EXPECT_EQ(u16(), 41u);
    r.opt_udp = u16();
    EXPECT_EQ(u16(), 0u);
    EXPECT_EQ(u16(), 0u);
    EXPECT_EQ(u16(), 0u);
    r.opt = ok;
  }
  EXPECT_TRUE(ok) << "response truncated";
  EXPECT_EQ(pos, m.size()) << "trailing bytes in response";
  return r;
}

constexpr unsigned kQR = 0x8000, kAA = 0x0400, kTC = 0x0200, kRA = 0x0080, kCD = 0x0010;

// --- parsing ---

TEST(DnsParse, PlainAQuery) {
  DnsQuery q = parse_ok(simple_query("www.example.com", kDnsTypeA, 0x1234));
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(q.flags, kRD);
  EXPECT_EQ(q.question.name, "www.example.com");
  EXPECT_EQ(q.question.sent_name, "www.example.com");
  EXPECT_EQ(q.question.type, kDnsTypeA);
  EXPECT_EQ(q.question.klass, kDnsClassIN);
  EXPECT_FALSE(q.edns);
}

TEST(DnsParse, AaaaQueryWithEdns) {
  DnsQuery q = parse_ok(edns_query("api.anthropic.com", kDnsTypeAAAA, 4096, 7));
  EXPECT_EQ(q.id, 7);
  EXPECT_EQ(q.question.name, "api.anthropic.com");
  EXPECT_EQ(q.question.type, kDnsTypeAAAA);
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(q.edns_udp_size, 4096);
}

TEST(DnsParse, EdnsWithOptions) {
  // A client cookie (option 10, 8 bytes) and an empty padding option (12), as dig sends.
  Bytes wire = Wire{}
                   .header(1, kRD, 1, 0, 0, 1)
                   .name("example.org")
                   .u16(1)
                   .u16(1)
                   .opt(1232, 0, 16)
                   .u16(10)
                   .u16(8)
                   .u32(0x01020304)
                   .u32(0x05060708)
                   .u16(12)
                   .u16(0)
                   .b;
  DnsQuery q = parse_ok(wire);
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(q.edns_udp_size, 1232);
}

TEST(DnsParse, FoldsCaseAndRemembersSentCase) {
  DnsQuery q = parse_ok(simple_query("WwW.ExAmple.COM", kDnsTypeA));
  EXPECT_EQ(q.question.name, "www.example.com");
  EXPECT_EQ(q.question.sent_name, "WwW.ExAmple.COM");
  // The response echoes the case the client sent (DNS 0x20).
  Response r = read_response(answer_nxdomain(q));
  EXPECT_EQ(r.qname, "WwW.ExAmple.COM");
}

TEST(DnsParse, UnderscoreHyphenDigitsAndRoot) {
  EXPECT_EQ(parse_ok(simple_query("_dmarc.my-host2.example", 16)).question.name, "_dmarc.my-host2.example");
  DnsQuery root = parse_ok(simple_query("", 2));
  EXPECT_EQ(root.question.name, "");
  EXPECT_EQ(root.question.type, 2);
}

TEST(DnsParse, LongestNameAndLabelAccepted) {
  const std::string l63(63, 'a');
  const std::string name = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');  // 255 bytes on the wire
  EXPECT_EQ(parse_ok(simple_query(name, 1)).question.name, name);
}

TEST(DnsParse, ErrorPointerMayBeNull) {
  EXPECT_FALSE(parse_query(Bytes{1, 2, 3}, nullptr).has_value());
  EXPECT_TRUE(parse_query(simple_query("a.b", 1), nullptr).has_value());
}

struct Rejection {
  const char* what;
  Bytes wire;
  const char* reason;  // substring of the error
};

Bytes with_tail(Bytes b, std::initializer_list<std::uint8_t> tail) {
  b.insert(b.end(), tail);
  return b;
}

TEST(DnsParse, Rejections) {
  const std::string l63(63, 'a');
  const std::vector<Rejection> cases = {
      {"empty", {}, "truncated header"},
      {"short header", Bytes(11, 0), "truncated header"},
      {"header only", Wire{}.header(1, 0, 1, 0, 0, 0).b, "truncated question name"},
      {"response", Wire{}.header(1, 0x8000, 1, 0, 0, 0).name("a").u16(1).u16(1).b, "QR set"},
      {"opcode STATUS", Wire{}.header(1, 2u << 11, 1, 0, 0, 0).name("a").u16(1).u16(1).b, "opcode 2"},
      {"opcode UPDATE", Wire{}.header(1, 5u << 11, 1, 0, 0, 0).name("a").u16(1).u16(1).b, "opcode 5"},
      {"TC in query", Wire{}.header(1, 0x0200, 1, 0, 0, 0).name("a").u16(1).u16(1).b, "TC"},
      {"no question", Wire{}.header(1, 0, 0, 0, 0, 0).b, "0 questions"},
      {"two questions", Wire{}.header(1, 0, 2, 0, 0, 0).name("a").u16(1).u16(1).name("b").u16(1).u16(1).b,
       "2 questions"},
      {"answer count", Wire{}.header(1, 0, 1, 1, 0, 0).name("a").u16(1).u16(1).b, "answer records"},
      {"authority count", Wire{}.header(1, 0, 1, 0, 1, 0).name("a").u16(1).u16(1).b, "authority records"},
      {"two additional", Wire{}.header(1, 0, 1, 0, 0, 2).name("a").u16(1).u16(1).opt(512).opt(512).b, "2 additional"},
      {"truncated label", Wire{}.header(1, 0, 1, 0, 0, 0).u8(3).u8('w').u8('w').b, "truncated label"},
      {"name without root label", Wire{}.header(1, 0, 1, 0, 0, 0).label("www").b, "truncated question name"},
      {"label of 64", simple_query(std::string(64, 'x') + ".com", 1), "label of 64 bytes"},
      {"label type 0x80", Wire{}.header(1, 0, 1, 0, 0, 0).u8(0x81).u8('a').u8(0).u16(1).u16(1).b, "label of 129"},
      {"name of 257", simple_query(l63 + "." + l63 + "." + l63 + "." + l63, 1), "longer than 255"},
      {"name of 256", simple_query(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b'), 1), "longer than 255"},
      {"pointer loop", Wire{}.header(1, 0, 1, 0, 0, 0).u16(0xC00C).u16(1).u16(1).b, "compression pointer"},
      {"pointer to self label", Wire{}.header(1, 0, 1, 0, 0, 0).label("www").u16(0xC00C).u16(1).u16(1).b,
       "compression pointer"},
      {"pointer forward", Wire{}.header(1, 0, 1, 0, 0, 0).u16(0xC012).u16(1).u16(1).name("a").b, "compression pointer"},
      {"dot inside a label", Wire{}.header(1, 0, 1, 0, 0, 0).label("a.b").u8(0).u16(1).u16(1).b, "byte 0x2e"},
      {"space", simple_query("a b.com", 1), "byte 0x20"},
      {"nul byte", Wire{}.header(1, 0, 1, 0, 0, 0).label(std::string_view("a\0b", 3)).u8(0).u16(1).u16(1).b,
       "byte 0x00"},
      {"high byte", Wire{}.header(1, 0, 1, 0, 0, 0).u8(2).u8(0xC3).u8(0xA9).u8(0).u16(1).u16(1).b, "byte 0xc3"},
      {"wildcard", simple_query("*.example.com", 1), "byte 0x2a"},
      {"no type/class", Wire{}.header(1, 0, 1, 0, 0, 0).name("a").u16(1).b, "truncated question"},
      {"trailing garbage", with_tail(simple_query("a.b", 1), {0xDE, 0xAD}), "2 trailing bytes after the question"},
      {"announced OPT missing", Wire{}.header(1, 0, 1, 0, 0, 1).name("a").u16(1).u16(1).b,
       "truncated additional record"},
      {"additional A record",
       Wire{}.header(1, 0, 1, 0, 0, 1).name("a").u16(1).u16(1).u8(0).u16(1).u16(1).u32(0).u16(4).u32(0).b,
       "type 1 (only OPT)"},
      {"OPT with owner name", Wire{}.header(1, 0, 1, 0, 0, 1).name("a").u16(1).u16(1).label("x").opt(512).b,
       "not an OPT record for the root"},
      {"EDNS version 1", Wire{}.header(1, 0, 1, 0, 0, 1).name("a").u16(1).u16(1).opt(1232, 1).b, "EDNS version 1"},
      {"OPT data cut", Wire{}.header(1, 0, 1, 0, 0, 1).name("a").u16(1).u16(1).opt(1232, 0, 8).u32(0).b,
       "truncated OPT record data"},
      {"after OPT", with_tail(edns_query("a", 1, 1232), {0}), "1 trailing bytes after the OPT record"},
      {"option overruns",
       Wire{}.header(1, 0, 1, 0, 0, 1).name("a").u16(1).u16(1).opt(1232, 0, 6).u16(10).u16(8).u16(0).b,
       "truncated EDNS option"},
      {"option header cut", Wire{}.header(1, 0, 1, 0, 0, 1).name("a").u16(1).u16(1).opt(1232, 0, 2).u16(10).b,
       "truncated EDNS option"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_NE(parse_error(c.wire).find(c.reason), std::string::npos) << parse_error(c.wire);
  }
}

TEST(DnsParse, EveryTruncationOfAValidQueryIsRefused) {
  const Bytes full =
      Wire{}.header(9, kRD, 1, 0, 0, 1).name("www.example.com").u16(28).u16(1).opt(1232, 0, 4).u16(12).u16(0).b;
  (void)parse_ok(full);
  for (std::size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE(n);
    (void)parse_error(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)));
  }
}

// --- responses ---

TEST(DnsAnswer, ExactBytesOfAnAAnswer) {
  DnsQuery q = parse_ok(simple_query("a.Bc", kDnsTypeA, 0x1234));
  const std::array<std::array<std::uint8_t, 4>, 1> addrs{{{198, 18, 0, 7}}};
  const Bytes expected = {
      0x12, 0x34,                                      // id
      0x85, 0x80,                                      // QR AA RD RA, NOERROR
      0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // QD 1, AN 1, NS 0, AR 0
      0x01, 'a',  0x02, 'B',  'c',  0x00,              // question name, sent case
      0x00, 0x01, 0x00, 0x01,                          // A IN
      0xC0, 0x0C,                                      // answer owner: pointer to the question name
      0x00, 0x01, 0x00, 0x01,                          // A IN
      0x00, 0x00, 0x00, 0x3C,                          // TTL 60
      0x00, 0x04, 198,  18,   0,    7,                 // rdata
  };
  EXPECT_EQ(answer_a(q, addrs, 60), expected);
}

TEST(DnsAnswer, AaaaWithEdnsRoundTrip) {
  DnsQuery q = parse_ok(edns_query("pypi.org", kDnsTypeAAAA, 4096, 0xABCD));
  std::array<std::uint8_t, 16> a1{}, a2{};
  a1[0] = 0xfd;
  a1[15] = 1;
  a2[0] = 0xfd;
  a2[15] = 2;
  const std::array<std::array<std::uint8_t, 16>, 2> addrs{a1, a2};
  Response r = read_response(answer_aaaa(q, addrs, 5));
  EXPECT_EQ(r.id, 0xABCDu);
  EXPECT_EQ(r.flags, kQR | kAA | kRD | kRA);
  EXPECT_EQ(r.qd, 1u);
  EXPECT_EQ(r.qname, "pypi.org");
  EXPECT_EQ(r.qtype, kDnsTypeAAAA);
  EXPECT_EQ(r.qclass, kDnsClassIN);
  ASSERT_EQ(r.answers.size(), 2u);
  for (const auto& a : r.answers) {
    EXPECT_EQ(a.owner, 0xC00Cu);
    EXPECT_EQ(a.type, kDnsTypeAAAA);
    EXPECT_EQ(a.klass, kDnsClassIN);
    EXPECT_EQ(a.ttl, 5u);
  }
  EXPECT_EQ(r.answers[0].rdata, Bytes(a1.begin(), a1.end()));
  EXPECT_EQ(r.answers[1].rdata, Bytes(a2.begin(), a2.end()));
  EXPECT_TRUE(r.opt);
  EXPECT_EQ(r.opt_udp, kDnsOurUdpSize);
}

TEST(DnsAnswer, NegativeAnswersEchoIdAndQuestion) {
  struct Case {
    const char* what;
    Bytes (*build)(const DnsQuery&);
    unsigned rcode;
  };
  const Case cases[] = {
      {"nodata", [](const DnsQuery& q) { return answer_nodata(q); }, 0},
      {"servfail", [](const DnsQuery& q) { return answer_servfail(q); }, 2},
      {"nxdomain", [](const DnsQuery& q) { return answer_nxdomain(q); }, 3},
      {"refused", [](const DnsQuery& q) { return answer_refused(q); }, 5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    for (bool edns : {false, true}) {
      const Bytes wire =
          edns ? edns_query("evil.example", 16, 1232, 0x4242) : simple_query("evil.example", 16, 0x4242, 0);
      DnsQuery q = parse_ok(wire);
      Response r = read_response(c.build(q));
      EXPECT_EQ(r.id, 0x4242u);
      EXPECT_EQ(r.rcode(), c.rcode);
      EXPECT_TRUE(r.bit(kQR) && r.bit(kAA) && r.bit(kRA));
      EXPECT_EQ(r.bit(kRD), edns);  // as asked: edns_query sets RD, the plain one here does not
      EXPECT_FALSE(r.bit(kTC));
      EXPECT_EQ(r.qname, "evil.example");
      EXPECT_EQ(r.qtype, 16u);
      EXPECT_EQ(r.an, 0u);
      EXPECT_EQ(r.ns, 0u);
      EXPECT_EQ(r.opt, edns);
    }
  }
}

TEST(DnsAnswer, CopiesRdAndCdOnly) {
  // RD, CD and AD set in the query: RD and CD come back, AD does not.
  DnsQuery q = parse_ok(simple_query("a.b", 1, 1, kRD | kCD | 0x0020));
  Response r = read_response(answer_nxdomain(q));
  EXPECT_EQ(r.flags, kQR | kAA | kRD | kRA | kCD | 3u);
}

TEST(DnsAnswer, TruncatesAtFiveHundredTwelveWithoutEdns) {
  const std::vector<std::array<std::uint8_t, 4>> many(100, {198, 18, 0, 1});
  DnsQuery q = parse_ok(simple_query("many.example", kDnsTypeA));
  const Bytes out = answer_a(q, many, 60);
  EXPECT_LE(out.size(), 512u);
  Response r = read_response(out);
  EXPECT_TRUE(r.bit(kTC));
  // 12 header + 18 question, 16 per answer: (512 - 30) / 16 = 30 answers.
  EXPECT_EQ(r.an, 30u);
  EXPECT_EQ(r.answers.size(), 30u);

  // EDNS with room for all of them: no truncation.
  DnsQuery big = parse_ok(edns_query("many.example", kDnsTypeA, 4096));
  Response all = read_response(answer_a(big, many, 60));
  EXPECT_FALSE(all.bit(kTC));
  EXPECT_EQ(all.an, 100u);

  // An advertised size below 512 counts as 512; the OPT record still fits.
  DnsQuery tiny = parse_ok(edns_query("many.example", kDnsTypeA, 100));
  const Bytes t = answer_a(tiny, many, 60);
  EXPECT_LE(t.size(), 512u);
  Response tr = read_response(t);
  EXPECT_TRUE(tr.bit(kTC));
  EXPECT_TRUE(tr.opt);
  EXPECT_EQ(tr.an, 29u);  // (512 - 30 - 11) / 16
}

TEST(DnsAnswer, EmptyAddressListIsNoData) {
  DnsQuery q = parse_ok(simple_query("a.b", kDnsTypeA));
  Response r = read_response(answer_a(q, {}, 60));
  EXPECT_EQ(r.rcode(), 0u);
  EXPECT_EQ(r.an, 0u);
  EXPECT_FALSE(r.bit(kTC));
}

TEST(DnsAnswer, RefusesMismatchedTypeOrClass) {
  const std::array<std::array<std::uint8_t, 4>, 1> v4{{{198, 18, 0, 1}}};
  const std::array<std::array<std::uint8_t, 16>, 1> v6{};
  DnsQuery aaaa = parse_ok(simple_query("a.b", kDnsTypeAAAA));
  EXPECT_THROW((void)answer_a(aaaa, v4, 1), ValueError);
  DnsQuery a = parse_ok(simple_query("a.b", kDnsTypeA));
  EXPECT_THROW((void)answer_aaaa(a, v6, 1), ValueError);
  DnsQuery chaos = parse_ok(Wire{}.header(1, 0, 1, 0, 0, 0).name("version.bind").u16(16).u16(3).b);
  chaos.question.type = kDnsTypeA;
  EXPECT_THROW((void)answer_a(chaos, v4, 1), ValueError);
  DnsQuery any = parse_ok(simple_query("a.b", kDnsTypeANY));
  EXPECT_EQ(read_response(answer_a(any, v4, 1)).an, 1u);
}

TEST(DnsAnswer, HandBuiltQueryWithInvalidNameThrows) {
  DnsQuery q;
  q.question = {"a..b", "", kDnsTypeA, kDnsClassIN};
  EXPECT_THROW((void)answer_nxdomain(q), ValueError);
  q.question.name = "evil\x01.com";
  EXPECT_THROW((void)answer_nxdomain(q), ValueError);
  q.question.name = "ok.";
  EXPECT_THROW((void)answer_nxdomain(q), ValueError);
  q.question.name = "ok.example";
  EXPECT_EQ(read_response(answer_nxdomain(q)).qname, "ok.example");
}

TEST(DnsAnswer, ResponsesAreNotQueries) {
  DnsQuery q = parse_ok(edns_query("a.b", kDnsTypeA, 1232));
  const std::array<std::array<std::uint8_t, 4>, 1> v4{{{198, 18, 0, 1}}};
  std::string error;
  EXPECT_FALSE(parse_query(answer_a(q, v4, 1), &error).has_value());
  EXPECT_NE(error.find("QR set"), std::string::npos);
}

}  // namespace
}  // namespace paddock
