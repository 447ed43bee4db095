#include "mcp/jsonrpc.h"

#include <utility>

namespace paddock::jsonrpc {

using nlohmann::json;

json result(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json error(const json& id, int code, std::string message, const json& data) {
  json err{{"code", code}, {"message", std::move(message)}};
  if (!data.is_discarded()) err["data"] = data;
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(err)}};
}

bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limit) return false;
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's problem (a parse error), not a depth problem.
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return true;
}

bool valid_id(const json& id) {
  return id.is_string() || id.is_number_integer();
}

std::string serialize(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace paddock::jsonrpc
