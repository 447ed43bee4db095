// The request head of paddock's HTTP egress proxy (issue 5): parses what a sandboxed client
// sends to the proxy (CONNECT host:port, or a plain-HTTP request in absolute-form) and builds
// the responses the proxy answers with. Pure: no sockets, no I/O.
//
// Strict on purpose: the client is the program being contained, so anything a front end and an
// upstream server could read differently (bare CR, obs-fold, conflicting framing headers, a Host
// header naming another site than the target) is refused rather than interpreted, and a host
// can only carry letters, digits, '-', '_' and '.' or be an IP address literal.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {

struct HttpProxyRequest {
  enum class Kind { Connect, Forward };
  Kind kind = Kind::Connect;
  std::string method;      // as sent, e.g. "CONNECT", "GET"
  std::string host;        // lower-case; IPv6 literal without brackets; no trailing dot; IP literals canonical
  std::uint16_t port = 0;  // CONNECT: required in authority; Forward: explicit or 80
  std::string target;      // Forward: the origin-form target ("/path?q"), "/" when empty; CONNECT: empty
  std::string version;     // "HTTP/1.1" or "HTTP/1.0"
  // Forward only: the head to send upstream. Origin-form request line "METHOD /path HTTP/1.x",
  // the client's headers in order minus hop-by-hop ones (Proxy-Connection, Proxy-Authorization,
  // Proxy-Authenticate, Connection, Keep-Alive, TE, Trailer, Upgrade, and any header named in the
  // client's Connection header) and minus Host, a Host header (the client's if present, else
  // host[:port]), then "Connection: close", then the blank line. Always CRLF line endings.
  // One upstream connection serves one request.
  std::string forward_head;
  std::size_t head_size = 0;  // bytes of the input the head took (anything after it is body, relayed as is)
  // The request body's framing: Content-Length (0 when absent), or chunked.
  std::uint64_t content_length = 0;
  bool chunked = false;
};

struct HttpProxyParse {
  enum class State { Incomplete, Done, Error };
  State state = State::Incomplete;
  HttpProxyRequest request;  // valid when Done
  int status = 0;            // when Error: the HTTP status to answer (400, 405, 414, 431, 501, 505)
  std::string error;         // when Error: one line for a person
};

inline constexpr std::size_t kHttpProxyMaxHead = std::size_t{16} * 1024;        // whole head, blank line included
inline constexpr std::size_t kHttpProxyMaxRequestLine = std::size_t{8} * 1024;  // without its line ending
inline constexpr std::size_t kHttpProxyMaxHeaders = 100;

// Parses the request head from the bytes received so far (call again with more bytes while
// Incomplete; the result only depends on the bytes, so feeding them in any chunks gives the
// same answer). Errors are found in the order of the input, as soon as the line holding them
// is complete. A head that cannot end within kHttpProxyMaxHead bytes -> Error 431.
//
// Statuses: 400 malformed or ambiguous; 405 TRACE (it reflects the request back, of no use to a
// sandboxed program); 414 request line over kHttpProxyMaxRequestLine; 431 head too large or more
// than kHttpProxyMaxHeaders header lines; 501 a Transfer-Encoding other than chunked;
// 505 an HTTP version other than 1.0 and 1.1.
HttpProxyParse parse_http_proxy_request(std::string_view received);

// A host name as a client may name a destination: letters, digits, '-', '_' and '.', labels
// 1-63 bytes, at most 253 bytes after one trailing dot is stripped. Stored lower-cased into *out.
// A name whose last label is numeric (or 0x-hex) must be a dotted-quad IPv4 address and is stored
// in canonical form: resolvers read "127.1" or "0x7f.1" as addresses, so they are refused rather
// than let through as names. IPv6 literals are not names (see parse_ip_literal). False on
// anything else; *out is then left alone.
bool normalize_host_name(std::string_view in, std::string* out);

// Canonical text of an address literal (4 or 16 bytes of `addr`): "10.0.0.1", "::1".
std::string ip_literal_text(const std::array<std::uint8_t, 16>& addr, bool v6);

// A complete HTTP/1.1 response: status line, Content-Type: text/plain; charset=utf-8,
// Content-Length, Connection: close, any extra headers given as "Name: value" lines without CRLF
// (control bytes in them are replaced by spaces so no header can be injected), blank line, body.
std::string http_response(int status, std::string_view body, const std::vector<std::string>& extra_headers = {});

// The standard reason phrase of a status paddock sends ("Forbidden", "Bad Gateway", ...),
// "Error" for any other.
std::string_view http_reason_phrase(int status);

struct HttpDenial {
  std::string host;
  std::uint16_t port = 0;
  std::string reason;  // e.g. "evil.example is not in network.allow" or "denied by network.deny \"x\" (p.toml:3)"
  std::string rule;    // "p.toml:3" or empty when no rule decided
  std::string hint;    // the profile line that would allow it, e.g. network.allow = ["evil.example:443"]; may be empty
};

// The 403 paddock answers a refused request with. The body is a few plain sentences for a
// language model reading it: what blocked the connection, why, which rule (or that none allows
// it), that retrying will not help, and what the operator can add to the profile. Plus a
// machine-readable header, pure ASCII whatever the strings hold:
//   X-Paddock-Denied: {"host":"...","port":443,"reason":"...","rule":"...","hint":"..."}
std::string http_denied_response(const HttpDenial& d);

}  // namespace paddock
