// MCP protocol handling for `paddock mcp`. What goes over the wire, and where each rule comes from:
//
// Framing (specification/2025-11-25/basic/transports.mdx "stdio"; 2026-07-28 basic/transports/stdio.mdx):
//  - One JSON-RPC 2.0 message per line. A trailing "\r" is dropped; blank lines are ignored.
//  - Malformed JSON: -32700 with id null. Valid JSON that is not a request or notification (a
//    scalar, an object without a string method, an id that is neither a string nor an integer):
//    -32600 with id null (JSON-RPC 2.0 section 5: "If there was an error in detecting the id in the
//    Request object ... it MUST be Null"). A bad "jsonrpc" member with a readable id: -32600 with
//    that id. params that is an array: -32602; any other non-object (except null, read as
//    absent): -32600, because JSON-RPC requires params to be structured.
//  - A line longer than McpServer::kMaxLineBytes, or nested deeper than jsonrpc::kMaxNestingDepth:
//    -32600 with id null, and serving goes on.
//  - Notifications (no "id") never get a response, whatever they contain. A response object from
//    the client (id plus result/error, no method) is dropped silently: this server never sends
//    requests, and answering a response with an error invites an error ping-pong.
//  - Batches (a JSON array) exist only in MCP 2025-03-26 (added there, removed in 2025-06-18's
//    changelog: "Remove support for JSON-RPC batching"). They are served when the legacy session
//    negotiated 2025-03-26 (one array line in reply, notifications and cancelled calls left out,
//    nothing at all when nothing is left, "[]" is -32600, initialize inside a batch is -32600 per
//    2025-03-26 lifecycle.mdx). For every other version, and for 2026-07-28 requests, an array is
//    one -32600 with id null.
//  - ids are echoed as parsed; only strings and integers are accepted (basic/index.mdx: "Requests
//    MUST include a string or integer ID"), so an id is always written back the way it was sent.
//
// Era selection (2026-07-28 basic/versioning.mdx "A dual-era server selects its behavior from how
// the client opens"; the TypeScript SDK's dual-era stdio classification, typescript-sdk PR #2305,
// does the same: "initialize and claim-less messages are 2025-era; envelope-carrying messages are
// 2026-era"):
//  - `initialize` is always legacy.
//  - A request whose params._meta holds io.modelcontextprotocol/protocolVersion or
//    io.modelcontextprotocol/clientCapabilities is modern and is answered from its own _meta only.
//  - Everything else is legacy.
//
// Legacy (2025-11-25 basic/lifecycle.mdx):
//  - initialize: protocolVersion must be a string (else -32602). A version in legacy_versions()
//    is answered as is; any other (including 2026-07-28, which has no initialize) gets the latest
//    legacy version, 2025-11-25 ("Otherwise, the server MUST respond with another protocol version
//    it supports ... SHOULD be the latest version supported by the server"). Result: protocolVersion,
//    capabilities {tools: {}}, serverInfo {name, version}, instructions when set. A repeated
//    initialize renegotiates (a stdio process is one session, so this only helps a confused client).
//  - notifications/initialized is accepted and not required: on stdio it always precedes the
//    client's next request anyway, and the Python SDK's strictness here buys nothing.
//  - Before initialize: ping is answered ("The client SHOULD NOT send requests other than pings
//    before the server has responded to the initialize request"); tools/list and tools/call get
//    -32602. That code is what 2026-07-28 basic/index.mdx requires for a request missing its
//    _meta fields ("the server MUST reject it with JSON-RPC error code -32602"), and a legacy
//    server's answer is implementation-defined (2026-07-28 transports/stdio.mdx: "commonly -32601
//    or -32602"), so one code is right whichever era the client meant.
//  - ping -> {}. server/discover without _meta -> -32602 (it is a 2026-07-28 method whose required
//    _meta is missing; such an error is not a "recognized modern error", so a dual-era client
//    probing this way falls back to initialize as intended). Other methods -> -32601.
//
// Modern (2026-07-28 basic/index.mdx "Per-request protocol fields", basic/versioning.mdx):
//  - protocolVersion not a string -> -32602. Not in modern_versions() -> -32022
//    UnsupportedProtocolVersion with data {supported, requested}; this check comes first, so it
//    also answers server/discover (the conformance suite's server-stateless scenario expects
//    that). clientCapabilities missing or not an object -> -32602. clientInfo and logLevel are
//    optional and not used.
//  - Legacy versions are not accepted in _meta: they have no per-request metadata, so a request
//    claiming one in _meta gets -32022 listing only 2026-07-28 (laravel/mcp PR #297 answers the
//    same way). server/discover lists the same set, so the two never disagree.
//  - server/discover -> supportedVersions, capabilities {tools: {}}, instructions when set,
//    ttlMs, cacheScope "private". The final schema.ts has DiscoverResult extends CacheableResult
//    {supportedVersions, capabilities, instructions?} and puts the server's identity in the
//    result's _meta["io.modelcontextprotocol/serverInfo"]; discover.mdx's prose and the Ruby SDK
//    (ruby-sdk PR #438) still show a top-level serverInfo, so it is sent in both places.
//  - Every modern result carries resultType "complete" (SEP-2322) and
//    _meta["io.modelcontextprotocol/serverInfo"] ("Servers SHOULD include ... in every result's
//    _meta"). tools/list also carries ttlMs (kListTtlMs) and cacheScope "private" (SEP-2549:
//    CacheableResult); "private" because the tool set comes from one person's profile.
//  - ping, initialize-era methods and anything unknown -> -32601 (the 2026-07-28 changelog
//    removes ping and logging/setLevel).
//
// Tools (2025-11-25 server/tools.mdx "Error Handling"):
//  - tools/list: name, description (when not empty), inputSchema ({"type":"object"} when the tool
//    has none), in the order the tool service gives them. A cursor is -32602: this server never
//    hands one out.
//  - tools/call: name must be a string and arguments, when present, an object (else -32602). An
//    unknown tool is the protocol error -32602 "Unknown tool: NAME". A failing tool is a result
//    with isError: true and one text block holding its one-line error. A successful call is one
//    text block with the output as JSON text, plus structuredContent when the output is an object
//    and the version has it (2025-06-18 and later, and 2026-07-28): "a tool that returns
//    structured content SHOULD also return the serialized JSON in a TextContent block". Input
//    schema validation belongs to the tool service and comes back as a tool error (2025-11-25
//    moved input validation errors from protocol errors to tool errors).
//  - An exception from the tool service is -32603, never a crash.
//
// Cancellation (2025-11-25 basic/utilities/cancellation.mdx; 2026-07-28 transports/stdio.mdx):
//  notifications/cancelled {requestId} for a tools/call that is queued or running sets its flag;
//  its eventual response is not sent ("Receivers ... SHOULD NOT send a response for the cancelled
//  request"; 2026-07-28: "MUST NOT send any further messages for it"). Unknown ids are ignored.
//  A tools/call reusing the id of one still in progress is -32600: cancellation would be ambiguous.
#include "mcp/mcp_server.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <utility>

#include "mcp/jsonrpc.h"

namespace paddock {

namespace {

using nlohmann::json;

constexpr const char* kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
constexpr const char* kMetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
// The one legacy version with JSON-RPC batches.
constexpr const char* kBatchVersion = "2025-03-26";
// The first version with structuredContent in tool results.
constexpr const char* kStructuredContentSince = "2025-06-18";

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// Error texts go to the model and to people reading logs: keep them on one line.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

json text_block(std::string text) {
  json block = json::object();
  block["type"] = "text";
  block["text"] = std::move(text);
  json content = json::array();
  content.push_back(std::move(block));
  return content;
}

bool modern_envelope(const json& params) {
  if (!params.is_object()) return false;
  auto meta = params.find("_meta");
  if (meta == params.end() || !meta->is_object()) return false;
  return meta->contains(kMetaProtocolVersion) || meta->contains(kMetaClientCapabilities);
}

json line_too_long() {
  return jsonrpc::error(nullptr, jsonrpc::kInvalidRequest,
                        "Invalid Request: message longer than " + std::to_string(McpServer::kMaxLineBytes) + " bytes");
}

}  // namespace

const std::vector<std::string>& McpServer::legacy_versions() {
  static const std::vector<std::string> versions{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
  return versions;
}

const std::vector<std::string>& McpServer::modern_versions() {
  static const std::vector<std::string> versions{"2026-07-28"};
  return versions;
}

McpServer::McpServer(McpToolService& tools, std::string server_name, std::string server_version)
    : tools_(tools), server_name_(std::move(server_name)), server_version_(std::move(server_version)) {}

std::vector<std::string> McpServer::handle_line(std::string_view line) {
  Outcome out = process(line, std::numeric_limits<std::size_t>::max());
  std::vector<json> responses = std::move(out.now);
  for (const ToolJob& job : out.jobs) {
    if (auto response = run(job)) responses.push_back(std::move(*response));
  }
  std::vector<std::string> lines;
  if (out.batch) {
    if (!responses.empty()) lines.push_back(jsonrpc::serialize(json(std::move(responses))));
  } else {
    for (const json& response : responses) lines.push_back(jsonrpc::serialize(response));
  }
  return lines;
}

McpServer::Outcome McpServer::process(std::string_view line, std::size_t max_pending) {
  Outcome out;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (blank(line)) return out;
  if (line.size() > kMaxLineBytes) {
    out.now.push_back(line_too_long());
    return out;
  }
  if (!jsonrpc::nesting_within(line, jsonrpc::kMaxNestingDepth)) {
    out.now.push_back(jsonrpc::error(
        nullptr, jsonrpc::kInvalidRequest,
        "Invalid Request: JSON nested deeper than " + std::to_string(jsonrpc::kMaxNestingDepth) + " levels"));
    return out;
  }
  // nlohmann's lexer takes a NUL byte for the end of input and would accept "{...}\0junk"; JSON
  // has no raw NUL anywhere, so such a line is malformed.
  json message = line.find('\0') == std::string_view::npos ? json::parse(line, nullptr, /*allow_exceptions=*/false)
                                                           : json(json::value_t::discarded);
  if (message.is_discarded()) {
    out.now.push_back(jsonrpc::error(nullptr, jsonrpc::kParseError, "Parse error"));
    return out;
  }
  if (message.is_array()) {
    if (legacy_version_ != kBatchVersion) {
      out.now.push_back(jsonrpc::error(nullptr, jsonrpc::kInvalidRequest,
                                       "Invalid Request: JSON-RPC batches are not supported (MCP 2025-03-26 "
                                       "only; removed in 2025-06-18)"));
      return out;
    }
    if (message.empty()) {
      out.now.push_back(jsonrpc::error(nullptr, jsonrpc::kInvalidRequest, "Invalid Request: empty batch"));
      return out;
    }
    out.batch = true;
    for (const json& element : message) {
      Step s = step(element, /*in_batch=*/true, max_pending);
      if (s.response) out.now.push_back(std::move(*s.response));
      if (s.job) out.jobs.push_back(std::move(*s.job));
    }
    return out;
  }
  Step s = step(message, /*in_batch=*/false, max_pending);
  if (s.response) out.now.push_back(std::move(*s.response));
  if (s.job) out.jobs.push_back(std::move(*s.job));
  return out;
}

McpServer::Step McpServer::step(const json& message, bool in_batch, std::size_t max_pending) {
  if (!message.is_object()) {
    return {jsonrpc::error(nullptr, jsonrpc::kInvalidRequest, "Invalid Request: not a JSON-RPC message object"), {}};
  }
  auto id_it = message.find("id");
  auto method_it = message.find("method");
  const bool has_method = method_it != message.end() && method_it->is_string();
  auto params_it = message.find("params");
  static const json kNoParams = json::object();
  const json& params = (params_it == message.end() || params_it->is_null()) ? kNoParams : *params_it;

  if (id_it == message.end()) {
    if (!has_method) {
      return {jsonrpc::error(nullptr, jsonrpc::kInvalidRequest, "Invalid Request: no method and no id"), {}};
    }
    // A notification: acted on when known, never answered.
    try {
      if (*method_it == "notifications/cancelled") cancel(params);
    } catch (const std::exception&) {
    }
    return {};
  }
  if (method_it == message.end() && (message.contains("result") || message.contains("error"))) return {};

  const json& id = *id_it;
  if (!jsonrpc::valid_id(id)) {
    return {jsonrpc::error(nullptr, jsonrpc::kInvalidRequest, "Invalid Request: id must be a string or an integer"),
            {}};
  }
  auto version_it = message.find("jsonrpc");
  if (version_it == message.end() || !version_it->is_string() || *version_it != "2.0") {
    return {jsonrpc::error(id, jsonrpc::kInvalidRequest, "Invalid Request: jsonrpc must be \"2.0\""), {}};
  }
  if (!has_method)
    return {jsonrpc::error(id, jsonrpc::kInvalidRequest, "Invalid Request: method must be a string"), {}};
  if (params.is_array())
    return {jsonrpc::error(id, jsonrpc::kInvalidParams, "Invalid params: params must be an object"), {}};
  if (!params.is_object()) {
    return {jsonrpc::error(id, jsonrpc::kInvalidRequest, "Invalid Request: params must be an object"), {}};
  }
  try {
    return request(id, method_it->get<std::string>(), params, in_batch, max_pending);
  } catch (const std::exception& e) {
    return {jsonrpc::error(id, jsonrpc::kInternalError, "Internal error: " + one_line(e.what())), {}};
  }
}

McpServer::Step McpServer::request(const json& id, const std::string& method, const json& params, bool in_batch,
                                   std::size_t max_pending) {
  if (method == "initialize") {
    if (in_batch) {
      return {jsonrpc::error(id, jsonrpc::kInvalidRequest, "Invalid Request: initialize must not be part of a batch"),
              {}};
    }
    return {initialize(id, params), {}};
  }
  if (modern_envelope(params)) return modern_request(id, method, params, max_pending);
  return legacy_request(id, method, params, max_pending);
}

McpServer::Step McpServer::legacy_request(const json& id, const std::string& method, const json& params,
                                          std::size_t max_pending) {
  if (method == "ping") return {jsonrpc::result(id, json::object()), {}};
  if (method == "server/discover") {
    return {
        jsonrpc::error(id, jsonrpc::kInvalidParams,
                       "Invalid params: server/discover needs params._meta with " + std::string(kMetaProtocolVersion) +
                           " and " + kMetaClientCapabilities + " (MCP 2026-07-28)"),
        {}};
  }
  if (method == "tools/list" || method == "tools/call") {
    if (legacy_version_.empty()) {
      return {jsonrpc::error(id, jsonrpc::kInvalidParams,
                             "Invalid params: send initialize first (MCP 2025-11-25 and earlier), or put " +
                                 std::string(kMetaProtocolVersion) + " and " + kMetaClientCapabilities +
                                 " in params._meta (MCP 2026-07-28)"),
              {}};
    }
    const Dialect dialect{Era::kLegacy, legacy_version_};
    if (method == "tools/list") return {tools_list(id, params, dialect), {}};
    return tools_call(id, params, dialect, max_pending);
  }
  return {jsonrpc::error(id, jsonrpc::kMethodNotFound, "Method not found: " + method), {}};
}

McpServer::Step McpServer::modern_request(const json& id, const std::string& method, const json& params,
                                          std::size_t max_pending) {
  const json& meta = params.at("_meta");
  auto version = meta.find(kMetaProtocolVersion);
  if (version == meta.end() || !version->is_string()) {
    return {jsonrpc::error(id, jsonrpc::kInvalidParams,
                           "Invalid params: _meta." + std::string(kMetaProtocolVersion) + " must be a string"),
            {}};
  }
  const std::string requested = version->get<std::string>();
  if (!contains(modern_versions(), requested)) {
    json data{{"supported", modern_versions()}, {"requested", requested}};
    return {jsonrpc::error(id, jsonrpc::kUnsupportedProtocolVersion, "Unsupported protocol version", data), {}};
  }
  auto capabilities = meta.find(kMetaClientCapabilities);
  if (capabilities == meta.end() || !capabilities->is_object()) {
    return {jsonrpc::error(id, jsonrpc::kInvalidParams,
                           "Invalid params: _meta." + std::string(kMetaClientCapabilities) + " must be an object"),
            {}};
  }
  const Dialect dialect{Era::kModern, requested};
  if (method == "server/discover") return {discover(id), {}};
  if (method == "tools/list") return {tools_list(id, params, dialect), {}};
  if (method == "tools/call") return tools_call(id, params, dialect, max_pending);
  return {jsonrpc::error(id, jsonrpc::kMethodNotFound, "Method not found: " + method), {}};
}

json McpServer::initialize(const json& id, const json& params) {
  auto version = params.find("protocolVersion");
  if (version == params.end() || !version->is_string()) {
    return jsonrpc::error(id, jsonrpc::kInvalidParams, "Invalid params: initialize needs protocolVersion (a string)");
  }
  const std::string requested = version->get<std::string>();
  legacy_version_ = contains(legacy_versions(), requested) ? requested : legacy_versions().front();
  json result = json::object();
  result["protocolVersion"] = legacy_version_;
  result["capabilities"] = json{{"tools", json::object()}};
  result["serverInfo"] = json{{"name", server_name_}, {"version", server_version_}};
  if (!instructions_.empty()) result["instructions"] = instructions_;
  return jsonrpc::result(id, std::move(result));
}

json McpServer::tools_list(const json& id, const json& params, const Dialect& dialect) {
  auto cursor = params.find("cursor");
  if (cursor != params.end() && !cursor->is_null()) {
    return jsonrpc::error(id, jsonrpc::kInvalidParams, "Invalid params: unknown cursor (tools/list is not paginated)");
  }
  json tools = json::array();
  for (McpToolInfo& info : tools_.list()) {
    json tool = json::object();
    tool["name"] = std::move(info.name);
    if (!info.description.empty()) tool["description"] = std::move(info.description);
    // inputSchema is required and must describe an object (Tool.inputSchema in schema.ts).
    tool["inputSchema"] = info.input_schema.is_object() ? std::move(info.input_schema) : json{{"type", "object"}};
    tools.push_back(std::move(tool));
  }
  json result = json::object();
  result["tools"] = std::move(tools);
  if (dialect.era == Era::kModern) {
    result["ttlMs"] = kListTtlMs;
    result["cacheScope"] = "private";
  }
  return jsonrpc::result(id, finish(std::move(result), dialect));
}

McpServer::Step McpServer::tools_call(const json& id, const json& params, const Dialect& dialect,
                                      std::size_t max_pending) {
  auto name = params.find("name");
  if (name == params.end() || !name->is_string()) {
    return {jsonrpc::error(id, jsonrpc::kInvalidParams, "Invalid params: tools/call needs name (a string)"), {}};
  }
  json arguments = json::object();
  auto args = params.find("arguments");
  if (args != params.end() && !args->is_null()) {
    if (!args->is_object()) {
      return {jsonrpc::error(id, jsonrpc::kInvalidParams, "Invalid params: arguments must be an object"), {}};
    }
    arguments = *args;
  }
  const std::string tool = name->get<std::string>();
  if (!tools_.has(tool)) return {jsonrpc::error(id, jsonrpc::kInvalidParams, "Unknown tool: " + tool), {}};

  ToolJob job{
      id, jsonrpc::serialize(id), tool, std::move(arguments), dialect, std::make_shared<std::atomic<bool>>(false)};
  std::lock_guard lock(in_flight_mutex_);
  if (in_flight_.count(job.key)) {
    return {jsonrpc::error(id, jsonrpc::kInvalidRequest,
                           "Invalid Request: id " + job.key + " is already used by a tools/call in progress"),
            {}};
  }
  if (in_flight_.size() >= max_pending) {
    return {jsonrpc::error(id, jsonrpc::kInternalError,
                           "Internal error: too many tool calls in progress (" + std::to_string(max_pending) + ")"),
            {}};
  }
  in_flight_.emplace(job.key, job.cancelled);
  return {{}, std::move(job)};
}

json McpServer::discover(const json& id) {
  json result = json::object();
  result["supportedVersions"] = modern_versions();
  result["capabilities"] = json{{"tools", json::object()}};
  result["serverInfo"] = json{{"name", server_name_}, {"version", server_version_}};
  if (!instructions_.empty()) result["instructions"] = instructions_;
  result["ttlMs"] = kListTtlMs;
  result["cacheScope"] = "private";
  return jsonrpc::result(id, finish(std::move(result), Dialect{Era::kModern, modern_versions().front()}));
}

void McpServer::cancel(const json& params) {
  if (!params.is_object()) return;
  auto request_id = params.find("requestId");
  if (request_id == params.end() || !jsonrpc::valid_id(*request_id)) return;
  std::lock_guard lock(in_flight_mutex_);
  auto it = in_flight_.find(jsonrpc::serialize(*request_id));
  if (it != in_flight_.end()) it->second->store(true);
}

void McpServer::cancel_all() {
  std::lock_guard lock(in_flight_mutex_);
  for (auto& [key, flag] : in_flight_) flag->store(true);
}

json McpServer::finish(json result, const Dialect& dialect) const {
  if (dialect.era == Era::kModern) {
    result["resultType"] = "complete";
    result["_meta"][kMetaServerInfo] = json{{"name", server_name_}, {"version", server_version_}};
  }
  return result;
}

std::optional<json> McpServer::run(const ToolJob& job) {
  // Removes the call from in_flight_ and says whether it was cancelled, atomically with respect
  // to cancel(): a cancellation either lands before this point and suppresses the response, or
  // finds nothing to cancel.
  auto done = [&] {
    std::lock_guard lock(in_flight_mutex_);
    in_flight_.erase(job.key);
    return job.cancelled->load();
  };
  if (job.cancelled->load()) {
    done();
    return std::nullopt;
  }
  json response;
  try {
    McpCallResult outcome = tools_.call(job.name, job.arguments, *job.cancelled);
    json result = json::object();
    if (outcome.ok) {
      result["content"] = text_block(jsonrpc::serialize(outcome.output));
      const bool structured = job.dialect.era == Era::kModern || job.dialect.version >= kStructuredContentSince;
      if (structured && outcome.output.is_object()) result["structuredContent"] = std::move(outcome.output);
    } else {
      std::string error = one_line(std::move(outcome.error));
      result["content"] = text_block(error.empty() ? "tool failed" : std::move(error));
      result["isError"] = true;
    }
    response = jsonrpc::result(job.id, finish(std::move(result), job.dialect));
  } catch (const std::exception& e) {
    response = jsonrpc::error(job.id, jsonrpc::kInternalError, "Internal error: " + one_line(e.what()));
  } catch (...) {
    response = jsonrpc::error(job.id, jsonrpc::kInternalError, "Internal error");
  }
  if (done()) return std::nullopt;
  return response;
}

json McpServer::oversize_error() {
  return line_too_long();
}

}  // namespace paddock
