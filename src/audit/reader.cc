#include "audit/reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "audit/event.h"
#include "audit/writer.h"
#include "util/error.h"
#include "util/fd_io.h"

namespace paddock {

namespace {

namespace fs = std::filesystem;

bool is_reserved(std::string_view key) {
  return std::find(kAuditReservedKeys.begin(), kAuditReservedKeys.end(), key) != kAuditReservedKeys.end();
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "20261123T185701Z" when `name` starts like a session id made by AuditWriter::new_session_id.
std::string id_start_time(std::string_view name) {
  if (name.size() < 16 || name[8] != 'T' || name[15] != 'Z') return {};
  if (!all_digits(name.substr(0, 8)) || !all_digits(name.substr(9, 6))) return {};
  return std::string(name.substr(0, 16));
}

std::string utc_compact(std::time_t t) {
  struct tm tm {};
  if (::gmtime_r(&t, &tm) == nullptr) return {};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

std::string strip_jsonl(std::string s) {
  constexpr std::string_view kExt = ".jsonl";
  if (s.size() > kExt.size() && s.compare(s.size() - kExt.size(), kExt.size(), kExt) == 0) {
    s.resize(s.size() - kExt.size());
  }
  return s;
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

bool LogEvent::is_denial() const {
  return is_denial_action(action);
}

std::string LogEvent::extra_string(std::string_view key) const {
  auto it = extra.find(key);
  if (it == extra.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::optional<LogEvent> parse_event_line(std::string_view line, std::uint64_t line_no) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  LogEvent e;
  e.line = line_no;
  e.raw = std::string(line);
  auto str = [&j](const char* key, std::string& out, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return !required;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  if (!str("layer", e.layer, true) || !str("action", e.action, true)) return std::nullopt;
  if (e.layer.empty() || e.action.empty()) return std::nullopt;
  if (!str("ts", e.ts, false) || !str("session", e.session, false) || !str("subject", e.subject, false) ||
      !str("reason", e.reason, false)) {
    return std::nullopt;
  }
  if (auto it = j.find("seq"); it != j.end()) {
    if (!it->is_number_unsigned()) return std::nullopt;
    e.seq = it->get<std::uint64_t>();
  }
  if (auto it = j.find("pid"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) return std::nullopt;
    auto pid = it->get<std::int64_t>();
    if (pid < 0 || pid > 0x7fffffff) return std::nullopt;
    e.pid = static_cast<int>(pid);
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!is_reserved(it.key())) e.extra[it.key()] = it.value();
  }
  return e;
}

ParsedLog parse_log_text(std::string_view text) {
  ParsedLog log;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    ++log.lines;
    if (auto e = parse_event_line(line, log.lines)) {
      log.events.push_back(std::move(*e));
    } else {
      log.malformed.push_back(log.lines);
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return log;
}

ParsedLog read_log(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("cannot open audit log " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("cannot stat audit log " + path);
  if (S_ISDIR(st.st_mode)) throw Error("audit log " + path + " is a folder");
  std::optional<std::string> text = read_fd(fd.get());
  if (!text) throw_errno("cannot read audit log " + path);
  return parse_log_text(*text);
}

std::optional<AuditTime> parse_audit_timestamp(std::string_view ts) {
  // 2026-11-22T10:00:00.123456Z
  if (ts.size() < 20 || ts.back() != 'Z') return std::nullopt;
  auto num = [&ts](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > ts.size() || !all_digits(ts.substr(pos, len))) return false;
    out = std::stoi(std::string(ts.substr(pos, len)));
    return true;
  };
  struct tm tm {};
  int year = 0, mon = 0;
  if (!num(0, 4, year) || ts[4] != '-' || !num(5, 2, mon) || ts[7] != '-' || !num(8, 2, tm.tm_mday) || ts[10] != 'T' ||
      !num(11, 2, tm.tm_hour) || ts[13] != ':' || !num(14, 2, tm.tm_min) || ts[16] != ':' || !num(17, 2, tm.tm_sec)) {
    return std::nullopt;
  }
  AuditTime t;
  std::string_view frac = ts.substr(19, ts.size() - 20);  // ".123456" or ""
  if (!frac.empty()) {
    if (frac[0] != '.' || frac.size() < 2 || frac.size() > 10 || !all_digits(frac.substr(1))) return std::nullopt;
    std::string digits(frac.substr(1));
    digits.resize(6, '0');
    t.micros = std::stoi(digits);
  }
  if (mon < 1 || mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  t.seconds = ::timegm(&tm);
  return t;
}

std::string sessions_dir() {
  std::string path = AuditWriter::default_path("x");
  return path.substr(0, path.rfind('/'));
}

std::vector<std::string> list_session_logs(const std::string& dir) {
  struct Entry {
    std::string key;  // session start time, compact UTC
    std::int64_t mtime_ns = 0;
    std::string path;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return {};
    throw Error("cannot list the session folder " + dir + ": " + ec.message());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw Error("cannot list the session folder " + dir + ": " + ec.message());
    const std::string name = it->path().filename().string();
    if (name.size() <= 6 || name.compare(name.size() - 6, 6, ".jsonl") != 0 || name[0] == '.') continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    Entry e;
    e.path = it->path().string();
    e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    e.key = id_start_time(name);
    if (e.key.empty()) e.key = utc_compact(st.st_mtim.tv_sec);
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.key, a.mtime_ns, a.path) > std::tie(b.key, b.mtime_ns, b.path);
  });
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (auto& e : entries) out.push_back(std::move(e.path));
  return out;
}

std::string resolve_log_argument(const std::string& arg, const std::string& dir) {
  if (arg.empty()) {
    auto logs = list_session_logs(dir);
    if (logs.empty()) throw Error("no session logs in " + dir + " yet (each `paddock run` writes one there)");
    return logs.front();
  }
  if (arg.find('/') != std::string::npos) {
    if (!is_regular_file(arg)) {
      struct stat st {};
      if (::stat(arg.c_str(), &st) != 0) throw_errno("cannot open audit log " + arg);
      throw Error("audit log " + arg + " is not a regular file");
    }
    return arg;
  }
  const std::string id = strip_jsonl(arg);
  if (AuditWriter::is_valid_session_id(id)) {
    std::string exact = dir + "/" + id + ".jsonl";
    if (is_regular_file(exact)) return exact;
    std::vector<std::string> matches;
    for (const auto& p : list_session_logs(dir)) {
      std::string name = strip_jsonl(fs::path(p).filename().string());
      if (name.compare(0, id.size(), id) == 0) matches.push_back(p);
    }
    if (matches.size() == 1) return matches.front();
    if (matches.size() > 1) {
      std::string names;
      for (std::size_t i = 0; i < matches.size() && i < 3; ++i) {
        names += (i == 0 ? "" : ", ") + strip_jsonl(fs::path(matches[i]).filename().string());
      }
      if (matches.size() > 3) names += ", ...";
      throw Error("session prefix \"" + arg + "\" is ambiguous: " + std::to_string(matches.size()) +
                  " sessions match (" + names + ")");
    }
  }
  if (is_regular_file(arg)) return arg;
  throw Error("no session \"" + arg + "\" in " + dir + " and no file of that name (see 'paddock log --list')");
}

std::vector<std::string> LineSplitter::feed(std::string_view bytes) {
  std::vector<std::string> lines;
  for (;;) {
    auto nl = bytes.find('\n');
    if (nl == std::string_view::npos) break;
    pending_.append(bytes.substr(0, nl));
    lines.push_back(std::move(pending_));
    pending_.clear();
    bytes.remove_prefix(nl + 1);
  }
  pending_.append(bytes);
  return lines;
}

LogFollower::LogFollower(const std::string& path, Options options) : path_(path), options_(options) {
  fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_) throw_errno("cannot open audit log " + path);
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) throw_errno("cannot stat audit log " + path);
  if (!S_ISREG(st.st_mode)) throw Error("audit log " + path + " is not a regular file");
  if (options_.interval.count() <= 0) options_.interval = std::chrono::milliseconds{250};
  if (options_.use_inotify) {
    UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    // Without inotify (no instances or watches left), polling the file still works.
    if (in && ::inotify_add_watch(in.get(), path.c_str(), IN_MODIFY) >= 0) inotify_ = std::move(in);
  }
}

std::vector<LogFollower::Line> LogFollower::read_lines() {
  std::vector<Line> lines;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read audit log " + path_);
    }
    if (n == 0) break;
    auto more = splitter_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    for (auto& l : more) lines.push_back(Line{++line_no_, std::move(l)});
  }
  return lines;
}

bool LogFollower::wait(std::chrono::milliseconds timeout) {
  auto ms = std::clamp<std::int64_t>(timeout.count(), 0, options_.interval.count());
  if (!inotify_) {
    if (::poll(nullptr, 0, static_cast<int>(ms)) < 0 && errno == EINTR) return false;
    return true;
  }
  pollfd pfd{inotify_.get(), POLLIN, 0};
  int r = ::poll(&pfd, 1, static_cast<int>(ms));
  if (r < 0) {
    if (errno == EINTR) return false;
    throw_errno("cannot wait for audit log " + path_);
  }
  if (r > 0) {
    alignas(inotify_event) char buf[4096];
    while (::read(inotify_.get(), buf, sizeof buf) > 0) {
    }
  }
  return true;
}

LogFollower::End LogFollower::run(const std::function<bool(std::string_view, std::uint64_t)>& on_line,
                                  const std::atomic<bool>* stop, std::chrono::milliseconds idle) {
  using Clock = std::chrono::steady_clock;
  auto last_line = Clock::now();
  for (;;) {
    if (stop != nullptr && stop->load()) return End::stopped;
    auto lines = read_lines();
    for (const auto& l : lines) {
      if (!on_line(l.text, l.number)) return End::exit_event;
    }
    auto now = Clock::now();
    if (!lines.empty()) last_line = now;
    std::chrono::milliseconds sleep = options_.interval;
    if (idle.count() > 0) {
      auto quiet = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_line);
      if (quiet >= idle) return End::timed_out;
      sleep = std::min(sleep, idle - quiet);
    }
    wait(sleep);
  }
}

}  // namespace paddock
