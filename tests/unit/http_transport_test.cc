// MCP Streamable HTTP inside the sandbox: request parsing, response formatting, endpoint rules.
#include "mcp/http_transport.h"

#include <gtest/gtest.h>

#include <string>

namespace paddock::http {
namespace {

using Status = ParseResult::Status;

const std::string kInit = R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})";

std::string post(const std::string& body, const std::string& extra = "") {
  return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

TEST(HttpTransport, ParsesContentLengthRequest) {
  std::string text = post(kInit, "Accept: application/json, text/event-stream\r\n");
  ParseResult r = parse_request(text);
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.consumed, text.size());
  EXPECT_EQ(r.request.method, "POST");
  EXPECT_EQ(r.request.target, "/mcp");
  EXPECT_EQ(r.request.body, kInit);
  EXPECT_EQ(r.request.header("content-type"), "application/json");
  EXPECT_EQ(r.request.header("accept"), "application/json, text/event-stream");
  EXPECT_TRUE(r.request.keep_alive());
}

TEST(HttpTransport, IncompleteUntilWholeBodyArrives) {
  std::string text = post(kInit);
  for (std::size_t n = 0; n < text.size(); ++n) {
    EXPECT_EQ(parse_request(std::string_view(text).substr(0, n)).status, Status::kIncomplete) << n;
  }
}

TEST(HttpTransport, PipelinedRequestsAreParsedOneAtATime) {
  std::string two = post(kInit) + post("{}");
  ParseResult a = parse_request(two);
  ASSERT_EQ(a.status, Status::kComplete);
  ParseResult b = parse_request(std::string_view(two).substr(a.consumed));
  ASSERT_EQ(b.status, Status::kComplete);
  EXPECT_EQ(b.request.body, "{}");
}

TEST(HttpTransport, ChunkedBodyIsDecoded) {
  std::string text =
      "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\n{\"a\r\n5;ext=1\r\n\":1}\n\r\n0\r\nX-Trailer: y\r\n\r\nGET";
  ParseResult r = parse_request(text);
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.request.body, "{\"a\":1}\n");
  EXPECT_EQ(text.substr(r.consumed), "GET");
  EXPECT_EQ(parse_request(text.substr(0, text.size() - 8)).status, Status::kIncomplete);
}

TEST(HttpTransport, RefusesMalformedAndOversizedRequests) {
  EXPECT_EQ(parse_request("GARBAGE\r\n\r\n").error_status, 400);
  EXPECT_EQ(parse_request("GET /mcp HTTP/2.0\r\n\r\n").error_status, 505);
  EXPECT_EQ(parse_request("GET /mcp HTTP/1.1\r\nBad Header\r\n\r\n").error_status, 400);
  EXPECT_EQ(parse_request("GET /mcp HTTP/1.1\r\nA: b\r\n folded\r\n\r\n").error_status, 400);
  EXPECT_EQ(parse_request("POST /mcp HTTP/1.1\r\nContent-Length: x\r\n\r\n").error_status, 400);
  EXPECT_EQ(parse_request("POST /mcp HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error_status, 400);
  EXPECT_EQ(parse_request("POST /mcp HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").error_status,
            400);
  EXPECT_EQ(parse_request("POST /mcp HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").error_status, 501);
  EXPECT_EQ(parse_request("POST /mcp HTTP/1.1\r\nContent-Length: 4194305\r\n\r\n").error_status, 413);
  EXPECT_EQ(parse_request("POST /mcp HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 10).error_status, 413);
  EXPECT_EQ(parse_request("POST /mcp HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nB\r\n", 10).error_status, 413);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nX: " + std::string(kMaxHeaderBytes, 'a')).error_status, 431);
}

TEST(HttpTransport, ExpectContinueIsReported) {
  ParseResult r = parse_request("POST /mcp HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(r.status, Status::kIncomplete);
  EXPECT_TRUE(r.expect_continue);
}

TEST(HttpTransport, KeepAliveFollowsVersionAndConnectionHeader) {
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").request.keep_alive());
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n").request.keep_alive());
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keep_alive());
}

TEST(HttpTransport, FormatsResponses) {
  Response r;
  r.status = 202;
  r.close = true;
  EXPECT_EQ(format_response(r), "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  Response j;
  j.headers.emplace_back("Content-Type", "application/json");
  j.body = "{}";
  EXPECT_EQ(format_response(j), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
}

TEST(HttpTransport, OriginGuard) {
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:8765"));
  EXPECT_TRUE(origin_allowed("http://localhost"));
  EXPECT_TRUE(origin_allowed("https://LOCALHOST:3000"));
  EXPECT_TRUE(origin_allowed("http://[::1]:8765"));
  EXPECT_FALSE(origin_allowed("http://evil.example"));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1.evil.example"));
  EXPECT_FALSE(origin_allowed("http://localhost.evil.example:80"));
  EXPECT_FALSE(origin_allowed("null"));
  EXPECT_FALSE(origin_allowed("file://localhost"));
  EXPECT_FALSE(origin_allowed("http://localhost:"));
}

Request parsed(const std::string& text) {
  ParseResult r = parse_request(text);
  EXPECT_EQ(r.status, Status::kComplete);
  return r.request;
}

TEST(HttpTransport, EndpointRoutesPostsToTheHandler) {
  std::string seen_body, seen_session;
  McpHandler h = [&](std::string_view body, const std::string& session) {
    seen_body = body;
    seen_session = session;
    McpReply r;
    r.body = R"({"jsonrpc":"2.0","id":1,"result":{}})";
    r.session_id = "s1";
    return r;
  };
  Response r = serve_mcp_request(parsed(post(kInit, "Mcp-Session-Id: abc\r\n")), h);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"jsonrpc":"2.0","id":1,"result":{}})");
  EXPECT_EQ(seen_body, kInit);
  EXPECT_EQ(seen_session, "abc");
  EXPECT_FALSE(r.close);
  std::string text = format_response(r);
  EXPECT_NE(text.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(text.find("Mcp-Session-Id: s1\r\n"), std::string::npos);
}

TEST(HttpTransport, NotificationsGet202) {
  McpHandler h = [](std::string_view, const std::string&) { return McpReply{}; };
  Response r = serve_mcp_request(parsed(post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})")), h);
  EXPECT_EQ(r.status, 202);
  EXPECT_TRUE(r.body.empty());
}

TEST(HttpTransport, EndpointRefusals) {
  int calls = 0;
  McpHandler h = [&](std::string_view, const std::string&) {
    ++calls;
    McpReply r;
    r.body = "{}";
    return r;
  };
  EXPECT_EQ(serve_mcp_request(parsed("GET /mcp HTTP/1.1\r\n\r\n"), h).status, 405);
  EXPECT_EQ(serve_mcp_request(parsed("DELETE /mcp HTTP/1.1\r\n\r\n"), h).status, 405);
  EXPECT_EQ(serve_mcp_request(parsed("GET /other HTTP/1.1\r\n\r\n"), h).status, 404);
  EXPECT_EQ(serve_mcp_request(parsed("POST /mcpx HTTP/1.1\r\n\r\n"), h).status, 404);
  EXPECT_EQ(serve_mcp_request(parsed(post(kInit, "Origin: http://evil.example\r\n")), h).status, 403);
  EXPECT_EQ(serve_mcp_request(parsed(post(kInit, "Accept: text/html\r\n")), h).status, 406);
  EXPECT_EQ(
      serve_mcp_request(parsed("POST /mcp HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}"), h)
          .status,
      415);
  Response bad = serve_mcp_request(parsed(post("{not json")), h);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("-32700"), std::string::npos);
  EXPECT_EQ(calls, 0);
  // Allowed: a local origin, a query string, a charset parameter.
  EXPECT_EQ(serve_mcp_request(parsed("POST /mcp?x=1 HTTP/1.1\r\nOrigin: http://localhost:8765\r\nContent-Type: "
                                     "application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}"),
                              h)
                .status,
            200);
  EXPECT_EQ(calls, 1);
}

TEST(HttpTransport, UnknownSessionIs404AndCloseIsKept) {
  McpHandler h = [](std::string_view, const std::string&) {
    McpReply r;
    r.unknown_session = true;
    return r;
  };
  Response r = serve_mcp_request(parsed(post(kInit, "Mcp-Session-Id: gone\r\nConnection: close\r\n")), h);
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.close);
}

}  // namespace
}  // namespace paddock::http
