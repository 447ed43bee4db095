#include "audit/log_format.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "audit/event.h"
#include "util/error.h"
#include "util/units.h"

namespace paddock {

namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

constexpr std::size_t kTimeWidth = 12;   // HH:MM:SS.mmm
constexpr std::size_t kLayerWidth = 10;  // "credential"
constexpr std::size_t kActionWidth = 7;  // "approve", "result", "reject"
constexpr std::size_t kDetailIndent = kTimeWidth + 2 + kLayerWidth + 2 + kActionWidth + 2;
constexpr std::size_t kLabelWidth = 12;

constexpr std::array<std::string_view, 7> kLimitKeys = {"memory",   "pids",   "cpu",        "wall",
                                                        "cpu_time", "nofile", "max_denials"};

// Columns a string takes on a terminal: its code points (good enough for a table).
std::size_t display_width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(std::string s, std::size_t width) {
  std::size_t w = display_width(s);
  if (w < width) s.append(width - w, ' ');
  return s;
}

// `s` cut to `width` columns, ending in "..." when anything was cut.
std::string shorten(const std::string& s, std::size_t width) {
  if (display_width(s) <= width) return s;
  const std::size_t keep_cols = width > 3 ? width - 3 : 0;
  std::size_t keep = 0, cols = 0;
  while (keep < s.size() && cols < keep_cols) {
    ++keep;
    while (keep < s.size() && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80) ++keep;
    ++cols;
  }
  return s.substr(0, keep) + "...";
}

void rtrim(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

std::string hex2(unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  return {kHex[(v >> 4) & 0xf], kHex[v & 0xf]};
}

// The escape `printable` or a TOML/JSON string uses for the dangerous code point starting at
// s[i] (and its length in bytes), or an empty string when s[i] starts a harmless one.
std::pair<std::string, std::size_t> dangerous_at(std::string_view s, std::size_t i, bool json_style) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x20 || b == 0x7f) return {json_style ? "\\u00" + hex2(b) : "\\x" + hex2(b), 1};
  if (b == 0xC2 && i + 1 < s.size()) {  // C1 controls U+0080..U+009F (0x9b is a CSI)
    const auto c = static_cast<unsigned char>(s[i + 1]);
    if (c >= 0x80 && c <= 0x9f) return {"\\u00" + hex2(c), 2};
  }
  if (b == 0xE2 && i + 2 < s.size()) {  // bidirectional overrides and isolates
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    const auto c2 = static_cast<unsigned char>(s[i + 2]);
    if (c1 == 0x80 && c2 >= 0xAA && c2 <= 0xAE) return {"\\u202" + std::string(1, "abcde"[c2 - 0xAA]), 3};
    if (c1 == 0x81 && c2 >= 0xA6 && c2 <= 0xA9) return {"\\u206" + std::string(1, "6789"[c2 - 0xA6]), 3};
  }
  return {{}, 0};
}

// A TOML basic string, with everything a terminal could act on escaped.
std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
      ++i;
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      ++i;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
      ++i;
      continue;
    }
    auto [esc, len] = dangerous_at(s, i, true);
    if (len == 0) {
      out += c;
      ++i;
      continue;
    }
    out += esc;
    i += len;
  }
  out += '"';
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// A scalar extra value as text: strings as they are, numbers as JSON writes them.
std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return {};
}

std::string extra_scalar(const LogEvent& e, std::string_view key) {
  auto it = e.extra.find(key);
  return it == e.extra.end() ? std::string() : scalar_text(*it);
}

// The access an fs event wanted, as words: "write", "read/exec", or "" when not said.
std::vector<std::string> fs_access(const LogEvent& e) {
  std::vector<std::string> words;
  auto it = e.extra.find("access");
  if (it == e.extra.end()) return words;
  auto add = [&words](const nlohmann::json& v) {
    if (!v.is_string()) return;
    std::string s = lower(v.get<std::string>());
    // "read,write" or "read|write" as one string.
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ',' || s[i] == '|' || s[i] == ' ' || s[i] == '+') {
        if (i > start) words.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
  };
  if (it->is_array()) {
    for (const auto& v : *it) add(v);
  } else {
    add(*it);
  }
  return words;
}

bool wants_write(const std::vector<std::string>& access) {
  static constexpr std::array<std::string_view, 12> kWrite = {"write",  "w",        "rw",     "create",
                                                              "append", "remove",   "unlink", "delete",
                                                              "rename", "truncate", "mkdir",  "write_file"};
  for (const auto& a : access) {
    if (std::find(kWrite.begin(), kWrite.end(), a) != kWrite.end()) return true;
    if (a.find("write") != std::string::npos || a.rfind("make_", 0) == 0 || a.rfind("remove_", 0) == 0) return true;
  }
  return false;
}

std::string fs_path(const LogEvent& e) {
  std::string p = e.extra_string("path");
  return p.empty() ? e.subject : p;
}

std::string net_target(const LogEvent& e) {
  std::string host = e.extra_string("host");
  std::string port = extra_scalar(e, "port");
  if (host.empty()) {
    if (e.subject.empty()) return {};
    // A subject without a port gains the one the event names.
    if (!port.empty() && e.subject.find(':') == std::string::npos) return e.subject + ":" + port;
    return e.subject;
  }
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return port.empty() ? host : host + ":" + port;
}

std::string dns_name(const LogEvent& e) {
  std::string name = e.extra_string("name");
  if (name.empty()) name = e.extra_string("host");
  if (name.empty()) name = e.subject;
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

bool is_syscall_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string syscall_name(const LogEvent& e) {
  std::string name = e.extra_string("syscall");
  if (name.empty()) {
    // "ptrace", "ptrace(16, 1234)" or "ptrace args..."
    std::size_t end = 0;
    while (end < e.subject.size() && is_syscall_name(e.subject.substr(end, 1))) ++end;
    name = e.subject.substr(0, end);
  }
  return is_syscall_name(name) ? name : std::string();
}

std::string limit_key(const LogEvent& e) {
  auto known = [](const std::string& k) {
    return std::find(kLimitKeys.begin(), kLimitKeys.end(), k) != kLimitKeys.end();
  };
  auto map = [&known](std::string name) -> std::string {
    name = lower(std::move(name));
    if (name.rfind("limits.", 0) == 0) name = name.substr(7);
    if (known(name)) return name;
    if (auto dot = name.find('.'); dot != std::string::npos && known(name.substr(0, dot))) return name.substr(0, dot);
    static const std::map<std::string, std::string> kAlias = {
        {"oom", "memory"},   {"rss", "memory"},      {"as", "memory"},           {"nproc", "pids"},
        {"timeout", "wall"}, {"wall_clock", "wall"}, {"rlimit_cpu", "cpu_time"}, {"denials", "max_denials"}};
    if (auto it = kAlias.find(name); it != kAlias.end()) return it->second;
    return {};
  };
  if (std::string k = map(e.extra_string("limit")); !k.empty()) return k;
  std::string first = e.subject.substr(0, e.subject.find(' '));
  return map(first);
}

std::string syscall_args(const LogEvent& e) {
  auto it = e.extra.find("args");
  if (it == e.extra.end() || !it->is_array()) return {};
  std::vector<std::string> args;
  for (const auto& a : *it) args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  return join(args, ", ");
}

std::string local_time_format(std::string_view ts, const char* fmt, bool millis) {
  auto t = parse_audit_timestamp(ts);
  struct tm tm {};
  if (!t || ::localtime_r(&t->seconds, &tm) == nullptr) return printable(ts);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  std::string out(buf, n);
  if (millis) {
    char ms[16];
    std::snprintf(ms, sizeof ms, ".%03d", t->micros / 1000);
    out += ms;
  }
  return out;
}

std::optional<double> seconds_between(std::string_view from, std::string_view to) {
  auto a = parse_audit_timestamp(from);
  auto b = parse_audit_timestamp(to);
  if (!a || !b) return std::nullopt;
  return static_cast<double>(b->seconds - a->seconds) + (b->micros - a->micros) / 1e6;
}

std::string format_kib(double kib) {
  char buf[32];
  if (kib >= 1024.0 * 1024.0)
    std::snprintf(buf, sizeof buf, "%.1fG", kib / (1024.0 * 1024.0));
  else if (kib >= 1024.0)
    std::snprintf(buf, sizeof buf, "%.1fM", kib / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%.0fK", kib);
  return buf;
}

std::vector<std::string> profile_names(const LogEvent& start) {
  std::vector<std::string> names;
  auto it = start.extra.find("profiles");
  if (it == start.extra.end() || !it->is_array()) return names;
  for (const auto& p : *it) {
    if (p.is_string())
      names.push_back(p.get<std::string>());
    else if (p.is_object() && p.contains("name") && p["name"].is_string())
      names.push_back(p["name"].get<std::string>());
  }
  return names;
}

std::string string_list(const nlohmann::json& v) {
  std::vector<std::string> parts;
  if (v.is_array()) {
    for (const auto& x : v) {
      std::string s = scalar_text(x);
      if (!s.empty()) parts.push_back(s);
    }
  } else {
    std::string s = scalar_text(v);
    if (!s.empty()) parts.push_back(s);
  }
  return join(parts, ", ");
}

// "fs 2, net 1" from a {"layer": count} object.
std::string denial_breakdown(const nlohmann::json& v) {
  std::vector<std::string> parts;
  if (v.is_object()) {
    for (const auto& [layer, n] : v.items()) parts.push_back(layer + " " + scalar_text(n));
  }
  return join(parts, ", ");
}

}  // namespace

bool color_wanted(bool is_terminal, const char* no_color, const char* term) {
  if (!is_terminal) return false;
  if (no_color != nullptr && no_color[0] != '\0') return false;
  if (term != nullptr && std::string_view(term) == "dumb") return false;
  return true;
}

bool stdout_wants_color() {
  return color_wanted(::isatty(STDOUT_FILENO) == 1, std::getenv("NO_COLOR"), std::getenv("TERM"));
}

bool LogFilter::matches(const LogEvent& e) const {
  if (denials_only && !e.is_denial()) return false;
  if (!layer.empty() && e.layer != layer) return false;
  return true;
}

void validate_layer_name(const std::string& layer) {
  if (is_audit_layer(layer)) return;
  std::string names;
  for (auto l : kAuditLayers) names += (names.empty() ? "" : ", ") + std::string(l);
  throw Error("unknown layer \"" + printable(layer) + "\" (layers: " + names + ")");
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto [esc, len] = dangerous_at(s, i, false);
    if (len == 0) {
      out += s[i++];
    } else {
      out += esc;
      i += len;
    }
  }
  return out;
}

std::string local_clock(std::string_view ts) {
  return local_time_format(ts, "%H:%M:%S", true);
}

std::string local_datetime(std::string_view ts) {
  return local_time_format(ts, "%Y-%m-%d %H:%M:%S", false);
}

std::string format_elapsed(double ms) {
  if (!(ms >= 0)) ms = 0;
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%.0fms", ms);
    return buf;
  }
  if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000);
    return buf;
  }
  auto secs = static_cast<std::int64_t>(std::llround(ms / 1000));
  if (secs >= 3600) secs -= secs % 60;  // "2h3m", not "2h3m4s"
  return format_duration(std::chrono::milliseconds(secs * 1000));
}

std::optional<std::string> allow_hint(const LogEvent& e) {
  if (e.layer == "fs") {
    std::string path = fs_path(e);
    if (path.empty()) return std::nullopt;
    return std::string(wants_write(fs_access(e)) ? "filesystem.write" : "filesystem.read") + " = [" +
           toml_string(path) + "]";
  }
  // The layer's own hint when it gave one (the egress policy knows, e.g., that a loopback
  // address needs an address entry, or which budget ran out).
  if (std::string own = e.extra_string("hint"); !own.empty() && (e.layer == "net" || e.layer == "dns")) return own;
  if (e.layer == "net") {
    std::string target = net_target(e);
    if (target.empty()) return std::nullopt;
    return "network.allow = [" + toml_string(target) + "]";
  }
  if (e.layer == "dns") {
    std::string name = dns_name(e);
    if (name.empty()) return std::nullopt;
    return "network.allow = [" + toml_string(name) + "]";
  }
  if (e.layer == "syscall") {
    std::string name = syscall_name(e);
    if (name.empty()) return std::nullopt;
    return "syscalls.allow = [" + toml_string(name) + "]  (weakens the baseline)";
  }
  if (e.layer == "limit") {
    std::string key = limit_key(e);
    if (key.empty()) return std::nullopt;
    std::string value = extra_scalar(e, "value");
    if (value.empty()) value = extra_scalar(e, "max");
    return "limits." + key + " = " + (value.empty() ? "<a higher value>" : "<more than " + printable(value) + ">");
  }
  return std::nullopt;
}

std::string describe_attempt(const LogEvent& e) {
  if (e.layer == "fs") {
    auto access = fs_access(e);
    return (access.empty() ? std::string("open") : join(access, "/")) + " " + fs_path(e);
  }
  if (e.layer == "net") return "connect to " + net_target(e);
  if (e.layer == "dns") return "resolve " + dns_name(e);
  if (e.layer == "syscall") {
    std::string name = syscall_name(e);
    if (name.empty()) return e.subject;
    auto it = e.extra.find("args");
    if (it != e.extra.end() && it->is_array()) return name + "(" + syscall_args(e) + ")";
    return "system call " + name;
  }
  if (e.layer == "limit") {
    std::string key = limit_key(e);
    if (key.empty()) return "exceed a limit: " + e.subject;
    std::string out = "exceed limits." + key;
    if (!e.subject.empty() && e.subject != key) out += " (" + e.subject + ")";
    return out;
  }
  if (e.layer == "credential") return "use secret " + e.subject;
  if (e.layer == "tool") return "call tool " + e.subject;
  return e.subject;
}

// ---- the table ----

std::string LogTable::paint(std::string_view text, const char* code) const {
  if (!color_ || code == nullptr) return std::string(text);
  return std::string(code) + std::string(text) + kReset;
}

void LogTable::fit(const std::vector<const LogEvent*>& events, bool more_to_come) {
  std::size_t s = 0, r = 0;
  for (const LogEvent* e : events) {
    s = std::max(s, display_width(printable(e->subject)));
    r = std::max(r, display_width(printable(e->reason)));
  }
  if (more_to_come) {
    s = std::max<std::size_t>(s, 24);
    r = std::max<std::size_t>(r, 32);
  }
  subject_width_ = std::clamp<std::size_t>(s, 7, 40);
  reason_width_ = std::clamp<std::size_t>(r, 6, 48);
}

void LogTable::header(const LogEvent* start, const LogEvent* first, const std::string& fallback_id) {
  std::string id = start != nullptr ? start->session : first != nullptr ? first->session : std::string();
  if (id.empty()) id = fallback_id;
  std::string line = "session " + printable(id.empty() ? "?" : id);
  if (start == nullptr) {
    line += "  (no start event)";
  } else {
    line += "  started " + local_datetime(start->ts);
    auto names = profile_names(*start);
    if (!names.empty()) line += "  profiles " + printable(join(names, ", "));
    line += "  command: " + printable(start->subject);
  }
  out_ << paint(line, kBold) << "\n";
}

void LogTable::column_titles() {
  std::string line = pad("TIME", kTimeWidth) + "  " + pad("LAYER", kLayerWidth) + "  " + pad("ACTION", kActionWidth) +
                     "  " + pad("SUBJECT", subject_width_) + "  " + pad("REASON", reason_width_) + "  PID";
  out_ << paint(line, kDim) << "\n";
}

void LogTable::detail(std::string_view label, const std::string& text, const char* code) {
  std::string line(kDetailIndent, ' ');
  out_ << line << paint(pad(std::string(label), kLabelWidth), kDim) << paint(text, code) << "\n";
}

void LogTable::event(const LogEvent& e) {
  // A subject wider than its column is cut short in the row and shown whole below it (a
  // denial's "attempted" line and the header's command already show it).
  const std::string subject = printable(e.subject);
  const bool cut = display_width(subject) > subject_width_;
  std::string line = pad(local_clock(e.ts), kTimeWidth) + "  " + pad(printable(e.layer), kLayerWidth) + "  " +
                     pad(printable(e.action), kActionWidth) + "  " +
                     pad(cut ? shorten(subject, subject_width_) : subject, subject_width_) + "  " +
                     pad(printable(e.reason), reason_width_) + "  " + (e.pid ? std::to_string(*e.pid) : std::string());
  rtrim(line);
  const char* code = e.is_denial() ? kRed : e.action == "warn" ? kYellow : e.layer == "session" ? kBold : nullptr;
  out_ << paint(line, code) << "\n";
  if (cut && !e.is_denial() && !e.is_session("start")) detail("subject:", subject);

  if (e.is_denial()) {
    detail("attempted:", printable(describe_attempt(e)));
    if (auto hint = allow_hint(e)) detail("allow with:", printable(*hint));
    return;
  }
  if (e.layer == "net" && e.action == "result") {
    auto num = [&e](const char* key) -> std::uint64_t {
      auto it = e.extra.find(key);
      return it != e.extra.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
    };
    std::string via = e.extra_string("path");
    std::string address = e.extra_string("address");
    detail("traffic:", printable(format_size(num("bytes_out")) + " out, " + format_size(num("bytes_in")) + " in, " +
                                 format_elapsed(static_cast<double>(num("duration_ms"))) +
                                 (via.empty() ? "" : ", via " + via) + (address.empty() ? "" : ", " + address)));
    return;
  }
  if (e.is_session("start")) {
    std::vector<std::string> parts;
    if (auto it = e.extra.find("layers"); it != e.extra.end()) parts.push_back(string_list(*it));
    if (std::string net = e.extra_string("network"); !net.empty()) parts.push_back("network " + net);
    if (!parts.empty() && !parts.front().empty()) detail("layers:", printable(join(parts, "; ")));
    if (auto it = e.extra.find("degraded"); it != e.extra.end()) {
      std::string d = string_list(*it);
      if (!d.empty()) detail("degraded:", printable(d), kYellow);
    }
  } else if (e.is_session("exit")) {
    std::vector<std::string> parts;
    auto num = [&e](const char* key) -> std::optional<double> {
      auto it = e.extra.find(key);
      if (it == e.extra.end() || !it->is_number()) return std::nullopt;
      return it->get<double>();
    };
    if (auto w = num("wall_ms")) parts.push_back("wall " + format_elapsed(*w));
    auto user = num("cpu_user_ms"), sys = num("cpu_system_ms");
    if (user || sys) parts.push_back("cpu " + format_elapsed(user.value_or(0) + sys.value_or(0)));
    if (auto rss = num("peak_rss_kib")) parts.push_back("peak memory " + format_kib(*rss));
    if (!parts.empty()) detail("usage:", printable(join(parts, ", ")));
    auto total = num("denial_total");
    if (total && *total > 0) {
      std::string text = std::to_string(static_cast<std::uint64_t>(*total));
      if (auto it = e.extra.find("denials"); it != e.extra.end()) {
        std::string b = denial_breakdown(*it);
        if (!b.empty()) text += " (" + b + ")";
      }
      detail("denials:", printable(text), kRed);
    }
  }
}

void LogTable::malformed(std::uint64_t line) {
  out_ << paint("line " + std::to_string(line) + ": not a valid event", kYellow) << "\n";
}

void LogTable::note(std::string_view text) {
  out_ << paint(text, kDim) << "\n";
}

void render_log(std::ostream& out, const ParsedLog& log, const LogFilter& filter, bool color,
                const std::string& fallback_id) {
  LogTable table(out, color);
  const LogEvent* start = nullptr;
  bool exited = false;
  std::vector<const LogEvent*> shown;
  for (const auto& e : log.events) {
    if (start == nullptr && e.is_session("start")) start = &e;
    if (e.is_session("exit")) exited = true;
    if (filter.matches(e)) shown.push_back(&e);
  }
  table.header(start, log.events.empty() ? nullptr : &log.events.front(), fallback_id);
  table.fit(shown, false);
  if (!shown.empty() || !log.malformed.empty()) table.column_titles();
  std::size_t m = 0;
  for (const LogEvent* e : shown) {
    while (m < log.malformed.size() && log.malformed[m] < e->line) table.malformed(log.malformed[m++]);
    table.event(*e);
  }
  while (m < log.malformed.size()) table.malformed(log.malformed[m++]);

  if (log.lines == 0) {
    table.note("(the log is empty)");
  } else if (shown.empty() && !log.events.empty()) {
    table.note("(no " + std::string(filter.denials_only ? "denials" : "events") +
               (filter.layer.empty() ? "" : " in layer " + filter.layer) + " among " +
               std::to_string(log.events.size()) + (log.events.size() == 1 ? " event)" : " events)"));
  }
  if (log.lines > 0 && !exited) {
    table.note("(no session exit event: the session is still running, or its log was cut short)");
  }
}

std::string terminal_safe_json(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size();) {
    auto [esc, len] = dangerous_at(line, i, true);
    // Raw C0 controls cannot be inside a valid JSON line; escape what is left (C1, bidi).
    if (len == 0) {
      out += line[i++];
    } else {
      out += esc;
      i += len;
    }
  }
  return out;
}

void render_json(std::ostream& out, const ParsedLog& log, const LogFilter& filter, bool terminal) {
  for (const auto& e : log.events) {
    if (!filter.matches(e)) continue;
    out << (terminal ? terminal_safe_json(e.raw) : e.raw) << "\n";
  }
}

int report_verify(std::ostream& out, const VerifyResult& r) {
  if (!r.ok) {
    out << "tampered or damaged: " << printable(r.problem) << "\n";
    return kVerifyTampered;
  }
  out << "ok: " << r.lines << (r.lines == 1 ? " event" : " events") << ", hash chain intact\n";
  if (!r.complete) {
    out << "session still running or truncated (no session exit event yet)\n";
    return kVerifyIncomplete;
  }
  return kVerifyOk;
}

// ---- --list ----

SessionSummary summarize_session(const std::string& path, std::time_t now) {
  SessionSummary s;
  s.path = path;
  std::string stem = std::filesystem::path(path).filename().string();
  if (stem.size() > 6 && stem.compare(stem.size() - 6, 6, ".jsonl") == 0) stem.resize(stem.size() - 6);
  s.id = stem;
  ParsedLog log;
  struct stat st {};
  try {
    log = read_log(path);
    if (::stat(path.c_str(), &st) != 0) throw_errno("cannot stat " + path);
  } catch (const Error&) {
    s.state = "unreadable";
    return s;
  }
  if (log.events.empty()) {
    s.state = log.lines == 0 ? "empty" : "unreadable";
    return s;
  }
  const LogEvent* start = nullptr;
  const LogEvent* exit = nullptr;
  for (const auto& e : log.events) {
    if (start == nullptr && e.is_session("start")) start = &e;
    if (e.is_session("exit")) exit = &e;
    if (e.is_denial()) ++s.denials;
  }
  const LogEvent& first = start != nullptr ? *start : log.events.front();
  if (!first.session.empty()) s.id = first.session;
  s.start_ts = first.ts;
  if (start != nullptr) {
    s.command = start->subject;
    s.profiles = profile_names(*start);
  }
  if (exit != nullptr) {
    if (auto it = exit->extra.find("status"); it != exit->extra.end() && it->is_number_integer()) {
      s.exit_status = it->get<int>();
    } else {
      try {
        std::size_t used = 0;
        int v = std::stoi(exit->subject, &used);
        if (used == exit->subject.size()) s.exit_status = v;
      } catch (const std::exception&) {
      }
    }
    if (auto it = exit->extra.find("wall_ms"); it != exit->extra.end() && it->is_number()) {
      s.wall_ms = it->get<double>();
    } else if (auto d = seconds_between(first.ts, exit->ts)) {
      s.wall_ms = *d * 1000;
    }
    if (!s.exit_status) s.state = "exited";
    return s;
  }
  const bool recent = now - st.st_mtim.tv_sec < 60;
  s.state = recent ? "running?" : "incomplete";
  if (recent) {
    if (auto t = parse_audit_timestamp(first.ts)) {
      s.wall_ms = (static_cast<double>(now - t->seconds) - t->micros / 1e6) * 1000;
    }
  } else if (auto d = seconds_between(first.ts, log.events.back().ts)) {
    s.wall_ms = *d * 1000;
  }
  return s;
}

std::vector<SessionSummary> list_sessions(const std::string& dir, std::size_t limit, std::time_t now) {
  auto logs = list_session_logs(dir);
  if (limit != 0 && logs.size() > limit) logs.resize(limit);
  std::vector<SessionSummary> out;
  out.reserve(logs.size());
  for (const auto& p : logs) out.push_back(summarize_session(p, now));
  return out;
}

void render_session_list(std::ostream& out, const std::vector<SessionSummary>& sessions, bool color) {
  auto paint = [color](const std::string& text, const char* code) {
    return color && code != nullptr ? std::string(code) + text + kReset : text;
  };
  constexpr std::size_t kCommandMax = 40;
  struct Row {
    std::string id, start, duration, exit, denials, command, profiles;
    const char* exit_code = nullptr;
    bool denied = false;
  };
  std::vector<Row> rows;
  Row titles{"SESSION", "START", "DURATION", "EXIT", "DENIALS", "COMMAND", "PROFILES"};
  std::array<std::size_t, 6> w{};
  auto widen = [&w](const Row& r) {
    const std::array<const std::string*, 6> cells{&r.id, &r.start, &r.duration, &r.exit, &r.denials, &r.command};
    for (std::size_t i = 0; i < cells.size(); ++i) w[i] = std::max(w[i], display_width(*cells[i]));
  };
  widen(titles);
  for (const auto& s : sessions) {
    Row r;
    r.id = printable(s.id);
    r.start = s.start_ts.empty() ? "?" : local_datetime(s.start_ts);
    r.duration = s.wall_ms ? format_elapsed(*s.wall_ms) : "?";
    if (s.exit_status) {
      r.exit = std::to_string(*s.exit_status);
    } else {
      r.exit = s.state.empty() ? "?" : s.state;
      r.exit_code = kYellow;
    }
    r.denials = std::to_string(s.denials);
    r.denied = s.denials > 0;
    std::string cmd = shorten(printable(s.command), kCommandMax);
    r.command = cmd.empty() ? "-" : cmd;
    r.profiles = s.profiles.empty() ? "-" : printable(join(s.profiles, ","));
    widen(r);
    rows.push_back(std::move(r));
  }
  auto right = [](const std::string& s, std::size_t width) {
    std::size_t n = display_width(s);
    return n < width ? std::string(width - n, ' ') + s : s;
  };
  auto line = [&](const Row& r, bool is_title) {
    std::string text = pad(r.id, w[0]) + "  " + pad(r.start, w[1]) + "  " + right(r.duration, w[2]) + "  ";
    out << (is_title ? paint(text, kDim) : text);
    std::string exit = pad(r.exit, w[3]);
    out << (is_title ? paint(exit, kDim) : paint(exit, r.exit_code)) << "  ";
    std::string den = right(r.denials, w[4]);
    out << (is_title ? paint(den, kDim) : paint(den, r.denied ? kRed : nullptr)) << "  ";
    std::string rest = pad(r.command, w[5]) + "  " + r.profiles;
    rtrim(rest);
    out << (is_title ? paint(rest, kDim) : rest) << "\n";
  };
  line(titles, true);
  for (const auto& r : rows) line(r, false);
}

// ---- --follow ----

void LiveLogView::start_table(const LogEvent* start, const LogEvent* first, const std::vector<const LogEvent*>& shown) {
  started_ = true;
  if (options_.json) return;
  table_.header(start, first, options_.fallback_id);
  table_.fit(shown, true);
  table_.column_titles();
}

void LiveLogView::show(const std::optional<LogEvent>& e, std::uint64_t number) {
  if (!e) {
    if (options_.json) {
      err_ << "line " << number << ": not a valid event\n";
    } else {
      table_.malformed(number);
    }
    return;
  }
  if (e->is_session("exit")) exited_ = true;
  if (!options_.filter.matches(*e)) return;
  if (options_.json) {
    out_ << (options_.terminal ? terminal_safe_json(e->raw) : e->raw) << "\n";
  } else {
    table_.event(*e);
  }
}

void LiveLogView::begin(const std::vector<LogFollower::Line>& lines) {
  std::vector<std::optional<LogEvent>> parsed;
  parsed.reserve(lines.size());
  const LogEvent* start = nullptr;
  const LogEvent* first = nullptr;
  std::vector<const LogEvent*> shown;
  for (const auto& l : lines) parsed.push_back(parse_event_line(l.text, l.number));
  for (const auto& e : parsed) {
    if (!e) continue;
    if (first == nullptr) first = &*e;
    if (start == nullptr && e->is_session("start")) start = &*e;
    if (options_.filter.matches(*e)) shown.push_back(&*e);
  }
  if (!lines.empty()) start_table(start, first, shown);
  for (std::size_t i = 0; i < lines.size(); ++i) show(parsed[i], lines[i].number);
  out_.flush();
}

bool LiveLogView::line(std::string_view text, std::uint64_t number) {
  auto e = parse_event_line(text, number);
  if (!started_) {
    const LogEvent* ev = e ? &*e : nullptr;
    std::vector<const LogEvent*> shown;
    if (ev != nullptr && options_.filter.matches(*ev)) shown.push_back(ev);
    start_table(ev != nullptr && ev->is_session("start") ? ev : nullptr, ev, shown);
  }
  show(e, number);
  out_.flush();
  return !exited_;
}

}  // namespace paddock
