#include "tools/json_schema.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s <regex> when optimising
// with sanitizers; silenced for that header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.h"

namespace paddock {

using nlohmann::json;

namespace schema_detail {

enum TypeBit : unsigned {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kString = 32,
  kInteger = 64,
};

struct Node {
  std::optional<bool> boolean;  // a boolean schema: true accepts all, false nothing
  int ref = -1;
  unsigned types = 0;  // 0: any type
  std::vector<std::pair<std::string, int>> properties;
  std::vector<std::string> required;
  int additional = -1;  // -1: any additional property allowed
  int items = -1;
  std::optional<std::vector<json>> enum_values;
  std::optional<json> const_value;
  std::optional<std::uint64_t> min_length, max_length, min_items, max_items, min_props, max_props;
  std::optional<json> minimum, maximum, exclusive_minimum, exclusive_maximum;
  bool unique_items = false;
  std::string pattern_text;
  std::optional<std::regex> pattern;
  std::vector<int> all_of, any_of, one_of;
  int not_ = -1;
};

}  // namespace schema_detail

using schema_detail::Node;

struct JsonSchema::Compiled {
  std::vector<Node> nodes;
  JsonSchemaLimits limits;
};

namespace {

// Nested subschema applications one validation may stack (refs, allOf... and descent into the
// input together), so that a deep chain of $refs cannot exhaust the thread's stack.
constexpr int kMaxEvalDepth = 512;
constexpr std::size_t kMaxMessage = 600;

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    default: return "unsupported value";  // binary, discarded: never produced by the JSON parser
  }
}

bool is_integral(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

unsigned type_bits(const json& v) {
  using namespace schema_detail;
  switch (v.type()) {
    case json::value_t::null: return kNull;
    case json::value_t::boolean: return kBoolean;
    case json::value_t::object: return kObject;
    case json::value_t::array: return kArray;
    case json::value_t::string: return kString;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return kNumber | (is_integral(v) ? kInteger : 0U);
    default: return 0;
  }
}

std::string types_text(unsigned types) {
  using namespace schema_detail;
  static constexpr std::pair<unsigned, const char*> names[] = {
      {kObject, "object"},   {kArray, "array"},     {kString, "string"}, {kNumber, "number"},
      {kInteger, "integer"}, {kBoolean, "boolean"}, {kNull, "null"}};
  std::vector<const char*> parts;
  for (auto [bit, name] : names)
    if ((types & bit) != 0) parts.push_back(name);
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? " or " : ", ";
    out += parts[i];
  }
  return out;
}

// Integers compare exactly (JSON integers beyond 2^53 are common as ids); anything involving
// a fraction compares as long double.
int compare_numbers(const json& a, const json& b) {
  auto sign_mag = [](const json& v) -> std::pair<bool, std::uint64_t> {
    if (v.is_number_unsigned()) return {false, v.get<std::uint64_t>()};
    auto i = v.get<std::int64_t>();
    if (i >= 0) return {false, static_cast<std::uint64_t>(i)};
    return {true, static_cast<std::uint64_t>(-(i + 1)) + 1};
  };
  if (a.is_number_integer() && b.is_number_integer()) {
    auto [an, am] = sign_mag(a);
    auto [bn, bm] = sign_mag(b);
    if (an != bn) return an ? -1 : 1;
    if (am == bm) return 0;
    return (am < bm) != an ? -1 : 1;
  }
  auto x = a.get<long double>();
  auto y = b.get<long double>();
  return x < y ? -1 : (x > y ? 1 : 0);
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Keeps a message to one line of bounded length without splitting a UTF-8 sequence.
std::string clip(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

std::string show_value(const json& v) {
  return clip(v.dump(-1, ' ', false, json::error_handler_t::replace), 80);
}

// Text from the input or the schema made safe for a one-line message: control characters
// escaped, long text shortened.
std::string printable(std::string_view text, std::size_t max = 80) {
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return clip(std::move(out), max);
}

std::string pointer_escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// One reference token of a JSON pointer (RFC 6901) for a message: the key comes from the input.
std::string pointer_token(std::string_view key) {
  return printable(pointer_escape(key), 64);
}

// The path to the current place in the input, kept on the stack and rendered only on error.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};

std::string render(const Path* p) {
  std::vector<const Path*> chain;
  for (; p != nullptr; p = p->parent) chain.push_back(p);
  if (chain.empty()) return "(root)";
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    out += '/';
    out += (*it)->is_index ? std::to_string((*it)->index) : pointer_token((*it)->key);
  }
  return out;
}

// Depth of a JSON value, measured without recursion (the value may be hostile).
int depth_of(const json& root, int stop_at) {
  std::vector<std::pair<const json*, int>> stack{{&root, root.is_structured() ? 1 : 0}};
  int deepest = 0;
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    if (deepest > stop_at) return deepest;
    if (v->is_structured())
      for (const auto& child : *v) stack.emplace_back(&child, d + (child.is_structured() ? 1 : 0));
  }
  return deepest;
}

class Compiler {
 public:
  Compiler(std::vector<Node>& nodes, const JsonSchemaLimits& limits) : nodes_(nodes), limits_(limits) {}

  void compile_root(const json& schema) {
    nodes_.emplace_back();  // index 0: the root, so "#" can refer to it before it is built
    if (schema.is_object()) {
      // Definitions get their indices first so that any $ref (even a forward or recursive one)
      // resolves in one pass.
      for (const char* kw : {"$defs", "definitions"}) {
        auto it = schema.find(kw);
        if (it == schema.end()) continue;
        if (!it->is_object()) fail(std::string("/") + kw, std::string(kw) + " must be an object");
        for (const auto& [name, def] : it->items()) {
          defs_[std::string("#/") + kw + "/" + pointer_escape(name)] = static_cast<int>(nodes_.size());
          nodes_.emplace_back();
        }
      }
      for (const char* kw : {"$defs", "definitions"}) {
        auto it = schema.find(kw);
        if (it == schema.end()) continue;
        for (const auto& [name, def] : it->items()) {
          std::string ref = std::string("#/") + kw + "/" + pointer_escape(name);
          Node n = build(def, ref.substr(1), 2);
          nodes_[static_cast<std::size_t>(defs_.at(ref))] = std::move(n);
        }
      }
    }
    Node root = build(schema, "", 0);
    nodes_[0] = std::move(root);
    check_cycles();
  }

 private:
  std::vector<Node>& nodes_;
  const JsonSchemaLimits& limits_;
  std::map<std::string, int> defs_;

  [[noreturn]] static void fail(const std::string& where, const std::string& what) {
    throw Error("input schema " + (where.empty() ? std::string("(root)") : printable(where, 200)) + ": " + what);
  }

  int child(const json& s, const std::string& where, int depth) {
    int idx = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    Node n = build(s, where, depth);
    nodes_[static_cast<std::size_t>(idx)] = std::move(n);
    return idx;
  }

  std::vector<int> schema_list(const json& v, const std::string& where, const char* kw, int depth) {
    if (!v.is_array() || v.empty()) fail(where, std::string(kw) + " must be a non-empty array of schemas");
    std::vector<int> out;
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(child(v[i], where + "/" + std::to_string(i), depth + 1));
    return out;
  }

  static std::uint64_t count_of(const json& v, const std::string& where, const std::string& kw) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (is_integral(v) && d >= 0 && d < 1.8e19) return static_cast<std::uint64_t>(d);
    }
    fail(where, kw + " must be a non-negative integer, got " + show_value(v));
  }

  static json number_of(const json& v, const std::string& where, const std::string& kw) {
    if (!v.is_number()) fail(where, kw + " must be a number, got " + show_value(v));
    return v;
  }

  void literal_depth(const json& v, const std::string& where) const {
    if (depth_of(v, limits_.max_schema_depth) > limits_.max_schema_depth)
      fail(where, "value nested deeper than " + std::to_string(limits_.max_schema_depth) + " levels");
  }

  Node build(const json& s, const std::string& where, int depth) {
    if (depth > limits_.max_schema_depth)
      fail(where, "schema nested deeper than " + std::to_string(limits_.max_schema_depth) + " levels");
    Node n;
    if (s.is_boolean()) {
      n.boolean = s.get<bool>();
      return n;
    }
    if (!s.is_object()) fail(where, std::string("a schema must be an object or a boolean, got ") + type_name(s));

    std::optional<bool> draft4_excl_min, draft4_excl_max;
    for (const auto& [key, v] : s.items()) {
      std::string at = where + "/" + pointer_escape(key);
      if (key == "type") {
        n.types = parse_types(v, at);
      } else if (key == "properties") {
        if (!v.is_object()) fail(at, "properties must be an object");
        for (const auto& [name, sub] : v.items())
          n.properties.emplace_back(name, child(sub, at + "/" + pointer_escape(name), depth + 1));
      } else if (key == "required") {
        if (!v.is_array()) fail(at, "required must be an array of property names");
        for (const auto& r : v) {
          if (!r.is_string()) fail(at, "required must be an array of property names");
          for (const auto& seen : n.required)
            if (seen == r.get_ref<const std::string&>()) fail(at, "\"" + seen + "\" is listed twice");
          n.required.push_back(r.get<std::string>());
        }
      } else if (key == "additionalProperties") {
        n.additional = child(v, at, depth + 1);
      } else if (key == "items") {
        if (v.is_array()) fail(at, "items as an array (tuple validation) is not supported; give one schema");
        n.items = child(v, at, depth + 1);
      } else if (key == "enum") {
        if (!v.is_array() || v.empty()) fail(at, "enum must be a non-empty array");
        literal_depth(v, at);
        n.enum_values = v.get<std::vector<json>>();
      } else if (key == "const") {
        literal_depth(v, at);
        n.const_value = v;
      } else if (key == "minLength") {
        n.min_length = count_of(v, at, key);
      } else if (key == "maxLength") {
        n.max_length = count_of(v, at, key);
      } else if (key == "minItems") {
        n.min_items = count_of(v, at, key);
      } else if (key == "maxItems") {
        n.max_items = count_of(v, at, key);
      } else if (key == "minProperties") {
        n.min_props = count_of(v, at, key);
      } else if (key == "maxProperties") {
        n.max_props = count_of(v, at, key);
      } else if (key == "uniqueItems") {
        if (!v.is_boolean()) fail(at, "uniqueItems must be a boolean");
        n.unique_items = v.get<bool>();
      } else if (key == "minimum") {
        n.minimum = number_of(v, at, key);
      } else if (key == "maximum") {
        n.maximum = number_of(v, at, key);
      } else if (key == "exclusiveMinimum") {
        if (v.is_boolean())
          draft4_excl_min = v.get<bool>();
        else
          n.exclusive_minimum = number_of(v, at, key);
      } else if (key == "exclusiveMaximum") {
        if (v.is_boolean())
          draft4_excl_max = v.get<bool>();
        else
          n.exclusive_maximum = number_of(v, at, key);
      } else if (key == "pattern") {
        if (!v.is_string()) fail(at, "pattern must be a string");
        n.pattern_text = v.get<std::string>();
        n.pattern = compile_pattern(n.pattern_text, at);
      } else if (key == "allOf") {
        n.all_of = schema_list(v, at, "allOf", depth);
      } else if (key == "anyOf") {
        n.any_of = schema_list(v, at, "anyOf", depth);
      } else if (key == "oneOf") {
        n.one_of = schema_list(v, at, "oneOf", depth);
      } else if (key == "not") {
        n.not_ = child(v, at, depth + 1);
      } else if (key == "$ref") {
        n.ref = resolve_ref(v, at);
      } else if (key == "$defs" || key == "definitions") {
        // Compiled by compile_root; anywhere else a $ref could not reach them.
        if (!where.empty()) fail(at, key + " is only supported at the top level of the schema");
      } else if (key == "title" || key == "description" || key == "default" || key == "examples" || key == "format" ||
                 key == "$comment" || key == "$schema" || key == "$id" || key == "deprecated" || key == "readOnly" ||
                 key == "writeOnly") {
        // Annotations: they describe, they do not constrain ("format" is not asserted).
      } else {
        fail(at, "unsupported keyword \"" + printable(key) + "\"");
      }
    }
    // Draft-04 spelling: a boolean turns minimum/maximum exclusive.
    if (draft4_excl_min) {
      if (!n.minimum) fail(where, "exclusiveMinimum: a boolean needs a minimum");
      if (*draft4_excl_min) n.exclusive_minimum = std::exchange(n.minimum, std::nullopt);
    }
    if (draft4_excl_max) {
      if (!n.maximum) fail(where, "exclusiveMaximum: a boolean needs a maximum");
      if (*draft4_excl_max) n.exclusive_maximum = std::exchange(n.maximum, std::nullopt);
    }
    return n;
  }

  static unsigned parse_types(const json& v, const std::string& at) {
    using namespace schema_detail;
    auto one = [&](const json& t) -> unsigned {
      if (!t.is_string()) fail(at, "type must be a type name or an array of type names");
      const auto& s = t.get_ref<const std::string&>();
      if (s == "null") return kNull;
      if (s == "boolean") return kBoolean;
      if (s == "object") return kObject;
      if (s == "array") return kArray;
      if (s == "number") return kNumber;
      if (s == "string") return kString;
      if (s == "integer") return kInteger;
      fail(at, "unknown type \"" + printable(s) + "\"");
    };
    if (!v.is_array()) return one(v);
    if (v.empty()) fail(at, "type must not be an empty array");
    unsigned bits = 0;
    for (const auto& t : v) {
      unsigned b = one(t);
      if ((bits & b) != 0) fail(at, "type " + t.get<std::string>() + " is listed twice");
      bits |= b;
    }
    return bits;
  }

  std::regex compile_pattern(const std::string& text, const std::string& at) const {
    if (text.size() > limits_.max_pattern_length)
      fail(at, "pattern is longer than " + std::to_string(limits_.max_pattern_length) + " bytes");
    auto flags = std::regex::ECMAScript;
#if defined(__GLIBCXX__)
    // libstdc++'s default matcher backtracks (exponential on "(a+)+b", and recursive per input
    // character); __polynomial selects its breadth-first matcher, which bounds both, and refuses
    // back-references, the one feature that needs backtracking.
    flags |= std::regex_constants::__polynomial;
#endif
    try {
      return std::regex(text, flags);
    } catch (const std::regex_error& e) {
      fail(at, "invalid pattern \"" + printable(text) + "\": " + e.what());
    }
  }

  int resolve_ref(const json& v, const std::string& at) const {
    if (!v.is_string()) fail(at, "$ref must be a string");
    const auto& ref = v.get_ref<const std::string&>();
    if (ref == "#") return 0;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      std::string_view p(prefix);
      if (ref.compare(0, p.size(), p) == 0 && ref.find('/', p.size()) == std::string::npos) {
        auto it = defs_.find(ref);
        if (it == defs_.end()) fail(at, "$ref \"" + printable(ref) + "\" names no definition");
        return it->second;
      }
    }
    fail(at, "$ref \"" + printable(ref) + "\" is not supported (only \"#\", \"#/$defs/NAME\" and " +
                 "\"#/definitions/NAME\")");
  }

  // A cycle of $ref/allOf/anyOf/oneOf/not that never steps into the input would recurse forever
  // on any input: refuse it now rather than at the first call.
  void check_cycles() const {
    enum : char { kWhite, kGrey, kBlack };
    std::vector<char> color(nodes_.size(), kWhite);
    auto edges = [&](std::size_t i) {
      const Node& n = nodes_[i];
      std::vector<int> out(n.all_of);
      out.insert(out.end(), n.any_of.begin(), n.any_of.end());
      out.insert(out.end(), n.one_of.begin(), n.one_of.end());
      if (n.ref >= 0) out.push_back(n.ref);
      if (n.not_ >= 0) out.push_back(n.not_);
      return out;
    };
    for (std::size_t start = 0; start < nodes_.size(); ++start) {
      if (color[start] != kWhite) continue;
      // Iterative DFS: (node, its edges, next edge to follow).
      std::vector<std::tuple<std::size_t, std::vector<int>, std::size_t>> stack;
      stack.emplace_back(start, edges(start), 0);
      color[start] = kGrey;
      while (!stack.empty()) {
        auto& [node, out, next] = stack.back();
        if (next == out.size()) {
          color[node] = kBlack;
          stack.pop_back();
          continue;
        }
        auto to = static_cast<std::size_t>(out[next++]);
        if (color[to] == kGrey) {
          std::string name = "the root schema";
          for (const auto& [ref, idx] : defs_)
            if (static_cast<std::size_t>(idx) == to) name = ref;
          fail("", "$ref cycle through " + name + " that never descends into the input");
        }
        if (color[to] == kWhite) {
          color[to] = kGrey;
          stack.emplace_back(to, edges(to), 0);
        }
      }
    }
  }
};

class Validator {
 public:
  explicit Validator(const JsonSchema::Compiled& c) : c_(c) {}

  std::optional<std::string> check(int idx, const json& v, const Path* path, int depth) {
    using namespace schema_detail;
    if (depth > kMaxEvalDepth) return render(path) + ": schema nesting too deep to evaluate";
    if (++steps_ > c_.limits.max_steps) return render(path) + ": schema too complex to evaluate";
    const Node& n = c_.nodes[static_cast<std::size_t>(idx)];
    if (n.boolean) return *n.boolean ? std::nullopt : fail(path, "no value is allowed here");

    if (n.ref >= 0)
      if (auto e = check(n.ref, v, path, depth + 1)) return e;

    unsigned bits = type_bits(v);
    if (n.types != 0 && (n.types & bits) == 0) {
      // "integer" for a number with a fraction reads better than "got number".
      return fail(path, "expected " + types_text(n.types) + ", got " + type_name(v) +
                            ((n.types & kInteger) != 0 && v.is_number() ? " with a fraction" : ""));
    }
    if (n.const_value && !(*n.const_value == v)) return fail(path, "must be " + show_value(*n.const_value));
    if (n.enum_values) {
      bool found = false;
      for (const auto& e : *n.enum_values) found = found || e == v;
      if (!found) return fail(path, "must be one of " + enum_text(*n.enum_values));
    }

    if (v.is_string()) {
      if (auto e = check_string(n, v.get_ref<const std::string&>(), path)) return e;
    } else if (v.is_number()) {
      if (auto e = check_number(n, v, path)) return e;
    } else if (v.is_object()) {
      if (auto e = check_object(n, v, path, depth)) return e;
    } else if (v.is_array()) {
      if (auto e = check_array(n, v, path, depth)) return e;
    }

    for (int sub : n.all_of)
      if (auto e = check(sub, v, path, depth + 1)) return e;
    if (!n.any_of.empty()) {
      std::vector<std::string> why;
      bool ok = false;
      for (int sub : n.any_of) {
        auto e = check(sub, v, path, depth + 1);
        if (!e) {
          ok = true;
          break;
        }
        why.push_back(std::move(*e));
      }
      if (!ok) return fail(path, "matches none of the anyOf alternatives: " + alternatives(why));
    }
    if (!n.one_of.empty()) {
      std::vector<std::string> why;
      std::vector<std::size_t> matched;
      for (std::size_t i = 0; i < n.one_of.size(); ++i) {
        auto e = check(n.one_of[i], v, path, depth + 1);
        if (e)
          why.push_back(std::move(*e));
        else
          matched.push_back(i);
      }
      if (matched.empty()) return fail(path, "matches none of the oneOf alternatives: " + alternatives(why));
      if (matched.size() > 1)
        return fail(path, "matches more than one oneOf alternative (" + std::to_string(matched[0]) + " and " +
                              std::to_string(matched[1]) + "); exactly one must match");
    }
    if (n.not_ >= 0 && !check(n.not_, v, path, depth + 1)) return fail(path, "matches a schema it must not (not)");
    return std::nullopt;
  }

 private:
  const JsonSchema::Compiled& c_;
  std::size_t steps_ = 0;

  static std::optional<std::string> fail(const Path* path, const std::string& what) {
    return render(path) + ": " + what;
  }

  static std::string enum_text(const std::vector<json>& values) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ", ";
      out += show_value(values[i]);
      if (out.size() > 200) return out + ", ...";
    }
    return out;
  }

  static std::string alternatives(const std::vector<std::string>& why) {
    std::string out;
    for (std::size_t i = 0; i < why.size(); ++i) {
      if (i > 0) out += "; ";
      out += "[" + std::to_string(i) + "] " + why[i];
    }
    return clip(std::move(out), kMaxMessage);
  }

  std::optional<std::string> check_string(const Node& n, const std::string& s, const Path* path) const {
    if (n.min_length || n.max_length) {
      auto len = code_points(s);
      if (n.min_length && len < *n.min_length)
        return fail(path, "must be at least " + std::to_string(*n.min_length) + " characters long");
      if (n.max_length && len > *n.max_length)
        return fail(path, "must be at most " + std::to_string(*n.max_length) + " characters long");
    }
    if (n.pattern) {
      if (s.size() > c_.limits.max_pattern_subject)
        return fail(path, "string of " + std::to_string(s.size()) + " bytes is too long to check against a pattern " +
                              "(limit " + std::to_string(c_.limits.max_pattern_subject) + ")");
      if (!std::regex_search(s, *n.pattern))
        return fail(path, "does not match pattern \"" + printable(n.pattern_text) + "\"");
    }
    return std::nullopt;
  }

  static std::optional<std::string> check_number(const Node& n, const json& v, const Path* path) {
    if (v.is_number_float() && !std::isfinite(v.get<double>())) return fail(path, "must be a finite number");
    if (n.minimum && compare_numbers(v, *n.minimum) < 0) return fail(path, "must be >= " + n.minimum->dump());
    if (n.exclusive_minimum && compare_numbers(v, *n.exclusive_minimum) <= 0)
      return fail(path, "must be > " + n.exclusive_minimum->dump());
    if (n.maximum && compare_numbers(v, *n.maximum) > 0) return fail(path, "must be <= " + n.maximum->dump());
    if (n.exclusive_maximum && compare_numbers(v, *n.exclusive_maximum) >= 0)
      return fail(path, "must be < " + n.exclusive_maximum->dump());
    return std::nullopt;
  }

  std::optional<std::string> check_object(const Node& n, const json& v, const Path* path, int depth) {
    if (n.min_props && v.size() < *n.min_props)
      return fail(path, "must have at least " + std::to_string(*n.min_props) + " properties");
    if (n.max_props && v.size() > *n.max_props)
      return fail(path, "must have at most " + std::to_string(*n.max_props) + " properties");
    for (const auto& r : n.required) {
      if (!v.contains(r)) {
        Path p{path, r};
        return fail(&p, "required property missing");
      }
    }
    for (const auto& [key, value] : v.items()) {
      Path p{path, key};
      int sub = -1;
      for (const auto& [name, idx] : n.properties) {
        if (name == key) {
          sub = idx;
          break;
        }
      }
      if (sub < 0) {
        if (n.additional < 0) continue;
        const Node& add = c_.nodes[static_cast<std::size_t>(n.additional)];
        if (add.boolean && !*add.boolean) return fail(&p, "unknown property (additionalProperties is false)");
        sub = n.additional;
      }
      if (auto e = check(sub, value, &p, depth + 1)) return e;
    }
    return std::nullopt;
  }

  std::optional<std::string> check_array(const Node& n, const json& v, const Path* path, int depth) {
    if (n.min_items && v.size() < *n.min_items)
      return fail(path, "must have at least " + std::to_string(*n.min_items) + " items");
    if (n.max_items && v.size() > *n.max_items)
      return fail(path, "must have at most " + std::to_string(*n.max_items) + " items");
    if (n.unique_items) {
      // json's ordering treats 1 and 1.0 as equivalent, as JSON Schema's equality does.
      std::map<json, std::size_t> seen;
      for (std::size_t i = 0; i < v.size(); ++i) {
        auto [it, fresh] = seen.emplace(v[i], i);
        if (!fresh)
          return fail(path,
                      "items " + std::to_string(it->second) + " and " + std::to_string(i) + " are equal (uniqueItems)");
      }
    }
    if (n.items >= 0) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        Path p{path, {}, i, true};
        if (auto e = check(n.items, v[i], &p, depth + 1)) return e;
      }
    }
    return std::nullopt;
  }
};

}  // namespace

JsonSchema::JsonSchema(const json& schema, const JsonSchemaLimits& limits) {
  auto c = std::make_shared<Compiled>();
  c->limits = limits;
  Compiler(c->nodes, c->limits).compile_root(schema);
  compiled_ = std::move(c);
}

std::optional<std::string> JsonSchema::validate(const json& instance) const {
  int max = compiled_->limits.max_instance_depth;
  if (depth_of(instance, max) > max) return "(root): input nested deeper than " + std::to_string(max) + " levels";
  return Validator(*compiled_).check(0, instance, nullptr, 0);
}

}  // namespace paddock
