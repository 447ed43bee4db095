// libFuzzer target for the MCP server's protocol layer: arbitrary bytes as lines sent to
// McpServer::handle_line.
//
// The server must never crash, hang or throw. Each input line gets at most one output line; each
// output line is one JSON-RPC response (or, for a 2025-03-26 batch, a non-empty array of them):
// jsonrpc "2.0", an id that is a string, an integer or null, and exactly one of result or error
// with an integer code and a string message. A line that parses as a notification gets nothing.
//
// The first byte picks a legacy session to open first (none, or initialize at one of the legacy
// versions, 2025-03-26 being the one with batches), so the fuzzer starts from every state.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/mcp_server.h"

namespace {

using nlohmann::json;

[[noreturn]] void bug(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "mcp-fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

class Tools : public paddock::McpToolService {
 public:
  std::vector<paddock::McpToolInfo> list() override {
    return {{"echo", "Echo", json{{"type", "object"}}}, {"fail", "", nullptr}, {"text", "Text", json::array()}};
  }
  bool has(const std::string& name) override { return name == "echo" || name == "fail" || name == "text"; }
  paddock::McpCallResult call(const std::string& name, const json& arguments, const std::atomic<bool>&) override {
    if (name == "echo") return {true, arguments, ""};
    // Tool errors and outputs built from the input: newlines and invalid UTF-8 must not leak.
    std::string raw;
    for (const auto& [key, value] : arguments.items()) raw += key + "\n\xff";
    if (name == "fail") return {false, nullptr, raw};
    return {true, raw, ""};
  }
};

void check_response(const json& r, std::string_view line) {
  if (!r.is_object()) bug("response is not an object", line);
  if (r.value("jsonrpc", "") != "2.0") bug("response without jsonrpc 2.0", line);
  auto id = r.find("id");
  if (id == r.end() || !(id->is_string() || id->is_number_integer() || id->is_null())) bug("bad response id", line);
  const bool has_result = r.contains("result"), has_error = r.contains("error");
  if (has_result == has_error) bug("response needs exactly one of result and error", line);
  if (has_result && !r["result"].is_object()) bug("result is not an object", line);
  if (has_error) {
    const json& e = r["error"];
    if (!e.is_object() || !e.contains("code") || !e["code"].is_number_integer() || !e.contains("message") ||
        !e["message"].is_string()) {
      bug("malformed error object", line);
    }
  } else if (id->is_null()) {
    bug("a result for a request without an id", line);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Tools tools;
  paddock::McpServer server(tools, "fuzz", "1");
  static const char* const kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
  if (data[0] % 5 != 0) {
    const std::string init =
        std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")") +
        kVersions[data[0] % 5 - 1] + R"("}})";
    if (server.handle_line(init).size() != 1) bug("initialize not answered");
  }
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (true) {
    const std::size_t newline = input.find('\n');
    const std::string_view line = input.substr(0, newline);
    const std::vector<std::string> out = server.handle_line(line);
    if (out.size() > 1) bug("more than one response line for one input line", line);
    for (const std::string& text : out) {
      if (text.find('\n') != std::string::npos) bug("response with an embedded newline", text);
      const json r = json::parse(text, nullptr, false);
      if (r.is_discarded()) bug("response is not JSON", text);
      if (r.is_array()) {
        if (r.empty()) bug("empty batch response", line);
        for (const json& element : r) check_response(element, line);
      } else {
        check_response(r, line);
      }
    }
    const json in = json::parse(line, nullptr, false);
    if (in.is_object() && !in.contains("id") && in.contains("method") && in["method"].is_string() && !out.empty()) {
      bug("a notification was answered", line);
    }
    if (newline == std::string_view::npos) break;
    input.remove_prefix(newline + 1);
  }
  return 0;
}
