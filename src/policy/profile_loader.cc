#include "policy/profile_loader.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <set>

#include "audit/sha256.h"
#include "policy/file_trust.h"
#include "util/fd_io.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

namespace fs = std::filesystem;

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string join_keys(std::initializer_list<std::string_view> keys) {
  std::string out;
  size_t i = 0;
  for (auto k : keys) {
    if (i > 0) out += (i + 1 == keys.size()) ? " or " : ", ";
    out += k;
    ++i;
  }
  return out;
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

// Reads the profile through one descriptor so the trust check and the content agree.
std::string read_profile_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) throw_errno(path + ": cannot open profile");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno(path + ": cannot stat profile");
  check_trusted_stat(st, path, "profile");
  if (st.st_size > 4 * 1024 * 1024) throw Error(path + ": profile is larger than 4 MiB");
  std::optional<std::string> text = read_fd(fd.get());
  if (!text) throw_errno(path + ": cannot read profile");
  return *text;
}

// One profile file being parsed; every error carries file:line:column of the node at fault.
class Parser {
 public:
  Parser(const std::string& file, const Variables& vars, bool check_scripts)
      : file_(file), vars_(vars), check_scripts_(check_scripts) {
    std::string dir = fs::path(file).parent_path().string();
    profile_dir_ = normalize_path(dir.empty() ? vars.cwd : (dir[0] == '/' ? dir : vars.cwd + "/" + dir));
  }

  Policy parse(const std::string& text, std::vector<std::pair<std::string, Origin>>* extends) {
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      Origin o{file_, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)};
      throw Error(o, std::string(e.description()));
    }
    Policy p;
    check_keys(root, "",
               {"version", "description", "extends", "filesystem", "network", "env", "secrets", "limits", "syscalls",
                "sandbox", "tool"});
    if (const toml::node* v = root.get("version")) {
      auto i = v->as_integer();
      if (i == nullptr || i->get() != 1) fail(*v, "unsupported profile version (this paddock reads version = 1)");
    }
    if (const toml::node* d = root.get("description")) p.description = string_of(*d, "description");
    if (const toml::node* e = root.get("extends")) {
      for (auto& [s, o] : strings(*e, "extends")) {
        if (s.empty()) fail_at(o, "extends entries must not be empty");
        if (extends != nullptr) extends->emplace_back(s, o);
      }
    }
    if (const toml::node* n = root.get("filesystem")) filesystem(table_of(*n, "filesystem"), p);
    if (const toml::node* n = root.get("network")) network(table_of(*n, "network"), p);
    if (const toml::node* n = root.get("env")) env(table_of(*n, "env"), p);
    if (const toml::node* n = root.get("secrets")) secrets(table_of(*n, "secrets"), p);
    if (const toml::node* n = root.get("limits")) limits(table_of(*n, "limits"), p);
    if (const toml::node* n = root.get("syscalls")) syscalls(table_of(*n, "syscalls"), p);
    if (const toml::node* n = root.get("sandbox")) sandbox(table_of(*n, "sandbox"), p);
    if (const toml::node* n = root.get("tool")) tools(*n, p);
    return p;
  }

 private:
  Origin at(const toml::source_region& r) const {
    return Origin{file_, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
  }
  Origin at(const toml::node& n) const { return at(n.source()); }
  [[noreturn]] void fail(const toml::node& n, const std::string& msg) const { throw Error(at(n), msg); }
  [[noreturn]] void fail_at(const Origin& o, const std::string& msg) const { throw Error(o, msg); }

  // toml++ iterates keys alphabetically; reports and merges follow the file's order instead.
  static std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> out;
    for (auto&& [k, v] : t) out.emplace_back(&k, &v);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      const auto& pa = a.first->source().begin;
      const auto& pb = b.first->source().begin;
      return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    return out;
  }

  void check_keys(const toml::table& t, std::string_view where, std::initializer_list<std::string_view> allowed) const {
    for (auto [kp, vp] : in_file_order(t)) {
      const toml::key& k = *kp;
      std::string_view key = k.str();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string msg = "unknown key \"" + std::string(key) + "\"";
      msg += where.empty() ? " at the top level" : " in [" + std::string(where) + "]";
      std::string_view best;
      size_t best_d = 3;
      for (auto a : allowed) {
        size_t d = edit_distance(key, a);
        if (d < best_d) {
          best_d = d;
          best = a;
        }
      }
      if (!best.empty())
        msg += " (did you mean \"" + std::string(best) + "\"?)";
      else
        msg += " (expected " + join_keys(allowed) + ")";
      throw Error(at(k.source()), msg);
    }
  }

  const toml::table& table_of(const toml::node& n, std::string_view name) const {
    if (const auto* t = n.as_table()) return *t;
    fail(n, std::string(name) + " must be a table, not " + type_name(n));
  }

  std::string string_of(const toml::node& n, std::string_view name) const {
    if (const auto* s = n.as_string()) return s->get();
    fail(n, std::string(name) + " must be a string, not " + type_name(n));
  }

  bool bool_of(const toml::node& n, std::string_view name) const {
    if (const auto* b = n.as_boolean()) return b->get();
    fail(n, std::string(name) + " must be true or false, not " + type_name(n));
  }

  std::int64_t int_of(const toml::node& n, std::string_view name, std::int64_t min, std::int64_t max) const {
    const auto* i = n.as_integer();
    if (i == nullptr) fail(n, std::string(name) + " must be an integer, not " + type_name(n));
    if (i->get() < min) fail(n, std::string(name) + " must be at least " + std::to_string(min));
    if (i->get() > max) fail(n, std::string(name) + " must be at most " + std::to_string(max));
    return i->get();
  }

  std::vector<std::pair<std::string, Origin>> strings(const toml::node& n, std::string_view name) const {
    const auto* a = n.as_array();
    if (a == nullptr) fail(n, std::string(name) + " must be an array of strings, not " + type_name(n));
    std::vector<std::pair<std::string, Origin>> out;
    for (const toml::node& e : *a) {
      const auto* s = e.as_string();
      if (s == nullptr) fail(e, std::string(name) + " must contain only strings, found " + type_name(e));
      out.emplace_back(s->get(), at(e));
    }
    return out;
  }

  // Expands variables, requires an absolute result, normalises.
  std::string abs_path(const std::string& raw, const Origin& o, std::string_view name,
                       bool relative_to_profile = false) const {
    std::string s;
    try {
      s = vars_.expand(raw, profile_dir_);
    } catch (const ValueError& e) {
      fail_at(o, std::string(name) + ": " + e.what());
    }
    if (s.empty()) fail_at(o, std::string(name) + ": empty path");
    if (s.find('\0') != std::string::npos) fail_at(o, std::string(name) + ": path contains a NUL byte");
    if (s[0] != '/') {
      if (!relative_to_profile) {
        fail_at(o, std::string(name) + ": \"" + raw + "\" is a relative path; use an absolute path or ${CWD}/" + raw);
      }
      s = profile_dir_ + "/" + s;
    }
    return normalize_path(s);
  }

  // `skip_unset`: for deny lists, an entry naming a variable the host lacks masks nothing.
  std::vector<PathGrant> paths(const toml::node& n, std::string_view name, bool skip_unset = false) const {
    std::vector<PathGrant> out;
    for (auto& [s, o] : strings(n, name)) {
      if (skip_unset) {
        try {
          (void)vars_.expand(s, profile_dir_);
        } catch (const UnsetVariable&) {
          continue;
        } catch (const ValueError&) {
          // reported with its location by abs_path below
        }
      }
      out.push_back({abs_path(s, o, name), o});
    }
    return out;
  }

  std::vector<HostGrant> hosts(const toml::node& n, std::string_view name) const {
    std::vector<HostGrant> out;
    for (auto& [s, o] : strings(n, name)) {
      try {
        out.push_back({parse_host_pattern(s), o});
      } catch (const ValueError& e) {
        fail_at(o, std::string(name) + ": " + e.what());
      }
    }
    return out;
  }

  template <typename F>
  auto parse_value(const toml::node& n, std::string_view name, F&& f) const {
    try {
      return f(string_of(n, name));
    } catch (const ValueError& e) {
      fail(n, std::string(name) + ": " + e.what());
    }
  }

  void filesystem(const toml::table& t, Policy& p) const {
    check_keys(t, "filesystem", {"read", "write", "deny", "tmpfs"});
    if (const auto* n = t.get("read")) p.read = paths(*n, "filesystem.read");
    if (const auto* n = t.get("write")) p.write = paths(*n, "filesystem.write");
    if (const auto* n = t.get("deny")) p.deny = paths(*n, "filesystem.deny", true);
    if (const auto* n = t.get("tmpfs")) p.tmpfs = paths(*n, "filesystem.tmpfs");
    for (const auto& g : p.tmpfs) {
      if (g.path == "/") fail_at(g.origin, "filesystem.tmpfs: \"/\" cannot be a tmpfs (the root is always fresh)");
    }
  }

  void network(const toml::table& t, Policy& p) const {
    check_keys(t, "network", {"mode", "allow", "deny", "max_bytes_out", "max_connections", "per_host"});
    if (const auto* n = t.get("mode")) {
      std::string m = string_of(*n, "network.mode");
      if (m == "none")
        p.net_mode = {NetMode::None, at(*n)};
      else if (m == "proxy")
        p.net_mode = {NetMode::Proxy, at(*n)};
      else if (m == "host")
        p.net_mode = {NetMode::Host, at(*n)};
      else
        fail(*n, "network.mode must be \"none\", \"proxy\" or \"host\", not \"" + m + "\"");
    }
    if (const auto* n = t.get("allow")) p.net_allow = hosts(*n, "network.allow");
    if (const auto* n = t.get("deny")) p.net_deny = hosts(*n, "network.deny");
    budget(t, "network", p.net_budget);
    if (const toml::node* n = t.get("per_host")) {
      const toml::table& ph = table_of(*n, "network.per_host");
      check_keys(ph, "network.per_host", {"max_bytes_out", "max_connections"});
      budget(ph, "network.per_host", p.net_budget_per_host);
    }
  }

  void budget(const toml::table& t, const std::string& where, EgressBudget& b) const {
    if (const auto* n = t.get("max_bytes_out")) {
      b.max_bytes_out = setting<std::uint64_t>(size_value(*n, where + ".max_bytes_out"), *n);
    }
    if (const auto* n = t.get("max_connections")) {
      b.max_connections =
          setting<std::uint64_t>(static_cast<std::uint64_t>(int_of(*n, where + ".max_connections", 1, INT32_MAX)), *n);
    }
  }

  static bool valid_env_name(std::string_view s, bool allow_glob) {
    if (s.empty()) return false;
    if (allow_glob && s.back() == '*') s.remove_suffix(1);
    if (s.empty()) return false;
    if (std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
  }

  void env(const toml::table& t, Policy& p) const {
    check_keys(t, "env", {"pass", "set"});
    if (const auto* n = t.get("pass")) {
      for (auto& [s, o] : strings(*n, "env.pass")) {
        if (!valid_env_name(s, true)) {
          fail_at(o, "env.pass: \"" + s + "\" is not a variable name (letters, digits, '_', optionally ending in '*')");
        }
        p.env_pass.push_back({s, o});
      }
    }
    if (const auto* n = t.get("set")) {
      for (auto [kp, vp] : in_file_order(table_of(*n, "env.set"))) {
        const toml::key& k = *kp;
        const toml::node& v = *vp;
        std::string name(k.str());
        if (!valid_env_name(name, false)) fail_at(at(k.source()), "env.set: \"" + name + "\" is not a variable name");
        std::string value = string_of(v, "env.set." + name);
        if (value.find('\0') != std::string::npos) fail(v, "env.set." + name + " contains a NUL byte");
        p.env_set.push_back({name, value, at(k.source())});
      }
    }
  }

  void secrets(const toml::table& t, Policy& p) const {
    for (auto [kp, vp] : in_file_order(t)) {
      const toml::key& k = *kp;
      const toml::node& v = *vp;
      std::string name(k.str());
      Origin o = at(k.source());
      if (!valid_env_name(name, false)) fail_at(o, "secret name \"" + name + "\" must be letters, digits and '_'");
      const auto& st = table_of(v, "secrets." + name);
      std::string where = "secrets." + name;
      check_keys(st, where, {"from_env", "from_file", "expose"});
      Secret s;
      s.name = name;
      s.origin = o;
      const auto* fe = st.get("from_env");
      const auto* ff = st.get("from_file");
      if ((fe != nullptr) == (ff != nullptr)) {
        fail_at(o, "secret " + name + " needs exactly one of from_env or from_file");
      }
      if (fe != nullptr) {
        s.source = Secret::Source::Env;
        s.from = string_of(*fe, where + ".from_env");
        if (!valid_env_name(s.from, false)) fail(*fe, where + ".from_env: \"" + s.from + "\" is not a variable name");
      } else {
        s.source = Secret::Source::File;
        s.from = abs_path(string_of(*ff, where + ".from_file"), at(*ff), where + ".from_file");
      }
      if (const auto* e = st.get("expose")) {
        std::string x = string_of(*e, where + ".expose");
        if (x == "env")
          s.expose = Secret::Expose::Env;
        else if (x == "file")
          s.expose = Secret::Expose::File;
        else
          fail(*e, where + ".expose must be \"env\" or \"file\", not \"" + x + "\"");
      }
      p.secrets.push_back(std::move(s));
    }
  }

  template <typename T>
  Setting<T> setting(T v, const toml::node& n) const {
    return Setting<T>{v, at(n)};
  }

  std::uint64_t size_value(const toml::node& n, std::string_view name) const {
    if (n.is_integer()) return static_cast<std::uint64_t>(int_of(n, name, 1, INT64_MAX));
    if (!n.is_string())
      fail(n, std::string(name) + " must be a size such as \"512M\" or a byte count, not " + type_name(n));
    std::uint64_t v = parse_value(n, name, [](const std::string& s) { return parse_size(s); });
    if (v == 0) fail(n, std::string(name) + " must be greater than 0");
    return v;
  }

  std::chrono::milliseconds duration_value(const toml::node& n, std::string_view name) const {
    auto d = parse_value(n, name, [](const std::string& s) { return parse_duration(s); });
    if (d.count() <= 0) fail(n, std::string(name) + " must be greater than 0");
    return d;
  }

  void limits(const toml::table& t, Policy& p) const {
    check_keys(t, "limits",
               {"memory", "pids", "cpu", "wall", "cpu_time", "nofile", "max_denials", "max_tool_calls", "tool_loop",
                "on_exceed"});
    Limits& l = p.limits;
    if (const auto* n = t.get("memory")) {
      std::uint64_t v = size_value(*n, "limits.memory");
      if (v < 4 * 1024 * 1024) fail(*n, "limits.memory must be at least 4M");
      l.memory = setting(v, *n);
    }
    if (const auto* n = t.get("pids")) l.pids = setting<std::uint64_t>(int_of(*n, "limits.pids", 1, 4'194'304), *n);
    if (const auto* n = t.get("cpu")) {
      double c = 0;
      if (n->is_integer())
        c = static_cast<double>(n->as_integer()->get());
      else if (n->is_floating_point())
        c = n->as_floating_point()->get();
      else
        fail(*n, std::string("limits.cpu must be a number of cores, not ") + type_name(*n));
      if (!(c >= 0.01) || !std::isfinite(c) || c > 4096) fail(*n, "limits.cpu must be between 0.01 and 4096 cores");
      l.cpu = setting(c, *n);
    }
    if (const auto* n = t.get("wall")) l.wall = setting(duration_value(*n, "limits.wall"), *n);
    if (const auto* n = t.get("cpu_time")) l.cpu_time = setting(duration_value(*n, "limits.cpu_time"), *n);
    if (const auto* n = t.get("nofile")) l.nofile = setting<std::uint64_t>(int_of(*n, "limits.nofile", 8, 1 << 20), *n);
    if (const auto* n = t.get("max_denials")) {
      l.max_denials = setting<std::uint64_t>(int_of(*n, "limits.max_denials", 1, INT32_MAX), *n);
    }
    if (const auto* n = t.get("max_tool_calls")) {
      l.max_tool_calls = setting<std::uint64_t>(int_of(*n, "limits.max_tool_calls", 1, INT32_MAX), *n);
    }
    if (const auto* n = t.get("tool_loop")) {
      l.tool_loop = setting<std::uint64_t>(int_of(*n, "limits.tool_loop", 2, 1000), *n);
    }
    if (const auto* n = t.get("on_exceed")) {
      std::string v = string_of(*n, "limits.on_exceed");
      if (v != "refuse" && v != "kill") {
        fail(*n, "limits.on_exceed must be \"refuse\" or \"kill\", not \"" + v + "\"");
      }
      l.on_exceed_kill = setting(v == "kill", *n);
    }
  }

  std::vector<SyscallRule> syscall_names(const toml::node& n, std::string_view name) const {
    std::vector<SyscallRule> out;
    for (auto& [s, o] : strings(n, name)) {
      if (seccomp_syscall_resolve_name(s.c_str()) == __NR_SCMP_ERROR) {
        fail_at(o, std::string(name) + ": unknown system call \"" + s + "\"");
      }
      out.push_back({s, o});
    }
    return out;
  }

  void syscalls(const toml::table& t, Policy& p) const {
    check_keys(t, "syscalls", {"deny", "allow"});
    if (const auto* n = t.get("deny")) p.syscalls_deny = syscall_names(*n, "syscalls.deny");
    if (const auto* n = t.get("allow")) p.syscalls_allow = syscall_names(*n, "syscalls.allow");
  }

  void sandbox(const toml::table& t, Policy& p) const {
    check_keys(t, "sandbox", {"best_effort"});
    if (const auto* n = t.get("best_effort")) {
      for (auto& [s, o] : strings(*n, "sandbox.best_effort")) {
        static const std::set<std::string> known{"namespaces", "landlock", "cgroup", "seccomp-notify"};
        if (known.count(s) == 0) {
          fail_at(o, "sandbox.best_effort: unknown layer \"" + s +
                         "\" (expected namespaces, landlock, cgroup or seccomp-notify)");
        }
        p.best_effort.push_back({s, o});
      }
    }
  }

  static bool valid_tool_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
  }

  void tools(const toml::node& n, Policy& p) const {
    const auto* arr = n.as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) fail(n, "tool must be an array of tables ([[tool]])");
    std::set<std::string> names;
    for (const toml::node& e : *arr) {
      const auto& t = *e.as_table();
      check_keys(t, "tool",
                 {"name", "script", "description", "grants", "rate_limit", "requires", "audit", "timeout", "memory",
                  "max_output", "max_calls"});
      ToolDecl d;
      d.origin = at(e);
      const auto* nm = t.get("name");
      if (nm == nullptr) fail(e, "[[tool]] needs a name");
      d.name = string_of(*nm, "tool.name");
      if (!valid_tool_name(d.name)) fail(*nm, "tool name \"" + d.name + "\" must be 1-64 letters, digits, '_' or '-'");
      if (!names.insert(d.name).second) fail(*nm, "tool \"" + d.name + "\" is declared twice in this profile");
      std::string w = "tool " + d.name;
      const auto* sc = t.get("script");
      if (sc == nullptr) fail(e, w + " needs a script");
      d.script = abs_path(string_of(*sc, w + ": script"), at(*sc), w + ": script", true);
      if (check_scripts_) {
        try {
          check_trusted_file(d.script, "tool script");
        } catch (const Error& err) {
          fail(*sc, err.what());
        }
      }
      if (const auto* x = t.get("description")) d.description = string_of(*x, w + ": description");
      if (const auto* g = t.get("grants")) grants(table_of(*g, w + ": grants"), d, w);
      if (const auto* x = t.get("rate_limit"))
        d.rate_limit = parse_value(*x, w + ": rate_limit", [](const std::string& s) { return parse_rate(s); });
      if (const auto* x = t.get("requires")) {
        for (auto& [s, o] : strings(*x, w + ": requires")) {
          if (s != "approval") fail_at(o, w + ": requires: unknown requirement \"" + s + "\" (expected \"approval\")");
          d.requires_approval = true;
        }
      }
      if (const auto* x = t.get("audit")) {
        std::string a = string_of(*x, w + ": audit");
        if (a != "full" && a != "metadata") fail(*x, w + ": audit must be \"full\" or \"metadata\", not \"" + a + "\"");
        d.audit_full = a == "full";
      }
      if (const auto* x = t.get("timeout")) d.timeout = duration_value(*x, w + ": timeout");
      if (const auto* x = t.get("memory")) {
        d.memory = size_value(*x, w + ": memory");
        if (*d.memory < 1024 * 1024) fail(*x, w + ": memory must be at least 1M");
      }
      if (const auto* x = t.get("max_output")) d.max_output = size_value(*x, w + ": max_output");
      if (const auto* x = t.get("max_calls")) {
        d.max_calls =
            Setting<std::uint64_t>{static_cast<std::uint64_t>(int_of(*x, w + ": max_calls", 1, INT32_MAX)), at(*x)};
      }
      p.tools.push_back(std::move(d));
    }
  }

  void grants(const toml::table& t, ToolDecl& d, const std::string& w) const {
    check_keys(t, "tool.grants", {"read", "write", "net", "secrets", "db", "wasm"});
    if (const auto* n = t.get("read")) d.read = paths(*n, w + ": grants.read");
    if (const auto* n = t.get("write")) d.write = paths(*n, w + ": grants.write");
    if (const auto* n = t.get("net")) d.net = hosts(*n, w + ": grants.net");
    if (const auto* n = t.get("secrets")) {
      for (auto& [s, o] : strings(*n, w + ": grants.secrets")) d.secrets.push_back(s);
    }
    if (const auto* n = t.get("wasm")) d.wasm = bool_of(*n, w + ": grants.wasm");
    if (const auto* n = t.get("db")) {
      const auto& dt = table_of(*n, w + ": grants.db");
      check_keys(dt, "tool.grants.db", {"path", "read_only", "tables", "max_rows"});
      DbGrant db;
      db.origin = at(*n);
      const auto* pth = dt.get("path");
      if (pth == nullptr) fail(*n, w + ": grants.db needs a path");
      db.path = abs_path(string_of(*pth, w + ": grants.db.path"), at(*pth), w + ": grants.db.path", true);
      if (const auto* x = dt.get("read_only")) db.read_only = bool_of(*x, w + ": grants.db.read_only");
      if (const auto* x = dt.get("tables")) {
        for (auto& [s, o] : strings(*x, w + ": grants.db.tables")) db.tables.push_back(s);
      }
      if (const auto* x = dt.get("max_rows"))
        db.max_rows = static_cast<std::uint64_t>(int_of(*x, w + ": grants.db.max_rows", 1, INT64_MAX));
      d.db = std::move(db);
    }
  }

  std::string file_;
  const Variables& vars_;
  bool check_scripts_;
  std::string profile_dir_;
};

template <typename T, typename Key>
void replace_or_append(std::vector<T>& base, const std::vector<T>& layer, Key key) {
  for (const auto& item : layer) {
    auto it = std::find_if(base.begin(), base.end(), [&](const T& b) { return key(b) == key(item); });
    if (it != base.end())
      *it = item;
    else
      base.push_back(item);
  }
}

template <typename T>
void append(std::vector<T>& base, const std::vector<T>& layer) {
  base.insert(base.end(), layer.begin(), layer.end());
}

template <typename T>
void override_opt(std::optional<T>& base, const std::optional<T>& layer) {
  if (layer) base = layer;
}

void dedupe_paths(std::vector<PathGrant>& v) {
  std::set<std::string> seen;
  std::vector<PathGrant> out;
  for (auto& g : v) {
    if (seen.insert(g.path).second) out.push_back(std::move(g));
  }
  v = std::move(out);
}

}  // namespace

Policy parse_profile_text(const std::string& text, const std::string& file, const Variables& vars,
                          std::vector<std::pair<std::string, Origin>>* extends, bool check_scripts) {
  return Parser(file, vars, check_scripts).parse(text, extends);
}

void merge_layer(Policy& base, const Policy& layer) {
  append(base.profiles, layer.profiles);
  if (!layer.description.empty()) base.description = layer.description;
  append(base.read, layer.read);
  append(base.write, layer.write);
  append(base.deny, layer.deny);
  append(base.tmpfs, layer.tmpfs);
  if (layer.net_mode.origin.known()) base.net_mode = layer.net_mode;
  append(base.net_allow, layer.net_allow);
  append(base.net_deny, layer.net_deny);
  override_opt(base.net_budget.max_bytes_out, layer.net_budget.max_bytes_out);
  override_opt(base.net_budget.max_connections, layer.net_budget.max_connections);
  override_opt(base.net_budget_per_host.max_bytes_out, layer.net_budget_per_host.max_bytes_out);
  override_opt(base.net_budget_per_host.max_connections, layer.net_budget_per_host.max_connections);
  append(base.env_pass, layer.env_pass);
  replace_or_append(base.env_set, layer.env_set, [](const EnvSet& e) { return e.name; });
  replace_or_append(base.secrets, layer.secrets, [](const Secret& s) { return s.name; });
  Limits& l = base.limits;
  const Limits& n = layer.limits;
  override_opt(l.memory, n.memory);
  override_opt(l.pids, n.pids);
  override_opt(l.cpu, n.cpu);
  override_opt(l.wall, n.wall);
  override_opt(l.cpu_time, n.cpu_time);
  override_opt(l.nofile, n.nofile);
  override_opt(l.max_denials, n.max_denials);
  override_opt(l.max_tool_calls, n.max_tool_calls);
  override_opt(l.tool_loop, n.tool_loop);
  override_opt(l.on_exceed_kill, n.on_exceed_kill);
  append(base.syscalls_deny, layer.syscalls_deny);
  append(base.syscalls_allow, layer.syscalls_allow);
  append(base.best_effort, layer.best_effort);
  replace_or_append(base.tools, layer.tools, [](const ToolDecl& t) { return t.name; });
}

void finalize_policy(Policy& p) {
  dedupe_paths(p.read);
  dedupe_paths(p.write);
  dedupe_paths(p.deny);
  dedupe_paths(p.tmpfs);
  {
    std::set<std::string> seen;
    std::erase_if(p.env_pass, [&](const EnvPass& e) { return !seen.insert(e.name).second; });
  }
  // write supersedes read for the very same path.
  std::erase_if(p.read, [&](const PathGrant& r) {
    return std::any_of(p.write.begin(), p.write.end(), [&](const PathGrant& w) { return w.path == r.path; });
  });
  // A folder granted from the host and also listed as tmpfs: the explicit grant wins (the
  // working folder being /tmp must not turn into an empty tmpfs).
  std::erase_if(p.tmpfs, [&](const PathGrant& t) {
    auto same = [&](const PathGrant& g) { return g.path == t.path; };
    return std::any_of(p.read.begin(), p.read.end(), same) || std::any_of(p.write.begin(), p.write.end(), same);
  });
  // deny always wins: a grant at or beneath a deny path is dropped (a grant *above* a deny
  // stays; the deny path is masked inside it by the sandbox).
  auto drop_denied = [&](std::vector<PathGrant>& grants) {
    std::erase_if(grants, [&](const PathGrant& g) {
      for (const auto& d : p.deny) {
        if (path_within(g.path, d.path)) {
          p.overridden.emplace_back(g, d.origin);
          return true;
        }
      }
      return false;
    });
  };
  drop_denied(p.read);
  drop_denied(p.write);
  drop_denied(p.tmpfs);
  for (auto& t : p.tools) {
    drop_denied(t.read);
    drop_denied(t.write);
  }
  // Tool grants name secrets that must be declared.
  for (const auto& t : p.tools) {
    for (const auto& s : t.secrets) {
      if (std::none_of(p.secrets.begin(), p.secrets.end(), [&](const Secret& d) { return d.name == s; })) {
        throw Error(t.origin,
                    "tool " + t.name + " is granted secret \"" + s + "\", which no [secrets." + s + "] declares");
      }
    }
  }
  // env.set values are not secrets, but a secret exposed as env must not be shadowed silently.
  for (const auto& s : p.secrets) {
    if (s.expose != Secret::Expose::Env) continue;
    for (const auto& e : p.env_set) {
      if (e.name == s.name)
        throw Error(e.origin, "env.set." + e.name + " collides with secret " + s.name + " exposed as env");
    }
  }
}

std::string ProfileLoader::locate(const std::string& ref, const std::string& relative_to) const {
  if (is_profile_path(ref)) {
    std::string expanded = vars_.expand(ref, relative_to);
    std::string base = relative_to.empty() ? vars_.cwd : relative_to;
    std::string path = expanded[0] == '/' ? expanded : base + "/" + expanded;
    path = normalize_path(path);
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error("profile file " + path + " does not exist");
    return path;
  }
  if (!is_valid_profile_name(ref)) throw Error("invalid profile name \"" + ref + "\"");
  if (auto found = search_.find(ref)) return *found;
  std::string where;
  for (const auto& d : search_.dirs()) where += (where.empty() ? "" : ", ") + d.dir;
  throw Error("profile \"" + ref + "\" not found (searched " + where + ")");
}

Policy ProfileLoader::load(const std::vector<std::string>& refs, const Policy* overrides) const {
  Policy out;
  std::set<std::string> merged;    // canonical paths already merged (diamonds)
  std::vector<std::string> stack;  // canonical paths being loaded (cycles)
  std::vector<std::string> stack_names;

  // Depth-first: extended profiles merge before the profile that extends them.
  std::function<void(const std::string&, const std::string&, const Origin*)> visit =
      [&](const std::string& ref, const std::string& relative_to, const Origin* from) {
        std::string path;
        try {
          path = locate(ref, relative_to);
        } catch (const Error& e) {
          if (from != nullptr) throw Error(*from, std::string("extends: ") + e.what());
          throw;
        } catch (const ValueError& e) {
          if (from != nullptr) throw Error(*from, std::string("extends: ") + e.what());
          throw Error(e.what());
        }
        std::error_code ec;
        std::string canon = fs::weakly_canonical(path, ec).string();
        if (ec) canon = path;
        if (std::find(stack.begin(), stack.end(), canon) != stack.end()) {
          std::string chain;
          for (const auto& n : stack_names) chain += n + " -> ";
          chain += ref;
          throw Error(from != nullptr ? *from : Origin{}, "extends cycle: " + chain);
        }
        if (merged.count(canon) != 0) return;
        stack.push_back(canon);
        stack_names.push_back(ref);
        std::string text = read_profile_file(path);
        // Named on the command line by path: the user chose that file. Anything found by name
        // in a project folder, or pulled in by extends from outside paddock's folders, could
        // have been written by an earlier sandbox: only its trusted content is used.
        bool explicit_path = from == nullptr && is_profile_path(ref);
        if (!explicit_path && !search_.in_trusted_folder(path)) {
          std::string abs = fs::weakly_canonical(path, ec).string();
          if (ec) abs = path;
          if (!trust_.trusted(abs, sha256_hex(text))) {
            std::string msg = path +
                              " is not trusted: a sandboxed agent with write access to its folder could have "
                              "written it. Review it, then run: paddock profile trust " +
                              abs;
            if (from != nullptr) throw Error(*from, "extends: " + msg);
            throw Error(msg);
          }
        }
        std::vector<std::pair<std::string, Origin>> extends;
        Policy layer = parse_profile_text(text, path, vars_, &extends);
        std::string dir = fs::path(path).parent_path().string();
        for (const auto& [eref, eorigin] : extends) visit(eref, dir, &eorigin);
        layer.profiles.insert(layer.profiles.begin(), ProfileRef{ref, path, layer.description});
        merge_layer(out, layer);
        merged.insert(canon);
        stack.pop_back();
        stack_names.pop_back();
      };

  for (const auto& r : refs) visit(r, {}, nullptr);
  if (overrides != nullptr) merge_layer(out, *overrides);
  finalize_policy(out);
  return out;
}

}  // namespace paddock
