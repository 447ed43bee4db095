// Validation of a tool's JSON input against the input schema the tool declares, done on the
// host before any JavaScript runs, so a script never sees input of a shape it did not ask for.
//
// Supported subset of JSON Schema (2020-12 / draft-07 spellings):
//   type (one name or an array of names), properties, required, additionalProperties (bool or
//   schema), items (one schema), enum, const, minLength/maxLength (code points),
//   minimum/maximum/exclusiveMinimum/exclusiveMaximum (numeric, or draft-04 booleans),
//   minItems/maxItems, uniqueItems, minProperties/maxProperties, pattern (ECMAScript, searched,
//   not anchored), anyOf/oneOf/allOf/not, $ref to "#", "#/$defs/NAME" or "#/definitions/NAME",
//   boolean schemas; annotations (title, description, default, examples, format, $comment,
//   $schema, $id, deprecated, readOnly, writeOnly) are accepted and ignored.
// Any other keyword is an error when the schema is loaded: a misspelt keyword must never turn
// into a schema that silently accepts everything.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace paddock {

struct JsonSchemaLimits {
  int max_schema_depth = 64;                // nesting of the schema document itself
  int max_instance_depth = 128;             // nesting of the input; deeper input is refused before validation
  std::size_t max_pattern_length = 1000;    // bytes of a "pattern" regex
  std::size_t max_pattern_subject = 10000;  // bytes of a string checked against a pattern
  std::size_t max_steps = 1'000'000;        // subschema applications per validation
};

class JsonSchema {
 public:
  // Throws paddock::Error with one line naming the offending place in the schema, e.g.
  //   input schema /properties/to: unsupported keyword "fromat"
  explicit JsonSchema(const nlohmann::json& schema, const JsonSchemaLimits& limits = {});

  // std::nullopt when `instance` conforms; otherwise one line "<JSON pointer>: <reason>", e.g.
  //   /to: expected string, got number
  // The whole input is rendered as "(root)".
  [[nodiscard]] std::optional<std::string> validate(const nlohmann::json& instance) const;

  struct Compiled;

 private:
  std::shared_ptr<const Compiled> compiled_;  // immutable: copies share it
};

}  // namespace paddock
