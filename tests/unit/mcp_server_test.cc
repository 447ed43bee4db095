// The MCP server protocol layer: conversations in both eras (handle_line), every class of
// malformed message, and the stdio loop (serve) with cancellation, concurrency and end of input.
#include "mcp/mcp_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mcp/jsonrpc.h"

namespace paddock {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const json kModernMeta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                          {"io.modelcontextprotocol/clientCapabilities", json::object()},
                          {"io.modelcontextprotocol/clientInfo", {{"name", "test"}, {"version", "1"}}}};

// Tools: echo (returns its arguments), fail (a tool error), scalar (returns 42), throw (the
// service throws), slow (runs until cancelled or released).
class FakeTools : public McpToolService {
 public:
  std::vector<McpToolInfo> list() override {
    return {{"echo", "Echo the input", json{{"type", "object"}, {"properties", {{"x", {{"type", "string"}}}}}}},
            {"fail", "", nullptr},
            {"scalar", "Forty-two", json{{"type", "object"}}},
            {"throw", "Throws", json{{"type", "object"}}},
            {"slow", "Waits", json{{"type", "object"}}}};
  }
  bool has(const std::string& name) override {
    return name == "echo" || name == "fail" || name == "scalar" || name == "throw" || name == "slow";
  }
  McpCallResult call(const std::string& name, const json& arguments, const std::atomic<bool>& cancelled) override {
    ++calls;
    if (name == "echo") return {true, arguments, ""};
    if (name == "fail") return {false, nullptr, "disk full\nwhile writing"};
    if (name == "scalar") return {true, 42, ""};
    if (name == "throw") throw std::runtime_error("service exploded");
    {
      std::lock_guard lock(mutex);
      ++slow_started;
    }
    cv.notify_all();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!cancelled.load() && !released.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    saw_cancel = cancelled.load();
    return {true, json{{"done", true}}, ""};
  }

  // Waits until `n` slow calls have started.
  bool wait_started(int n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [&] { return slow_started >= n; });
  }

  std::atomic<int> calls{0};
  std::atomic<bool> released{false};
  std::atomic<bool> saw_cancel{false};
  std::mutex mutex;
  std::condition_variable cv;
  int slow_started = 0;
};

std::string request(const json& id, const std::string& method, const json& params = nullptr) {
  json r{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) r["params"] = params;
  return r.dump();
}

std::string notification(const std::string& method, const json& params = nullptr) {
  json r{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) r["params"] = params;
  return r.dump();
}

json modern(json params = json::object()) {
  params["_meta"] = kModernMeta;
  return params;
}

class McpServerTest : public ::testing::Test {
 protected:
  // The single response to `line`.
  json one(const std::string& line) {
    std::vector<std::string> out = server.handle_line(line);
    EXPECT_EQ(out.size(), 1u) << line;
    if (out.size() != 1) return nullptr;
    EXPECT_EQ(out[0].find('\n'), std::string::npos);
    return json::parse(out[0]);
  }
  void expect_error(const std::string& line, int code, const json& id) {
    json r = one(line);
    EXPECT_EQ(r["jsonrpc"], "2.0") << line;
    EXPECT_EQ(r["id"], id) << line;
    EXPECT_EQ(r["error"]["code"], code) << line << " -> " << r.dump();
    EXPECT_FALSE(r.contains("result")) << line;
  }
  void initialize(const std::string& version = "2025-11-25") {
    json r = one(request(0, "initialize",
                         {{"protocolVersion", version},
                          {"capabilities", json::object()},
                          {"clientInfo", {{"name", "c"}, {"version", "1"}}}}));
    ASSERT_EQ(r["result"]["protocolVersion"], version);
    EXPECT_TRUE(server.handle_line(notification("notifications/initialized")).empty());
  }

  FakeTools tools;
  McpServer server{tools, "paddock", "0.1.0"};
};

// --- Legacy (initialize) conversations --------------------------------------------------------

TEST_F(McpServerTest, LegacyConversation) {
  json init = one(request(1, "initialize",
                          {{"protocolVersion", "2025-11-25"},
                           {"capabilities", json::object()},
                           {"clientInfo", {{"name", "c"}, {"version", "1"}}}}));
  EXPECT_EQ(init["id"], 1);
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(init["result"]["capabilities"], json({{"tools", json::object()}}));
  EXPECT_EQ(init["result"]["serverInfo"], json({{"name", "paddock"}, {"version", "0.1.0"}}));
  EXPECT_FALSE(init["result"].contains("resultType"));
  EXPECT_FALSE(init["result"].contains("instructions"));
  EXPECT_TRUE(server.handle_line(notification("notifications/initialized")).empty());

  json list = one(request(2, "tools/list"));
  const json& t = list["result"]["tools"];
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0]["name"], "echo");
  EXPECT_EQ(t[0]["description"], "Echo the input");
  EXPECT_EQ(t[0]["inputSchema"]["properties"]["x"]["type"], "string");
  EXPECT_EQ(t[1]["name"], "fail");
  EXPECT_FALSE(t[1].contains("description"));
  EXPECT_EQ(t[1]["inputSchema"], json({{"type", "object"}}));
  EXPECT_FALSE(list["result"].contains("ttlMs"));
  EXPECT_FALSE(list["result"].contains("resultType"));

  json call = one(request(3, "tools/call", {{"name", "echo"}, {"arguments", {{"x", "hi"}}}}));
  EXPECT_EQ(call["id"], 3);
  EXPECT_EQ(call["result"]["content"], json::parse(R"([{"type":"text","text":"{\"x\":\"hi\"}"}])"));
  EXPECT_EQ(call["result"]["structuredContent"], json({{"x", "hi"}}));
  EXPECT_FALSE(call["result"].contains("isError"));

  json failed = one(request(4, "tools/call", {{"name", "fail"}, {"arguments", json::object()}}));
  EXPECT_EQ(failed["result"]["isError"], true);
  EXPECT_EQ(failed["result"]["content"][0]["type"], "text");
  EXPECT_EQ(failed["result"]["content"][0]["text"], "disk full while writing");
  EXPECT_FALSE(failed.contains("error"));

  json unknown = one(request(5, "tools/call", {{"name", "nope"}, {"arguments", json::object()}}));
  EXPECT_EQ(unknown["error"]["code"], -32602);
  EXPECT_EQ(unknown["error"]["message"], "Unknown tool: nope");

  json ping = one(request(6, "ping"));
  EXPECT_EQ(ping["result"], json::object());
  EXPECT_EQ(tools.calls.load(), 2);
}

TEST_F(McpServerTest, InitializeNegotiatesTheVersion) {
  for (const std::string v : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    json r = one(request(1, "initialize", {{"protocolVersion", v}, {"capabilities", json::object()}}));
    EXPECT_EQ(r["result"]["protocolVersion"], v);
  }
  // Unknown versions, and 2026-07-28 (which has no initialize), get the latest legacy version.
  for (const std::string v : {"2026-07-28", "1999-01-01", "2024-10-07", ""}) {
    json r = one(request(1, "initialize", {{"protocolVersion", v}, {"capabilities", json::object()}}));
    EXPECT_EQ(r["result"]["protocolVersion"], "2025-11-25") << v;
  }
  expect_error(request(2, "initialize", json::object()), -32602, 2);
  expect_error(request(3, "initialize", {{"protocolVersion", 20251125}}), -32602, 3);
  expect_error(request(4, "initialize"), -32602, 4);
}

TEST_F(McpServerTest, InitializeCarriesInstructionsWhenSet) {
  server.set_instructions("Use send_email for mail.");
  json r = one(request(1, "initialize", {{"protocolVersion", "2025-06-18"}}));
  EXPECT_EQ(r["result"]["instructions"], "Use send_email for mail.");
}

TEST_F(McpServerTest, StructuredContentOnlyWhereTheVersionHasIt) {
  const std::vector<std::pair<std::string, bool>> cases{
      {"2024-11-05", false}, {"2025-03-26", false}, {"2025-06-18", true}, {"2025-11-25", true}};
  for (const auto& [version, structured] : cases) {
    initialize(version);
    json r = one(request(1, "tools/call", {{"name", "echo"}, {"arguments", {{"x", "y"}}}}));
    EXPECT_EQ(r["result"].contains("structuredContent"), structured) << version;
    EXPECT_EQ(r["result"]["content"][0]["text"], R"({"x":"y"})");
  }
}

TEST_F(McpServerTest, NonObjectOutputIsTextOnly) {
  initialize();
  json r = one(request(1, "tools/call", {{"name", "scalar"}}));
  EXPECT_EQ(r["result"]["content"][0]["text"], "42");
  EXPECT_FALSE(r["result"].contains("structuredContent"));
}

TEST_F(McpServerTest, RequestsBeforeInitialize) {
  // Pings are allowed before initialize; tool requests are not (-32602, see mcp_server.cc).
  EXPECT_EQ(one(request(1, "ping"))["result"], json::object());
  expect_error(request(2, "tools/list"), -32602, 2);
  expect_error(request(3, "tools/call", {{"name", "echo"}}), -32602, 3);
  expect_error(request(4, "resources/list"), -32601, 4);
  EXPECT_EQ(tools.calls.load(), 0);
}

TEST_F(McpServerTest, LegacyMethodErrors) {
  initialize();
  expect_error(request(1, "resources/list"), -32601, 1);
  expect_error(request(2, "logging/setLevel", {{"level", "info"}}), -32601, 2);
  expect_error(request(3, "tools/call", json::object()), -32602, 3);
  expect_error(request(4, "tools/call", {{"name", 7}}), -32602, 4);
  expect_error(request(5, "tools/call", {{"name", "echo"}, {"arguments", "x=1"}}), -32602, 5);
  expect_error(request(6, "tools/call", {{"name", "echo"}, {"arguments", json::array()}}), -32602, 6);
  expect_error(request(7, "tools/list", {{"cursor", "abc"}}), -32602, 7);
  expect_error(request(8, "server/discover"), -32602, 8);
  // arguments may be left out or null.
  EXPECT_EQ(one(request(9, "tools/call", {{"name", "echo"}}))["result"]["structuredContent"], json::object());
  EXPECT_EQ(one(request(10, "tools/call", {{"name", "echo"}, {"arguments", nullptr}}))["result"]["structuredContent"],
            json::object());
  EXPECT_TRUE(one(request(11, "tools/list", {{"cursor", nullptr}}))["result"].contains("tools"));
}

TEST_F(McpServerTest, AServiceExceptionIsAnInternalErrorAndServingGoesOn) {
  initialize();
  json r = one(request(1, "tools/call", {{"name", "throw"}}));
  EXPECT_EQ(r["error"]["code"], -32603);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("service exploded"), std::string::npos);
  EXPECT_EQ(one(request(2, "ping"))["result"], json::object());
}

// --- 2026-07-28 (stateless) conversations ------------------------------------------------------

TEST_F(McpServerTest, ModernConversation) {
  server.set_instructions("Tools from profile ops.");
  json d = one(request("d-1", "server/discover", modern()));
  EXPECT_EQ(d["id"], "d-1");
  const json& dr = d["result"];
  EXPECT_EQ(dr["resultType"], "complete");
  EXPECT_EQ(dr["supportedVersions"], json({"2026-07-28"}));
  EXPECT_EQ(dr["capabilities"], json({{"tools", json::object()}}));
  EXPECT_EQ(dr["instructions"], "Tools from profile ops.");
  EXPECT_EQ(dr["_meta"]["io.modelcontextprotocol/serverInfo"], json({{"name", "paddock"}, {"version", "0.1.0"}}));
  EXPECT_EQ(dr["serverInfo"], json({{"name", "paddock"}, {"version", "0.1.0"}}));
  EXPECT_EQ(dr["ttlMs"], McpServer::kListTtlMs);
  EXPECT_EQ(dr["cacheScope"], "private");

  json list = one(request(2, "tools/list", modern()));
  EXPECT_EQ(list["result"]["tools"].size(), 5u);
  EXPECT_EQ(list["result"]["resultType"], "complete");
  EXPECT_EQ(list["result"]["ttlMs"], McpServer::kListTtlMs);
  EXPECT_EQ(list["result"]["cacheScope"], "private");
  EXPECT_EQ(list["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "paddock");

  json call = one(request(3, "tools/call", modern({{"name", "echo"}, {"arguments", {{"x", "1"}}}})));
  EXPECT_EQ(call["result"]["resultType"], "complete");
  EXPECT_EQ(call["result"]["structuredContent"], json({{"x", "1"}}));
  EXPECT_EQ(call["result"]["content"][0]["text"], R"({"x":"1"})");
  EXPECT_EQ(call["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["version"], "0.1.0");

  json failed = one(request(4, "tools/call", modern({{"name", "fail"}})));
  EXPECT_EQ(failed["result"]["isError"], true);
  EXPECT_EQ(failed["result"]["resultType"], "complete");

  json unknown = one(request(5, "tools/call", modern({{"name", "nope"}})));
  EXPECT_EQ(unknown["error"]["code"], -32602);
  EXPECT_EQ(unknown["error"]["message"], "Unknown tool: nope");
}

TEST_F(McpServerTest, ModernRequestsNeedTheirMeta) {
  // No initialize, no _meta: malformed for 2026-07-28 (-32602).
  expect_error(request(1, "tools/list"), -32602, 1);
  expect_error(request(2, "server/discover"), -32602, 2);
  expect_error(request(3, "server/discover", json{{"_meta", json::object()}}), -32602, 3);
  json meta = kModernMeta;
  meta.erase("io.modelcontextprotocol/clientCapabilities");
  expect_error(request(4, "tools/list", {{"_meta", meta}}), -32602, 4);
  meta = kModernMeta;
  meta.erase("io.modelcontextprotocol/protocolVersion");
  expect_error(request(5, "tools/list", {{"_meta", meta}}), -32602, 5);
  meta = kModernMeta;
  meta["io.modelcontextprotocol/protocolVersion"] = 20260728;
  expect_error(request(6, "tools/list", {{"_meta", meta}}), -32602, 6);
  meta = kModernMeta;
  meta["io.modelcontextprotocol/clientCapabilities"] = "all";
  expect_error(request(7, "tools/list", {{"_meta", meta}}), -32602, 7);
  // clientInfo is optional.
  meta = kModernMeta;
  meta.erase("io.modelcontextprotocol/clientInfo");
  EXPECT_TRUE(one(request(8, "tools/list", {{"_meta", meta}}))["result"].contains("tools"));
  EXPECT_EQ(tools.calls.load(), 0);
}

TEST_F(McpServerTest, ModernUnsupportedVersion) {
  for (const std::string v : {"2025-11-25", "2099-01-01", ""}) {
    json meta = kModernMeta;
    meta["io.modelcontextprotocol/protocolVersion"] = v;
    for (const std::string method : {"server/discover", "tools/list", "tools/call"}) {
      json r = one(request(1, method, {{"name", "echo"}, {"_meta", meta}}));
      EXPECT_EQ(r["error"]["code"], -32022) << v << " " << method;
      EXPECT_EQ(r["error"]["data"]["supported"], json({"2026-07-28"}));
      EXPECT_EQ(r["error"]["data"]["requested"], v);
    }
  }
  // The version is checked before the other fields.
  json meta{{"io.modelcontextprotocol/protocolVersion", "2030-01-01"}};
  EXPECT_EQ(one(request(2, "tools/list", {{"_meta", meta}}))["error"]["code"], -32022);
  EXPECT_EQ(tools.calls.load(), 0);
}

TEST_F(McpServerTest, ModernRemovedMethods) {
  expect_error(request(1, "ping", modern()), -32601, 1);
  expect_error(request(2, "logging/setLevel", modern({{"level", "info"}})), -32601, 2);
  expect_error(request(3, "resources/list", modern()), -32601, 3);
}

TEST_F(McpServerTest, ModernRequestsIgnoreEarlierRequests) {
  // A legacy session at 2024-11-05 changes nothing for a request that carries its own _meta...
  initialize("2024-11-05");
  json call = one(request(1, "tools/call", modern({{"name", "echo"}, {"arguments", {{"a", 1}}}})));
  EXPECT_EQ(call["result"]["resultType"], "complete");
  EXPECT_EQ(call["result"]["structuredContent"], json({{"a", 1}}));
  // ...and the legacy session keeps its own rules.
  json legacy = one(request(2, "tools/call", {{"name", "echo"}, {"arguments", {{"a", 1}}}}));
  EXPECT_FALSE(legacy["result"].contains("resultType"));
  EXPECT_FALSE(legacy["result"].contains("structuredContent"));
}

TEST_F(McpServerTest, ModernRequestsLeaveNoState) {
  EXPECT_TRUE(one(request(1, "server/discover", modern())).contains("result"));
  EXPECT_TRUE(one(request(2, "tools/list", modern())).contains("result"));
  // A request without _meta is not served on the strength of the earlier ones.
  expect_error(request(3, "tools/list"), -32602, 3);
  // Nor does a rejected version stick.
  json meta = kModernMeta;
  meta["io.modelcontextprotocol/protocolVersion"] = "2099-01-01";
  EXPECT_EQ(one(request(4, "tools/list", {{"_meta", meta}}))["error"]["code"], -32022);
  EXPECT_TRUE(one(request(5, "tools/list", modern())).contains("result"));
}

// --- Malformed messages ------------------------------------------------------------------------

TEST_F(McpServerTest, ParseErrors) {
  const std::vector<std::string> bad_lines{"{",
                                           R"({"jsonrpc":"2.0","id":1,"method":"ping")",
                                           "nul",
                                           "{'a':1}",
                                           R"({"id":1,"method":"ping",})",
                                           "\x01",
                                           "{\"a\":\"\xff\"}",
                                           std::string("{\"a\":1}\0", 8)};
  for (const std::string& bad : bad_lines) {
    expect_error(bad, -32700, nullptr);
  }
}

TEST_F(McpServerTest, NotARequest) {
  for (const std::string bad :
       {"42", R"("ping")", "null", "true", "{}", R"({"jsonrpc":"2.0"})", R"({"jsonrpc":"2.0","params":{}})"}) {
    expect_error(bad, -32600, nullptr);
  }
}

TEST_F(McpServerTest, InvalidIds) {
  for (const std::string id : {"null", "1.5", "1e2", "true", "[1]", R"({"a":1})", "18446744073709551616"}) {
    expect_error(R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"ping"})", -32600, nullptr);
  }
}

TEST_F(McpServerTest, InvalidRequestsWithAReadableId) {
  expect_error(R"({"jsonrpc":"1.0","id":7,"method":"ping"})", -32600, 7);
  expect_error(R"({"id":7,"method":"ping"})", -32600, 7);
  expect_error(R"({"jsonrpc":2.0,"id":"x","method":"ping"})", -32600, "x");
  expect_error(R"({"jsonrpc":"2.0","id":7})", -32600, 7);
  expect_error(R"({"jsonrpc":"2.0","id":7,"method":5})", -32600, 7);
  expect_error(R"({"jsonrpc":"2.0","id":7,"method":"ping","params":5})", -32600, 7);
  expect_error(R"({"jsonrpc":"2.0","id":7,"method":"ping","params":"x"})", -32600, 7);
  expect_error(R"({"jsonrpc":"2.0","id":7,"method":"ping","params":[]})", -32602, 7);
  expect_error(R"({"jsonrpc":"2.0","id":7,"method":"no/such"})", -32601, 7);
  // params: null reads as no params.
  EXPECT_EQ(one(R"({"jsonrpc":"2.0","id":7,"method":"ping","params":null})")["result"], json::object());
}

TEST_F(McpServerTest, TooDeepAndTooLong) {
  expect_error(std::string(1000, '[') + std::string(1000, ']'), -32600, nullptr);
  std::string nested = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":)" + std::string(200, '[') +
                       std::string(200, ']') + "}}";
  expect_error(nested, -32600, nullptr);
  std::string huge = request(2, "ping", {{"pad", std::string(McpServer::kMaxLineBytes, 'x')}});
  json r = one(huge);
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("longer than"), std::string::npos);
  EXPECT_EQ(one(request(3, "ping"))["result"], json::object());
}

TEST_F(McpServerTest, BlankLinesAndCrLf) {
  EXPECT_TRUE(server.handle_line("").empty());
  EXPECT_TRUE(server.handle_line("  \t\r").empty());
  EXPECT_EQ(one(request(1, "ping") + "\r")["id"], 1);
}

TEST_F(McpServerTest, ResponsesFromTheClientAreDropped) {
  EXPECT_TRUE(server.handle_line(R"({"jsonrpc":"2.0","id":1,"result":{}})").empty());
  EXPECT_TRUE(server.handle_line(R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}})").empty());
}

// --- ids and notifications ---------------------------------------------------------------------

TEST_F(McpServerTest, IdsAreEchoedExactly) {
  initialize();
  for (const std::string id : {R"("abc")", R"("")", R"("1")", "0", "-3", "9007199254740993", "18446744073709551615",
                               R"("ünïcode \"quoted\"")"}) {
    std::vector<std::string> out = server.handle_line(R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"ping"})");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].find(R"("id":)" + id), std::string::npos) << out[0];
    out = server.handle_line(R"({"jsonrpc":"2.0","id":)" + id +
                             R"(,"method":"tools/call","params":{"name":"echo","arguments":{}}})");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].find(R"("id":)" + id), std::string::npos) << out[0];
  }
  EXPECT_EQ(one(request("1", "ping"))["id"], "1");
  EXPECT_EQ(one(request(1, "ping"))["id"], 1);
}

TEST_F(McpServerTest, NotificationsAreNeverAnswered) {
  for (const std::string& n :
       {notification("notifications/initialized"), notification("notifications/cancelled", {{"requestId", 99}}),
        notification("notifications/cancelled", {{"requestId", nullptr}}), notification("notifications/cancelled"),
        notification("notifications/cancelled", json::array()), notification("notifications/whatever"),
        notification("tools/call", {{"name", "echo"}}), notification("ping"),
        std::string(R"({"jsonrpc":"1.0","method":"ping"})"), std::string(R"({"method":"tools/list","params":5})")}) {
    EXPECT_TRUE(server.handle_line(n).empty()) << n;
  }
  initialize();
  EXPECT_TRUE(server.handle_line(notification("tools/call", {{"name", "echo"}})).empty());
  EXPECT_TRUE(server.handle_line(notification("tools/call", modern({{"name", "echo"}}))).empty());
  EXPECT_EQ(tools.calls.load(), 0);
}

// --- Batches (2025-03-26 only) -----------------------------------------------------------------

TEST_F(McpServerTest, BatchesOnlyFor20250326) {
  const std::string batch = "[" + request(1, "ping") + "," + request(2, "ping") + "]";
  expect_error(batch, -32600, nullptr);  // not initialized
  initialize("2025-06-18");
  expect_error(batch, -32600, nullptr);
  initialize("2025-11-25");
  expect_error(batch, -32600, nullptr);

  initialize("2025-03-26");
  std::vector<std::string> out = server.handle_line(
      "[" + request(1, "ping") + "," + notification("notifications/initialized") + "," +
      request("c", "tools/call", {{"name", "echo"}, {"arguments", {{"k", 1}}}}) + "," + request(3, "no/such") + "]");
  ASSERT_EQ(out.size(), 1u);
  json arr = json::parse(out[0]);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 3u);
  std::map<std::string, json> by_id;
  for (const json& r : arr) by_id[r["id"].dump()] = r;
  EXPECT_EQ(by_id["1"]["result"], json::object());
  EXPECT_EQ(by_id[R"("c")"]["result"]["content"][0]["text"], R"({"k":1})");
  EXPECT_EQ(by_id["3"]["error"]["code"], -32601);

  expect_error("[]", -32600, nullptr);
  EXPECT_TRUE(server.handle_line("[" + notification("notifications/initialized") + "]").empty());
  out = server.handle_line("[" + request(5, "initialize", {{"protocolVersion", "2025-03-26"}}) + ",42]");
  ASSERT_EQ(out.size(), 1u);
  arr = json::parse(out[0]);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0]["error"]["code"], -32600);
  EXPECT_EQ(arr[0]["id"], 5);
  EXPECT_EQ(arr[1]["error"]["code"], -32600);
  EXPECT_EQ(arr[1]["id"], nullptr);
}

// --- serve(): the stdio loop -------------------------------------------------------------------

// The client's end of a socketpair, reading whole lines with a timeout.
class Client {
 public:
  explicit Client(int fd) : fd_(fd) {}
  void send(const std::string& line) {
    std::string data = line + "\n";
    ASSERT_EQ(::write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  std::optional<json> receive(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return json::parse(line);
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char chunk[4096];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  void end_input() { ::shutdown(fd_, SHUT_WR); }

 private:
  int fd_;
  std::string buffer_;
};

class McpServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    client_fd = fds[0];
    server_fd = fds[1];
    client = Client(client_fd);
    status = std::async(std::launch::async, [this] {
      int s = server.serve(server_fd, server_fd);
      ::shutdown(server_fd, SHUT_WR);  // the client sees end of output once serve() returned
      return s;
    });
  }
  void TearDown() override {
    if (status.valid()) {
      ::shutdown(client_fd, SHUT_WR);
      tools.released = true;
      status.wait();
    }
    ::close(client_fd);
    ::close(server_fd);
  }
  int finish() {
    client.end_input();
    if (status.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "serve() did not return at end of input";
      tools.released = true;
    }
    return status.get();
  }

  FakeTools tools;
  McpServer server{tools, "paddock", "0.1.0"};
  int client_fd = -1, server_fd = -1;
  Client client{-1};
  std::future<int> status;
};

TEST_F(McpServeTest, EndOfInputEndsServeWithZero) {
  EXPECT_EQ(finish(), 0);
  EXPECT_FALSE(client.receive(100ms).has_value());
}

TEST_F(McpServeTest, Conversation) {
  client.send(request(1, "initialize", {{"protocolVersion", "2025-06-18"}}));
  EXPECT_EQ((*client.receive())["result"]["protocolVersion"], "2025-06-18");
  client.send(notification("notifications/initialized"));
  client.send("{not json");
  json parse_error = *client.receive();
  EXPECT_EQ(parse_error["error"]["code"], -32700);
  client.send(request(2, "tools/call", {{"name", "echo"}, {"arguments", {{"q", 1}}}}));
  EXPECT_EQ((*client.receive())["result"]["structuredContent"], json({{"q", 1}}));
  // A last line without a newline is still answered at end of input.
  const std::string last = request(3, "ping");
  ASSERT_EQ(::write(client_fd, last.data(), last.size()), static_cast<ssize_t>(last.size()));
  EXPECT_EQ(finish(), 0);
  EXPECT_EQ((*client.receive())["id"], 3);
  EXPECT_FALSE(client.receive(100ms).has_value());
}

TEST_F(McpServeTest, CancelledCallGetsNoResponseAndServingGoesOn) {
  client.send(request(1, "initialize", {{"protocolVersion", "2025-11-25"}}));
  ASSERT_TRUE(client.receive().has_value());
  client.send(request("slow-1", "tools/call", {{"name", "slow"}}));
  ASSERT_TRUE(tools.wait_started(1));
  client.send(notification("notifications/cancelled", {{"requestId", "slow-1"}, {"reason", "user"}}));
  client.send(request(2, "ping"));
  json next = *client.receive();
  EXPECT_EQ(next["id"], 2);
  EXPECT_EQ(finish(), 0);
  EXPECT_TRUE(tools.saw_cancel.load());
  EXPECT_FALSE(client.receive(200ms).has_value()) << "the cancelled call was answered";
}

TEST_F(McpServeTest, ModernCancellationToo) {
  client.send(request(7, "tools/call", modern({{"name", "slow"}})));
  ASSERT_TRUE(tools.wait_started(1));
  client.send(notification("notifications/cancelled", {{"requestId", 7}}));
  client.send(request(8, "tools/list", modern()));
  EXPECT_EQ((*client.receive())["id"], 8);
  EXPECT_EQ(finish(), 0);
  EXPECT_TRUE(tools.saw_cancel.load());
  EXPECT_FALSE(client.receive(200ms).has_value());
}

TEST_F(McpServeTest, OtherRequestsAreAnsweredWhileACallRuns) {
  client.send(request(1, "initialize", {{"protocolVersion", "2025-11-25"}}));
  ASSERT_TRUE(client.receive().has_value());
  client.send(request(10, "tools/call", {{"name", "slow"}}));
  ASSERT_TRUE(tools.wait_started(1));
  client.send(request(11, "ping"));
  EXPECT_EQ((*client.receive())["id"], 11);
  // The same id again while the first call runs is refused.
  client.send(request(10, "tools/call", {{"name", "echo"}}));
  json dup = *client.receive();
  EXPECT_EQ(dup["id"], 10);
  EXPECT_EQ(dup["error"]["code"], -32600);
  // Cancelling an unknown id changes nothing.
  client.send(notification("notifications/cancelled", {{"requestId", 12}}));
  tools.released = true;
  json done = *client.receive();
  EXPECT_EQ(done["id"], 10);
  EXPECT_EQ(done["result"]["structuredContent"], json({{"done", true}}));
  EXPECT_FALSE(tools.saw_cancel.load());
  EXPECT_EQ(finish(), 0);
}

TEST_F(McpServeTest, CallsStillRunningAtEndOfInputAreAnswered) {
  client.send(request(1, "tools/call", modern({{"name", "slow"}})));
  client.send(request(2, "tools/call", modern({{"name", "slow"}})));
  ASSERT_TRUE(tools.wait_started(2));
  client.end_input();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(status.wait_for(0s), std::future_status::timeout) << "serve() returned with calls running";
  tools.released = true;
  EXPECT_EQ(finish(), 0);
  std::set<int> ids;
  for (int i = 0; i < 2; ++i) {
    auto r = client.receive();
    ASSERT_TRUE(r.has_value());
    ids.insert((*r)["id"].get<int>());
  }
  EXPECT_EQ(ids, (std::set<int>{1, 2}));
}

TEST_F(McpServeTest, OverlongLineIsRefusedAndServingGoesOn) {
  std::thread writer([this] {
    std::string big(McpServer::kMaxLineBytes + 1000, 'x');
    std::string_view rest = big;
    while (!rest.empty()) {
      ssize_t n = ::write(client_fd, rest.data(), rest.size());
      if (n <= 0) return;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    client.send("");  // the newline that ends the long line
    client.send(request(2, "ping"));
  });
  json refused = *client.receive(10s);
  writer.join();
  EXPECT_EQ(refused["error"]["code"], -32600);
  EXPECT_EQ(refused["id"], nullptr);
  EXPECT_EQ((*client.receive())["id"], 2);
  EXPECT_EQ(finish(), 0);
}

// serve() with pipes whose reading end of the output is closed: no SIGPIPE death, status 1.
TEST(McpServePipes, ClosedOutputEndsServeWithOne) {
  int in[2], out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ::close(out[0]);
  FakeTools tools;
  McpServer server(tools, "paddock", "0.1.0");
  auto status = std::async(std::launch::async, [&] { return server.serve(in[0], out[1]); });
  const std::string line = request(1, "ping") + "\n";
  ASSERT_EQ(::write(in[1], line.data(), line.size()), static_cast<ssize_t>(line.size()));
  // serve() stops on its own, while its input is still open.
  ASSERT_EQ(status.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(status.get(), 1);
  ::close(in[1]);
  ::close(in[0]);
  ::close(out[1]);
}

}  // namespace
}  // namespace paddock
