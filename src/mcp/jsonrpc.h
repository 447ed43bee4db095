// JSON-RPC 2.0 framing for the MCP server: error codes, response objects, and the checks a line
// must pass before it is handled. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace paddock::jsonrpc {

// Standard JSON-RPC 2.0 codes (https://www.jsonrpc.org/specification#error_object).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
// MCP 2026-07-28 (basic/index.mdx "Error Codes": -32020..-32099 are reserved for the MCP spec).
inline constexpr int kMissingRequiredClientCapability = -32021;
inline constexpr int kUnsupportedProtocolVersion = -32022;

// Deeper JSON than this is refused before it is parsed: nlohmann's parser is iterative, but
// dump(), comparison and copies recurse, and no MCP message needs more than a few levels.
inline constexpr int kMaxNestingDepth = 128;

// {"jsonrpc":"2.0","id":ID,"result":RESULT}
nlohmann::json result(const nlohmann::json& id, nlohmann::json result);
// {"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":MESSAGE[,"data":DATA]}}
nlohmann::json error(const nlohmann::json& id, int code, std::string message,
                     const nlohmann::json& data = nlohmann::json::value_t::discarded);

// True when `text` nests arrays/objects at most `limit` deep (brackets inside strings do not
// count). Cheap enough to run on every line before parsing.
bool nesting_within(std::string_view text, int limit);

// A valid MCP request id: a string or an integer (basic/index.mdx "Requests": "string or integer
// ID", never null). Fractional or exponent numbers are refused so that every id we echo comes
// back byte for byte the way the client wrote it.
bool valid_id(const nlohmann::json& id);

// One message as one line: compact JSON, invalid UTF-8 replaced (it can only come from strings
// the tool runtime produced), never an embedded newline (JSON escapes them inside strings).
std::string serialize(const nlohmann::json& message);

}  // namespace paddock::jsonrpc
