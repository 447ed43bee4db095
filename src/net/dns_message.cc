#include "net/dns_message.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "util/error.h"

namespace paddock {
namespace {

constexpr std::uint16_t kFlagQR = 0x8000;
constexpr std::uint16_t kFlagAA = 0x0400;
constexpr std::uint16_t kFlagTC = 0x0200;
constexpr std::uint16_t kFlagRD = 0x0100;
constexpr std::uint16_t kFlagRA = 0x0080;
constexpr std::uint16_t kFlagCD = 0x0010;

constexpr std::uint16_t kRcodeNoError = 0;
constexpr std::uint16_t kRcodeServFail = 2;
constexpr std::uint16_t kRcodeNxDomain = 3;
constexpr std::uint16_t kRcodeRefused = 5;

constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxWireName = 255;
constexpr std::size_t kOptRecordSize = 11;  // root name, type, class, ttl, rdlength

std::uint16_t get16(std::span<const std::uint8_t> m, std::size_t at) {
  return static_cast<std::uint16_t>((m[at] << 8) | m[at + 1]);
}

bool label_byte_ok(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char lower(std::uint8_t c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

std::string hex_byte(std::uint8_t c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[c >> 4] + kDigits[c & 0xF];
}

std::optional<DnsQuery> refuse(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return std::nullopt;
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}

// Encodes a dotted name (no trailing dot, "" for the root) uncompressed, with the same rules
// parse_query applies, so a response never carries what a query could not.
void put_name(std::vector<std::uint8_t>& out, std::string_view name) {
  std::size_t wire = 1;
  while (!name.empty()) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabel) throw ValueError("dns: invalid label in name to encode");
    wire += 1 + label.size();
    if (wire > kMaxWireName) throw ValueError("dns: name to encode is longer than 255 bytes");
    out.push_back(static_cast<std::uint8_t>(label.size()));
    for (char c : label) {
      if (!label_byte_ok(static_cast<std::uint8_t>(c))) throw ValueError("dns: invalid byte in name to encode");
      out.push_back(static_cast<std::uint8_t>(c));
    }
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
    if (name.empty()) throw ValueError("dns: name to encode has a trailing dot");
  }
  out.push_back(0);
}

// One response: header, the echoed question, `count` answer records of `rr_type` whose rdata
// are consecutive `rdlen`-byte slices of `rdata`, and an OPT record when the query had EDNS.
std::vector<std::uint8_t> respond(const DnsQuery& q, std::uint16_t rcode, std::uint16_t rr_type,
                                  const std::uint8_t* rdata, std::size_t rdlen, std::size_t count, std::uint32_t ttl) {
  const std::size_t limit = q.edns ? std::max<std::size_t>(kDnsClassicUdpSize, q.edns_udp_size) : kDnsClassicUdpSize;
  const std::size_t opt_size = q.edns ? kOptRecordSize : 0;

  std::vector<std::uint8_t> out;
  out.reserve(std::min<std::size_t>(limit, kDnsHeaderSize + kMaxWireName + 4 + count * (12 + rdlen) + opt_size));
  put16(out, q.id);
  put16(out, 0);  // flags, below
  put16(out, 1);  // QDCOUNT
  put16(out, 0);  // ANCOUNT, below
  put16(out, 0);  // NSCOUNT
  put16(out, q.edns ? 1 : 0);
  put_name(out, q.question.sent_name.empty() ? q.question.name : q.question.sent_name);
  put16(out, q.question.type);
  put16(out, q.question.klass);

  std::uint16_t answers = 0;
  bool truncated = false;
  for (std::size_t i = 0; i < count; ++i) {
    if (out.size() + 12 + rdlen + opt_size > limit || answers == 0xFFFF) {
      truncated = true;
      break;
    }
    put16(out, 0xC000 | kDnsHeaderSize);  // pointer to the question name
    put16(out, rr_type);
    put16(out, kDnsClassIN);
    put32(out, ttl);
    put16(out, static_cast<std::uint16_t>(rdlen));
    out.insert(out.end(), rdata + i * rdlen, rdata + (i + 1) * rdlen);
    ++answers;
  }

  if (q.edns) {
    out.push_back(0);  // root name
    put16(out, kDnsTypeOPT);
    put16(out, kDnsOurUdpSize);
    put32(out, 0);  // extended rcode 0, version 0, no flags
    put16(out, 0);  // no options
  }

  const std::uint16_t flags = static_cast<std::uint16_t>(kFlagQR | kFlagAA | (truncated ? kFlagTC : 0) |
                                                         (q.flags & (kFlagRD | kFlagCD)) | kFlagRA | rcode);
  out[2] = static_cast<std::uint8_t>(flags >> 8);
  out[3] = static_cast<std::uint8_t>(flags & 0xFF);
  out[6] = static_cast<std::uint8_t>(answers >> 8);
  out[7] = static_cast<std::uint8_t>(answers & 0xFF);
  return out;
}

void check_answerable(const DnsQuery& q, std::uint16_t rr_type, const char* what) {
  if (q.question.klass != kDnsClassIN)
    throw ValueError(std::string("dns: ") + what + " for a query of class other than IN");
  if (q.question.type != rr_type && q.question.type != kDnsTypeANY)
    throw ValueError(std::string("dns: ") + what + " for a query of type " + std::to_string(q.question.type));
}

}  // namespace

std::optional<DnsQuery> parse_query(std::span<const std::uint8_t> m, std::string* error) {
  if (m.size() < kDnsHeaderSize) return refuse(error, "truncated header (" + std::to_string(m.size()) + " bytes)");
  DnsQuery q;
  q.id = get16(m, 0);
  q.flags = get16(m, 2);
  const std::uint16_t qdcount = get16(m, 4);
  const std::uint16_t ancount = get16(m, 6);
  const std::uint16_t nscount = get16(m, 8);
  const std::uint16_t arcount = get16(m, 10);

  if (q.flags & kFlagQR) return refuse(error, "not a query (QR set)");
  const unsigned opcode = (q.flags >> 11) & 0xF;
  if (opcode != 0) return refuse(error, "unsupported opcode " + std::to_string(opcode));
  if (q.flags & kFlagTC) return refuse(error, "truncated query (TC set)");
  if (qdcount != 1) return refuse(error, std::to_string(qdcount) + " questions (exactly 1 accepted)");
  if (ancount != 0) return refuse(error, "answer records in a query");
  if (nscount != 0) return refuse(error, "authority records in a query");
  if (arcount > 1) return refuse(error, std::to_string(arcount) + " additional records (at most one OPT accepted)");

  // The question name: uncompressed labels only (a query has nothing earlier worth pointing
  // at, so a pointer is refused outright and no pointer loop can exist).
  std::size_t pos = kDnsHeaderSize;
  std::size_t wire = 0;
  for (;;) {
    if (pos >= m.size()) return refuse(error, "truncated question name");
    const std::uint8_t len = m[pos];
    if ((len & 0xC0) == 0xC0) return refuse(error, "compression pointer in query name");
    if (len > kMaxLabel) return refuse(error, "label of " + std::to_string(len) + " bytes (at most 63)");
    wire += 1 + std::size_t{len};
    if (wire > kMaxWireName) return refuse(error, "name longer than 255 bytes");
    ++pos;
    if (len == 0) break;
    if (m.size() - pos < len) return refuse(error, "truncated label");
    if (wire > 1u + len) {  // not the first label
      q.question.name += '.';
      q.question.sent_name += '.';
    }
    for (std::size_t i = 0; i < len; ++i) {
      const std::uint8_t c = m[pos + i];
      if (!label_byte_ok(c)) return refuse(error, "byte " + hex_byte(c) + " in a name label");
      q.question.sent_name += static_cast<char>(c);
      q.question.name += lower(c);
    }
    pos += len;
  }
  if (m.size() - pos < 4) return refuse(error, "truncated question");
  q.question.type = get16(m, pos);
  q.question.klass = get16(m, pos + 2);
  pos += 4;

  if (arcount == 0) {
    if (pos != m.size()) return refuse(error, std::to_string(m.size() - pos) + " trailing bytes after the question");
    return q;
  }

  // The one additional record: OPT (RFC 6891), owner the root, options well formed, then the end.
  if (m.size() - pos < kOptRecordSize) return refuse(error, "truncated additional record");
  if (m[pos] != 0) return refuse(error, "additional record is not an OPT record for the root");
  const std::uint16_t type = get16(m, pos + 1);
  if (type != kDnsTypeOPT) return refuse(error, "additional record of type " + std::to_string(type) + " (only OPT)");
  const std::uint16_t udp_size = get16(m, pos + 3);
  const std::uint8_t version = m[pos + 6];
  const std::uint16_t rdlen = get16(m, pos + 9);
  pos += kOptRecordSize;
  if (version != 0) return refuse(error, "EDNS version " + std::to_string(version) + " (only 0)");
  if (m.size() - pos < rdlen) return refuse(error, "truncated OPT record data");
  if (m.size() - pos > rdlen)
    return refuse(error, std::to_string(m.size() - pos - rdlen) + " trailing bytes after the OPT record");
  for (std::size_t at = pos; at < m.size();) {
    if (m.size() - at < 4) return refuse(error, "truncated EDNS option");
    const std::uint16_t optlen = get16(m, at + 2);
    at += 4;
    if (m.size() - at < optlen) return refuse(error, "truncated EDNS option");
    at += optlen;
  }
  q.edns = true;
  q.edns_udp_size = udp_size;
  return q;
}

std::vector<std::uint8_t> answer_a(const DnsQuery& query, std::span<const std::array<std::uint8_t, 4>> addrs,
                                   std::uint32_t ttl) {
  check_answerable(query, kDnsTypeA, "A answer");
  return respond(query, kRcodeNoError, kDnsTypeA, addrs.empty() ? nullptr : addrs.front().data(), 4, addrs.size(), ttl);
}

std::vector<std::uint8_t> answer_aaaa(const DnsQuery& query, std::span<const std::array<std::uint8_t, 16>> addrs,
                                      std::uint32_t ttl) {
  check_answerable(query, kDnsTypeAAAA, "AAAA answer");
  return respond(query, kRcodeNoError, kDnsTypeAAAA, addrs.empty() ? nullptr : addrs.front().data(), 16, addrs.size(),
                 ttl);
}

std::vector<std::uint8_t> answer_nodata(const DnsQuery& query) {
  return respond(query, kRcodeNoError, 0, nullptr, 0, 0, 0);
}
std::vector<std::uint8_t> answer_nxdomain(const DnsQuery& query) {
  return respond(query, kRcodeNxDomain, 0, nullptr, 0, 0, 0);
}
std::vector<std::uint8_t> answer_refused(const DnsQuery& query) {
  return respond(query, kRcodeRefused, 0, nullptr, 0, 0, 0);
}
std::vector<std::uint8_t> answer_servfail(const DnsQuery& query) {
  return respond(query, kRcodeServFail, 0, nullptr, 0, 0, 0);
}

}  // namespace paddock
