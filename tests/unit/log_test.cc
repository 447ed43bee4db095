// `paddock log`: reading session logs, the table view (plain and coloured), hints per layer,
// filters, --json, --verify's exit statuses, --list over a fabricated state folder, resolving
// SESSION arguments, and following a log while lines are appended.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/event.h"
#include "audit/log_format.h"
#include "audit/reader.h"
#include "audit/sha256.h"
#include "audit/verify.h"
#include "audit/writer.h"
#include "test_util.h"
#include "util/error.h"

namespace paddock {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::TempDir;

const std::string kZeros(64, '0');
const std::string kSession = "20261122T100000Z-00000000000000aa";

// Sets (or unsets) an environment variable for the life of the object; TZ changes take
// effect at once.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
    ::tzset();
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
    ::tzset();
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

AuditEvent ev(std::string layer, std::string action, std::string subject, std::string reason = {},
              std::optional<int> pid = std::nullopt, nlohmann::json extra = nullptr) {
  AuditEvent e;
  e.layer = std::move(layer);
  e.action = std::move(action);
  e.subject = std::move(subject);
  e.reason = std::move(reason);
  e.pid = pid;
  e.extra = std::move(extra);
  return e;
}

// A LogEvent as the reader would produce it from that event.
LogEvent log_event(const AuditEvent& e) {
  auto parsed = parse_event_line(audit_line(e, kSession, 0, "2026-11-22T10:00:00.000000Z", kZeros), 1);
  if (!parsed) throw std::runtime_error("test event does not parse");
  return *parsed;
}

AuditEvent start_event(const std::string& command, const std::vector<std::string>& profiles) {
  nlohmann::json p = nlohmann::json::array();
  for (const auto& name : profiles) p.push_back({{"name", name}, {"path", "/etc/paddock/profiles/" + name + ".toml"}});
  return ev("session", "start", command, "sandbox started", std::nullopt,
            {{"profiles", p},
             {"layers", {"namespaces", "landlock", "seccomp"}},
             {"network", "proxy"},
             {"degraded", nlohmann::json::array()}});
}

AuditEvent exit_event(int status, nlohmann::json denials, int total) {
  return ev("session", "exit", std::to_string(status), "command exited", std::nullopt,
            {{"status", status},
             {"wall_ms", 1500.0},
             {"cpu_user_ms", 200.0},
             {"cpu_system_ms", 50.0},
             {"peak_rss_kib", 2048},
             {"denials", std::move(denials)},
             {"denial_total", total}});
}

// A log with fixed timestamps (hash chain included), one line per entry; a std::string entry
// is written as it is (a malformed line).
struct Fake {
  std::string text;
  std::string prev = kZeros;
  std::uint64_t seq = 0;
  int tenths = 0;

  Fake& add(const AuditEvent& e) {
    char ts[40];
    std::snprintf(ts, sizeof ts, "2026-11-22T10:00:%02d.%d00000Z", tenths / 10, tenths % 10);
    ++tenths;
    std::string line = audit_line(e, kSession, seq++, ts, prev);
    prev = sha256_hex(line);
    text += line + "\n";
    return *this;
  }
  Fake& raw(const std::string& line) {
    text += line + "\n";
    return *this;
  }
};

// The sample session: start, a read denial, a network denial, a malformed line, a memory
// warning, exit.
std::string sample_log() {
  Fake f;
  f.add(start_event("python3 agent.py", {"base", "agent"}))
      .add(ev("fs", "deny", "/home/u/.ssh/id_rsa", "not granted (masked by base.toml:12)", 42, {{"access", "read"}}))
      .add(ev("net", "deny", "evil.example:443", "not in network.allow", 42, {{"host", "evil.example"}, {"port", 443}}))
      .raw("this is not json")
      .add(ev("limit", "warn", "memory", "memory.high reached (agent.toml:7)", std::nullopt, {{"limit", "memory"}}))
      .add(exit_event(1, {{"fs", 1}, {"net", 1}}, 2));
  return f.text;
}

std::string render(const std::string& text, const LogFilter& filter = {}, bool color = false) {
  std::ostringstream out;
  render_log(out, parse_log_text(text), filter, color, "fallback");
  return out.str();
}

// ---------------------------------------------------------------------------------------------
// Reading

TEST(LogReader, ParsesFieldsAndKeepsExtrasAndRawLine) {
  auto e =
      ev("net", "deny", "evil.example:443", "not in network.allow", 4242, {{"host", "evil.example"}, {"port", 443}});
  std::string line = audit_line(e, kSession, 12, "2026-11-22T10:00:00.123456Z", kZeros);
  auto parsed = parse_event_line(line, 13);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->line, 13u);
  EXPECT_EQ(parsed->raw, line);
  EXPECT_EQ(parsed->ts, "2026-11-22T10:00:00.123456Z");
  EXPECT_EQ(parsed->session, kSession);
  EXPECT_EQ(parsed->seq, 12u);
  EXPECT_EQ(parsed->layer, "net");
  EXPECT_EQ(parsed->action, "deny");
  EXPECT_EQ(parsed->subject, "evil.example:443");
  EXPECT_EQ(parsed->reason, "not in network.allow");
  EXPECT_EQ(parsed->pid, 4242);
  EXPECT_EQ(parsed->extra, (nlohmann::json{{"host", "evil.example"}, {"port", 443}}));
  EXPECT_EQ(parsed->extra_string("host"), "evil.example");
  EXPECT_EQ(parsed->extra_string("port"), "");  // not a string
  EXPECT_TRUE(parsed->is_denial());
}

TEST(LogReader, LenientAboutMissingOptionalFieldsStrictAboutShape) {
  auto minimal = parse_event_line(R"({"layer":"fs","action":"deny"})", 1);
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->subject, "");
  EXPECT_FALSE(minimal->pid);
  EXPECT_FALSE(minimal->seq);
  EXPECT_TRUE(minimal->extra.is_object());
  EXPECT_TRUE(minimal->extra.empty());

  EXPECT_FALSE(parse_event_line("", 1));
  EXPECT_FALSE(parse_event_line("not json", 1));
  EXPECT_FALSE(parse_event_line("[1,2]", 1));
  EXPECT_FALSE(parse_event_line(R"({"action":"deny"})", 1));
  EXPECT_FALSE(parse_event_line(R"({"layer":7,"action":"deny"})", 1));
  EXPECT_FALSE(parse_event_line(R"({"layer":"fs","action":"deny","pid":"x"})", 1));
  EXPECT_FALSE(parse_event_line(R"({"layer":"fs","action":"deny","seq":-1})", 1));
  EXPECT_FALSE(parse_event_line(R"({"layer":"fs","action":"deny","subject":{}})", 1));
}

TEST(LogReader, NumbersLinesAndCollectsMalformedOnes) {
  ParsedLog log = parse_log_text(sample_log());
  EXPECT_EQ(log.lines, 6u);
  ASSERT_EQ(log.events.size(), 5u);
  EXPECT_EQ(log.malformed, std::vector<std::uint64_t>{4});
  EXPECT_EQ(log.events[3].line, 5u);
  EXPECT_EQ(log.events[3].action, "warn");

  // A last line without its newline is still read.
  ParsedLog tail = parse_log_text("{\"layer\":\"fs\",\"action\":\"deny\"}\n{\"layer\":\"net\",\"action\":\"deny\"}");
  EXPECT_EQ(tail.lines, 2u);
  EXPECT_EQ(tail.events.size(), 2u);
  EXPECT_TRUE(parse_log_text("").events.empty());
}

TEST(LogReader, ParsesAuditTimestamps) {
  auto t = parse_audit_timestamp("2026-11-22T10:00:00.123456Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->seconds, 1795341600);
  EXPECT_EQ(t->micros, 123456);
  auto whole = parse_audit_timestamp("1970-01-01T00:00:01Z");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->seconds, 1);
  EXPECT_EQ(whole->micros, 0);
  EXPECT_FALSE(parse_audit_timestamp(""));
  EXPECT_FALSE(parse_audit_timestamp("2026-11-22 10:00:00Z"));
  EXPECT_FALSE(parse_audit_timestamp("2026-13-22T10:00:00.1Z"));
  EXPECT_FALSE(parse_audit_timestamp("2026-11-22T10:00:00.123456"));
}

// ---------------------------------------------------------------------------------------------
// The table view

TEST(LogFormat, LocalTimesFollowTheTimeZone) {
  {
    ScopedEnv tz("TZ", "UTC");
    EXPECT_EQ(local_clock("2026-11-22T10:00:00.123456Z"), "10:00:00.123");
    EXPECT_EQ(local_datetime("2026-11-22T10:00:00.999999Z"), "2026-11-22 10:00:00");
  }
  {
    ScopedEnv tz("TZ", "Asia/Kolkata");  // +05:30, no daylight saving time
    EXPECT_EQ(local_clock("2026-11-22T10:00:00.123456Z"), "15:30:00.123");
  }
  EXPECT_EQ(local_clock("yesterday\x1b[2J"), "yesterday\\x1b[2J");
}

TEST(LogFormat, PlainTableWithHeaderDenialDetailsAndMalformedLine) {
  ScopedEnv tz("TZ", "UTC");
  const std::string expected =
      "session 20261122T100000Z-00000000000000aa  started 2026-11-22 10:00:00  profiles base, agent  command: "
      "python3 agent.py\n"
      "TIME          LAYER       ACTION   SUBJECT              REASON                                PID\n"
      "10:00:00.000  session     start    python3 agent.py     sandbox started\n"
      "                                   layers:     namespaces, landlock, seccomp; network proxy\n"
      "10:00:00.100  fs          deny     /home/u/.ssh/id_rsa  not granted (masked by base.toml:12)  42\n"
      "                                   attempted:  read /home/u/.ssh/id_rsa\n"
      "                                   allow with: filesystem.read = [\"/home/u/.ssh/id_rsa\"]\n"
      "10:00:00.200  net         deny     evil.example:443     not in network.allow                  42\n"
      "                                   attempted:  connect to evil.example:443\n"
      "                                   allow with: network.allow = [\"evil.example:443\"]\n"
      "line 4: not a valid event\n"
      "10:00:00.300  limit       warn     memory               memory.high reached (agent.toml:7)\n"
      "10:00:00.400  session     exit     1                    command exited\n"
      "                                   usage:      wall 1.5s, cpu 250ms, peak memory 2.0M\n"
      "                                   denials:    2 (fs 1, net 1)\n";
  EXPECT_EQ(render(sample_log()), expected);
}

TEST(LogFormat, ColoursDenialsRedWarningsYellowSessionBold) {
  ScopedEnv tz("TZ", "UTC");
  std::string out = render(sample_log(), {}, true);
  EXPECT_NE(out.find("\x1b[31m10:00:00.100  fs          deny"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[31m10:00:00.200  net"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[33m10:00:00.300  limit"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[1m10:00:00.000  session"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[1msession 20261122T100000Z"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[0m"), std::string::npos);
  // Colours off: not one escape.
  EXPECT_EQ(render(sample_log()).find('\x1b'), std::string::npos);
}

TEST(LogFormat, ColourOnlyOnATerminalWithoutNoColor) {
  EXPECT_TRUE(color_wanted(true, nullptr, "xterm-256color"));
  EXPECT_FALSE(color_wanted(false, nullptr, "xterm-256color"));
  EXPECT_FALSE(color_wanted(true, "1", "xterm-256color"));
  EXPECT_FALSE(color_wanted(true, "", "dumb"));
  EXPECT_TRUE(color_wanted(true, "", "xterm"));  // an empty NO_COLOR does not count
  EXPECT_TRUE(color_wanted(true, nullptr, nullptr));
  // The real environment: unit tests do not run with stdout on a terminal, and NO_COLOR wins anyway.
  ScopedEnv no_color("NO_COLOR", "1");
  EXPECT_FALSE(stdout_wants_color());
}

TEST(LogFormat, UntrustedTextCannotDriveTheTerminal) {
  ScopedEnv tz("TZ", "UTC");
  Fake f;
  f.add(start_event("sh -c \x1b]0;owned\x07", {"default"}))
      .add(ev("fs", "deny",
              "/tmp/\x1b[2J\xc2\x9b"
              "1m\xe2\x80\xae"
              "txt",
              "not granted", 7));
  std::string out = render(f.text, {}, true);
  EXPECT_NE(out.find("sh -c \\x1b]0;owned\\x07"), std::string::npos) << out;
  EXPECT_NE(out.find("/tmp/\\x1b[2J\\u009b1m\\u202etxt"), std::string::npos) << out;
  EXPECT_NE(out.find("filesystem.read = [\"/tmp/\\u001b[2J\\u009b1m\\u202etxt\"]"), std::string::npos) << out;
  // Every escape left in the output is one of ours.
  for (std::size_t i = out.find('\x1b'); i != std::string::npos; i = out.find('\x1b', i + 1)) {
    EXPECT_TRUE(out.compare(i, 4, "\x1b[0m") == 0 || out.compare(i, 4, "\x1b[1m") == 0 ||
                out.compare(i, 4, "\x1b[2m") == 0 || out.compare(i, 5, "\x1b[31m") == 0 ||
                out.compare(i, 5, "\x1b[33m") == 0)
        << "stray escape at " << i << " in " << out;
  }
  EXPECT_EQ(printable("a\tb\x7f"), "a\\x09b\\x7f");
  EXPECT_EQ(printable("résumé ✓"), "résumé ✓");
}

TEST(LogFormat, NoStartEventNoExitEventAndEmptyLog) {
  ScopedEnv tz("TZ", "UTC");
  Fake f;
  f.add(ev("dns", "deny", "exfil.example", "not in network.allow", 9));
  EXPECT_EQ(render(f.text),
            "session 20261122T100000Z-00000000000000aa  (no start event)\n"
            "TIME          LAYER       ACTION   SUBJECT        REASON                PID\n"
            "10:00:00.000  dns         deny     exfil.example  not in network.allow  9\n"
            "                                   attempted:  resolve exfil.example\n"
            "                                   allow with: network.allow = [\"exfil.example\"]\n"
            "(no session exit event: the session is still running, or its log was cut short)\n");
  EXPECT_EQ(render(""), "session fallback  (no start event)\n(the log is empty)\n");
}

// ---------------------------------------------------------------------------------------------
// Hints

TEST(LogHint, FilesystemReadOrWriteByAccess) {
  EXPECT_EQ(allow_hint(log_event(ev("fs", "deny", "/etc/shadow", "not granted"))),
            "filesystem.read = [\"/etc/shadow\"]");
  EXPECT_EQ(allow_hint(log_event(ev("fs", "deny", "/etc/shadow", "", {}, {{"access", "read"}}))),
            "filesystem.read = [\"/etc/shadow\"]");
  EXPECT_EQ(allow_hint(log_event(ev("fs", "deny", "/srv/out.txt", "", {}, {{"access", "write"}}))),
            "filesystem.write = [\"/srv/out.txt\"]");
  EXPECT_EQ(allow_hint(log_event(ev("fs", "deny", "/srv/x", "", {}, {{"access", {"read", "write"}}}))),
            "filesystem.write = [\"/srv/x\"]");
  EXPECT_EQ(allow_hint(log_event(ev("fs", "deny", "/srv/x", "", {}, {{"access", "exec"}}))),
            "filesystem.read = [\"/srv/x\"]");
  // The "path" field wins over the subject; quotes and backslashes are escaped for TOML.
  EXPECT_EQ(allow_hint(log_event(ev("fs", "deny", "open of a file", "", {}, {{"path", "/a \"b\"\\c"}}))),
            "filesystem.read = [\"/a \\\"b\\\"\\\\c\"]");
  EXPECT_EQ(allow_hint(log_event(ev("fs", "deny", ""))), std::nullopt);
  EXPECT_EQ(describe_attempt(log_event(ev("fs", "deny", "/srv/x", "", {}, {{"access", "write"}}))), "write /srv/x");
  EXPECT_EQ(describe_attempt(log_event(ev("fs", "deny", "/srv/x"))), "open /srv/x");
}

TEST(LogHint, NetworkFromHostAndPortOrSubject) {
  EXPECT_EQ(allow_hint(log_event(ev("net", "deny", "ignored", "", {}, {{"host", "api.example.com"}, {"port", 443}}))),
            "network.allow = [\"api.example.com:443\"]");
  EXPECT_EQ(allow_hint(log_event(ev("net", "deny", "evil.example:8080"))), "network.allow = [\"evil.example:8080\"]");
  EXPECT_EQ(allow_hint(log_event(ev("net", "deny", "10.0.0.1", "", {}, {{"port", "22"}}))),
            "network.allow = [\"10.0.0.1:22\"]");
  EXPECT_EQ(allow_hint(log_event(ev("net", "deny", "", "", {}, {{"host", "2001:db8::1"}, {"port", 443}}))),
            "network.allow = [\"[2001:db8::1]:443\"]");
  EXPECT_EQ(allow_hint(log_event(ev("net", "deny", ""))), std::nullopt);
  EXPECT_EQ(describe_attempt(log_event(ev("net", "deny", "evil.example:8080"))), "connect to evil.example:8080");
}

TEST(LogHint, DnsName) {
  EXPECT_EQ(allow_hint(log_event(ev("dns", "deny", "tunnel.example.net."))),
            "network.allow = [\"tunnel.example.net\"]");
  EXPECT_EQ(allow_hint(log_event(ev("dns", "deny", "x", "", {}, {{"name", "q.example.org"}}))),
            "network.allow = [\"q.example.org\"]");
}

TEST(LogHint, SyscallWeakensTheBaseline) {
  EXPECT_EQ(allow_hint(log_event(ev("syscall", "deny", "ptrace", "baseline denylist"))),
            "syscalls.allow = [\"ptrace\"]  (weakens the baseline)");
  EXPECT_EQ(allow_hint(log_event(ev("syscall", "kill", "io_uring_setup(8, 0x7ffd)"))),
            "syscalls.allow = [\"io_uring_setup\"]  (weakens the baseline)");
  EXPECT_EQ(allow_hint(log_event(ev("syscall", "deny", "#101", "", {}, {{"syscall", "ptrace"}}))),
            "syscalls.allow = [\"ptrace\"]  (weakens the baseline)");
  EXPECT_EQ(allow_hint(log_event(ev("syscall", "deny", "#999"))), std::nullopt);
  EXPECT_EQ(describe_attempt(
                log_event(ev("syscall", "deny", "ptrace", "", {}, {{"syscall", "ptrace"}, {"args", {16, 1234}}}))),
            "ptrace(16, 1234)");
  EXPECT_EQ(describe_attempt(log_event(ev("syscall", "deny", "bpf"))), "system call bpf");
}

TEST(LogHint, LimitKeyFromExtraFields) {
  EXPECT_EQ(allow_hint(log_event(ev("limit", "kill", "oom", "memory.max 2G (agent.toml:3)", {},
                                    {{"limit", "memory"}, {"value", "2G"}}))),
            "limits.memory = <more than 2G>");
  EXPECT_EQ(allow_hint(log_event(ev("limit", "deny", "fork", "", {}, {{"limit", "pids.max"}}))),
            "limits.pids = <a higher value>");
  EXPECT_EQ(allow_hint(log_event(ev("limit", "kill", "100 denials", "", {}, {{"limit", "max_denials"}, {"max", 100}}))),
            "limits.max_denials = <more than 100>");
  EXPECT_EQ(allow_hint(log_event(ev("limit", "kill", "wall"))), "limits.wall = <a higher value>");
  EXPECT_EQ(allow_hint(log_event(ev("limit", "kill", "something odd"))), std::nullopt);
  EXPECT_EQ(describe_attempt(log_event(ev("limit", "kill", "oom", "", {}, {{"limit", "memory"}}))),
            "exceed limits.memory (oom)");
}

TEST(LogHint, OtherLayersHaveNone) {
  EXPECT_EQ(allow_hint(log_event(ev("credential", "deny", "AWS_SECRET"))), std::nullopt);
  EXPECT_EQ(allow_hint(log_event(ev("tool", "reject", "send_email"))), std::nullopt);
  EXPECT_EQ(describe_attempt(log_event(ev("tool", "reject", "send_email"))), "call tool send_email");
}

// ---------------------------------------------------------------------------------------------
// Filters and --json

TEST(LogFilter, DenialsAndLayer) {
  ScopedEnv tz("TZ", "UTC");
  LogFilter denials;
  denials.denials_only = true;
  std::string out = render(sample_log(), denials);
  EXPECT_NE(out.find("fs          deny"), std::string::npos);
  EXPECT_NE(out.find("net         deny"), std::string::npos);
  EXPECT_EQ(out.find("warn"), std::string::npos);
  EXPECT_EQ(out.find("session     start"), std::string::npos);
  EXPECT_NE(out.find("line 4: not a valid event"), std::string::npos);  // reported whatever the filter
  EXPECT_NE(out.find("command: python3 agent.py"), std::string::npos);  // the header still names the session

  LogFilter net;
  net.layer = "net";
  out = render(sample_log(), net);
  EXPECT_NE(out.find("evil.example:443"), std::string::npos);
  EXPECT_EQ(out.find("/home/u/.ssh"), std::string::npos);

  LogFilter tool;
  tool.layer = "tool";
  EXPECT_NE(render(sample_log(), tool).find("(no events in layer tool among 5 events)"), std::string::npos);

  EXPECT_EQ(error_of([] { validate_layer_name("network"); }),
            "unknown layer \"network\" (layers: session, fs, net, dns, syscall, credential, limit, tool)");
  EXPECT_EQ(error_of([] { validate_layer_name("syscall"); }), "<no error>");
}

TEST(LogFilter, JsonPrintsTheRawLinesThatMatch) {
  ParsedLog log = parse_log_text(sample_log());
  LogFilter denials;
  denials.denials_only = true;
  std::ostringstream out;
  render_json(out, log, denials, false);
  EXPECT_EQ(out.str(), log.events[1].raw + "\n" + log.events[2].raw + "\n");

  std::ostringstream all;
  render_json(all, log, {}, false);
  std::istringstream lines(all.str());
  int n = 0;
  for (std::string l; std::getline(lines, l); ++n) EXPECT_FALSE(nlohmann::json::parse(l).is_discarded());
  EXPECT_EQ(n, 5);

  // For a terminal, a C1 control inside a string becomes an escape meaning the same value.
  std::string line =
      "{\"layer\":\"fs\",\"action\":\"deny\",\"subject\":\"a\xc2\x9b"
      "b\"}";
  EXPECT_EQ(terminal_safe_json(line), "{\"layer\":\"fs\",\"action\":\"deny\",\"subject\":\"a\\u009bb\"}");
  EXPECT_EQ(nlohmann::json::parse(terminal_safe_json(line)), nlohmann::json::parse(line));
}

// ---------------------------------------------------------------------------------------------
// --verify

TEST(LogVerify, ExitStatusesAndMessages) {
  TempDir dir;
  const std::string path = dir / "s.jsonl";
  {
    AuditWriter w(kSession, path);
    w.write(start_event("true", {"default"}));
    w.write(ev("fs", "deny", "/etc/shadow", "not granted", 3));
    w.write(exit_event(0, nlohmann::json::object(), 1));
  }
  std::ostringstream ok;
  EXPECT_EQ(report_verify(ok, verify_log(path)), kVerifyOk);
  EXPECT_EQ(ok.str(), "ok: 3 events, hash chain intact\n");
  EXPECT_EQ(kVerifyOk, 0);

  // Cut off after two lines: intact so far, but incomplete.
  std::string text = test::read_file(path);
  std::string two = text.substr(0, text.find('\n', text.find('\n') + 1) + 1);
  std::ostringstream cut;
  EXPECT_EQ(report_verify(cut, verify_log_text(two)), kVerifyIncomplete);
  EXPECT_EQ(kVerifyIncomplete, 2);
  EXPECT_EQ(cut.str(),
            "ok: 2 events, hash chain intact\nsession still running or truncated (no session exit event yet)\n");

  // One byte edited in the denial.
  std::string edited = text;
  edited.replace(edited.find("/etc/shadow"), 11, "/etc/shadoW");
  std::ostringstream bad;
  EXPECT_EQ(report_verify(bad, verify_log_text(edited)), kVerifyTampered);
  EXPECT_EQ(kVerifyTampered, 1);
  EXPECT_EQ(bad.str(), "tampered or damaged: line 3: hash chain broken (the previous line was edited or removed)\n");
}

// ---------------------------------------------------------------------------------------------
// --list and SESSION arguments

void set_mtime(const std::string& path, std::time_t t) {
  struct timespec times[2] = {{t, 0}, {t, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

class LogListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = state_.mkdir("paddock/sessions");
    complete_ = write("20261120T090000Z-1111111111111111", {"default"}, "make test", 0, false, true);
    running_ = write("20261121T090000Z-2222222222222222", {"base", "codex"}, "codex --full-auto", 0, false, false);
    denied_ = write("20261122T090000Z-3333333333333333", {"claude-code"}, "claude", 3, true, true);
  }

  std::string write(const std::string& id, const std::vector<std::string>& profiles, const std::string& command,
                    int status, bool denials, bool finish) {
    std::string path = dir_ + "/" + id + ".jsonl";
    AuditWriter w(id, path);
    w.write(start_event(command, profiles));
    if (denials) {
      w.write(ev("net", "deny", "evil.example:443", "not in network.allow", 10));
      w.write(ev("fs", "deny", "/root/.ssh", "masked (base.toml:20)", 10));
      w.write(ev("fs", "allow", "/work", "granted", 10));
    }
    if (finish) w.write(exit_event(status, nlohmann::json::object(), denials ? 2 : 0));
    return path;
  }

  TempDir state_;
  std::string dir_, complete_, running_, denied_;
};

TEST_F(LogListTest, NewestFirstWithExitDenialsCommandProfiles) {
  ScopedEnv tz("TZ", "UTC");
  const std::time_t now = std::time(nullptr);
  auto sessions = list_sessions(dir_, 20, now);
  ASSERT_EQ(sessions.size(), 3u);
  EXPECT_EQ(sessions[0].id, "20261122T090000Z-3333333333333333");
  EXPECT_EQ(sessions[1].id, "20261121T090000Z-2222222222222222");
  EXPECT_EQ(sessions[2].id, "20261120T090000Z-1111111111111111");

  EXPECT_EQ(sessions[0].exit_status, 3);
  EXPECT_EQ(sessions[0].denials, 2u);
  EXPECT_EQ(sessions[0].command, "claude");
  EXPECT_EQ(sessions[0].profiles, std::vector<std::string>{"claude-code"});
  EXPECT_EQ(sessions[0].wall_ms, 1500.0);
  EXPECT_EQ(sessions[0].state, "");

  EXPECT_FALSE(sessions[1].exit_status);
  EXPECT_EQ(sessions[1].state, "running?");  // just written
  EXPECT_EQ(sessions[1].profiles, (std::vector<std::string>{"base", "codex"}));

  EXPECT_EQ(sessions[2].exit_status, 0);
  EXPECT_EQ(sessions[2].denials, 0u);

  // Not modified for two minutes: no longer plausibly running.
  set_mtime(running_, now - 120);
  EXPECT_EQ(summarize_session(running_, now).state, "incomplete");

  EXPECT_EQ(list_sessions(dir_, 2, now).size(), 2u);
  EXPECT_EQ(list_sessions(dir_, 0, now).size(), 3u);
  EXPECT_TRUE(list_sessions(state_ / "nowhere", 20, now).empty());
}

TEST_F(LogListTest, RendersAlignedColumns) {
  ScopedEnv tz("TZ", "UTC");
  const std::time_t now = std::time(nullptr);
  set_mtime(running_, now - 120);
  auto sessions = list_sessions(dir_, 20, now);
  // Fix the start times, which the writer took from the clock.
  sessions[0].start_ts = "2026-11-22T09:00:00.000000Z";
  sessions[1].start_ts = "2026-11-21T09:00:00.000000Z";
  sessions[1].wall_ms = 65'000;
  sessions[2].start_ts = "2026-11-20T09:00:00.000000Z";
  std::ostringstream out;
  render_session_list(out, sessions, false);
  EXPECT_EQ(out.str(),
            "SESSION                            START                DURATION  EXIT        DENIALS  COMMAND            "
            "PROFILES\n"
            "20261122T090000Z-3333333333333333  2026-11-22 09:00:00      1.5s  3                 2  claude             "
            "claude-code\n"
            "20261121T090000Z-2222222222222222  2026-11-21 09:00:00      1m5s  incomplete        0  codex --full-auto  "
            "base,codex\n"
            "20261120T090000Z-1111111111111111  2026-11-20 09:00:00      1.5s  0                 0  make test          "
            "default\n");
  std::ostringstream coloured;
  render_session_list(coloured, sessions, true);
  EXPECT_NE(coloured.str().find("\x1b[31m      2\x1b[0m"), std::string::npos) << coloured.str();
  EXPECT_NE(coloured.str().find("\x1b[33mincomplete\x1b[0m"), std::string::npos) << coloured.str();
}

TEST_F(LogListTest, ResolvesSessionArguments) {
  EXPECT_EQ(resolve_log_argument("", dir_), denied_);  // the most recent
  EXPECT_EQ(resolve_log_argument("20261121T090000Z-2222222222222222", dir_), running_);
  EXPECT_EQ(resolve_log_argument("20261120T090000Z-1111111111111111.jsonl", dir_), complete_);
  EXPECT_EQ(resolve_log_argument("20261122", dir_), denied_);   // a unique prefix
  EXPECT_EQ(resolve_log_argument(complete_, dir_), complete_);  // a path
  EXPECT_EQ(error_of([&] { (void)resolve_log_argument("2026112", dir_); }),
            "session prefix \"2026112\" is ambiguous: 3 sessions match (20261122T090000Z-3333333333333333, "
            "20261121T090000Z-2222222222222222, 20261120T090000Z-1111111111111111)");
  EXPECT_EQ(error_of([&] { (void)resolve_log_argument("1999", dir_); }),
            "no session \"1999\" in " + dir_ + " and no file of that name (see 'paddock log --list')");
  EXPECT_EQ(error_of([&] { (void)resolve_log_argument("", state_ / "empty"); }),
            "no session logs in " + state_ / "empty" + " yet (each `paddock run` writes one there)");
  EXPECT_NE(error_of([&] {
              (void)resolve_log_argument(state_ / "missing.jsonl", dir_);
            }).find("cannot open audit log " + state_ / "missing.jsonl"),
            std::string::npos);
}

TEST_F(LogListTest, SessionsDirFollowsXdgStateHome) {
  ScopedEnv state("XDG_STATE_HOME", state_.path().c_str());
  EXPECT_EQ(sessions_dir(), dir_);
  EXPECT_EQ(resolve_log_argument("", sessions_dir()), denied_);
}

// ---------------------------------------------------------------------------------------------
// --follow

TEST(LogFollow, LineSplitterBuffersPartialLines) {
  LineSplitter s;
  EXPECT_TRUE(s.feed("{\"a\":").empty());
  EXPECT_EQ(s.pending(), "{\"a\":");
  EXPECT_EQ(s.feed("1}\n{\"b\""), std::vector<std::string>{"{\"a\":1}"});
  EXPECT_EQ(s.feed(":2}\n\n"), (std::vector<std::string>{"{\"b\":2}", ""}));
  EXPECT_EQ(s.pending(), "");
}

// Appends `text` to `path` with one write(2).
void append(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

// Two lines are present when following starts; a writer thread then appends a line in two
// pieces, a malformed line, and the exit event.
void follow_appended_lines(bool use_inotify) {
  TempDir dir;
  const std::string path = dir / "live.jsonl";
  Fake f;
  f.add(start_event("agent", {"default"})).add(ev("fs", "deny", "/etc/shadow", "not granted", 5));
  {
    std::ofstream out(path, std::ios::binary);
    out << f.text;
  }
  const std::size_t before = f.text.size();
  f.add(ev("net", "deny", "evil.example:443", "not in network.allow", 5));
  const std::string net_line = f.text.substr(before);
  Fake g = f;
  g.text.clear();
  g.add(exit_event(0, {{"fs", 1}, {"net", 1}}, 2));
  const std::string exit_line = g.text;

  LogFollower::Options opts;
  opts.use_inotify = use_inotify;
  opts.interval = 50ms;
  LogFollower follower(path, opts);
  EXPECT_EQ(follower.using_inotify(), use_inotify);

  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    append(path, net_line.substr(0, 20));  // a partial line: held back until its newline
    std::this_thread::sleep_for(120ms);
    append(path, net_line.substr(20));
    std::this_thread::sleep_for(30ms);
    append(path, "garbage\n");
    std::this_thread::sleep_for(30ms);
    append(path, exit_line);
  });

  std::vector<std::pair<std::uint64_t, std::string>> seen;
  bool saw_partial = false;
  auto end = follower.run(
      [&](std::string_view text, std::uint64_t n) {
        seen.emplace_back(n, std::string(text));
        if (!follower.pending().empty()) saw_partial = true;
        auto e = parse_event_line(text, n);
        return !(e && e->is_session("exit"));
      },
      nullptr, 5s);
  writer.join();

  EXPECT_EQ(end, LogFollower::End::exit_event);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].first, 1u);
  EXPECT_NE(seen[0].second.find("\"action\":\"start\""), std::string::npos);
  EXPECT_NE(seen[1].second.find("/etc/shadow"), std::string::npos);
  EXPECT_EQ(seen[2].first, 3u);
  EXPECT_EQ(seen[2].second + "\n", net_line);  // reassembled from its two pieces
  EXPECT_EQ(seen[3], (std::pair<std::uint64_t, std::string>{4, "garbage"}));
  EXPECT_EQ(seen[4].first, 5u);
  EXPECT_NE(seen[4].second.find("\"action\":\"exit\""), std::string::npos);
  EXPECT_FALSE(saw_partial);  // no line was handed over while a piece was pending
}

TEST(LogFollow, InotifyReadsAppendedLines) {
  follow_appended_lines(true);
}

TEST(LogFollow, PollFallbackReadsAppendedLines) {
  follow_appended_lines(false);
}

TEST(LogFollow, StopsOnFlagOrWhenIdle) {
  TempDir dir;
  const std::string path = dir.write("quiet.jsonl", "");
  LogFollower::Options opts;
  opts.interval = 20ms;
  {
    LogFollower follower(path, opts);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(follower.run([](std::string_view, std::uint64_t) { return true; }, nullptr, 100ms),
              LogFollower::End::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  }
  {
    LogFollower follower(path, opts);
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
      std::this_thread::sleep_for(50ms);
      stop = true;
    });
    EXPECT_EQ(follower.run([](std::string_view, std::uint64_t) { return true; }, &stop), LogFollower::End::stopped);
    stopper.join();
  }
  EXPECT_NE(error_of([&] { LogFollower f(dir / "missing.jsonl"); }).find("cannot open audit log"), std::string::npos);
}

TEST(LogFollow, LiveViewPrintsExistingThenAppendedRows) {
  ScopedEnv tz("TZ", "UTC");
  Fake f;
  f.add(start_event("agent", {"default"}));
  ParsedLog first = parse_log_text(f.text);
  std::ostringstream out, err;
  LiveLogView::Options o;
  LiveLogView view(out, err, o);
  view.begin({{1, first.events[0].raw}});
  EXPECT_EQ(out.str(),
            "session 20261122T100000Z-00000000000000aa  started 2026-11-22 10:00:00  profiles default  command: agent\n"
            "TIME          LAYER       ACTION   SUBJECT                   REASON                            PID\n"
            "10:00:00.000  session     start    agent                     sandbox started\n"
            "                                   layers:     namespaces, landlock, seccomp; network proxy\n");
  out.str("");
  std::size_t mark = f.text.size();
  f.add(ev("net", "deny", "evil.example:443", "not in network.allow", 5));
  EXPECT_TRUE(view.line(f.text.substr(mark, f.text.size() - mark - 1), 2));
  EXPECT_TRUE(view.line("garbage", 3));
  mark = f.text.size();
  f.add(exit_event(0, {{"net", 1}}, 1));
  EXPECT_FALSE(view.line(f.text.substr(mark, f.text.size() - mark - 1), 4));
  EXPECT_TRUE(view.exited());
  EXPECT_EQ(out.str(),
            "10:00:00.100  net         deny     evil.example:443          not in network.allow              5\n"
            "                                   attempted:  connect to evil.example:443\n"
            "                                   allow with: network.allow = [\"evil.example:443\"]\n"
            "line 3: not a valid event\n"
            "10:00:00.200  session     exit     0                         command exited\n"
            "                                   usage:      wall 1.5s, cpu 250ms, peak memory 2.0M\n"
            "                                   denials:    1 (net 1)\n");
  EXPECT_EQ(err.str(), "");

  // JSON: raw lines on out, malformed ones reported on err; header deferred to the first line.
  std::ostringstream jout, jerr;
  LiveLogView::Options jo;
  jo.json = true;
  jo.filter.denials_only = true;
  LiveLogView json(jout, jerr, jo);
  json.begin({});
  EXPECT_EQ(jout.str(), "");
  EXPECT_TRUE(json.line(first.events[0].raw, 1));
  EXPECT_TRUE(json.line("garbage", 2));
  ParsedLog all = parse_log_text(f.text);
  EXPECT_TRUE(json.line(all.events[1].raw, 3));
  EXPECT_FALSE(json.line(all.events[2].raw, 4));
  EXPECT_EQ(jout.str(), all.events[1].raw + "\n");
  EXPECT_EQ(jerr.str(), "line 2: not a valid event\n");
}

}  // namespace
}  // namespace paddock
