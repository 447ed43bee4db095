// libFuzzer target for the DNS codec: arbitrary bytes as one query.
//
// parse_query must refuse or accept without crashing or a sanitizer report. An accepted query
// must have a well-formed name, and every response built for it must echo its id and question
// bytes, stay within the size limit, and never itself parse as a query.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "net/dns_message.h"

namespace {

[[noreturn]] void bug(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "dns-fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool name_ok(const std::string& name) {
  if (name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0 || i + 1 == name.size()) return false;
      label = 0;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    if (++label > 63) return false;
  }
  return true;
}

void check_response(const std::vector<std::uint8_t>& out, std::span<const std::uint8_t> query, std::size_t question_end,
                    const paddock::DnsQuery& q) {
  const std::size_t limit = q.edns && q.edns_udp_size > 512 ? q.edns_udp_size : 512;
  if (out.size() > limit) bug("response over the size limit");
  if (out.size() < question_end) bug("response shorter than the question");
  if (out[0] != query[0] || out[1] != query[1]) bug("id not echoed");
  if (!(out[2] & 0x80)) bug("QR not set");
  // The question section (name, type, class) comes back byte for byte.
  for (std::size_t i = 12; i < question_end; ++i) {
    if (out[i] != query[i]) bug("question not echoed");
  }
  if (paddock::parse_query(out, nullptr)) bug("a response parses as a query");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> wire(data, size);
  std::string error;
  const auto q = paddock::parse_query(wire, &error);
  if (!q) {
    if (error.empty() || error.find('\n') != std::string::npos) bug("refusal without a one-line reason", error);
    return 0;
  }
  if (!name_ok(q->question.name)) bug("accepted a malformed name", q->question.name);
  if (q->question.sent_name.size() != q->question.name.size()) bug("sent_name differs in length");

  const std::size_t question_end = 12 + (q->question.name.empty() ? 1 : q->question.name.size() + 2) + 4;
  check_response(paddock::answer_nxdomain(*q), wire, question_end, *q);
  check_response(paddock::answer_refused(*q), wire, question_end, *q);
  check_response(paddock::answer_servfail(*q), wire, question_end, *q);
  check_response(paddock::answer_nodata(*q), wire, question_end, *q);
  if (q->question.klass == paddock::kDnsClassIN) {
    const std::vector<std::array<std::uint8_t, 4>> v4(1 + data[size - 1] % 64, {198, 18, 0, 1});
    const std::vector<std::array<std::uint8_t, 16>> v6(1 + data[size - 1] % 32, std::array<std::uint8_t, 16>{0xfd});
    if (q->question.type == paddock::kDnsTypeA || q->question.type == paddock::kDnsTypeANY)
      check_response(paddock::answer_a(*q, v4, 60), wire, question_end, *q);
    if (q->question.type == paddock::kDnsTypeAAAA || q->question.type == paddock::kDnsTypeANY)
      check_response(paddock::answer_aaaa(*q, v6, 60), wire, question_end, *q);
  }
  return 0;
}
