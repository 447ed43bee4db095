#include "mcp/http_transport.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace paddock::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_tchar(unsigned char c) {
  return std::isalnum(c) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// Whether a comma-separated header value lists `token` (case-insensitive).
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    if (lower(item) == token) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

ParseResult fail(int status, std::string why) {
  ParseResult r;
  r.status = ParseResult::Status::kError;
  r.error_status = status;
  r.error = std::move(why);
  return r;
}

// The chunked body starting at `data`: kComplete with `consumed` the bytes used (trailers
// included), kIncomplete, or kError.
ParseResult dechunk(std::string_view data, std::size_t max_body, std::string& body) {
  std::size_t pos = 0;
  for (;;) {
    std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      if (data.size() - pos > 1024) return fail(400, "chunk size line too long");
      return {};
    }
    std::string_view line = data.substr(pos, eol - pos);
    line = trim(line.substr(0, line.find(';')));
    if (line.empty() || line.size() > 8 ||
        !std::all_of(line.begin(), line.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      return fail(400, "bad chunk size");
    }
    std::size_t size = std::stoul(std::string(line), nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      // Trailers (ignored) up to an empty line.
      for (;;) {
        std::size_t end = data.find("\r\n", pos);
        if (end == std::string_view::npos) {
          if (data.size() - pos > kMaxHeaderBytes) return fail(431, "trailers too large");
          return {};
        }
        bool empty = end == pos;
        pos = end + 2;
        if (empty) break;
      }
      ParseResult r;
      r.status = ParseResult::Status::kComplete;
      r.consumed = pos;
      return r;
    }
    if (body.size() + size > max_body)
      return fail(413, "request body larger than " + std::to_string(max_body) + " bytes");
    if (data.size() < pos + size + 2) return {};
    if (data.substr(pos + size, 2) != "\r\n") return fail(400, "chunk not followed by CRLF");
    body.append(data.substr(pos, size));
    pos += size + 2;
  }
}

}  // namespace

std::optional<std::string> Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

bool Request::keep_alive() const {
  auto c = header("connection");
  if (version == "HTTP/1.0") return c && lists_token(*c, "keep-alive");
  return !(c && lists_token(*c, "close"));
}

ParseResult parse_request(std::string_view buffer, std::size_t max_body) {
  std::size_t start = 0;
  // A server SHOULD ignore empty lines before the request line (RFC 9112, 2.2).
  while (buffer.substr(start, 2) == "\r\n") start += 2;
  std::size_t head_end = buffer.find("\r\n\r\n", start);
  if (head_end == std::string_view::npos) {
    if (buffer.size() - start > kMaxHeaderBytes) return fail(431, "request head too large");
    return {};
  }
  if (head_end - start > kMaxHeaderBytes) return fail(431, "request head too large");
  std::string_view head = buffer.substr(start, head_end - start);
  Request req;

  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line");
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  if (!is_token(req.method) || req.target.empty()) return fail(400, "malformed request line");
  if (req.version.rfind("HTTP/", 0) != 0) return fail(400, "malformed request line");
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") return fail(505, "only HTTP/1.0 and HTTP/1.1");

  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    std::size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    if (!h.empty() && (h.front() == ' ' || h.front() == '\t')) return fail(400, "obsolete header line folding");
    std::size_t colon = h.find(':');
    if (colon == std::string_view::npos || !is_token(h.substr(0, colon))) return fail(400, "malformed header line");
    std::string_view value = trim(h.substr(colon + 1));
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
      return fail(400, "malformed header value");
    req.headers.emplace_back(lower(h.substr(0, colon)), std::string(value));
  }

  const std::size_t body_start = head_end + 4;
  std::optional<std::string> te;
  std::optional<std::size_t> length;
  for (const auto& [n, v] : req.headers) {
    if (n == "transfer-encoding") {
      if (te) return fail(400, "more than one Transfer-Encoding");
      te = lower(v);
    } else if (n == "content-length") {
      if (v.empty() || v.size() > 15 ||
          !std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return fail(400, "bad Content-Length");
      std::size_t l = std::stoull(v);
      if (length && *length != l) return fail(400, "conflicting Content-Length headers");
      length = l;
    }
  }
  if (te && length) return fail(400, "both Transfer-Encoding and Content-Length");
  if (te && req.version == "HTTP/1.0") return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  if (te && *te != "chunked") return fail(501, "transfer coding \"" + *te + "\" is not supported");

  ParseResult r;
  auto expects_continue = [&] {
    auto ex = req.header("expect");
    return ex && lower(*ex) == "100-continue";
  };
  if (te) {
    ParseResult c = dechunk(buffer.substr(body_start), max_body, req.body);
    if (c.status == ParseResult::Status::kError) return c;
    if (c.status == ParseResult::Status::kIncomplete) {
      r.expect_continue = expects_continue();
      return r;
    }
    r.consumed = body_start + c.consumed;
  } else {
    std::size_t l = length.value_or(0);
    if (l > max_body) return fail(413, "request body larger than " + std::to_string(max_body) + " bytes");
    if (buffer.size() - body_start < l) {
      r.expect_continue = expects_continue();
      return r;
    }
    req.body = std::string(buffer.substr(body_start, l));
    r.consumed = body_start + l;
  }
  r.status = ParseResult::Status::kComplete;
  r.request = std::move(req);
  return r;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string format_response(const Response& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  for (const auto& [n, v] : response.headers) out += n + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (response.close) out += "Connection: close\r\n";
  out += "\r\n";
  out += response.body;
  return out;
}

Response error_response(int status, int jsonrpc_code, const std::string& message) {
  Response r;
  r.status = status;
  nlohmann::json body = {
      {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", jsonrpc_code}, {"message", message}}}};
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

bool origin_allowed(std::string_view origin) {
  std::string o = lower(trim(origin));
  std::string_view s = o;
  if (s.rfind("http://", 0) == 0)
    s.remove_prefix(7);
  else if (s.rfind("https://", 0) == 0)
    s.remove_prefix(8);
  else
    return false;
  std::string_view host = s, port;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = s.substr(0, close + 1);
    std::string_view after = s.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      if (port.empty()) return false;
    }
  } else {
    std::size_t colon = s.find(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return false;
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

Response serve_mcp_request(const Request& request, const McpHandler& handler, std::string_view path) {
  Response r = [&]() -> Response {
    std::string_view target = request.target;
    target = target.substr(0, target.find('?'));
    if (target != path) return error_response(404, -32600, "Not Found: the MCP endpoint is " + std::string(path));
    if (auto origin = request.header("origin"); origin && !origin_allowed(*origin))
      return error_response(403, -32600, "Forbidden: origin " + *origin + " is not allowed");
    if (request.method != "POST") {
      Response e =
          error_response(405, -32600,
                         request.method == "GET" ? "Method Not Allowed: this server sends no server-initiated stream"
                                                 : "Method Not Allowed: use POST");
      e.headers.emplace_back("Allow", "POST");
      return e;
    }
    if (auto accept = request.header("accept")) {
      std::string a = lower(*accept);
      if (a.find("application/json") == std::string::npos && a.find("application/*") == std::string::npos &&
          a.find("*/*") == std::string::npos)
        return error_response(406, -32600, "Not Acceptable: responses are application/json");
    }
    auto type = request.header("content-type");
    if (!type || lower(trim(std::string_view(*type).substr(0, type->find(';')))) != "application/json")
      return error_response(415, -32600, "Unsupported Media Type: send application/json");
    if (!nlohmann::json::accept(request.body)) return error_response(400, -32700, "Parse error: the body is not JSON");
    McpReply reply = handler(request.body, request.header("mcp-session-id").value_or(""));
    if (reply.unknown_session)
      return error_response(404, -32600, "Not Found: unknown or ended session; send initialize again");
    Response ok;
    if (!reply.session_id.empty()) ok.headers.emplace_back("Mcp-Session-Id", reply.session_id);
    if (!reply.body) {
      ok.status = 202;
      return ok;
    }
    ok.headers.emplace_back("Content-Type", "application/json");
    ok.body = std::move(*reply.body);
    return ok;
  }();
  r.headers.emplace_back("Cache-Control", "no-store");
  if (!request.keep_alive()) r.close = true;
  return r;
}

}  // namespace paddock::http
