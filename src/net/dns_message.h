// A strict DNS message codec for paddock's resolver inside the sandbox (issue 5): parses one
// query, builds the few responses the resolver sends. Pure: no sockets, no I/O. Messages are
// the bare DNS payload (a TCP caller adds the 2-byte length prefix itself).
//
// Strict on purpose: the resolver is the only name service the agent can reach, so anything
// that is not a plain one-question query is refused rather than interpreted, and a name can
// only carry letters, digits, '-' and '_' (no way to smuggle arbitrary bytes through a label).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace paddock {

inline constexpr std::uint16_t kDnsTypeA = 1;
inline constexpr std::uint16_t kDnsTypeAAAA = 28;
inline constexpr std::uint16_t kDnsTypeOPT = 41;
inline constexpr std::uint16_t kDnsTypeANY = 255;
inline constexpr std::uint16_t kDnsClassIN = 1;

inline constexpr std::size_t kDnsHeaderSize = 12;
inline constexpr std::size_t kDnsClassicUdpSize = 512;  // limit of a response without EDNS
inline constexpr std::uint16_t kDnsOurUdpSize = 1232;   // what our OPT record advertises

struct DnsQuestion {
  std::string name;  // lower-case, no trailing dot; "" for the root
  // The same name with the letters' case as the client sent it; echoed in responses (clients
  // using DNS 0x20 case randomisation check it). Empty: `name` is echoed.
  std::string sent_name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
};

struct DnsQuery {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;  // header flags as received (QR = 0, opcode QUERY)
  DnsQuestion question;
  bool edns = false;                // an OPT record (EDNS version 0) was present
  std::uint16_t edns_udp_size = 0;  // the requestor's UDP payload size, as sent
};

// Parses a query: exactly one question, QR = 0, opcode QUERY, no answer or authority records,
// at most one additional record which must be an OPT record, nothing after it. Names must be
// uncompressed, labels ≤ 63 bytes of [A-Za-z0-9_-], the whole name ≤ 255 bytes on the wire.
// On refusal returns nullopt and, if `error` is not null, stores a one-line reason there.
// A query for a name that is not allowed is not an error here; that is the resolver's call.
std::optional<DnsQuery> parse_query(std::span<const std::uint8_t> message, std::string* error);

// Responses: id and question echoed, QR, AA and RA set, RD and CD copied, an OPT record when the
// query had one. A response never exceeds 512 bytes (without EDNS) or the requestor's UDP size;
// answers that do not fit are left out and TC is set.
// answer_a / answer_aaaa need a query of class IN and type A (resp. AAAA) or ANY, and a
// DnsQuery whose name is valid (as parse_query returns); otherwise they throw ValueError.
std::vector<std::uint8_t> answer_a(const DnsQuery& query, std::span<const std::array<std::uint8_t, 4>> addrs,
                                   std::uint32_t ttl);
std::vector<std::uint8_t> answer_aaaa(const DnsQuery& query, std::span<const std::array<std::uint8_t, 16>> addrs,
                                      std::uint32_t ttl);
std::vector<std::uint8_t> answer_nodata(const DnsQuery& query);  // NOERROR, no answer records
std::vector<std::uint8_t> answer_nxdomain(const DnsQuery& query);
std::vector<std::uint8_t> answer_refused(const DnsQuery& query);
std::vector<std::uint8_t> answer_servfail(const DnsQuery& query);

}  // namespace paddock
