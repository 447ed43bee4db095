#include "tools/rate_limit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "util/error.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

// Marks the file as paddock's ("PDKR"), so a database of something else is never modified.
constexpr int kApplicationId = 0x50444B52;
constexpr int kSchemaVersion = 1;
// Long enough for any number of processes queueing for the write lock (each holds it for well
// under a millisecond), short enough that a stuck holder ends as an error, not a hang.
constexpr int kBusyTimeoutMs = 5000;

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Resets a statement when a use of it ends, however it ends, so it holds no read lock.
struct ResetOnExit {
  sqlite3_stmt* s;
  ~ResetOnExit() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

}  // namespace

std::string format_retry(std::chrono::milliseconds d) {
  using std::chrono::milliseconds;
  auto ms = std::max<std::int64_t>(d.count(), 1);
  if (ms < 60'000) return format_duration(milliseconds((ms + 999) / 1000 * 1000));
  return format_duration(milliseconds((ms + 59'999) / 60'000 * 60'000));
}

RateLimiter::RateLimiter(const std::string& path, Clock clock) : path_(path), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };

  // Whoever can write the folder can swap the file, or plant its -wal and -shm companions.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  struct stat ds {};
  if (::stat(dir.c_str(), &ds) != 0) throw_errno("rate-limit database folder " + dir);
  if (!S_ISDIR(ds.st_mode)) throw Error("rate-limit database folder " + dir + " is not a directory");
  if ((ds.st_mode & 022) != 0)
    throw Error("rate-limit database folder " + dir + " is writable by group or others (mode " + mode_text(ds.st_mode) +
                "); refusing to keep rate limits there");
  if (ds.st_uid != ::geteuid() && ds.st_uid != 0)
    throw Error("rate-limit database folder " + dir + " is owned by uid " + std::to_string(ds.st_uid) + ", not by you");

  // Created (or opened) here rather than by SQLite: O_NOFOLLOW refuses a symlink, O_NONBLOCK
  // keeps a FIFO planted at the path from blocking us, and the mode is exactly 0600.
  struct stat fs {};
  {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (!fd) {
      if (errno == ELOOP) throw Error("rate-limit database " + path + " is a symlink; refusing to follow it");
      throw_errno("rate-limit database " + path);
    }
    if (::fstat(fd.get(), &fs) != 0) throw_errno("rate-limit database " + path);
    // Closed before SQLite opens the file: closing any descriptor of a file drops every POSIX
    // lock the process holds on it, SQLite's included.
  }
  if (!S_ISREG(fs.st_mode)) throw Error("rate-limit database " + path + " is not a regular file");
  if (fs.st_uid != ::geteuid())
    throw Error("rate-limit database " + path + " is owned by uid " + std::to_string(fs.st_uid) + ", not by you");
  if ((fs.st_mode & 022) != 0)
    throw Error("rate-limit database " + path + " is writable by group or others (mode " + mode_text(fs.st_mode) +
                "); refusing to use it");

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) fail(raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  struct stat again {};
  if (::lstat(path.c_str(), &again) != 0 || again.st_dev != fs.st_dev || again.st_ino != fs.st_ino)
    fail("the file was replaced while it was being opened");
  sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_.get(), 1);
  // Two paddocks creating the file at the same moment can see SQLITE_BUSY that the busy handler
  // does not cover (the switch to WAL, a lock upgrade it refuses to wait for): try again.
  retry_busy([this] { init_schema(); });

  expire_ = prepare("DELETE FROM rate_calls WHERE profile = ?1 AND tool = ?2 AND at_ms <= ?3");
  count_ = prepare("SELECT count(*), min(at_ms) FROM rate_calls WHERE profile = ?1 AND tool = ?2");
  insert_ = prepare("INSERT INTO rate_calls (profile, tool, at_ms) VALUES (?1, ?2, ?3)");
}

RateLimiter::~RateLimiter() = default;

void RateLimiter::fail(const std::string& what) const {
  throw Error("rate-limit database " + path_ + ": " + what);
}

void RateLimiter::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    fail(msg);
  }
}

RateLimiter::Stmt RateLimiter::prepare(const char* sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  Stmt out(s);
  if (rc != SQLITE_OK) fail(sqlite3_errmsg(db_.get()));
  return out;
}

void RateLimiter::init_schema() {
  // Identified before anything is written: a foreign database is left exactly as it was.
  auto identify = [this](bool& fresh) {
    Stmt s = prepare(
        "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version), "
        "(SELECT count(*) FROM sqlite_schema)");
    ResetOnExit reset{s.get()};
    if (sqlite3_step(s.get()) != SQLITE_ROW) fail(sqlite3_errmsg(db_.get()));
    int app = sqlite3_column_int(s.get(), 0);
    int version = sqlite3_column_int(s.get(), 1);
    int objects = sqlite3_column_int(s.get(), 2);
    fresh = app == 0 && version == 0 && objects == 0;
    if (fresh) return;
    if (app != kApplicationId)
      fail("not a paddock rate-limit database (it holds something else); refusing to touch it");
    if (version > kSchemaVersion)
      fail("written by a newer paddock (schema version " + std::to_string(version) + ", this one knows " +
           std::to_string(kSchemaVersion) + ")");
    if (version != kSchemaVersion) fail("unknown schema version " + std::to_string(version));
  };
  bool fresh = false;
  identify(fresh);
  if (!fresh) return;

  // WAL: readers never wait for the writer. Switching needs the file to ourselves for a moment,
  // which the busy timeout covers when another paddock is creating the same file.
  exec("PRAGMA journal_mode = WAL");
  exec("BEGIN IMMEDIATE");
  try {
    identify(fresh);  // another process may have won the race
    if (fresh) {
      exec(
          "CREATE TABLE rate_calls (profile TEXT NOT NULL, tool TEXT NOT NULL, at_ms INTEGER NOT NULL);"
          "CREATE INDEX rate_calls_key ON rate_calls (profile, tool, at_ms);"
          "PRAGMA application_id = 1346653010;"  // kApplicationId
          "PRAGMA user_version = 1;");           // kSchemaVersion
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  static_assert(kApplicationId == 1346653010 && kSchemaVersion == 1, "keep the PRAGMAs above in step");
}

RateDecision RateLimiter::acquire(const std::string& profile, const std::string& tool, const Rate& rate) {
  RateDecision d;
  retry_busy([&] { d = acquire_once(profile, tool, rate); });
  return d;
}

void RateLimiter::retry_busy(const std::function<void()>& f) {
  for (int attempt = 0;; ++attempt) {
    try {
      f();
      return;
    } catch (const Error& e) {
      const std::string what = e.what();
      const bool busy = what.find("locked") != std::string::npos || what.find("busy") != std::string::npos;
      if (!busy || attempt >= 100) throw;
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      ::usleep(20'000 + 1'000 * static_cast<unsigned>(attempt % 10));
    }
  }
}

RateDecision RateLimiter::acquire_once(const std::string& profile, const std::string& tool, const Rate& rate) {
  if (rate.count == 0 || rate.per.count() <= 0) throw Error("invalid rate for tool " + tool);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
  const std::int64_t per = std::chrono::duration_cast<std::chrono::milliseconds>(rate.per).count();
  const std::int64_t limit =
      rate.count > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(rate.count);

  auto bind_key = [&](sqlite3_stmt* s) {
    if (sqlite3_bind_text(s, 1, profile.data(), static_cast<int>(profile.size()), SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_text(s, 2, tool.data(), static_cast<int>(tool.size()), SQLITE_TRANSIENT) != SQLITE_OK)
      fail(sqlite3_errmsg(db_.get()));
  };
  auto run = [&](sqlite3_stmt* s) {
    ResetOnExit reset{s};
    if (sqlite3_step(s) != SQLITE_DONE) fail(sqlite3_errmsg(db_.get()));
  };

  exec("BEGIN IMMEDIATE");
  RateDecision d;
  try {
    bind_key(expire_.get());
    sqlite3_bind_int64(expire_.get(), 3, now - per);
    run(expire_.get());

    std::int64_t used = 0;
    std::int64_t oldest = now;
    {
      ResetOnExit reset{count_.get()};
      bind_key(count_.get());
      if (sqlite3_step(count_.get()) != SQLITE_ROW) fail(sqlite3_errmsg(db_.get()));
      used = sqlite3_column_int64(count_.get(), 0);
      if (sqlite3_column_type(count_.get(), 1) != SQLITE_NULL) oldest = sqlite3_column_int64(count_.get(), 1);
    }

    if (used < limit) {
      bind_key(insert_.get());
      sqlite3_bind_int64(insert_.get(), 3, now);
      run(insert_.get());
      d.allowed = true;
      d.used = static_cast<std::uint64_t>(used) + 1;
    } else {
      d.used = static_cast<std::uint64_t>(used);
      // Calls stamped in the future (the clock was set back) wait at most one window.
      d.retry_after = std::chrono::milliseconds(std::clamp<std::int64_t>(oldest + per - now, 1, per));
      d.reason = format_rate(rate) + " used up; next call allowed in " + format_retry(d.retry_after);
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return d;
}

}  // namespace paddock
