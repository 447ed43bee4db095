#include "policy/policy_printer.h"

#include <cstdio>
#include <ostream>
#include <sstream>

namespace paddock {
namespace {

std::string origin_comment(const Origin& o) {
  return o.known() ? "  # " + o.short_str() : "";
}

template <typename T, typename F>
void print_list(std::ostream& out, const char* key, const std::vector<T>& items, F text) {
  if (items.empty()) {
    out << key << " = []\n";
    return;
  }
  out << key << " = [\n";
  for (const auto& i : items) out << "  " << toml_quote(text(i)) << "," << origin_comment(i.origin) << "\n";
  out << "]\n";
}

template <typename T, typename F>
void print_setting(std::ostream& out, const char* key, const std::optional<Setting<T>>& s, F text) {
  if (s)
    out << key << " = " << text(s->value) << origin_comment(s->origin) << "\n";
  else
    out << "# " << key << " not set\n";
}

}  // namespace

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void print_policy(std::ostream& out, const Policy& p) {
  out << "# Resolved policy, merged from (most basic first):\n";
  for (const auto& r : p.profiles) out << "#   " << r.name << "  (" << r.path << ")\n";
  if (!p.description.empty()) out << "description = " << toml_quote(p.description) << "\n";

  auto path = [](const PathGrant& g) { return g.path; };
  out << "\n[filesystem]\n";
  print_list(out, "read", p.read, path);
  print_list(out, "write", p.write, path);
  print_list(out, "deny", p.deny, path);
  print_list(out, "tmpfs", p.tmpfs, path);
  for (const auto& [g, by] : p.overridden) {
    out << "# dropped " << toml_quote(g.path) << " from " << g.origin.short_str() << ": denied by " << by.short_str()
        << "\n";
  }

  auto host = [](const HostGrant& h) { return h.pattern.str(); };
  out << "\n[network]\n";
  out << "mode = " << toml_quote(to_string(p.net_mode.value))
      << (p.net_mode.origin.known() ? origin_comment(p.net_mode.origin) : "  # default") << "\n";
  print_list(out, "allow", p.net_allow, host);
  print_list(out, "deny", p.net_deny, host);
  auto size = [](std::uint64_t v) { return toml_quote(format_size(v)); };
  auto count = [](std::uint64_t v) { return std::to_string(v); };
  print_setting(out, "max_bytes_out", p.net_budget.max_bytes_out, size);
  print_setting(out, "max_connections", p.net_budget.max_connections, count);
  if (p.net_budget_per_host.any()) {
    out << "\n[network.per_host]\n";
    print_setting(out, "max_bytes_out", p.net_budget_per_host.max_bytes_out, size);
    print_setting(out, "max_connections", p.net_budget_per_host.max_connections, count);
  }

  out << "\n[env]\n";
  print_list(out, "pass", p.env_pass, [](const EnvPass& e) { return e.name; });
  out << "set = {";
  for (size_t i = 0; i < p.env_set.size(); ++i) {
    out << (i ? ", " : " ") << p.env_set[i].name << " = " << toml_quote(p.env_set[i].value);
  }
  out << (p.env_set.empty() ? "}" : " }") << "\n";
  for (const auto& e : p.env_set) out << "#   " << e.name << " set at " << e.origin.short_str() << "\n";

  for (const auto& s : p.secrets) {
    out << "\n[secrets." << s.name << "]" << origin_comment(s.origin) << "\n";
    out << (s.source == Secret::Source::Env ? "from_env = " : "from_file = ") << toml_quote(s.from) << "\n";
    out << "expose = " << toml_quote(s.expose == Secret::Expose::Env ? "env" : "file") << "\n";
  }

  out << "\n[limits]\n";
  const Limits& l = p.limits;
  auto num = [](auto v) { return std::to_string(v); };
  print_setting(out, "memory", l.memory, [](std::uint64_t v) { return toml_quote(format_size(v)); });
  print_setting(out, "pids", l.pids, num);
  print_setting(out, "cpu", l.cpu, [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  });
  auto dur = [](std::chrono::milliseconds v) { return toml_quote(format_duration(v)); };
  print_setting(out, "wall", l.wall, dur);
  print_setting(out, "cpu_time", l.cpu_time, dur);
  print_setting(out, "nofile", l.nofile, num);
  print_setting(out, "max_denials", l.max_denials, num);
  if (!p.tools.empty()) {
    print_setting(out, "max_tool_calls", l.max_tool_calls, num);
    print_setting(out, "tool_loop", l.tool_loop, num);
    print_setting(out, "on_exceed", l.on_exceed_kill, [](bool kill) { return toml_quote(kill ? "kill" : "refuse"); });
  }

  auto sys = [](const SyscallRule& r) { return r.name; };
  out << "\n[syscalls]\n";
  print_list(out, "deny", p.syscalls_deny, sys);
  print_list(out, "allow", p.syscalls_allow, sys);

  if (!p.best_effort.empty()) {
    out << "\n[sandbox]\n";
    print_list(out, "best_effort", p.best_effort, [](const BestEffort& b) { return b.layer; });
  }

  for (const auto& t : p.tools) {
    out << "\n[[tool]]" << origin_comment(t.origin) << "\n";
    out << "name = " << toml_quote(t.name) << "\n";
    out << "script = " << toml_quote(t.script) << "\n";
    if (!t.description.empty()) out << "description = " << toml_quote(t.description) << "\n";
    out << "grants = { ";
    std::string sep;
    auto list = [&](const char* k, const std::vector<std::string>& v) {
      if (v.empty()) return;
      out << sep << k << " = [";
      for (size_t i = 0; i < v.size(); ++i) out << (i ? ", " : "") << toml_quote(v[i]);
      out << "]";
      sep = ", ";
    };
    std::vector<std::string> r, w, n;
    for (const auto& g : t.read) r.push_back(g.path);
    for (const auto& g : t.write) w.push_back(g.path);
    for (const auto& g : t.net) n.push_back(g.pattern.str());
    list("read", r);
    list("write", w);
    list("net", n);
    list("secrets", t.secrets);
    if (t.db) {
      out << sep << "db = { path = " << toml_quote(t.db->path)
          << ", read_only = " << (t.db->read_only ? "true" : "false");
      if (!t.db->tables.empty()) {
        out << ", tables = [";
        for (size_t i = 0; i < t.db->tables.size(); ++i) out << (i ? ", " : "") << toml_quote(t.db->tables[i]);
        out << "]";
      }
      if (t.db->max_rows) out << ", max_rows = " << *t.db->max_rows;
      out << " }";
      sep = ", ";
    }
    if (t.wasm) {
      out << sep << "wasm = true";
      sep = ", ";
    }
    out << (sep.empty() ? "}" : " }") << "\n";
    if (t.rate_limit) out << "rate_limit = " << toml_quote(format_rate(*t.rate_limit)) << "\n";
    if (t.requires_approval) out << "requires = [\"approval\"]\n";
    out << "audit = " << toml_quote(t.audit_full ? "full" : "metadata") << "\n";
    if (t.timeout) out << "timeout = " << toml_quote(format_duration(*t.timeout)) << "\n";
    if (t.memory) out << "memory = " << toml_quote(format_size(*t.memory)) << "\n";
    if (t.max_output) out << "max_output = " << toml_quote(format_size(*t.max_output)) << "\n";
    if (t.max_calls) out << "max_calls = " << t.max_calls->value << origin_comment(t.max_calls->origin) << "\n";
  }
}

}  // namespace paddock
