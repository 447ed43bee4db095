// Reading session logs for `paddock log`: each JSON line parsed into an event (with its raw
// text and line number), where the logs of past sessions live and which file a SESSION argument
// names, and a follower that tails a log while its session is still writing it.
//
// Reading is lenient where verify.h is strict: a line that is a JSON object with string
// "layer" and "action" is an event (missing subject, reason or pid read as empty); anything
// else is a malformed line the caller reports and skips. Tampering is --verify's business.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/unique_fd.h"

namespace paddock {

struct LogEvent {
  std::uint64_t line = 0;  // 1-based line number in the log
  std::string raw;         // the line as written, without its newline
  std::string ts;          // "2026-11-22T10:00:00.123456Z", or empty when missing
  std::string session;
  std::optional<std::uint64_t> seq;
  std::string layer;
  std::string action;
  std::string subject;
  std::string reason;
  std::optional<int> pid;
  // Every field that is not one of kAuditReservedKeys: an object, empty when there are none.
  nlohmann::json extra = nlohmann::json::object();

  [[nodiscard]] bool is_denial() const;  // deny, kill or reject
  [[nodiscard]] bool is_session(std::string_view action_name) const {
    return layer == "session" && action == action_name;
  }
  // The string field `key` of extra, or empty.
  [[nodiscard]] std::string extra_string(std::string_view key) const;
};

// One line of a log (no newline). nullopt when it is not an event (see above).
[[nodiscard]] std::optional<LogEvent> parse_event_line(std::string_view line, std::uint64_t line_no);

struct ParsedLog {
  std::vector<LogEvent> events;
  std::vector<std::uint64_t> malformed;  // line numbers of lines that are not events
  std::uint64_t lines = 0;               // lines read, malformed ones included
};

// The events of a log held in memory. A last line without its newline is read like the others.
[[nodiscard]] ParsedLog parse_log_text(std::string_view text);
// The same for the file at `path`; throws paddock::Error naming it when it cannot be read.
[[nodiscard]] ParsedLog read_log(const std::string& path);

// "2026-11-22T10:00:00.123456Z" → seconds since the epoch and microseconds; nullopt when the
// text does not have that shape.
struct AuditTime {
  std::time_t seconds = 0;
  int micros = 0;
};
[[nodiscard]] std::optional<AuditTime> parse_audit_timestamp(std::string_view ts);

// $XDG_STATE_HOME/paddock/sessions (the folder of AuditWriter::default_path).
[[nodiscard]] std::string sessions_dir();

// The session logs (*.jsonl) in `dir`, newest first: by the start time their session ids begin
// with, then by modification time. A missing folder has none.
[[nodiscard]] std::vector<std::string> list_session_logs(const std::string& dir);

// The log a `paddock log` argument names, looked up in `dir`:
//  - empty: the most recent session;
//  - anything with a "/": that file;
//  - a session id, or a unique prefix of one (a trailing ".jsonl" is ignored);
//  - otherwise an existing file of that name in the working folder.
// Throws paddock::Error for no match, an ambiguous prefix or an empty folder.
[[nodiscard]] std::string resolve_log_argument(const std::string& arg, const std::string& dir);

// Splits appended bytes into complete lines; a partial line waits for its newline.
class LineSplitter {
 public:
  // Adds bytes and returns the lines they complete, without their newlines.
  std::vector<std::string> feed(std::string_view bytes);
  [[nodiscard]] const std::string& pending() const { return pending_; }

 private:
  std::string pending_;
};

// Tails one log file: the lines already in it, then those appended later. Uses inotify
// (IN_MODIFY) to wake up when the file grows, and polls the file when inotify is unavailable
// (or not wanted) — every wait is bounded, so a missed wake-up costs at most one interval.
class LogFollower {
 public:
  struct Options {
    bool use_inotify = true;
    std::chrono::milliseconds interval{250};  // longest sleep between two reads
  };

  // Throws paddock::Error naming the path when it cannot be opened.
  explicit LogFollower(const std::string& path) : LogFollower(path, Options{}) {}
  LogFollower(const std::string& path, Options options);

  struct Line {
    std::uint64_t number = 0;  // 1-based, counted from the start of the file
    std::string text;          // without its newline
  };
  // Complete lines appended since the last call (all lines on the first call).
  std::vector<Line> read_lines();
  // Sleeps until the file may have grown, at most `timeout` (and at most the interval).
  // Returns early, false, when interrupted by a signal.
  bool wait(std::chrono::milliseconds timeout);
  [[nodiscard]] bool using_inotify() const { return inotify_.valid(); }
  [[nodiscard]] const std::string& pending() const { return splitter_.pending(); }

  enum class End { exit_event, stopped, timed_out };
  // Calls on_line(text, line number) for every complete line not yet read, until
  // on_line returns false (End::exit_event: the caller saw the session end), *stop becomes true
  // (End::stopped, e.g. set by a SIGINT handler), or — when `idle` is non-zero — no new line
  // arrived for that long (End::timed_out; for tests).
  End run(const std::function<bool(std::string_view, std::uint64_t)>& on_line, const std::atomic<bool>* stop,
          std::chrono::milliseconds idle = std::chrono::milliseconds{0});

 private:
  std::string path_;
  Options options_;
  UniqueFd fd_;
  UniqueFd inotify_;
  LineSplitter splitter_;
  std::uint64_t line_no_ = 0;
};

}  // namespace paddock
