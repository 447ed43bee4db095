// How `paddock log` shows a session log to a person: an aligned table of events (local time,
// layer, action, subject, reason, pid) under a header line, colours on a terminal, and for each
// denial what was attempted and the profile line that would have allowed it. Also the
// --json, --verify and --list outputs. Everything writes to a std::ostream so tests can read it.
//
// Subjects and reasons come from the sandboxed program and are not trusted: control
// characters (and bidirectional overrides) are shown escaped, never sent to the terminal.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/reader.h"
#include "audit/verify.h"

namespace paddock {

// Whether output should be coloured: to a terminal, NO_COLOR unset or empty, TERM not "dumb".
[[nodiscard]] bool color_wanted(bool is_terminal, const char* no_color, const char* term);
// color_wanted() for the real standard output and environment.
[[nodiscard]] bool stdout_wants_color();

struct LogFilter {
  bool denials_only = false;  // deny, kill, reject
  std::string layer;          // empty: every layer
  [[nodiscard]] bool matches(const LogEvent& e) const;
};
// Throws paddock::Error when `layer` is not one of kAuditLayers.
void validate_layer_name(const std::string& layer);

// `s` with control characters and bidirectional overrides escaped ("\x1b", "\u202e").
[[nodiscard]] std::string printable(std::string_view s);

// "HH:MM:SS.mmm" / "YYYY-MM-DD HH:MM:SS" in the local time zone; the text itself (made
// printable) when it is not an audit timestamp.
[[nodiscard]] std::string local_clock(std::string_view ts);
[[nodiscard]] std::string local_datetime(std::string_view ts);

// "4ms", "2.5s", "1m5s", "2h3m".
[[nodiscard]] std::string format_elapsed(double ms);

// The profile line that would allow what `e` was refused, or nullopt when none can be derived:
//   fs + path                  filesystem.read = ["/path"]   (filesystem.write when it wanted to write)
//   net + host:port            network.allow = ["host:443"]
//   dns + name                 network.allow = ["name"]
//   syscall + name             syscalls.allow = ["ptrace"]  (weakens the baseline)
//   limit + extra "limit"      limits.memory = ...  (raise it; now 2G)
// Uses the extra fields "path", "access", "host", "port", "name", "syscall", "limit", "value"
// when present and the subject otherwise.
[[nodiscard]] std::optional<std::string> allow_hint(const LogEvent& e);

// What the event says was attempted, in words: "write /etc/passwd", "connect to x.org:443".
[[nodiscard]] std::string describe_attempt(const LogEvent& e);

// The table view, row by row (a follower adds rows as they come).
class LogTable {
 public:
  LogTable(std::ostream& out, bool color) : out_(out), color_(color) {}

  // Sizes the subject and reason columns for these events. With `more_to_come`, the columns
  // are at least of a typical width, for rows not yet seen.
  void fit(const std::vector<const LogEvent*>& events, bool more_to_come);
  // "session ID  started DATE TIME  profiles A, B  command: CMD" from the session/start event;
  // without one, the session id of `first` (or `fallback_id`) and "(no start event)".
  void header(const LogEvent* start, const LogEvent* first, const std::string& fallback_id);
  void column_titles();
  // One row, and under a denial its attempt and hint lines (under session start and exit, the
  // layers, degradations, times and denial counts they carry).
  void event(const LogEvent& e);
  void malformed(std::uint64_t line);
  void note(std::string_view text);

 private:
  std::string paint(std::string_view text, const char* code) const;
  void detail(std::string_view label, const std::string& text, const char* code = nullptr);

  std::ostream& out_;
  bool color_;
  std::size_t subject_width_ = 7;
  std::size_t reason_width_ = 6;
};

// The whole table view of a log: header, titles, the events that pass the filter with a report
// in place of each malformed line, and a closing note when the log has no exit event (or when
// nothing matched the filter).
void render_log(std::ostream& out, const ParsedLog& log, const LogFilter& filter, bool color,
                const std::string& fallback_id = {});

// The --json view: the raw line of each event that passes the filter. With `terminal`, C1
// control characters inside strings are written as \u escapes (the same JSON value).
void render_json(std::ostream& out, const ParsedLog& log, const LogFilter& filter, bool terminal);
[[nodiscard]] std::string terminal_safe_json(std::string_view line);

// The --follow view: the lines already in the log, then each appended line as it arrives.
// Table rows (or, with `json`, raw lines) go to `out`, flushed per line; in the JSON view a
// malformed line is reported on `err`, in the table view in place.
class LiveLogView {
 public:
  struct Options {
    LogFilter filter;
    bool json = false;
    bool color = false;
    bool terminal = false;    // JSON to a terminal: see render_json
    std::string fallback_id;  // for the header when the log has no session id
  };
  LiveLogView(std::ostream& out, std::ostream& err, Options options)
      : out_(out), err_(err), options_(std::move(options)), table_(out, options_.color) {}

  // The lines the log held when following started.
  void begin(const std::vector<LogFollower::Line>& lines);
  // One appended line; returns false once the session exit event has been shown.
  bool line(std::string_view text, std::uint64_t number);
  [[nodiscard]] bool exited() const { return exited_; }

 private:
  void start_table(const LogEvent* start, const LogEvent* first, const std::vector<const LogEvent*>& shown);
  void show(const std::optional<LogEvent>& e, std::uint64_t number);

  std::ostream& out_;
  std::ostream& err_;
  Options options_;
  LogTable table_;
  bool started_ = false;
  bool exited_ = false;
};

// --verify exit statuses.
inline constexpr int kVerifyOk = 0;          // intact and complete
inline constexpr int kVerifyTampered = 1;    // a line was edited, removed, reordered or damaged
inline constexpr int kVerifyIncomplete = 2;  // intact so far, but no exit event (running or cut off)
// Prints "ok: N events, hash chain intact" (and "session still running or truncated ..." when
// incomplete) or "tampered: <problem>", and returns the exit status above.
int report_verify(std::ostream& out, const VerifyResult& r);

// One row of --list.
struct SessionSummary {
  std::string id;  // from the log, or the file name when unreadable
  std::string path;
  std::string start_ts;  // ts of the start event (or the first event)
  std::string command;
  std::vector<std::string> profiles;
  std::optional<int> exit_status;  // set when the log has its exit event
  std::optional<double> wall_ms;   // from the exit event, else from the timestamps
  std::string state;               // "" when exited, else "running?", "incomplete" or "unreadable"
  std::uint64_t denials = 0;
};

// Reads one log. A log without an exit event is "running?" when modified less than a minute
// before `now`, else "incomplete"; its duration runs to `now` or to its last event.
[[nodiscard]] SessionSummary summarize_session(const std::string& path, std::time_t now);
// The `limit` most recent sessions in `dir` (all with limit 0), newest first.
[[nodiscard]] std::vector<SessionSummary> list_sessions(const std::string& dir, std::size_t limit, std::time_t now);
void render_session_list(std::ostream& out, const std::vector<SessionSummary>& sessions, bool color);

}  // namespace paddock
