#include "net/http_proxy_request.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {
namespace {

using Kind = HttpProxyRequest::Kind;
using State = HttpProxyParse::State;

std::string state_name(State s) {
  switch (s) {
    case State::Incomplete: return "Incomplete";
    case State::Done: return "Done";
    case State::Error: return "Error";
  }
  return "?";
}

HttpProxyRequest parse_done(std::string_view in) {
  const HttpProxyParse p = parse_http_proxy_request(in);
  EXPECT_EQ(p.state, State::Done) << state_name(p.state) << " " << p.status << " " << p.error;
  return p.request;
}

// The status of a refusal; also checks the reason is one line.
int parse_status(std::string_view in) {
  const HttpProxyParse p = parse_http_proxy_request(in);
  EXPECT_EQ(p.state, State::Error) << state_name(p.state) << " host=" << p.request.host;
  EXPECT_FALSE(p.error.empty());
  EXPECT_EQ(p.error.find_first_of("\r\n"), std::string::npos) << p.error;
  return p.status;
}

std::string parse_error(std::string_view in) {
  return parse_http_proxy_request(in).error;
}

void expect_same(const HttpProxyParse& a, const HttpProxyParse& b) {
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.request.kind, b.request.kind);
  EXPECT_EQ(a.request.method, b.request.method);
  EXPECT_EQ(a.request.host, b.request.host);
  EXPECT_EQ(a.request.port, b.request.port);
  EXPECT_EQ(a.request.target, b.request.target);
  EXPECT_EQ(a.request.version, b.request.version);
  EXPECT_EQ(a.request.forward_head, b.request.forward_head);
  EXPECT_EQ(a.request.head_size, b.request.head_size);
}

// Feeds `in` one byte more at a time, as a client trickling its request would: every strict
// prefix before the answer must be Incomplete, and the answer must be the one for all bytes.
void expect_same_bytewise(std::string_view in) {
  const HttpProxyParse whole = parse_http_proxy_request(in);
  ASSERT_NE(whole.state, State::Incomplete);
  for (std::size_t n = 0; n <= in.size(); ++n) {
    const HttpProxyParse p = parse_http_proxy_request(in.substr(0, n));
    if (p.state == State::Incomplete) continue;
    expect_same(p, whole);
    if (whole.state == State::Done) {
      EXPECT_EQ(n, whole.request.head_size);
    }
    return;
  }
  FAIL() << "never left Incomplete";
}

std::string repeat(char c, std::size_t n) {
  return std::string(n, c);
}

// --- Accepted forms ---

TEST(HttpProxyRequest, ConnectToName) {
  const std::string in =
      "CONNECT Api.Example.COM.:443 HTTP/1.1\r\nHost: api.example.com:443\r\nUser-Agent: curl/8.5\r\n"
      "Proxy-Connection: Keep-Alive\r\n\r\n";
  const auto r = parse_done(in);
  EXPECT_EQ(r.kind, Kind::Connect);
  EXPECT_EQ(r.method, "CONNECT");
  EXPECT_EQ(r.host, "api.example.com");
  EXPECT_EQ(r.port, 443);
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_EQ(r.target, "");
  EXPECT_EQ(r.forward_head, "");
  EXPECT_EQ(r.head_size, in.size());
}

TEST(HttpProxyRequest, ConnectToIpv4) {
  const auto r = parse_done("CONNECT 192.0.2.7:8443 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.kind, Kind::Connect);
  EXPECT_EQ(r.host, "192.0.2.7");
  EXPECT_EQ(r.port, 8443);
}

TEST(HttpProxyRequest, ConnectToIpv6) {
  auto r = parse_done("CONNECT [2001:DB8::1]:443 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.host, "2001:db8::1");
  EXPECT_EQ(r.port, 443);
  // Canonical text, so the policy and the logs see one spelling per address.
  r = parse_done("CONNECT [0:0:0:0:0:0:0:1]:22 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.host, "::1");
  EXPECT_EQ(r.port, 22);
  r = parse_done("CONNECT [::ffff:192.0.2.1]:443 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.host, "::ffff:192.0.2.1");
}

TEST(HttpProxyRequest, ConnectPortBounds) {
  EXPECT_EQ(parse_done("CONNECT example.com:1 HTTP/1.1\r\n\r\n").port, 1);
  EXPECT_EQ(parse_done("CONNECT example.com:65535 HTTP/1.1\r\n\r\n").port, 65535);
}

TEST(HttpProxyRequest, ConnectHttp10) {
  const auto r = parse_done("CONNECT example.com:443 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.version, "HTTP/1.0");
  EXPECT_EQ(r.kind, Kind::Connect);
}

TEST(HttpProxyRequest, ConnectIgnoresHostHeader) {
  // Nothing is forwarded for CONNECT, so its Host header has nothing to confuse.
  EXPECT_EQ(parse_done("CONNECT example.com:443 HTTP/1.1\r\nHost: other.example\r\n\r\n").host, "example.com");
}

TEST(HttpProxyRequest, GetAbsoluteForm) {
  const std::string in =
      "GET http://Example.com/path/x.html?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
      "User-Agent: curl/8.5\r\n\r\n";
  const auto r = parse_done(in);
  EXPECT_EQ(r.kind, Kind::Forward);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.host, "example.com");
  EXPECT_EQ(r.port, 80);
  EXPECT_EQ(r.target, "/path/x.html?q=1&r=%20");
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_EQ(r.head_size, in.size());
  EXPECT_EQ(r.forward_head,
            "GET /path/x.html?q=1&r=%20 HTTP/1.1\r\nAccept: */*\r\nUser-Agent: curl/8.5\r\nHost: example.com\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpProxyRequest, GetWithPort) {
  const auto r = parse_done("GET http://example.com:8080/x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.host, "example.com");
  EXPECT_EQ(r.port, 8080);
  EXPECT_EQ(r.target, "/x");
  EXPECT_EQ(r.forward_head, "GET /x HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(parse_done("GET http://example.com:80/ HTTP/1.1\r\n\r\n").port, 80);
}

TEST(HttpProxyRequest, GetWithEmptyPath) {
  auto r = parse_done("GET http://example.com HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.forward_head, "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  r = parse_done("GET http://example.com:81 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.port, 81);
  r = parse_done("GET http://example.com?a=b HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.host, "example.com");
  EXPECT_EQ(r.target, "/?a=b");
}

TEST(HttpProxyRequest, GetStripsFragment) {
  EXPECT_EQ(parse_done("GET http://example.com/a?b=c#frag HTTP/1.1\r\n\r\n").target, "/a?b=c");
  EXPECT_EQ(parse_done("GET http://example.com#frag HTTP/1.1\r\n\r\n").target, "/");
  EXPECT_EQ(parse_done("GET http://example.com/#a#b HTTP/1.1\r\n\r\n").target, "/");
}

TEST(HttpProxyRequest, SchemeIsCaseInsensitive) {
  EXPECT_EQ(parse_done("GET HTTP://EXAMPLE.COM/A HTTP/1.1\r\n\r\n").target, "/A");
  EXPECT_EQ(parse_done("GET hTtP://example.com/ HTTP/1.1\r\n\r\n").host, "example.com");
}

TEST(HttpProxyRequest, GetIpLiterals) {
  auto r = parse_done("GET http://192.0.2.1:8000/ HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.host, "192.0.2.1");
  EXPECT_EQ(r.port, 8000);
  EXPECT_EQ(r.forward_head, "GET / HTTP/1.1\r\nHost: 192.0.2.1:8000\r\nConnection: close\r\n\r\n");
  r = parse_done("GET http://[2001:db8::A]/ HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.host, "2001:db8::a");
  EXPECT_EQ(r.port, 80);
  EXPECT_EQ(r.forward_head, "GET / HTTP/1.1\r\nHost: [2001:db8::a]\r\nConnection: close\r\n\r\n");
  r = parse_done("GET http://[::1]:8080/x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.forward_head, "GET /x HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n");
}

TEST(HttpProxyRequest, Http10) {
  const auto r = parse_done("GET http://example.com/ HTTP/1.0\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(r.version, "HTTP/1.0");
  EXPECT_EQ(r.forward_head, "GET / HTTP/1.0\r\nAccept: */*\r\nHost: example.com\r\nConnection: close\r\n\r\n");
}

TEST(HttpProxyRequest, OtherMethodsForward) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "M-SEARCH"}) {
    const auto r = parse_done(std::string(method) + " http://example.com/r HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.kind, Kind::Forward) << method;
    EXPECT_EQ(r.method, method);
    EXPECT_TRUE(r.forward_head.starts_with(std::string(method) + " /r HTTP/1.1\r\n")) << r.forward_head;
  }
}

TEST(HttpProxyRequest, BareLfLineEndings) {
  const std::string in = "GET http://example.com/ HTTP/1.1\nAccept: */*\nHost: example.com\n\n";
  const auto r = parse_done(in);
  EXPECT_EQ(r.head_size, in.size());
  // Upstream always gets CRLF.
  EXPECT_EQ(r.forward_head, "GET / HTTP/1.1\r\nAccept: */*\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(parse_done("CONNECT example.com:443 HTTP/1.1\n\n").port, 443);
}

TEST(HttpProxyRequest, HeadSizeWithBodyFollowing) {
  const std::string head = "POST http://example.com/upload HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  const std::string in = head + "hello\r\n\r\nxy";
  const auto r = parse_done(in);
  EXPECT_EQ(r.head_size, head.size());
  EXPECT_EQ(r.forward_head,
            "POST /upload HTTP/1.1\r\nContent-Length: 11\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  // The body is not looked at: NUL and control bytes there are the upstream's business.
  const std::string binary = head + std::string("\0\x01\r\x7f\n\n", 6);
  EXPECT_EQ(parse_done(binary).head_size, head.size());
  // Tunnel bytes sent right after CONNECT (a TLS ClientHello) are not part of the head either.
  const std::string connect = "CONNECT example.com:443 HTTP/1.1\r\n\r\n";
  EXPECT_EQ(parse_done(connect + "\x16\x03\x01").head_size, connect.size());
}

TEST(HttpProxyRequest, HeaderValuesAreTrimmedAndForwardedInOrder) {
  const auto r = parse_done(
      "GET http://example.com/ HTTP/1.1\r\nB-Second:  two words \t\r\nA-First:one\r\nEmpty:\r\n"
      "X-Utf8: caf\xc3\xa9\r\nX-Tab: a\tb\r\n\r\n");
  EXPECT_EQ(r.forward_head,
            "GET / HTTP/1.1\r\nB-Second: two words\r\nA-First: one\r\nEmpty: \r\nX-Utf8: caf\xc3\xa9\r\nX-Tab: a\tb\r\n"
            "Host: example.com\r\nConnection: close\r\n\r\n");
}

// --- Hop-by-hop headers and Host ---

TEST(HttpProxyRequest, RemovesHopByHopHeaders) {
  const auto r = parse_done(
      "GET http://example.com/ HTTP/1.1\r\n"
      "Proxy-Connection: keep-alive\r\nPROXY-AUTHORIZATION: Basic dXNlcjpwYXNz\r\nProxy-Authenticate: Basic\r\n"
      "Accept: */*\r\nConnection: keep-alive\r\nkeep-alive: timeout=5\r\nTE: trailers\r\nTrailer: X-Sum\r\n"
      "Upgrade: websocket\r\nX-Kept: yes\r\n\r\n");
  EXPECT_EQ(r.forward_head,
            "GET / HTTP/1.1\r\nAccept: */*\r\nX-Kept: yes\r\nHost: example.com\r\nConnection: close\r\n\r\n");
}

TEST(HttpProxyRequest, RemovesHeadersNamedByConnection) {
  const auto r = parse_done(
      "GET http://example.com/ HTTP/1.1\r\nConnection: close, X-Secret ,, x-other\r\nConnection: X-Third\r\n"
      "x-secret: 1\r\nX-Other: 2\r\nX-THIRD: 3\r\nX-Kept: 4\r\n\r\n");
  EXPECT_EQ(r.forward_head, "GET / HTTP/1.1\r\nX-Kept: 4\r\nHost: example.com\r\nConnection: close\r\n\r\n");
}

TEST(HttpProxyRequest, ConnectionMayNotNameFramingOrRoutingHeaders) {
  EXPECT_EQ(
      parse_status("POST http://example.com/ HTTP/1.1\r\nConnection: Content-Length\r\nContent-Length: 3\r\n\r\n"),
      400);
  EXPECT_EQ(parse_status("POST http://example.com/ HTTP/1.1\r\nConnection: transfer-encoding\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nConnection: keep-alive, Host\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nConnection: a b\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nConnection: a;b\r\n\r\n"), 400);
}

TEST(HttpProxyRequest, PreservesClientHost) {
  const auto r = parse_done("GET http://example.com/ HTTP/1.1\r\nHost: Example.COM.:80\r\nAccept: x\r\n\r\n");
  EXPECT_EQ(r.forward_head, "GET / HTTP/1.1\r\nAccept: x\r\nHost: Example.COM.:80\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(parse_done("GET http://[::1]:8080/ HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").forward_head,
            "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(parse_done("GET http://example.com:8080/ HTTP/1.1\r\nHost: example.com:8080\r\n\r\n").forward_head,
            "GET / HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n");
}

TEST(HttpProxyRequest, RefusesHostOtherThanTarget) {
  // Domain fronting: the policy saw example.com, a shared front end would route to evil.example.
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nHost: evil.example\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com:8080/ HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nHost:\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nHost: example.com/x\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nhost: example.com\r\n\r\n"), 400);
  EXPECT_NE(parse_error("GET http://example.com/ HTTP/1.1\r\nHost: evil.example\r\n\r\n").find("Host"),
            std::string::npos);
}

// --- Incremental input ---

TEST(HttpProxyRequest, ByteByByteGivesTheSameResult) {
  for (const char* in : {
           "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
           "CONNECT [::1]:443 HTTP/1.1\r\n\r\n\x16\x03\x01",
           "GET http://example.com/a?b#c HTTP/1.1\r\nHost: example.com\r\nConnection: x\r\nX: y\r\n\r\nbody",
           "GET http://example.com/ HTTP/1.0\nAccept: */*\n\n",
       }) {
    SCOPED_TRACE(in);
    expect_same_bytewise(in);
  }
}

TEST(HttpProxyRequest, ByteByByteGivesTheSameError) {
  for (const char* in : {
           "GET /relative HTTP/1.1\r\n\r\n",
           "GET http://example.com/ HTTP/2.0\r\n\r\n",
           "GET http://example.com/ HTTP/1.1\r\nX: a\rb\r\n\r\n",
           "GET http://example.com/ HTTP/1.1\r\nX: a\n\n",
           "POST http://example.com/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       }) {
    SCOPED_TRACE(in);
    expect_same_bytewise(in);
  }
  expect_same_bytewise("GET http://example.com/" + repeat('a', kHttpProxyMaxRequestLine) + " HTTP/1.1\r\n\r\n");
  std::string big = "GET http://example.com/ HTTP/1.1\r\n";
  while (big.size() < kHttpProxyMaxHead) big += "X-Filler: " + repeat('f', 1000) + "\r\n";
  expect_same_bytewise(big + "\r\n");
}

TEST(HttpProxyRequest, PartialInputIsIncomplete) {
  for (const char* in : {"", "C", "CONNECT", "CONNECT example.com:443 HTTP/1.1", "CONNECT example.com:443 HTTP/1.1\r",
                         "CONNECT example.com:443 HTTP/1.1\r\n", "CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r",
                         "GET http://example.com/ HTTP/1.1\nA: b\n"}) {
    EXPECT_EQ(parse_http_proxy_request(in).state, State::Incomplete) << in;
  }
}

// --- Refusals: 400 ---

TEST(HttpProxyRequest, RefusesOriginAndAsteriskForm) {
  EXPECT_EQ(parse_status("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400);
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\n\r\n").find("this is a proxy: absolute-form"), std::string::npos);
}

TEST(HttpProxyRequest, RefusesHttpsAbsoluteForm) {
  EXPECT_EQ(parse_status("GET https://example.com/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET HTTPS://example.com/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_NE(parse_error("GET https://example.com/ HTTP/1.1\r\n\r\n").find("CONNECT"), std::string::npos);
}

TEST(HttpProxyRequest, RefusesOtherSchemesAndNonUrls) {
  EXPECT_EQ(parse_status("GET ftp://example.com/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET example.com:80 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http:/example.com/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET ://example.com/ HTTP/1.1\r\n\r\n"), 400);
  // Methods are case-sensitive: this is not CONNECT, and its target is not absolute-form.
  EXPECT_EQ(parse_status("connect example.com:443 HTTP/1.1\r\n\r\n"), 400);
}

TEST(HttpProxyRequest, RefusesUserinfo) {
  EXPECT_EQ(parse_status("GET http://user:pass@example.com/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://allowed.example@evil.example/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("CONNECT user@example.com:443 HTTP/1.1\r\n\r\n"), 400);
  // An '@' after the authority is part of the path.
  EXPECT_EQ(parse_done("GET http://example.com/@x HTTP/1.1\r\n\r\n").target, "/@x");
}

TEST(HttpProxyRequest, RefusesBadConnectTargets) {
  for (const char* target : {"example.com",
                             "example.com:",
                             ":443",
                             "example.com:0",
                             "example.com:65536",
                             "example.com:99999",
                             "example.com:4a3",
                             "example.com:+443",
                             "example.com:0443",
                             "example.com:443:1",
                             "::1:443",
                             "[::1]",
                             "[::1]:",
                             "[::1]x:443",
                             "[::1:443",
                             "[10.0.0.1]:443",
                             "[fe80::1%25eth0]:443",
                             "example.com:443/",
                             "http://example.com:443",
                             "/x",
                             "*",
                             "a..b:443",
                             ".example.com:443",
                             "exa%6dple.com:443",
                             "example.com.."}) {
    EXPECT_EQ(parse_status(std::string("CONNECT ") + target + " HTTP/1.1\r\n\r\n"), 400) << target;
  }
}

TEST(HttpProxyRequest, RefusesBadHostsInUrls) {
  for (const char* url :
       {"http:///x", "http://:80/", "http://example.com:/", "http://example.com:0/", "http://example.com:65536/",
        "http://a..b/", "http://.a/", "http://a.b../", "http://ex%41mple.com/", "http://exa*mple.com/", "http://[::1/",
        "http://::1/", "http://[example.com]/", "http://127.1/", "http://0x7f.0.0.1/", "http://1.2.3.4.5/",
        "http://256.1.1.1/", "http://ex\xc3\xa9.com/"}) {
    EXPECT_EQ(parse_status(std::string("GET ") + url + " HTTP/1.1\r\n\r\n"), 400) << url;
  }
}

TEST(HttpProxyRequest, RefusesMalformedRequestLines) {
  for (const char* line :
       {"GET  http://example.com/ HTTP/1.1", "GET http://example.com/  HTTP/1.1", " GET http://example.com/ HTTP/1.1",
        "GET http://example.com/ HTTP/1.1 ", "GET http://example.com/", "GET", "", "G(ET http://example.com/ HTTP/1.1",
        "GET http://example.com/ http/1.1", "GET http://example.com/ HTTP/1", "GET http://example.com/ HTTP/1.1x",
        "GET\thttp://example.com/ HTTP/1.1", "GET http://example.com/\x7f HTTP/1.1",
        "GET http://example.com/\xc3\xa9 HTTP/1.1"}) {
    EXPECT_EQ(parse_status(std::string(line) + "\r\n\r\n"), 400) << line;
  }
  // A blank line before the request line is refused rather than skipped.
  EXPECT_EQ(parse_status("\r\nGET http://example.com/ HTTP/1.1\r\n\r\n"), 400);
}

TEST(HttpProxyRequest, RefusesNulAndControlBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(parse_status("GET http://exa\0mple.com/ HTTP/1.1\r\n\r\n"s), 400);
  EXPECT_EQ(parse_status("CONNECT example.com\0.evil:443 HTTP/1.1\r\n\r\n"s), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: a\0b\r\n\r\n"s), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX\0: ab\r\n\r\n"s), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: a\x01z\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: a\x1bz\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: a\x7fz\r\n\r\n"), 400);
  EXPECT_NE(parse_error("GET http://example.com/ HTTP/1.1\r\nX: a\0b\r\n\r\n"s).find("NUL"), std::string::npos);
}

TEST(HttpProxyRequest, RefusesInconsistentLineEndings) {
  // CR not followed by LF.
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: a\rY: b\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\nX: a\rb\n\n"), 400);
  // Bare LF in a request that began with CRLF, and the other way round.
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: a\nY: b\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: a\r\n\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\nX: a\r\n\n"), 400);
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\nX: a\n\r\n"), 400);
}

TEST(HttpProxyRequest, RefusesMalformedHeaders) {
  for (const char* field : {" X: folded", "\tX: folded", "NoColon", ": no-name", "X : space-before-colon",
                            "X\t: tab-before-colon", "X(y): bad-name", "X\xc3\xa9: non-ascii-name"}) {
    EXPECT_EQ(parse_status(std::string("GET http://example.com/ HTTP/1.1\r\nA: b\r\n") + field + "\r\n\r\n"), 400)
        << field;
  }
  EXPECT_NE(parse_error("GET http://example.com/ HTTP/1.1\r\nA: b\r\n c\r\n\r\n").find("fold"), std::string::npos);
}

// --- Request smuggling guards ---

TEST(HttpProxyRequest, ContentLengthRules) {
  const std::string get = "POST http://example.com/ HTTP/1.1\r\n";
  EXPECT_EQ(parse_done(get + "Content-Length: 0\r\n\r\n").kind, Kind::Forward);
  // The same value twice is one length; different values are two readings of the body.
  const std::string twice = get + "Content-Length: 5\r\ncontent-length: 5\r\n\r\nhello";
  EXPECT_EQ(parse_done(twice).head_size, twice.size() - 5);
  EXPECT_EQ(parse_status(get + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
  EXPECT_EQ(parse_status(get + "Content-Length: 5\r\nCONTENT-LENGTH: 05\r\n\r\n"), 400);
  for (const char* v : {"", "-1", "+1", "1.0", "0x10", "5, 5", "5 5", "1e3", "999999999999999999999"}) {
    EXPECT_EQ(parse_status(get + "Content-Length: " + v + "\r\n\r\n"), 400) << v;
  }
  EXPECT_EQ(parse_done(get + "Content-Length: 999999999999999999\r\n\r\n").kind, Kind::Forward);
}

TEST(HttpProxyRequest, TransferEncodingRules) {
  const std::string post = "POST http://example.com/ HTTP/1.1\r\n";
  const auto r = parse_done(post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.forward_head,
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(parse_done(post + "transfer-encoding: Chunked\r\n\r\n").kind, Kind::Forward);
  EXPECT_EQ(parse_status(post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(parse_status(post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400);
  EXPECT_EQ(parse_status(post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(parse_status("POST http://example.com/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

// --- Refusals with other statuses ---

TEST(HttpProxyRequest, Status405ForTrace) {
  EXPECT_EQ(parse_status("TRACE http://example.com/ HTTP/1.1\r\n\r\n"), 405);
}

TEST(HttpProxyRequest, Status501ForUnknownTransferEncoding) {
  const std::string post = "POST http://example.com/ HTTP/1.1\r\n";
  EXPECT_EQ(parse_status(post + "Transfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(parse_status(post + "Transfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(parse_status(post + "Transfer-Encoding: chunked, chunked\r\n\r\n"), 501);
  EXPECT_EQ(parse_status(post + "Transfer-Encoding: identity\r\n\r\n"), 501);
}

TEST(HttpProxyRequest, Status505ForOtherVersions) {
  for (const char* v : {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0"}) {
    EXPECT_EQ(parse_status(std::string("GET http://example.com/ ") + v + "\r\n\r\n"), 505) << v;
  }
  EXPECT_EQ(parse_status("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
}

TEST(HttpProxyRequest, Status414ForLongRequestLine) {
  const std::string prefix = "GET http://example.com/";
  const std::string suffix = " HTTP/1.1";
  const std::string longest = prefix + repeat('a', kHttpProxyMaxRequestLine - prefix.size() - suffix.size()) + suffix;
  ASSERT_EQ(longest.size(), kHttpProxyMaxRequestLine);
  EXPECT_EQ(parse_done(longest + "\r\n\r\n").target.size(),
            kHttpProxyMaxRequestLine - (prefix.size() - 1) - suffix.size());
  EXPECT_EQ(parse_done(longest + "\n\n").kind, Kind::Forward);
  const std::string too_long = prefix + "b" + longest.substr(prefix.size());
  EXPECT_EQ(parse_status(too_long + "\r\n\r\n"), 414);
  // Known before the line ends.
  EXPECT_EQ(parse_status(too_long), 414);
  EXPECT_EQ(parse_http_proxy_request(longest + "\r").state, State::Incomplete);
}

TEST(HttpProxyRequest, Status431ForLargeHead) {
  std::string head = "GET http://example.com/ HTTP/1.1\r\n";
  while (head.size() < kHttpProxyMaxHead - 200) head += "X-Filler: " + repeat('f', 1000) + "\r\n";
  // Exactly at the limit, blank line included, is accepted.
  const std::string last = "X-Last: ";
  head += last + repeat('l', kHttpProxyMaxHead - head.size() - last.size() - 4) + "\r\n";
  ASSERT_EQ(head.size() + 2, kHttpProxyMaxHead);
  ASSERT_LE(std::count(head.begin(), head.end(), '\n'), 101);
  EXPECT_EQ(parse_done(head + "\r\n").head_size, kHttpProxyMaxHead);
  // One byte more is not, whether or not the end has arrived.
  const std::string over = head.substr(0, head.size() - 2) + "l\r\n";
  EXPECT_EQ(parse_status(over + "\r\n"), 431);
  EXPECT_EQ(parse_status(over + "\r"), 431);  // kHttpProxyMaxHead bytes and no end yet
  EXPECT_EQ(parse_status(head + repeat('x', 10)), 431);
  EXPECT_EQ(parse_http_proxy_request(head + "\r").state, State::Incomplete);
  // A client that never ends its head.
  EXPECT_EQ(parse_status("GET http://example.com/ HTTP/1.1\r\nX: " + repeat('y', kHttpProxyMaxHead)), 431);
}

TEST(HttpProxyRequest, Status431ForTooManyHeaders) {
  std::string head = "GET http://example.com/ HTTP/1.1\r\n";
  for (std::size_t i = 0; i < kHttpProxyMaxHeaders; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse_done(head + "\r\n").kind, Kind::Forward);
  EXPECT_EQ(parse_status(head + "X-Extra: v\r\n\r\n"), 431);
  EXPECT_EQ(parse_status(head + "X-Extra: v\r\n"), 431);
}

// --- Host names ---

TEST(HttpProxyHostName, Normalizes) {
  std::string out;
  ASSERT_TRUE(normalize_host_name("Api.Example.COM.", &out));
  EXPECT_EQ(out, "api.example.com");
  ASSERT_TRUE(normalize_host_name("_srv-1.example", &out));
  EXPECT_EQ(out, "_srv-1.example");
  ASSERT_TRUE(normalize_host_name("localhost", &out));
  EXPECT_EQ(out, "localhost");
  ASSERT_TRUE(normalize_host_name("192.0.2.1", &out));
  EXPECT_EQ(out, "192.0.2.1");
  ASSERT_TRUE(normalize_host_name("192.0.2.1.", &out));
  EXPECT_EQ(out, "192.0.2.1");
  ASSERT_TRUE(normalize_host_name("1a.example", &out));  // a numeric label that is not the last one
  EXPECT_EQ(out, "1a.example");
  ASSERT_TRUE(normalize_host_name("123.example", &out));
  EXPECT_EQ(out, "123.example");
  ASSERT_TRUE(normalize_host_name("example.0xg", &out));  // not hex: a name
  EXPECT_EQ(out, "example.0xg");
}

TEST(HttpProxyHostName, Refuses) {
  for (const char* name :
       {"",           ".",     "..",        "a..b",      ".a",       "a..",         "a b",          "a%20b",
        "a/b",        "a:b",   "a@b",       "[::1]",     "::1",      "ex\xc3\xa9",  "a\tb",         "127.1",
        "0x7f.0.0.1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "example.123", "example.0x1f", "example.0x"}) {
    std::string out = "unchanged";
    EXPECT_FALSE(normalize_host_name(name, &out)) << name;
    EXPECT_EQ(out, "unchanged");
  }
  std::string out;
  EXPECT_FALSE(normalize_host_name(std::string_view("a\0b", 3), &out));
}

TEST(HttpProxyHostName, Lengths) {
  std::string out;
  const std::string label63 = repeat('a', 63);
  EXPECT_TRUE(normalize_host_name(label63 + ".example", &out));
  EXPECT_FALSE(normalize_host_name(label63 + "a.example", &out));
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + repeat('b', 61);
  ASSERT_EQ(name253.size(), 253u);
  EXPECT_TRUE(normalize_host_name(name253, &out));
  EXPECT_TRUE(normalize_host_name(name253 + ".", &out));
  EXPECT_FALSE(normalize_host_name(name253 + "b", &out));
}

// --- Responses ---

struct ParsedResponse {
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

// A test-only reader of the responses built here: CRLF lines, "Name: value", blank line, body.
ParsedResponse read_response(const std::string& text) {
  ParsedResponse r;
  const auto end = text.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos);
  if (end == std::string::npos) return r;
  std::string_view head(text.data(), end);
  r.body = text.substr(end + 4);
  bool first = true;
  while (!head.empty()) {
    const auto eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string_view::npos);
    if (first) {
      r.status_line = line;
      first = false;
      continue;
    }
    const auto colon = line.find(": ");
    EXPECT_NE(colon, std::string_view::npos) << line;
    if (colon == std::string_view::npos) continue;
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  return r;
}

TEST(HttpProxyResponse, PlainResponse) {
  EXPECT_EQ(http_response(502, "upstream refused\n"),
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 17\r\n"
            "Connection: close\r\n\r\nupstream refused\n");
  EXPECT_EQ(http_response(400, "", {"X-A: 1", "X-B: 2"}),
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n"
            "Connection: close\r\nX-A: 1\r\nX-B: 2\r\n\r\n");
}

TEST(HttpProxyResponse, ReasonPhrases) {
  const std::map<int, std::string> phrases = {
      {400, "Bad Request"},
      {403, "Forbidden"},
      {405, "Method Not Allowed"},
      {414, "URI Too Long"},
      {431, "Request Header Fields Too Large"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& [status, phrase] : phrases) {
    EXPECT_EQ(http_reason_phrase(status), phrase);
    EXPECT_EQ(read_response(http_response(status, "x")).status_line,
              "HTTP/1.1 " + std::to_string(status) + " " + phrase);
  }
}

TEST(HttpProxyResponse, ExtraHeadersCannotInjectLines) {
  const std::string out = http_response(403, "b", {"X-A: 1\r\nX-Injected: 2\n"});
  const auto r = read_response(out);
  EXPECT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.header("X-A"), "1  X-Injected: 2 ");
  EXPECT_EQ(r.body, "b");
}

TEST(HttpProxyResponse, DeniedResponse) {
  HttpDenial d;
  d.host = "evil.example";
  d.port = 443;
  d.reason = "denied by network.deny \"evil.example\" (p.toml:3)";
  d.rule = "p.toml:3";
  d.hint = "network.allow = [\"evil.example:443\"]";
  const std::string out = http_denied_response(d);
  const auto r = read_response(out);
  EXPECT_EQ(r.status_line, "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));

  const auto info = nlohmann::json::parse(r.header("X-Paddock-Denied"));
  EXPECT_EQ(info["host"], "evil.example");
  EXPECT_EQ(info["port"], 443);
  EXPECT_EQ(info["reason"], d.reason);
  EXPECT_EQ(info["rule"], "p.toml:3");
  EXPECT_EQ(info["hint"], d.hint);
  EXPECT_TRUE(r.header("X-Paddock-Denied").starts_with("{\"host\":\"evil.example\",\"port\":443,\"reason\":"));

  EXPECT_NE(r.body.find("paddock"), std::string::npos);
  EXPECT_NE(r.body.find("evil.example:443"), std::string::npos);
  EXPECT_NE(r.body.find(d.reason), std::string::npos);
  EXPECT_NE(r.body.find("p.toml:3"), std::string::npos);
  EXPECT_NE(r.body.find("Retrying will not help"), std::string::npos);
  EXPECT_NE(r.body.find(d.hint), std::string::npos);
  EXPECT_EQ(r.body.find(".."), std::string::npos) << r.body;
}

TEST(HttpProxyResponse, DeniedWithoutRuleOrHint) {
  HttpDenial d;
  d.host = "2001:db8::1";
  d.port = 80;
  d.reason = "2001:db8::1 is not in network.allow";
  const auto r = read_response(http_denied_response(d));
  EXPECT_EQ(r.status_line, "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_NE(r.body.find("[2001:db8::1]:80"), std::string::npos);
  EXPECT_NE(r.body.find("No rule"), std::string::npos);
  EXPECT_NE(r.body.find("operator"), std::string::npos);
  const auto info = nlohmann::json::parse(r.header("X-Paddock-Denied"));
  EXPECT_EQ(info["rule"], "");
  EXPECT_EQ(info["hint"], "");
}

TEST(HttpProxyResponse, DeniedHeaderIsAsciiWhateverTheStrings) {
  HttpDenial d;
  d.host = "caf\xc3\xa9.example";
  d.port = 443;
  d.reason = "r\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93\r\nX-Injected: 1\n\t\"q\"";
  d.rule = "profiles/\xc3\xa9t\xc3\xa9.toml:4";
  d.hint = "network.allow = [\"caf\xc3\xa9.example:443\"]";
  const std::string out = http_denied_response(d);
  const auto r = read_response(out);
  const std::string header = r.header("X-Paddock-Denied");
  ASSERT_FALSE(header.empty());
  for (char c : header) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u < 0x7F) << "byte " << unsigned{u};
  }
  EXPECT_EQ(r.header("X-Injected"), "");
  const auto info = nlohmann::json::parse(header);
  EXPECT_EQ(info["host"], d.host);
  EXPECT_EQ(info["reason"], d.reason);
  EXPECT_EQ(info["rule"], d.rule);
  EXPECT_EQ(info["hint"], d.hint);
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));

  // Invalid UTF-8 is replaced, not thrown on.
  d.reason = "bad \xff\xfe bytes";
  const auto r2 = read_response(http_denied_response(d));
  EXPECT_NO_THROW(nlohmann::json::parse(r2.header("X-Paddock-Denied")));
}

}  // namespace
}  // namespace paddock
