#include "net/http_proxy_request.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "net/host_pattern.h"

namespace paddock {
namespace {

using State = HttpProxyParse::State;

constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxName = 253;
// Longer Content-Length values overflow a 64-bit parser somewhere, and an upstream that wraps
// them reads a different body length than we relay.
constexpr std::size_t kMaxContentLengthDigits = 18;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 section 5.6.2.
bool is_tchar(char c) {
  return is_alpha(c) || is_digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Quoted for an error message: printable ASCII as is, anything else as \xNN, cut short, so a
// hostile request cannot put a line break or a terminal escape into a log line.
std::string quote(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  constexpr std::size_t kMaxShown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 0xF];
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out + "\"";
}

HttpProxyParse fail(int status, std::string why) {
  HttpProxyParse p;
  p.state = State::Error;
  p.status = status;
  p.error = std::move(why);
  return p;
}

// Leading zeros are refused: "0080" is 80 to one parser and an error or octal to another.
std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (!all_digits(s) || s.size() > 5 || (s.size() > 1 && s.front() == '0')) return std::nullopt;
  unsigned v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

struct Authority {
  std::string host;
  std::optional<std::uint16_t> port;
};

// host, host:port, [v6] or [v6]:port (RFC 3986 authority without userinfo). An empty port after
// ':' is refused, as is an IPv4 address in brackets or an IPv6 one without.
std::optional<Authority> parse_authority(std::string_view in) {
  Authority a;
  std::string_view port;
  bool has_port = false;
  if (!in.empty() && in.front() == '[') {
    const auto close = in.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::array<std::uint8_t, 16> addr{};
    bool v6 = false;
    if (!parse_ip_literal(in.substr(1, close - 1), addr, v6) || !v6) return std::nullopt;
    a.host = ip_literal_text(addr, v6);
    const std::string_view rest = in.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = in.find(':');
    if (colon != std::string_view::npos) {
      port = in.substr(colon + 1);
      has_port = true;
    }
    if (!normalize_host_name(in.substr(0, colon), &a.host)) return std::nullopt;
  }
  if (has_port) {
    a.port = parse_port(port);
    if (!a.port) return std::nullopt;
  }
  return a;
}

struct Field {
  std::string_view name;
  std::string_view value;  // without surrounding whitespace
};

// Hop-by-hop fields (RFC 9110 section 7.6.1, plus the de-facto Proxy-Connection): they are
// about the client's connection to us, never forwarded.
bool is_hop_by_hop(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "proxy-connection", "proxy-authorization", "proxy-authenticate", "connection", "keep-alive", "te", "trailer",
      "upgrade"};
  return std::any_of(std::begin(kNames), std::end(kNames), [&](std::string_view n) { return iequals(n, name); });
}

// The helpers below return the error to answer with, or nothing when the part is fine.

// The pieces of a request line, checked in the order a person would fix them.
std::optional<HttpProxyParse> parse_request_line(std::string_view line, HttpProxyRequest& r) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(400, "malformed request line " + quote(line));
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "malformed method " + quote(method));
  if (target.empty()) return fail(400, "empty request target");
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return fail(400, "invalid byte in request target " + quote(target));
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    if (version.size() == 8 && version.starts_with("HTTP/") && is_digit(version[5]) && version[6] == '.' &&
        is_digit(version[7])) {
      return fail(505, "HTTP version " + quote(version) + " is not supported (HTTP/1.1 or HTTP/1.0)");
    }
    return fail(400, "malformed HTTP version " + quote(version));
  }
  r.method = method;
  r.version = version;
  if (method == "TRACE") return fail(405, "TRACE is not allowed through paddock's proxy");

  if (method == "CONNECT") {
    r.kind = HttpProxyRequest::Kind::Connect;
    auto a = parse_authority(target);
    if (!a || !a->port) return fail(400, "CONNECT target must be host:port, got " + quote(target));
    r.host = std::move(a->host);
    r.port = *a->port;
    return std::nullopt;
  }

  r.kind = HttpProxyRequest::Kind::Forward;
  if (target.front() == '/' || target == "*") {
    return fail(400,
                "request target " + quote(target) + ": this is a proxy: absolute-form (http://host/path) or CONNECT");
  }
  const auto sep = target.find("://");
  const std::string_view scheme = sep == std::string_view::npos ? std::string_view{} : target.substr(0, sep);
  if (iequals(scheme, "https")) {
    return fail(400, "an https:// URL in a plain proxy request; use CONNECT host:443 for https");
  }
  if (!iequals(scheme, "http")) {
    return fail(400, "request target " + quote(target) + " is not an http:// URL (use CONNECT for other protocols)");
  }
  std::string_view rest = target.substr(sep + 3);
  const auto path_at = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, path_at);
  if (authority.find('@') != std::string_view::npos) {
    return fail(400, "user information in the URL " + quote(target) + " is not accepted");
  }
  auto a = parse_authority(authority);
  if (!a) return fail(400, "invalid host or port in " + quote(target));
  r.host = std::move(a->host);
  r.port = a->port.value_or(80);
  std::string_view path = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  path = path.substr(0, path.find('#'));  // a fragment is for the client, never sent
  r.target = path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
  return std::nullopt;
}

std::optional<HttpProxyParse> parse_field(std::string_view line, std::vector<Field>& fields) {
  if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete line folding in header section");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return fail(400, "header line without ':' " + quote(line));
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return fail(400, "malformed header name " + quote(name));
  const std::string_view value = trim_ows(line.substr(colon + 1));
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) return fail(400, "control byte in the value of header " + quote(name));
  }
  fields.push_back({name, value});
  return std::nullopt;
}

// Framing and routing fields, checked once the whole head is in: the request-smuggling guards
// (one body length both we and the upstream agree on), the Host header, the Connection list.
std::optional<HttpProxyParse> check_fields(const std::vector<Field>& fields, HttpProxyRequest& r,
                                           std::vector<std::string>* connection_named) {
  const Field* content_length = nullptr;
  const Field* transfer_encoding = nullptr;
  const Field* host = nullptr;
  for (const Field& f : fields) {
    if (iequals(f.name, "content-length")) {
      if (!all_digits(f.value) || f.value.size() > kMaxContentLengthDigits) {
        return fail(400, "invalid Content-Length " + quote(f.value));
      }
      if (content_length && content_length->value != f.value) return fail(400, "conflicting Content-Length headers");
      content_length = &f;
    } else if (iequals(f.name, "transfer-encoding")) {
      if (transfer_encoding) return fail(400, "more than one Transfer-Encoding header");
      transfer_encoding = &f;
    } else if (iequals(f.name, "host")) {
      if (host) return fail(400, "more than one Host header");
      host = &f;
    } else if (iequals(f.name, "connection")) {
      std::string_view list = f.value;
      while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view item = trim_ows(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (item.empty()) continue;
        if (!is_token(item)) return fail(400, "malformed Connection header " + quote(f.value));
        // Naming a framing or routing field would make us drop it and the upstream see a
        // different request than we checked.
        if (iequals(item, "host") || iequals(item, "content-length") || iequals(item, "transfer-encoding")) {
          return fail(400, "Connection header names " + quote(item) + ", which is not hop-by-hop");
        }
        connection_named->emplace_back(item);
      }
    }
  }
  if (transfer_encoding) {
    if (content_length) return fail(400, "both Content-Length and Transfer-Encoding");
    if (r.version == "HTTP/1.0") return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!iequals(transfer_encoding->value, "chunked")) {
      return fail(501, "Transfer-Encoding " + quote(transfer_encoding->value) + " is not supported (only chunked)");
    }
    r.chunked = true;
  }
  if (content_length) r.content_length = std::stoull(std::string(content_length->value));
  // A Host naming another site than the URL would reach that site on a shared server (domain
  // fronting) while the policy only saw the URL's host.
  if (host && r.kind == HttpProxyRequest::Kind::Forward) {
    const auto a = parse_authority(host->value);
    if (!a || a->host != r.host || a->port.value_or(80) != r.port) {
      return fail(400, "Host header " + quote(host->value) + " does not match the request target");
    }
  }
  return std::nullopt;
}

// A host as it appears in an authority: an IPv6 literal in brackets.
std::string bracketed(std::string_view host) {
  return host.find(':') == std::string_view::npos ? std::string(host) : "[" + std::string(host) + "]";
}

std::string build_forward_head(const HttpProxyRequest& r, const std::vector<Field>& fields,
                               const std::vector<std::string>& connection_named) {
  std::string head = r.method + " " + r.target + " " + r.version + "\r\n";
  std::string_view client_host;
  bool has_host = false;
  for (const Field& f : fields) {
    if (iequals(f.name, "host")) {
      client_host = f.value;
      has_host = true;
      continue;
    }
    if (is_hop_by_hop(f.name)) continue;
    if (std::any_of(connection_named.begin(), connection_named.end(),
                    [&](const std::string& n) { return iequals(n, f.name); })) {
      continue;
    }
    head.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  head += "Host: ";
  if (has_host) {
    head += client_host;
  } else {
    head += bracketed(r.host);
    if (r.port != 80) head += ":" + std::to_string(r.port);
  }
  head += "\r\nConnection: close\r\n\r\n";
  return head;
}

}  // namespace

bool normalize_host_name(std::string_view in, std::string* out) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty() || in.size() > kMaxName) return false;
  std::string name;
  name.reserve(in.size());
  std::size_t label = 0;
  for (char c : in) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
      if (++label > kMaxLabel) return false;
    } else {
      return false;
    }
    name += lower(c);
  }
  if (label == 0) return false;  // "a.." arrives here as "a."

  // The WHATWG URL rule: a host whose last label is a number is an IPv4 address or nothing.
  const std::string_view last = std::string_view(name).substr(name.rfind('.') + 1);
  const bool numeric =
      all_digits(last) || (last.starts_with("0x") && std::all_of(last.begin() + 2, last.end(), is_hex));
  if (numeric) {
    std::array<std::uint8_t, 16> addr{};
    bool v6 = false;
    if (!parse_ip_literal(name, addr, v6) || v6) return false;
    name = ip_literal_text(addr, v6);
  }
  *out = std::move(name);
  return true;
}

std::string ip_literal_text(const std::array<std::uint8_t, 16>& addr, bool v6) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf);
  return buf;
}

HttpProxyParse parse_http_proxy_request(std::string_view in) {
  HttpProxyRequest r;
  std::vector<Field> fields;
  bool crlf = false;
  std::size_t pos = 0;
  for (std::size_t line_no = 0;; ++line_no) {
    const auto nl = in.find('\n', pos);
    if (nl == std::string_view::npos) {
      std::size_t tail = in.size() - pos;
      if (tail > 0 && in.back() == '\r') --tail;  // its LF may be in the next read
      if (line_no == 0 && tail > kHttpProxyMaxRequestLine) return fail(414, "request line too long");
      // The blank line still to come would put the head over the limit.
      if (in.size() >= kHttpProxyMaxHead) return fail(431, "request head larger than 16 KiB");
      return HttpProxyParse{};  // Incomplete
    }
    std::string_view line = in.substr(pos, nl - pos);
    pos = nl + 1;
    // The first line decides the line ending; mixing them is how a front end and a back end
    // come to split the same bytes into different headers.
    if (line_no == 0) crlf = !line.empty() && line.back() == '\r';
    const bool has_cr = !line.empty() && line.back() == '\r';
    if (crlf && has_cr) line.remove_suffix(1);
    // The size limits first, as on a partial line above, so chunking never changes the answer.
    if (line_no == 0 && line.size() > kHttpProxyMaxRequestLine) return fail(414, "request line too long");
    if (pos > kHttpProxyMaxHead) return fail(431, "request head larger than 16 KiB");
    if (crlf && !has_cr) return fail(400, "bare LF line ending in a request using CRLF");
    if (line.find('\0') != std::string_view::npos) return fail(400, "NUL byte in the request head");
    if (line.find('\r') != std::string_view::npos) {
      return fail(400, crlf ? "CR not followed by LF in the request head" : "CR in a request using LF line endings");
    }

    if (line_no == 0) {
      if (auto e = parse_request_line(line, r); e) return *e;
      continue;
    }
    if (line.empty()) break;
    if (fields.size() == kHttpProxyMaxHeaders) return fail(431, "more than 100 header lines");
    if (auto e = parse_field(line, fields); e) return *e;
  }

  std::vector<std::string> connection_named;
  if (auto e = check_fields(fields, r, &connection_named); e) return *e;
  if (r.kind == HttpProxyRequest::Kind::Forward) r.forward_head = build_forward_head(r, fields, connection_named);
  r.head_size = pos;

  HttpProxyParse done;
  done.state = State::Done;
  done.request = std::move(r);
  return done;
}

std::string_view http_reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string http_response(int status, std::string_view body, const std::vector<std::string>& extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http_reason_phrase(status)) + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n";
  for (const std::string& h : extra_headers) {
    for (char c : h) {
      const auto u = static_cast<unsigned char>(c);
      out += (u < 0x20 && c != '\t') || u == 0x7F ? ' ' : c;
    }
    out += "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

std::string http_denied_response(const HttpDenial& d) {
  const std::string dest = bracketed(d.host) + ":" + std::to_string(d.port);
  std::string body = "paddock, the sandbox you are running in, blocked the connection to " + dest + ".\n";
  const std::string reason = d.reason.empty() ? "not allowed by the sandbox profile" : d.reason;
  body += "Reason: " + reason + (reason.ends_with('.') ? "\n" : ".\n");
  if (d.rule.empty()) {
    body += "No rule in the sandbox profile allows this destination.\n";
  } else {
    body += "The rule that decided this is at " + d.rule + ".\n";
  }
  body += "Retrying will not help: the same request will be blocked again. Do not try to work around the block.\n";
  if (d.hint.empty()) {
    body += "If this connection is needed, tell the operator; only a change to the sandbox profile can allow it.\n";
  } else {
    body +=
        "If this connection is needed, tell the operator: they can allow it by adding this line to the "
        "sandbox profile:\n    " +
        d.hint + "\n";
  }

  // ordered_json keeps the documented field order; ensure_ascii escapes everything else (and
  // with it any CR or LF), and replace keeps invalid UTF-8 from throwing.
  const nlohmann::ordered_json info = {
      {"host", d.host}, {"port", d.port}, {"reason", d.reason}, {"rule", d.rule}, {"hint", d.hint}};
  const std::string header =
      "X-Paddock-Denied: " + info.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
  return http_response(403, body, {header});
}

}  // namespace paddock
