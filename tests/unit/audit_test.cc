// The audit log: SHA-256, the event line format, the writer (seq, hash chain, file modes,
// stderr) and `paddock log --verify` against edited, reordered, cut and damaged logs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "audit/event.h"
#include "audit/sha256.h"
#include "audit/verify.h"
#include "audit/writer.h"
#include "test_util.h"
#include "util/error.h"

namespace paddock {
namespace {

using test::error_of;
using test::TempDir;

const std::string kZeros(64, '0');

// Whether `s` has the shape of `pattern`: '9' stands for a decimal digit, 'x' for a lower-case
// hex digit, any other character for itself.
bool has_shape(const std::string& s, const std::string& pattern) {
  if (s.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool digit = c >= '0' && c <= '9';
    if (pattern[i] == '9' ? !digit : pattern[i] == 'x' ? !(digit || (c >= 'a' && c <= 'f')) : c != pattern[i]) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

void overwrite(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

AuditEvent ev(std::string layer, std::string action, std::string subject, std::string reason = {},
              std::optional<int> pid = std::nullopt) {
  AuditEvent e;
  e.layer = std::move(layer);
  e.action = std::move(action);
  e.subject = std::move(subject);
  e.reason = std::move(reason);
  e.pid = pid;
  return e;
}

// Sets (or unsets) an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// ---------------------------------------------------------------------------------------------
// SHA-256

TEST(Sha256, Fips180Vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, MillionAFedIncrementallyInOddChunks) {
  Sha256 h;
  const std::string chunk(997, 'a');  // prime size: chunks straddle every block boundary
  std::size_t left = 1000000;
  while (left > 0) {
    std::size_t n = std::min(left, chunk.size());
    h.update(std::string_view(chunk).substr(0, n));
    left -= n;
  }
  EXPECT_EQ(Sha256::hex(h.final()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, SplitAtPaddingBoundariesMatchesOneShot) {
  // Lengths around the 55/56/64-byte padding edges, split at every position.
  for (std::size_t len : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u}) {
    std::string data;
    for (std::size_t i = 0; i < len; ++i) data.push_back(static_cast<char>('a' + i % 26));
    const std::string expected = sha256_hex(data);
    for (std::size_t cut = 0; cut <= len; ++cut) {
      Sha256 h;
      h.update(std::string_view(data).substr(0, cut));
      h.update(std::string_view(data).substr(cut));
      ASSERT_EQ(Sha256::hex(h.final()), expected) << "len " << len << " cut " << cut;
    }
  }
  // Known value for one of them (64 bytes: a full block followed by a padding block).
  EXPECT_EQ(sha256_hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256, FinalResetsForReuse) {
  Sha256 h;
  h.update("abc");
  (void)h.final();
  h.update("abc");
  EXPECT_EQ(Sha256::hex(h.final()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// ---------------------------------------------------------------------------------------------
// Event lines

TEST(AuditEvent, TimestampIsUtcWithMicroseconds) {
  EXPECT_EQ(format_audit_timestamp({1795341600, 123456789}), "2026-11-22T10:00:00.123456Z");
  EXPECT_EQ(format_audit_timestamp({0, 0}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_audit_timestamp({1795305600 + 86399, 999999999}), "2026-11-22T23:59:59.999999Z");
  EXPECT_TRUE(has_shape(audit_timestamp_now(), "9999-99-99T99:99:99.999999Z")) << audit_timestamp_now();
}

TEST(AuditEvent, LineHasExactKeyOrderAndShape) {
  AuditEvent e = ev("net", "deny", "evil.example:443", "not in network.allow", 4242);
  std::string line = audit_line(e, "S1", 12, "2026-11-22T10:00:00.123456Z", kZeros);
  EXPECT_EQ(line,
            "{\"v\":1,\"ts\":\"2026-11-22T10:00:00.123456Z\",\"session\":\"S1\",\"seq\":12,\"layer\":\"net\","
            "\"action\":\"deny\",\"subject\":\"evil.example:443\",\"reason\":\"not in network.allow\","
            "\"pid\":4242,\"prev\":\"" +
                kZeros + "\"}");
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["seq"], 12);
  EXPECT_EQ(j["pid"], 4242);
}

TEST(AuditEvent, PidOmittedWhenUnknown) {
  std::string line = audit_line(ev("session", "start", "python3 agent.py"), "S1", 0, "T", kZeros);
  EXPECT_EQ(line,
            "{\"v\":1,\"ts\":\"T\",\"session\":\"S1\",\"seq\":0,\"layer\":\"session\",\"action\":\"start\","
            "\"subject\":\"python3 agent.py\",\"reason\":\"\",\"prev\":\"" +
                kZeros + "\"}");
  EXPECT_EQ(line.find("pid"), std::string::npos);
}

TEST(AuditEvent, ExtraFieldsGoBeforePrevAndNeverOverrideStandardKeys) {
  AuditEvent e = ev("tool", "call", "send_email", "", 7);
  e.extra = {{"tool_ms", 12},      {"input", {{"to", "a@example.com"}}},
             {"seq", 999},         {"prev", "forged"},
             {"session", "other"}, {"layer", "fs"}};
  std::string line = audit_line(e, "S1", 3, "T", kZeros);
  EXPECT_EQ(line,
            "{\"v\":1,\"ts\":\"T\",\"session\":\"S1\",\"seq\":3,\"layer\":\"tool\",\"action\":\"call\","
            "\"subject\":\"send_email\",\"reason\":\"\",\"pid\":7,\"input\":{\"to\":\"a@example.com\"},"
            "\"tool_ms\":12,\"prev\":\"" +
                kZeros + "\"}");
}

TEST(AuditEvent, HostileStringsStayOnOneValidLine) {
  // A newline, a quote and invalid UTF-8 in a subject chosen by the sandboxed program.
  AuditEvent e = ev("fs", "deny", std::string("/tmp/a\"b\nc\xff", 11), "not granted");
  std::string line = audit_line(e, "S1", 0, "T", kZeros);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["subject"], "/tmp/a\"b\nc\xEF\xBF\xBD");  // the bad byte became U+FFFD
}

TEST(AuditEvent, UnknownLayerOrActionIsAnError) {
  EXPECT_EQ(error_of([] { (void)audit_line(ev("disk", "deny", "x"), "S1", 0, "T", kZeros); }),
            "audit event with unknown layer \"disk\"");
  EXPECT_EQ(error_of([] { (void)audit_line(ev("fs", "block", "x"), "S1", 0, "T", kZeros); }),
            "audit event with unknown action \"block\"");
  AuditEvent e = ev("fs", "deny", "x");
  e.extra = nlohmann::json::array({1, 2});
  EXPECT_EQ(error_of([&] { validate(e); }), "audit event extra fields must be a JSON object, not array");
  for (auto layer : kAuditLayers) {
    for (auto action : kAuditActions) {
      EXPECT_EQ(error_of([&] { validate(ev(std::string(layer), std::string(action), "x")); }), "<no error>");
    }
  }
  EXPECT_TRUE(is_denial_action("deny"));
  EXPECT_TRUE(is_denial_action("kill"));
  EXPECT_TRUE(is_denial_action("reject"));
  EXPECT_FALSE(is_denial_action("warn"));
  EXPECT_FALSE(is_denial_action("allow"));
}

// ---------------------------------------------------------------------------------------------
// Writer

TEST(AuditWriter, NewSessionIdIsTimeSortableAndRandom) {
  std::string a = AuditWriter::new_session_id();
  std::string b = AuditWriter::new_session_id();
  const std::string shape = "99999999T999999Z-xxxxxxxxxxxxxxxx";
  EXPECT_TRUE(has_shape(a, shape)) << a;
  EXPECT_TRUE(has_shape(b, shape)) << b;
  EXPECT_FALSE(has_shape("20261123T185701Z-3F9A1C2B7D4E5A60", shape));
  EXPECT_NE(a.substr(17), b.substr(17));
  EXPECT_TRUE(AuditWriter::is_valid_session_id(a));
}

TEST(AuditWriter, SessionIdValidation) {
  EXPECT_TRUE(AuditWriter::is_valid_session_id("20261123T185701Z-3f9a1c2b7d4e5a60"));
  EXPECT_TRUE(AuditWriter::is_valid_session_id("a.b_c-d"));
  EXPECT_FALSE(AuditWriter::is_valid_session_id(""));
  EXPECT_FALSE(AuditWriter::is_valid_session_id(".."));
  EXPECT_FALSE(AuditWriter::is_valid_session_id("../etc/passwd"));
  EXPECT_FALSE(AuditWriter::is_valid_session_id("a/b"));
  EXPECT_FALSE(AuditWriter::is_valid_session_id("a b"));
  EXPECT_FALSE(AuditWriter::is_valid_session_id(std::string(129, 'a')));
}

TEST(AuditWriter, DefaultPathFollowsXdgStateHome) {
  {
    ScopedEnv x("XDG_STATE_HOME", "/srv/state/");
    EXPECT_EQ(AuditWriter::default_path("S1"), "/srv/state/paddock/sessions/S1.jsonl");
  }
  {
    ScopedEnv x("XDG_STATE_HOME", nullptr);
    ScopedEnv h("HOME", "/home/tester");
    EXPECT_EQ(AuditWriter::default_path("S1"), "/home/tester/.local/state/paddock/sessions/S1.jsonl");
  }
  {
    ScopedEnv x("XDG_STATE_HOME", "relative/state");  // ignored, as the XDG spec says
    ScopedEnv h("HOME", "/home/tester");
    EXPECT_EQ(AuditWriter::default_path("S1"), "/home/tester/.local/state/paddock/sessions/S1.jsonl");
  }
  EXPECT_EQ(error_of([] { (void)AuditWriter::default_path("../../x"); }), "invalid session id \"../../x\"");
}

TEST(AuditWriter, SeqAndPrevChainAcrossThreeEvents) {
  TempDir dir;
  const std::string path = dir / "log.jsonl";
  AuditWriter w("S1", path);
  EXPECT_EQ(w.next_seq(), 0u);
  EXPECT_EQ(w.last_hash(), kZeros);
  w.write(ev("session", "start", "agent", "", 100));
  w.write(ev("fs", "deny", "/home/u/.ssh/id_rsa", "denied path", 101));
  w.write(ev("net", "allow", "pypi.org:443", "network.allow"));

  auto lines = split_lines(test::read_file(path));
  ASSERT_EQ(lines.size(), 3u);
  std::vector<nlohmann::json> j;
  j.reserve(lines.size());
  for (const auto& l : lines) j.push_back(nlohmann::json::parse(l));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j[i]["seq"], i);
    EXPECT_EQ(j[i]["session"], "S1");
    EXPECT_EQ(j[i]["v"], 1);
  }
  EXPECT_EQ(j[0]["prev"], kZeros);
  EXPECT_EQ(j[1]["prev"], sha256_hex(lines[0]));
  EXPECT_EQ(j[2]["prev"], sha256_hex(lines[1]));
  EXPECT_EQ(w.last_hash(), sha256_hex(lines[2]));
  EXPECT_EQ(w.next_seq(), 3u);
  EXPECT_EQ(j[1]["subject"], "/home/u/.ssh/id_rsa");
  EXPECT_EQ(j[1]["pid"], 101);
  EXPECT_FALSE(j[2].contains("pid"));
}

TEST(AuditWriter, FileIsPrivateAndNestedFoldersAre0700) {
  TempDir dir;
  mode_t old_umask = ::umask(022);
  const std::string path = dir / "a/b/c/S1.jsonl";
  {
    AuditWriter w("S1", path);
    w.write(ev("session", "start", "agent"));
    w.sync();
  }
  ::umask(old_umask);
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(dir / "a"), 0700u);
  EXPECT_EQ(mode_of(dir / "a/b"), 0700u);
  EXPECT_EQ(mode_of(dir / "a/b/c"), 0700u);
  EXPECT_EQ(split_lines(test::read_file(path)).size(), 1u);
}

TEST(AuditWriter, ExistingEmptyFileIsMadePrivate) {
  TempDir dir;
  const std::string path = dir.write("log.jsonl", "", 0644);
  AuditWriter w("S1", path);
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST(AuditWriter, OpenErrorsNameThePath) {
  TempDir dir;
  const std::string target = dir.write("target.jsonl", "");
  const std::string link = dir / "link.jsonl";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_EQ(error_of([&] { AuditWriter w("S1", link); }), "cannot open audit log " + link + ": it is a symbolic link");

  const std::string used = dir.write("used.jsonl", "{}\n", 0600);
  EXPECT_EQ(error_of([&] { AuditWriter w("S1", used); }),
            "audit log " + used + " already holds events (each session needs its own log file)");

  const std::string file = dir.write("plain", "x");
  EXPECT_EQ(error_of([&] { AuditWriter w("S1", file + "/sub/log.jsonl"); }),
            "cannot create folder " + file + "/sub for the audit log " + file + "/sub/log.jsonl: Not a directory");

  EXPECT_EQ(error_of([&] { AuditWriter w("S1", dir.path()); }),
            "cannot open audit log " + dir.path() + ": Is a directory");

  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { AuditWriter w("S1", dir / "fifo"); }),
            "audit log " + (dir / "fifo") + " is not a regular file");

  EXPECT_EQ(error_of([&] { AuditWriter w("bad/id", dir / "x.jsonl"); }), "invalid session id \"bad/id\"");
}

TEST(AuditWriter, CountsDenialsPerLayer) {
  TempDir dir;
  AuditWriter w("S1", dir / "log.jsonl");
  w.write(ev("session", "start", "agent"));
  w.write(ev("fs", "deny", "/etc/shadow"));
  w.write(ev("fs", "deny", "/root"));
  w.write(ev("net", "deny", "evil.example:443"));
  w.write(ev("net", "allow", "pypi.org:443"));
  w.write(ev("tool", "reject", "send_email"));
  w.write(ev("limit", "kill", "memory"));
  w.write(ev("syscall", "warn", "personality"));
  std::map<std::string, std::uint64_t> expected{{"fs", 2}, {"net", 1}, {"tool", 1}, {"limit", 1}};
  EXPECT_EQ(w.denials(), expected);
  EXPECT_EQ(w.denial_count(), 5u);
}

TEST(AuditWriter, InvalidEventWritesNothingAndKeepsTheChain) {
  TempDir dir;
  const std::string path = dir / "log.jsonl";
  AuditWriter w("S1", path);
  w.write(ev("session", "start", "agent"));
  EXPECT_EQ(error_of([&] { w.write(ev("fs", "nope", "x")); }), "audit event with unknown action \"nope\"");
  w.write(ev("session", "exit", "agent", "exit status 0"));
  EXPECT_EQ(w.next_seq(), 2u);
  VerifyResult r = verify_log(path);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.complete);
}

TEST(AuditWriter, NoEventAfterSessionExit) {
  TempDir dir;
  AuditWriter w("S1", dir / "log.jsonl");
  w.write(ev("session", "start", "agent"));
  EXPECT_FALSE(w.exited());
  w.write(ev("session", "exit", "agent"));
  EXPECT_TRUE(w.exited());
  EXPECT_EQ(error_of([&] { w.write(ev("fs", "deny", "/x")); }), "audit event fs/deny after the session exit event");
  EXPECT_EQ(w.next_seq(), 2u);
}

TEST(AuditWriter, DashWritesToStderr) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  UniqueFd saved(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
  ASSERT_TRUE(saved.valid());
  ASSERT_EQ(::dup2(wr.get(), STDERR_FILENO), STDERR_FILENO);
  std::string err;
  {
    AuditWriter w("S1", "-");
    EXPECT_EQ(w.path(), "-");
    err = error_of([&] {
      w.write(ev("session", "start", "agent"));
      w.write(ev("net", "deny", "evil.example:443", "not in network.allow", 9));
      w.write(ev("session", "exit", "agent"));
      w.sync();  // a pipe cannot be fsynced; that is not an error on stderr
    });
  }
  ASSERT_EQ(::dup2(saved.get(), STDERR_FILENO), STDERR_FILENO);
  wr.reset();
  EXPECT_EQ(err, "<no error>");
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  auto lines = split_lines(got);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["subject"], "evil.example:443");
  VerifyResult r = verify_log_text(got);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.lines, 3u);
  EXPECT_EQ(r.session, "S1");
}

// ---------------------------------------------------------------------------------------------
// Verify

// A finished five-event session log; returns its path.
std::string write_session(const TempDir& dir, const std::string& name = "log.jsonl") {
  std::string path = dir / name;
  AuditWriter w("20261123T185701Z-3f9a1c2b7d4e5a60", path);
  w.write(ev("session", "start", "python3 agent.py", "", 4200));
  w.write(ev("fs", "deny", "/home/u/.ssh/id_rsa", "filesystem.deny", 4242));
  w.write(ev("net", "allow", "pypi.org:443", "network.allow", 4242));
  w.write(ev("tool", "call", "send_email", "", 4242));
  w.write(ev("session", "exit", "python3 agent.py", "exit status 0"));
  w.sync();
  return path;
}

TEST(AuditVerify, UntouchedLogIsOkAndComplete) {
  TempDir dir;
  VerifyResult r = verify_log(write_session(dir));
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.lines, 5u);
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.session, "20261123T185701Z-3f9a1c2b7d4e5a60");
}

TEST(AuditVerify, DetectsOneEditedCharacter) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  auto pos = lines[1].find("id_rsa");
  ASSERT_NE(pos, std::string::npos);
  lines[1][pos + 5] = 'b';  // id_rsa -> id_rsb
  overwrite(path, join_lines(lines));
  VerifyResult r = verify_log(path);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.problem, "line 3: hash chain broken (the previous line was edited or removed)");
  EXPECT_EQ(r.lines, 2u);
}

TEST(AuditVerify, DetectsSwappedLines) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  std::swap(lines[1], lines[2]);
  overwrite(path, join_lines(lines));
  VerifyResult r = verify_log(path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "line 2: seq is 2, expected 1 (lines were reordered or removed)");
  EXPECT_EQ(r.lines, 1u);
}

TEST(AuditVerify, DetectsDeletedMiddleLine) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  lines.erase(lines.begin() + 2);
  overwrite(path, join_lines(lines));
  VerifyResult r = verify_log(path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "line 3: seq is 3, expected 2 (lines were reordered or removed)");
}

TEST(AuditVerify, DeletedLineWithRenumberedSeqStillBreaksTheChain) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  lines.erase(lines.begin() + 2);
  auto j = nlohmann::json::parse(lines[2]);
  ASSERT_EQ(j["seq"], 3);
  auto at = lines[2].find("\"seq\":3,");
  ASSERT_NE(at, std::string::npos);
  lines[2].replace(at, 8, "\"seq\":2,");
  overwrite(path, join_lines(lines));
  VerifyResult r = verify_log(path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "line 3: hash chain broken (the previous line was edited or removed)");
}

TEST(AuditVerify, TruncatedLogIsOkButNotComplete) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  lines.pop_back();
  overwrite(path, join_lines(lines));
  VerifyResult r = verify_log(path);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.lines, 4u);
  EXPECT_EQ(r.problem, "truncated: no session exit event");
}

TEST(AuditVerify, LiveLogBeforeExitIsNotComplete) {
  TempDir dir;
  const std::string path = dir / "live.jsonl";
  AuditWriter w("S1", path);
  w.write(ev("session", "start", "agent"));
  w.write(ev("net", "deny", "evil.example:443"));
  VerifyResult r = verify_log(path);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.lines, 2u);
  w.write(ev("session", "exit", "agent"));
  r = verify_log(path);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.lines, 3u);
}

TEST(AuditVerify, DetectsWrongFirstPrev) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  auto at = lines[0].find(kZeros);
  ASSERT_NE(at, std::string::npos);
  lines[0].replace(at, 64, std::string(64, 'a'));
  overwrite(path, join_lines(lines));
  VerifyResult r = verify_log(path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem,
            "line 1: first \"prev\" is not 64 zeros (the log does not start at the beginning of its session)");
  EXPECT_EQ(r.lines, 0u);
}

TEST(AuditVerify, DetectsMissingFirstLine) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  lines.erase(lines.begin());
  overwrite(path, join_lines(lines));
  EXPECT_EQ(verify_log(path).problem, "line 1: seq is 1, expected 0 (lines were reordered or removed)");
}

TEST(AuditVerify, DetectsGarbageLine) {
  TempDir dir;
  const std::string path = write_session(dir);
  auto lines = split_lines(test::read_file(path));
  lines.insert(lines.begin() + 2, "this is not json {");
  overwrite(path, join_lines(lines));
  VerifyResult r = verify_log(path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "line 3: not valid JSON");
  EXPECT_EQ(r.lines, 2u);
}

TEST(AuditVerify, DetectsStructuralProblems) {
  TempDir dir;
  const std::string path = write_session(dir);
  const auto lines = split_lines(test::read_file(path));
  auto problem_with_line2 = [&](const std::string& replacement) {
    auto copy = lines;
    copy[1] = replacement;
    return verify_log_text(join_lines(copy)).problem;
  };
  auto j = nlohmann::json::parse(lines[1]);
  auto with = [&](const char* key, const nlohmann::json& value) {
    auto k = j;
    k[key] = value;
    return k.dump();
  };
  EXPECT_EQ(problem_with_line2("[1,2]"), "line 2: not a JSON object");
  EXPECT_EQ(problem_with_line2(""), "line 2: empty line");
  EXPECT_EQ(problem_with_line2(with("v", 2)), "line 2: unsupported version (\"v\" is 2, expected 1)");
  EXPECT_EQ(problem_with_line2(with("session", "other")),
            "line 2: session \"other\" differs from \"20261123T185701Z-3f9a1c2b7d4e5a60\" on line 1");
  EXPECT_EQ(problem_with_line2(with("seq", -1)), "line 2: missing or invalid \"seq\"");
  EXPECT_EQ(problem_with_line2(with("layer", "disk")), "line 2: unknown layer \"disk\"");
  EXPECT_EQ(problem_with_line2(with("action", 3)), "line 2: missing or non-string \"action\"");
  EXPECT_EQ(problem_with_line2(with("prev", "abc")), "line 2: \"prev\" is not a SHA-256 in lower-case hex");
}

TEST(AuditVerify, DetectsEventsAfterExitAndCutLastLine) {
  TempDir dir;
  const std::string path = write_session(dir);
  const std::string text = test::read_file(path);
  auto lines = split_lines(text);

  // A sixth line correctly chained after the exit event.
  std::string extra =
      audit_line(ev("fs", "deny", "/x"), "20261123T185701Z-3f9a1c2b7d4e5a60", 5, "T", sha256_hex(lines.back()));
  VerifyResult r = verify_log_text(text + extra + "\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "line 6: event after the session exit event");

  // The last write cut short: no newline at the end.
  overwrite(path, text.substr(0, text.size() - 10));
  r = verify_log(path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "line 5: incomplete line at the end of the log (no newline; a write was cut short)");
  EXPECT_EQ(r.lines, 4u);
}

TEST(AuditVerify, EmptyAndMissingLogs) {
  TempDir dir;
  const std::string empty = dir.write("empty.jsonl", "");
  VerifyResult r = verify_log(empty);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.problem, "log is empty (no events)");
  EXPECT_EQ(error_of([&] { (void)verify_log(dir / "missing.jsonl"); }),
            "cannot open audit log " + (dir / "missing.jsonl") + ": No such file or directory");
}

TEST(AuditVerify, LargeLogAcrossReadBuffers) {
  TempDir dir;
  const std::string path = dir / "big.jsonl";
  {
    AuditWriter w("S1", path);
    w.write(ev("session", "start", "agent"));
    for (int i = 0; i < 2000; ++i) w.write(ev("fs", "deny", "/data/file-" + std::to_string(i), "not granted", i));
    w.write(ev("session", "exit", "agent"));
    EXPECT_EQ(w.denial_count(), 2000u);
  }
  VerifyResult r = verify_log(path);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.lines, 2002u);
}

}  // namespace
}  // namespace paddock
