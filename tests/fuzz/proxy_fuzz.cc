// libFuzzer target for the egress proxy's codecs: the same arbitrary bytes as an HTTP proxy
// request head, as a SOCKS5 greeting and as a SOCKS5 request.
//
// The parsers must answer without crashing or a sanitizer report, and:
//  - the answer depends only on the bytes, not on how they were chunked: a prefix of an accepted
//    input shorter than what was consumed is Incomplete, a prefix that is refused is refused by
//    the whole input with the same status, and an input that is accepted is accepted the same
//    with anything appended;
//  - a refusal carries one line and, for HTTP, one of the documented statuses;
//  - an accepted host is a normalized name or a canonical literal, and an HTTP forward head is
//    well-formed (CRLF only, no NUL, ends with Connection: close and the blank line).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "net/host_pattern.h"
#include "net/http_proxy_request.h"
#include "net/socks5.h"

namespace {

using paddock::HttpProxyParse;

[[noreturn]] void bug(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "proxy-fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check_one_line(const std::string& error) {
  if (error.empty() || error.find('\n') != std::string::npos || error.find('\r') != std::string::npos)
    bug("refusal without a one-line reason", error);
}

// A host as the parsers promise it: a name normalize_host_name leaves unchanged, or the
// canonical text of an address literal.
void check_host(const std::string& host) {
  std::string again;
  if (paddock::normalize_host_name(host, &again)) {
    if (again != host) bug("host not normalized", host);
    return;
  }
  std::array<std::uint8_t, 16> addr{};
  bool v6 = false;
  if (!paddock::parse_ip_literal(host, addr, v6) || paddock::ip_literal_text(addr, v6) != host)
    bug("host neither a name nor a canonical literal", host);
}

bool same(const HttpProxyParse& a, const HttpProxyParse& b) {
  if (a.state != b.state || a.status != b.status) return false;
  const auto& x = a.request;
  const auto& y = b.request;
  return x.kind == y.kind && x.method == y.method && x.host == y.host && x.port == y.port && x.target == y.target &&
         x.version == y.version && x.forward_head == y.forward_head && x.head_size == y.head_size;
}

void check_http(std::string_view in) {
  const HttpProxyParse p = paddock::parse_http_proxy_request(in);
  const HttpProxyParse half = paddock::parse_http_proxy_request(in.substr(0, in.size() / 2));
  if (half.state == HttpProxyParse::State::Error && (p.state != half.state || p.status != half.status))
    bug("a refused prefix is not refused the same");
  if (p.state == HttpProxyParse::State::Incomplete) {
    if (in.size() >= paddock::kHttpProxyMaxHead) bug("incomplete beyond the head limit");
    return;
  }
  if (p.state == HttpProxyParse::State::Error) {
    check_one_line(p.error);
    static constexpr int kStatuses[] = {400, 405, 414, 431, 501, 505};
    if (std::find(std::begin(kStatuses), std::end(kStatuses), p.status) == std::end(kStatuses))
      bug("undocumented status", std::to_string(p.status));
    return;
  }

  const auto& r = p.request;
  if (r.head_size == 0 || r.head_size > in.size() || r.head_size > paddock::kHttpProxyMaxHead)
    bug("head_size out of range");
  if (half.state != HttpProxyParse::State::Incomplete && !(half.state == p.state && in.size() / 2 >= r.head_size))
    bug("a prefix shorter than the head is not Incomplete");
  if (in.size() / 2 >= r.head_size && !same(half, p)) bug("a prefix holding the head parses differently");
  if (!same(paddock::parse_http_proxy_request(in.substr(0, r.head_size)), p)) bug("the head alone parses differently");
  check_host(r.host);
  if (r.port == 0) bug("port 0 accepted");
  if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") bug("version", r.version);
  if (r.kind == paddock::HttpProxyRequest::Kind::Connect) {
    if (!r.forward_head.empty() || r.method != "CONNECT") bug("CONNECT with a forward head");
    return;
  }
  const std::string& h = r.forward_head;
  if (r.target.empty() || r.target.front() != '/' || r.target.find('#') != std::string::npos) bug("target", r.target);
  if (!h.starts_with(r.method + " " + r.target + " " + r.version + "\r\n")) bug("forward request line", h);
  if (!h.ends_with("\r\nConnection: close\r\n\r\n")) bug("forward head ending", h);
  if (h.find('\0') != std::string::npos) bug("NUL in forward head", h);
  for (std::size_t i = 0; i < h.size(); ++i) {
    if ((h[i] == '\n') != (i > 0 && h[i - 1] == '\r')) bug("bare CR or LF in forward head", h);
  }
  // Whatever the client sent, the upstream head is an ordinary request: it must parse as a
  // proxied one again once its target is made absolute.
  const std::string absolute = h.substr(0, r.method.size() + 1) + "http://" +
                               (r.host.find(':') == std::string::npos ? r.host : "[" + r.host + "]") + ":" +
                               std::to_string(r.port) + h.substr(r.method.size() + 1);
  const HttpProxyParse again = paddock::parse_http_proxy_request(absolute);
  if (again.state == HttpProxyParse::State::Error && (again.status == 414 || again.status == 431)) return;  // grew
  if (again.state != HttpProxyParse::State::Done || again.request.forward_head != h)
    bug("forward head does not parse back to itself", h + "\n" + again.error);
}

void check_socks(std::span<const std::uint8_t> in) {
  const auto g = paddock::parse_socks5_greeting(in);
  const auto g_half = paddock::parse_socks5_greeting(in.first(in.size() / 2));
  if (g_half.state == paddock::SocksGreeting::State::Error && g.state != g_half.state) bug("greeting prefix");
  if (g.state == paddock::SocksGreeting::State::Error) check_one_line(g.error);
  if (g.state == paddock::SocksGreeting::State::Done) {
    if (g.size < 3 || g.size > in.size() || g.size > 257) bug("greeting size");
    const auto exact = paddock::parse_socks5_greeting(in.first(g.size));
    if (exact.state != g.state || exact.size != g.size || exact.no_auth != g.no_auth) bug("greeting alone differs");
  }

  const auto r = paddock::parse_socks5_request(in);
  const auto r_half = paddock::parse_socks5_request(in.first(in.size() / 2));
  if (r_half.state == paddock::SocksRequest::State::Error &&
      (r.state != r_half.state || r.reply_on_error != r_half.reply_on_error))
    bug("request prefix");
  if (r.state == paddock::SocksRequest::State::Error) {
    check_one_line(r.error);
    if (r.reply_on_error == paddock::SocksReply::Succeeded) bug("error replied as success");
    return;
  }
  if (r.state != paddock::SocksRequest::State::Done) return;
  if (r.size < 7 || r.size > in.size() || r.size > 4 + 1 + 255 + 2) bug("request size");
  if (in.size() / 2 < r.size && r_half.state != paddock::SocksRequest::State::Incomplete) bug("request prefix done");
  check_host(r.host);
  std::array<std::uint8_t, 16> addr{};
  bool v6 = false;
  const bool literal = paddock::parse_ip_literal(r.host, addr, v6);
  if (literal == r.is_domain) bug("is_domain disagrees with the host", r.host);
  if (literal && (addr != r.addr || v6 != r.v6)) bug("address bytes disagree with the host", r.host);
  const auto reply = paddock::socks5_reply(paddock::SocksReply::Succeeded, {1, 2, 3, 4}, r.port);
  if (reply.size() != 10) bug("reply size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_http(std::string_view(reinterpret_cast<const char*>(data), size));
  check_socks(std::span<const std::uint8_t>(data, size));
  return 0;
}
