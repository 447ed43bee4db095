// MCP Streamable HTTP, the part paddock serves inside a sandbox (issue 7): an HTTP/1.1 request
// parser and response formatter, and the endpoint's rules (POST /mcp with one JSON-RPC message or
// batch, answered with application/json; 202 for notifications; no server-initiated stream, so
// GET is 405; the Origin header checked against DNS rebinding). Pure: no I/O, unit-tested; the
// connection loop lives in paddock-tools (src/tools/tools_main.cc).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paddock::http {

inline constexpr std::size_t kMaxBodyBytes = 4u << 20;     // a larger body: 413
inline constexpr std::size_t kMaxHeaderBytes = 64u << 10;  // request line and headers; larger: 431

struct Request {
  std::string method, target, version;                       // version: "HTTP/1.1" or "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, values trimmed
  std::string body;                                          // de-chunked
  // The first header of that (lower-case) name.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  [[nodiscard]] bool keep_alive() const;
};

struct ParseResult {
  enum class Status { kIncomplete, kComplete, kError };
  Status status = Status::kIncomplete;
  Request request;               // kComplete
  std::size_t consumed = 0;      // kComplete: bytes of the buffer the request took (pipelining)
  bool expect_continue = false;  // kIncomplete: head complete, "Expect: 100-continue", body to come
  int error_status = 0;          // kError: 400, 413, 431, 501 or 505
  std::string error;             // kError: why, for the response body
};

// Parses the first request at the start of `buffer`. Content-Length and chunked bodies; a request
// with both is refused (400), as is any other transfer coding (501).
ParseResult parse_request(std::string_view buffer, std::size_t max_body = kMaxBodyBytes);

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Length and Connection
  std::string body;
  bool close = false;  // "Connection: close", and the connection is closed after it
};

[[nodiscard]] const char* reason_phrase(int status);
// Status line, headers, Content-Length (always, also 0), Connection: close when close, body.
[[nodiscard]] std::string format_response(const Response& response);
// An error answer whose body is a JSON-RPC error without id (what MCP clients expect to read).
[[nodiscard]] Response error_response(int status, int jsonrpc_code, const std::string& message);

// An Origin a page served from the sandbox's own loopback may have: http or https, host
// 127.0.0.1, localhost or [::1], any port. Anything else (another site, "null") is refused: the
// DNS-rebinding guard the MCP transport specification asks for.
[[nodiscard]] bool origin_allowed(std::string_view origin);

// What the MCP layer answers one POST body with.
struct McpReply {
  std::optional<std::string> body;  // a JSON-RPC response (or batch) as JSON text; none: 202 Accepted
  std::string session_id;           // sent back as Mcp-Session-Id when not empty
  bool unknown_session = false;     // the request named a session that does not exist: 404
};
// body: the JSON-RPC message text; session_id: the request's Mcp-Session-Id ("" when absent).
using McpHandler = std::function<McpReply(std::string_view body, const std::string& session_id)>;

// The endpoint at `path`: POST with Content-Type application/json goes to the handler; GET (no
// server-initiated stream) and every other method: 405; other paths: 404; a foreign Origin: 403;
// an Accept that excludes JSON: 406; another content type: 415; a body that is not JSON: 400.
// Keeps `close` when the request did not ask for keep-alive.
[[nodiscard]] Response serve_mcp_request(const Request& request, const McpHandler& handler,
                                         std::string_view path = "/mcp");

}  // namespace paddock::http
