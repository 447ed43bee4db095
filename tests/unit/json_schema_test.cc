#include "tools/json_schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "test_util.h"
#include "util/error.h"

namespace paddock {
namespace {

using nlohmann::json;
using test::error_of;

// The error of validating `input` (JSON text) against `schema` (JSON text); "" when valid.
std::string check(const std::string& schema, const std::string& input) {
  JsonSchema s(json::parse(schema));
  auto e = s.validate(json::parse(input));
  return e ? *e : "";
}

std::string schema_error(const std::string& schema) {
  return error_of([&] { JsonSchema s(json::parse(schema)); });
}

// ---------------------------------------------------------------------------------------------
// The example tool from DESIGN.md

constexpr const char* kSendEmail = R"({"type":"object",
  "properties":{"to":{"type":"string"},"body":{"type":"string"}},"required":["to","body"]})";

TEST(JsonSchema, DesignExample) {
  EXPECT_EQ(check(kSendEmail, R"({"to":"a@example.com","body":"hi"})"), "");
  EXPECT_EQ(check(kSendEmail, R"({"to":5,"body":"hi"})"), "/to: expected string, got number");
  EXPECT_EQ(check(kSendEmail, R"({"body":"hi"})"), "/to: required property missing");
  EXPECT_EQ(check(kSendEmail, R"(["a"])"), "(root): expected object, got array");
  // Without additionalProperties, extra properties are allowed (JSON Schema's default).
  EXPECT_EQ(check(kSendEmail, R"({"to":"a","body":"b","cc":"c"})"), "");
}

// ---------------------------------------------------------------------------------------------
// type

TEST(JsonSchema, EachType) {
  EXPECT_EQ(check(R"({"type":"null"})", "null"), "");
  EXPECT_EQ(check(R"({"type":"boolean"})", "true"), "");
  EXPECT_EQ(check(R"({"type":"object"})", "{}"), "");
  EXPECT_EQ(check(R"({"type":"array"})", "[]"), "");
  EXPECT_EQ(check(R"({"type":"string"})", R"("")"), "");
  EXPECT_EQ(check(R"({"type":"number"})", "1.5"), "");
  EXPECT_EQ(check(R"({"type":"number"})", "-3"), "");
  EXPECT_EQ(check(R"({"type":"integer"})", "-3"), "");
  EXPECT_EQ(check(R"({"type":"integer"})", "18446744073709551615"), "");
  EXPECT_EQ(check(R"({"type":"boolean"})", "0"), "(root): expected boolean, got number");
  EXPECT_EQ(check(R"({"type":"null"})", "false"), "(root): expected null, got boolean");
  EXPECT_EQ(check(R"({"type":"string"})", "null"), "(root): expected string, got null");
  EXPECT_EQ(check(R"({"type":"object"})", R"("x")"), "(root): expected object, got string");
}

TEST(JsonSchema, IntegerAcceptsWholeFloatsOnly) {
  EXPECT_EQ(check(R"({"type":"integer"})", "2.0"), "");
  EXPECT_EQ(check(R"({"type":"integer"})", "2.5"), "(root): expected integer, got number with a fraction");
  EXPECT_EQ(check(R"({"type":"integer"})", R"("2")"), "(root): expected integer, got string");
}

TEST(JsonSchema, TypeArrays) {
  const char* s = R"({"type":["string","null"]})";
  EXPECT_EQ(check(s, R"("x")"), "");
  EXPECT_EQ(check(s, "null"), "");
  EXPECT_EQ(check(s, "1"), "(root): expected string or null, got number");
  EXPECT_EQ(check(R"({"type":["object","array","integer"]})", "true"),
            "(root): expected object, array or integer, got boolean");
}

// ---------------------------------------------------------------------------------------------
// objects

TEST(JsonSchema, NestedPointers) {
  const char* s = R"({"type":"object","properties":{"a":{"type":"object","properties":{
      "list":{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"}}}}}}}})";
  EXPECT_EQ(check(s, R"({"a":{"list":[{"n":1},{"n":2}]}})"), "");
  EXPECT_EQ(check(s, R"({"a":{"list":[{"n":1},{"n":"x"}]}})"), "/a/list/1/n: expected integer, got string");
}

TEST(JsonSchema, PointerEscapesKeys) {
  const char* s = R"({"properties":{"a/b":{"type":"string"},"t~x":{"type":"string"}}})";
  EXPECT_EQ(check(s, R"({"a/b":1})"), "/a~1b: expected string, got number");
  EXPECT_EQ(check(s, R"({"t~x":1})"), "/t~0x: expected string, got number");
}

TEST(JsonSchema, HostileKeysStayOneLine) {
  const char* s = R"({"additionalProperties":false})";
  auto e = check(s, R"({"line\nbreak":1})");
  EXPECT_EQ(e, "/line\\u000abreak: unknown property (additionalProperties is false)");
  auto long_key = std::string(10000, 'k');
  e = check(s, "{\"" + long_key + "\":1}");
  EXPECT_LT(e.size(), 200u) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(JsonSchema, AdditionalPropertiesFalse) {
  const char* s = R"({"type":"object","properties":{"a":{}},"additionalProperties":false})";
  EXPECT_EQ(check(s, R"({"a":1})"), "");
  EXPECT_EQ(check(s, R"({"a":1,"b":2})"), "/b: unknown property (additionalProperties is false)");
}

TEST(JsonSchema, AdditionalPropertiesSchema) {
  const char* s = R"({"properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}})";
  EXPECT_EQ(check(s, R"({"a":"x","b":2,"c":3})"), "");
  EXPECT_EQ(check(s, R"({"a":"x","b":"two"})"), "/b: expected integer, got string");
  EXPECT_EQ(check(R"({"additionalProperties":true})", R"({"z":[]})"), "");
}

TEST(JsonSchema, RequiredInDeclaredOrder) {
  const char* s = R"({"required":["b","a"]})";
  EXPECT_EQ(check(s, "{}"), "/b: required property missing");
  EXPECT_EQ(check(s, R"({"b":null})"), "/a: required property missing");
  // required only applies to objects.
  EXPECT_EQ(check(s, "3"), "");
}

TEST(JsonSchema, PropertyCounts) {
  const char* s = R"({"minProperties":1,"maxProperties":2})";
  EXPECT_EQ(check(s, "{}"), "(root): must have at least 1 properties");
  EXPECT_EQ(check(s, R"({"a":1,"b":2,"c":3})"), "(root): must have at most 2 properties");
  EXPECT_EQ(check(s, R"({"a":1})"), "");
}

// ---------------------------------------------------------------------------------------------
// arrays

TEST(JsonSchema, Items) {
  const char* s = R"({"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3})";
  EXPECT_EQ(check(s, R"(["a","b"])"), "");
  EXPECT_EQ(check(s, "[]"), "(root): must have at least 1 items");
  EXPECT_EQ(check(s, R"(["a","b","c","d"])"), "(root): must have at most 3 items");
  EXPECT_EQ(check(s, R"(["a",2])"), "/1: expected string, got number");
  EXPECT_EQ(check(R"({"items":false})", "[]"), "");
  EXPECT_EQ(check(R"({"items":false})", "[1]"), "/0: no value is allowed here");
}

TEST(JsonSchema, UniqueItems) {
  const char* s = R"({"uniqueItems":true})";
  EXPECT_EQ(check(s, R"([1,"1",[1],{"a":1}])"), "");
  EXPECT_EQ(check(s, R"([1,2,1])"), "(root): items 0 and 2 are equal (uniqueItems)");
  EXPECT_EQ(check(s, R"([1,1.0])"), "(root): items 0 and 1 are equal (uniqueItems)");
  EXPECT_EQ(check(s, R"([{"a":[1]},{"a":[1]}])"), "(root): items 0 and 1 are equal (uniqueItems)");
  EXPECT_EQ(check(R"({"uniqueItems":false})", "[1,1]"), "");
}

// ---------------------------------------------------------------------------------------------
// strings

TEST(JsonSchema, LengthCountsCodePoints) {
  const char* s = R"({"minLength":2,"maxLength":3})";
  EXPECT_EQ(check(s, R"("ab")"), "");
  EXPECT_EQ(check(s, R"("a")"), "(root): must be at least 2 characters long");
  EXPECT_EQ(check(s, R"("abcd")"), "(root): must be at most 3 characters long");
  // "héé" is 5 bytes but 3 characters.
  EXPECT_EQ(check(s, "\"h\xC3\xA9\xC3\xA9\""), "");
  // One emoji (4 bytes, one code point) is too short.
  EXPECT_EQ(check(s, "\"\xF0\x9F\x98\x80\""), "(root): must be at least 2 characters long");
  // Length keywords ignore other types.
  EXPECT_EQ(check(s, "1"), "");
}

TEST(JsonSchema, Pattern) {
  const char* s = R"({"pattern":"^[a-z]+@example\\.com$"})";
  EXPECT_EQ(check(s, R"("bob@example.com")"), "");
  EXPECT_EQ(check(s, R"("bob@evil.com")"), "(root): does not match pattern \"^[a-z]+@example\\.com$\"");
  // Not anchored unless the pattern says so.
  EXPECT_EQ(check(R"({"pattern":"b+"})", R"("abbbc")"), "");
  EXPECT_EQ(check(R"({"pattern":"b+"})", "3"), "");
}

TEST(JsonSchema, PatternSubjectIsCapped) {
  JsonSchema s(json::parse(R"({"pattern":"x"})"));
  EXPECT_FALSE(s.validate(json(std::string(10000, 'x'))));
  auto e = s.validate(json(std::string(10001, 'x')));
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "(root): string of 10001 bytes is too long to check against a pattern (limit 10000)");
}

TEST(JsonSchema, CatastrophicPatternIsFast) {
  // Exponential for a backtracking matcher; the breadth-first one finishes quickly.
  JsonSchema s(json::parse(R"({"pattern":"^(a+)+$"})"));
  auto start = std::chrono::steady_clock::now();
  auto e = s.validate(json(std::string(5000, 'a') + "!"));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(e);
  EXPECT_NE(e->find("does not match pattern"), std::string::npos);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(JsonSchema, LongSubjectDoesNotOverflowTheStack) {
  JsonSchema s(json::parse(R"({"pattern":"^(.|\\n)*$"})"));
  EXPECT_FALSE(s.validate(json(std::string(10000, 'q'))));
}

// ---------------------------------------------------------------------------------------------
// numbers

TEST(JsonSchema, Bounds) {
  const char* s = R"({"minimum":1,"maximum":10})";
  EXPECT_EQ(check(s, "1"), "");
  EXPECT_EQ(check(s, "10"), "");
  EXPECT_EQ(check(s, "0.5"), "(root): must be >= 1");
  EXPECT_EQ(check(s, "10.01"), "(root): must be <= 10");
  const char* x = R"({"exclusiveMinimum":0,"exclusiveMaximum":1.5})";
  EXPECT_EQ(check(x, "0.1"), "");
  EXPECT_EQ(check(x, "0"), "(root): must be > 0");
  EXPECT_EQ(check(x, "1.5"), "(root): must be < 1.5");
  EXPECT_EQ(check(x, R"("0")"), "");
}

TEST(JsonSchema, BoundsCompareLargeIntegersExactly) {
  // 2^63 and 2^63+1 are the same double.
  const char* s = R"({"maximum":9223372036854775808})";
  EXPECT_EQ(check(s, "9223372036854775808"), "");
  EXPECT_EQ(check(s, "9223372036854775809"), "(root): must be <= 9223372036854775808");
  EXPECT_EQ(check(R"({"minimum":-9223372036854775808})", "-9223372036854775808"), "");
  EXPECT_EQ(check(R"({"minimum":-5})", "18446744073709551615"), "");
  EXPECT_EQ(check(R"({"maximum":-5})", "18446744073709551615"), "(root): must be <= -5");
}

TEST(JsonSchema, Draft4ExclusiveBooleans) {
  const char* s = R"({"minimum":0,"exclusiveMinimum":true,"maximum":5,"exclusiveMaximum":false})";
  EXPECT_EQ(check(s, "0"), "(root): must be > 0");
  EXPECT_EQ(check(s, "5"), "");
  EXPECT_EQ(schema_error(R"({"exclusiveMinimum":true})"),
            "input schema (root): exclusiveMinimum: a boolean needs a minimum");
}

// ---------------------------------------------------------------------------------------------
// enum, const

TEST(JsonSchema, EnumAndConst) {
  const char* e = R"({"enum":["red","green",3,null,{"a":[1]}]})";
  EXPECT_EQ(check(e, R"("red")"), "");
  EXPECT_EQ(check(e, "3.0"), "");
  EXPECT_EQ(check(e, "null"), "");
  EXPECT_EQ(check(e, R"({"a":[1]})"), "");
  EXPECT_EQ(check(e, R"("blue")"), R"((root): must be one of "red", "green", 3, null, {"a":[1]})");
  EXPECT_EQ(check(R"({"const":"x"})", R"("x")"), "");
  EXPECT_EQ(check(R"({"const":"x"})", R"("y")"), R"((root): must be "x")");
  EXPECT_EQ(check(R"({"const":true})", "1"), "(root): must be true");
}

// ---------------------------------------------------------------------------------------------
// combinators, $ref, boolean schemas

TEST(JsonSchema, AllOf) {
  const char* s = R"({"allOf":[{"type":"string"},{"minLength":3}]})";
  EXPECT_EQ(check(s, R"("abc")"), "");
  EXPECT_EQ(check(s, R"("ab")"), "(root): must be at least 3 characters long");
}

TEST(JsonSchema, AnyOfExplainsEachAlternative) {
  const char* s = R"({"properties":{"id":{"anyOf":[{"type":"string"},{"type":"integer","minimum":1}]}}})";
  EXPECT_EQ(check(s, R"({"id":"x"})"), "");
  EXPECT_EQ(check(s, R"({"id":4})"), "");
  EXPECT_EQ(check(s, R"({"id":0})"),
            "/id: matches none of the anyOf alternatives: [0] /id: expected string, got number; [1] /id: must be >= 1");
}

TEST(JsonSchema, OneOfNeedsExactlyOne) {
  const char* s = R"({"oneOf":[{"type":"integer"},{"minimum":0}]})";
  EXPECT_EQ(check(s, "-1"), "");
  EXPECT_EQ(check(s, "0.5"), "");
  EXPECT_EQ(check(s, "1"), "(root): matches more than one oneOf alternative (0 and 1); exactly one must match");
  EXPECT_EQ(check(s, "-0.5"),
            "(root): matches none of the oneOf alternatives: [0] (root): expected integer, got number with a "
            "fraction; [1] (root): must be >= 0");
}

TEST(JsonSchema, DiscriminatedUnion) {
  const char* s = R"({"oneOf":[
      {"type":"object","properties":{"kind":{"const":"email"},"to":{"type":"string"}},"required":["kind","to"]},
      {"type":"object","properties":{"kind":{"const":"sms"},"phone":{"type":"string"}},"required":["kind","phone"]}]})";
  EXPECT_EQ(check(s, R"({"kind":"email","to":"a"})"), "");
  EXPECT_EQ(check(s, R"({"kind":"sms","phone":"1"})"), "");
  EXPECT_NE(check(s, R"({"kind":"fax"})"), "");
}

TEST(JsonSchema, Not) {
  EXPECT_EQ(check(R"({"not":{"type":"null"}})", "1"), "");
  EXPECT_EQ(check(R"({"not":{"type":"null"}})", "null"), "(root): matches a schema it must not (not)");
}

TEST(JsonSchema, BooleanSchemas) {
  EXPECT_EQ(check("true", R"({"anything":[1,2]})"), "");
  EXPECT_EQ(check("false", "1"), "(root): no value is allowed here");
  EXPECT_EQ(check("{}", "null"), "");
  EXPECT_EQ(check(R"({"properties":{"x":false}})", R"({"x":1})"), "/x: no value is allowed here");
}

TEST(JsonSchema, RefToDefs) {
  const char* s = R"({"$defs":{"addr":{"type":"string","pattern":"@"}},
      "properties":{"to":{"$ref":"#/$defs/addr"},"cc":{"type":"array","items":{"$ref":"#/$defs/addr"}}}})";
  EXPECT_EQ(check(s, R"({"to":"a@b","cc":["c@d"]})"), "");
  EXPECT_EQ(check(s, R"({"to":"a@b","cc":["cd"]})"), "/cc/0: does not match pattern \"@\"");
  const char* d = R"({"definitions":{"n":{"type":"integer"}},"items":{"$ref":"#/definitions/n"}})";
  EXPECT_EQ(check(d, "[1,2]"), "");
  EXPECT_EQ(check(d, R"([1,"2"])"), "/1: expected integer, got string");
}

TEST(JsonSchema, RefSiblingsAlsoApply) {
  const char* s = R"({"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":2})";
  EXPECT_EQ(check(s, R"("ab")"), "");
  EXPECT_EQ(check(s, R"("abc")"), "(root): must be at most 2 characters long");
  EXPECT_EQ(check(s, "1"), "(root): expected string, got number");
}

TEST(JsonSchema, RecursiveSchemas) {
  // A tree: recursion through "items" descends into the input, so it terminates.
  const char* s = R"({"$defs":{"node":{"type":"object","properties":{
      "name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["name"]}},
      "$ref":"#/$defs/node"})";
  EXPECT_EQ(check(s, R"({"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]})"), "");
  EXPECT_EQ(check(s, R"({"name":"a","children":[{"name":"b","children":[{}]}]})"),
            "/children/0/children/0/name: required property missing");
  // "#" is the whole schema.
  const char* r = R"({"type":["array","integer"],"items":{"$ref":"#"}})";
  EXPECT_EQ(check(r, "[1,[2,[3]]]"), "");
  EXPECT_EQ(check(r, R"([1,[2,["x"]]])"), "/1/1/0: expected array or integer, got string");
}

TEST(JsonSchema, AnnotationsAreIgnored) {
  const char* s = R"({"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:x","title":"T",
      "description":"D","$comment":"c","type":"string","format":"email","default":"x","examples":["y"],
      "deprecated":false,"readOnly":false,"writeOnly":false})";
  EXPECT_EQ(check(s, R"("not an email at all")"), "");
}

// ---------------------------------------------------------------------------------------------
// schema errors, reported when the schema is loaded

TEST(JsonSchemaErrors, UnsupportedKeywordIsAnError) {
  EXPECT_EQ(schema_error(R"({"properties":{"to":{"type":"string","fromat":"email"}}})"),
            "input schema /properties/to/fromat: unsupported keyword \"fromat\"");
  EXPECT_EQ(schema_error(R"({"requried":["a"]})"), "input schema /requried: unsupported keyword \"requried\"");
  for (const char* kw : {"patternProperties", "if", "multipleOf", "prefixItems", "contains", "dependencies",
                         "propertyNames", "unevaluatedProperties", "$dynamicRef"}) {
    auto e = schema_error(std::string("{\"") + kw + "\":{}}");
    EXPECT_EQ(e, std::string("input schema /") + kw + ": unsupported keyword \"" + kw + "\"");
  }
}

TEST(JsonSchemaErrors, MalformedKeywordValues) {
  EXPECT_EQ(schema_error(R"("string")"), "input schema (root): a schema must be an object or a boolean, got string");
  EXPECT_EQ(schema_error(R"({"type":"str"})"), "input schema /type: unknown type \"str\"");
  EXPECT_EQ(schema_error(R"({"type":[]})"), "input schema /type: type must not be an empty array");
  EXPECT_EQ(schema_error(R"({"type":["null","null"]})"), "input schema /type: type null is listed twice");
  EXPECT_EQ(schema_error(R"({"type":5})"), "input schema /type: type must be a type name or an array of type names");
  EXPECT_EQ(schema_error(R"({"properties":[]})"), "input schema /properties: properties must be an object");
  EXPECT_EQ(schema_error(R"({"properties":{"a":3}})"),
            "input schema /properties/a: a schema must be an object or a boolean, got number");
  EXPECT_EQ(schema_error(R"({"required":"a"})"), "input schema /required: required must be an array of property names");
  EXPECT_EQ(schema_error(R"({"required":["a","a"]})"), "input schema /required: \"a\" is listed twice");
  EXPECT_EQ(schema_error(R"({"minLength":-1})"),
            "input schema /minLength: minLength must be a non-negative integer, got -1");
  EXPECT_EQ(schema_error(R"({"maxItems":1.5})"),
            "input schema /maxItems: maxItems must be a non-negative integer, got 1.5");
  EXPECT_EQ(schema_error(R"({"minimum":"1"})"), "input schema /minimum: minimum must be a number, got \"1\"");
  EXPECT_EQ(schema_error(R"({"enum":[]})"), "input schema /enum: enum must be a non-empty array");
  EXPECT_EQ(schema_error(R"({"anyOf":[]})"), "input schema /anyOf: anyOf must be a non-empty array of schemas");
  EXPECT_EQ(schema_error(R"({"oneOf":{}})"), "input schema /oneOf: oneOf must be a non-empty array of schemas");
  EXPECT_EQ(schema_error(R"({"allOf":[{"type":"nope"}]})"), "input schema /allOf/0/type: unknown type \"nope\"");
  EXPECT_EQ(schema_error(R"({"items":[{},{}]})"),
            "input schema /items: items as an array (tuple validation) is not supported; give one schema");
  EXPECT_EQ(schema_error(R"({"uniqueItems":1})"), "input schema /uniqueItems: uniqueItems must be a boolean");
  EXPECT_EQ(schema_error(R"({"additionalProperties":"no"})"),
            "input schema /additionalProperties: a schema must be an object or a boolean, got string");
  EXPECT_EQ(schema_error(R"({"minLength":3.0})"), "<no error>");
}

TEST(JsonSchemaErrors, BadPatterns) {
  EXPECT_EQ(schema_error(R"({"pattern":5})"), "input schema /pattern: pattern must be a string");
  EXPECT_NE(schema_error(R"({"pattern":"([a-z]"})").find("input schema /pattern: invalid pattern \"([a-z]\": "),
            std::string::npos);
  // Back-references need a backtracking matcher: refused.
  EXPECT_NE(schema_error(R"({"pattern":"(a)\\1"})").find("input schema /pattern: invalid pattern"), std::string::npos);
  EXPECT_EQ(schema_error("{\"pattern\":\"" + std::string(1001, 'a') + "\"}"),
            "input schema /pattern: pattern is longer than 1000 bytes");
  // A pattern that would make a huge automaton fails cleanly too.
  EXPECT_NE(schema_error(R"x({"pattern":"(((a{100}){100}){100})"})x").find("input schema /pattern: invalid pattern"),
            std::string::npos);
}

TEST(JsonSchemaErrors, Refs) {
  EXPECT_EQ(schema_error(R"({"$ref":"#/$defs/missing"})"),
            "input schema /$ref: $ref \"#/$defs/missing\" names no definition");
  EXPECT_EQ(schema_error(R"({"$ref":"https://example.com/schema.json"})"),
            "input schema /$ref: $ref \"https://example.com/schema.json\" is not supported (only \"#\", "
            "\"#/$defs/NAME\" and \"#/definitions/NAME\")");
  EXPECT_EQ(schema_error(R"({"$defs":{"a":{"$defs":{"b":{}}}},"$ref":"#/$defs/a/$defs/b"})"),
            "input schema /$defs/a/$defs: $defs is only supported at the top level of the schema");
  EXPECT_EQ(schema_error(R"({"$ref":"#/properties/a"})").substr(0, 40), "input schema /$ref: $ref \"#/properties/a");
  EXPECT_EQ(schema_error(R"({"$ref":3})"), "input schema /$ref: $ref must be a string");
  EXPECT_EQ(schema_error(R"({"$defs":[]})"), "input schema /$defs: $defs must be an object");
  // An unused definition is still checked: a typo there is still a typo.
  EXPECT_EQ(schema_error(R"({"$defs":{"unused":{"tpye":"string"}}})"),
            "input schema /$defs/unused/tpye: unsupported keyword \"tpye\"");
}

TEST(JsonSchemaErrors, RefCyclesThatNeverDescend) {
  EXPECT_EQ(schema_error(R"({"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})"),
            "input schema (root): $ref cycle through #/$defs/a that never descends into the input");
  EXPECT_EQ(schema_error(R"({"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/b"}]},"b":{"allOf":[{"$ref":"#/$defs/a"}]}}})")
                .find("input schema (root): $ref cycle through #/$defs/"),
            0u);
  EXPECT_EQ(schema_error(R"({"not":{"$ref":"#"}})"),
            "input schema (root): $ref cycle through the root schema that never descends into the input");
}

// ---------------------------------------------------------------------------------------------
// limits: hostile schemas and inputs end as errors, never as a crash

json nested_arrays(int depth) {
  json v = json::array();
  for (int i = 1; i < depth; ++i) v = json::array({std::move(v)});
  return v;
}

TEST(JsonSchemaLimits, DeepInputIsRefusedUpFront) {
  JsonSchema s(json::parse(R"({"type":"array","items":{"$ref":"#"}})"));
  EXPECT_FALSE(s.validate(nested_arrays(128)));
  auto e = s.validate(nested_arrays(129));
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "(root): input nested deeper than 128 levels");
  // Very deep input is refused without recursion.
  EXPECT_TRUE(s.validate(nested_arrays(200000)));
}

TEST(JsonSchemaLimits, DeepSchemaIsRefused) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += R"({"items":)";
  deep += "{}";
  deep += std::string(100, '}');
  auto e = schema_error(deep);
  EXPECT_NE(e.find("schema nested deeper than 64 levels"), std::string::npos) << e;
  // Also a deep literal in enum/const.
  json schema = {{"const", nested_arrays(100)}};
  e = error_of([&] { JsonSchema s(schema); });
  EXPECT_EQ(e, "input schema /const: value nested deeper than 64 levels");
  // Tens of thousands of levels: refused before any recursion gets deep.
  std::string very;
  for (int i = 0; i < 50000; ++i) very += R"({"not":)";
  very += "{}" + std::string(50000, '}');
  EXPECT_NE(schema_error(very).find("nested deeper"), std::string::npos);
}

TEST(JsonSchemaLimits, ExponentialSchemaIsStopped) {
  // Each definition applies the next one twice: 2^40 applications without a step budget.
  json defs = json::object();
  for (int i = 0; i < 40; ++i) {
    std::string next = "#/$defs/d" + std::to_string(i + 1);
    defs["d" + std::to_string(i)] = {{"allOf", json::array({{{"$ref", next}}, {{"$ref", next}}})}};
  }
  defs["d40"] = {{"type", "string"}};
  json schema = {{"$defs", defs}, {"$ref", "#/$defs/d0"}};
  JsonSchema s(schema);
  auto start = std::chrono::steady_clock::now();
  auto e = s.validate(json("x"));
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "(root): schema too complex to evaluate");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(JsonSchemaLimits, LongRefChainIsStoppedBeforeTheStackIs) {
  json defs = json::object();
  for (int i = 0; i < 5000; ++i) defs["d" + std::to_string(i)] = {{"$ref", "#/$defs/d" + std::to_string(i + 1)}};
  defs["d5000"] = {{"type", "string"}};
  JsonSchema s({{"$defs", defs}, {"$ref", "#/$defs/d0"}});
  auto e = s.validate(json("x"));
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "(root): schema nesting too deep to evaluate");
}

TEST(JsonSchemaLimits, CustomLimits) {
  JsonSchemaLimits lim;
  lim.max_instance_depth = 2;
  JsonSchema s(json::parse("{}"), lim);
  EXPECT_FALSE(s.validate(json::parse("[[1]]")));
  EXPECT_TRUE(s.validate(json::parse("[[[1]]]")));
}

TEST(JsonSchema, CopiesShareTheCompiledSchema) {
  JsonSchema a(json::parse(kSendEmail));
  JsonSchema b = a;
  EXPECT_FALSE(b.validate(json::parse(R"({"to":"x","body":"y"})")));
  EXPECT_TRUE(b.validate(json::parse("{}")));
}

}  // namespace
}  // namespace paddock
