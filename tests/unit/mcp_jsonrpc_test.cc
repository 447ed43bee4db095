// JSON-RPC helpers of the MCP server: nesting check, id rules, one-line serialization.
#include <gtest/gtest.h>

#include <string>

#include "mcp/jsonrpc.h"

namespace paddock::jsonrpc {
namespace {

using nlohmann::json;

TEST(McpJsonRpc, NestingCountsBracketsOutsideStrings) {
  EXPECT_TRUE(nesting_within("{}", 1));
  EXPECT_FALSE(nesting_within("[[]]", 1));
  EXPECT_TRUE(nesting_within("[[]]", 2));
  // Brackets inside strings, including after escaped quotes, are text.
  EXPECT_TRUE(nesting_within(R"({"a":"[[[[\"[[[["})", 1));
  EXPECT_TRUE(nesting_within(R"(["\\", {}])", 2));
  EXPECT_FALSE(nesting_within(R"(["\\", [[]]])", 2));
  // Unbalanced closers are left to the parser.
  EXPECT_TRUE(nesting_within("]]]]{", 1));
  EXPECT_FALSE(nesting_within(std::string(200, '['), kMaxNestingDepth));
}

TEST(McpJsonRpc, IdsAreStringsOrIntegers) {
  EXPECT_TRUE(valid_id(json("a")));
  EXPECT_TRUE(valid_id(json(7)));
  EXPECT_TRUE(valid_id(json(-7)));
  EXPECT_TRUE(valid_id(json::parse("18446744073709551615")));
  EXPECT_FALSE(valid_id(json(nullptr)));
  EXPECT_FALSE(valid_id(json(1.5)));
  EXPECT_FALSE(valid_id(json::parse("1e2")));
  EXPECT_FALSE(valid_id(json(true)));
  EXPECT_FALSE(valid_id(json::array()));
  EXPECT_FALSE(valid_id(json::object()));
}

TEST(McpJsonRpc, ErrorsCarryDataOnlyWhenGiven) {
  json e = error(1, kInvalidParams, "bad");
  EXPECT_EQ(e["error"]["code"], kInvalidParams);
  EXPECT_FALSE(e["error"].contains("data"));
  e = error("x", kUnsupportedProtocolVersion, "v", json{{"supported", {"2026-07-28"}}});
  EXPECT_EQ(e["id"], "x");
  EXPECT_EQ(e["error"]["data"]["supported"][0], "2026-07-28");
  EXPECT_EQ(result(nullptr, json::object())["jsonrpc"], "2.0");
}

TEST(McpJsonRpc, SerializeIsOneLineAndSurvivesInvalidUtf8) {
  std::string line = serialize(json{{"text", "a\nb\r\n\xff\xfe"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  json parsed;
  EXPECT_NO_THROW(parsed = json::parse(line));
  EXPECT_EQ(parsed["text"].get<std::string>().substr(0, 5), "a\nb\r\n");
}

}  // namespace
}  // namespace paddock::jsonrpc
