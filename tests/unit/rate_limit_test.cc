#include "tools/rate_limit.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "test_util.h"
#include "util/error.h"
#include "util/units.h"

namespace paddock {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::TempDir;
using Clock = std::chrono::system_clock;

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point now = Clock::time_point(std::chrono::hours(24 * 365 * 56));
  RateLimiter::Clock fn() {
    return [this] { return now; };
  }
};

class RateLimitTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string db = dir / "rate.sqlite";
  FakeClock clock;
  const std::string profile = "/home/u/.config/paddock/profiles/mail.toml";
};

TEST_F(RateLimitTest, LimitHolds) {
  RateLimiter r(db, clock.fn());
  Rate rate = parse_rate("3/hour");
  for (int i = 1; i <= 3; ++i) {
    auto d = r.acquire(profile, "send_email", rate);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.used, static_cast<std::uint64_t>(i));
    EXPECT_EQ(d.reason, "");
    clock.now += 1min;
  }
  auto d = r.acquire(profile, "send_email", rate);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.used, 3u);
  // The first call was 3 minutes ago: it leaves the window in 57 minutes.
  EXPECT_EQ(d.retry_after, 57min);
  EXPECT_EQ(d.reason, "3/hour used up; next call allowed in 57m");
  // Refused calls do not use up budget: still refused, and still for the same reason.
  clock.now += 30s;
  d = r.acquire(profile, "send_email", rate);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 56min + 30s);
  EXPECT_EQ(d.reason, "3/hour used up; next call allowed in 57m");
}

TEST_F(RateLimitTest, WindowSlides) {
  RateLimiter r(db, clock.fn());
  Rate rate = parse_rate("2/minute");
  auto t0 = clock.now;
  EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);  // t0
  clock.now = t0 + 20s;
  EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);  // t0+20s
  clock.now = t0 + 59s;
  auto d = r.acquire(profile, "t", rate);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1s);
  EXPECT_EQ(d.reason, "2/minute used up; next call allowed in 1s");
  // Exactly one window after the first call, it no longer counts.
  clock.now = t0 + 60s;
  EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);  // t0+60s
  // Now the calls at t0+20s and t0+60s are in the window.
  clock.now = t0 + 79s;
  d = r.acquire(profile, "t", rate);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1s);
  clock.now = t0 + 80s;
  EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);
  // A quiet period longer than the window restores the whole budget.
  clock.now = t0 + 1h;
  EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);
  EXPECT_EQ(r.acquire(profile, "t", rate).used, 2u);
  EXPECT_FALSE(r.acquire(profile, "t", rate).allowed);
}

TEST_F(RateLimitTest, RetryIsRoundedUp) {
  RateLimiter r(db, clock.fn());
  Rate rate = parse_rate("1/day");
  EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);
  clock.now += 1h + 500ms;
  auto d = r.acquire(profile, "t", rate);
  EXPECT_EQ(d.retry_after, 23h - 500ms);
  EXPECT_EQ(d.reason, "1/day used up; next call allowed in 23h");
  clock.now += 22h + 30min;
  EXPECT_EQ(r.acquire(profile, "t", rate).reason, "1/day used up; next call allowed in 30m");
  clock.now += 29min + 59s;
  EXPECT_EQ(r.acquire(profile, "t", rate).reason, "1/day used up; next call allowed in 1s");
}

TEST(FormatRetry, Rounding) {
  EXPECT_EQ(format_retry(0ms), "1s");
  EXPECT_EQ(format_retry(1ms), "1s");
  EXPECT_EQ(format_retry(1001ms), "2s");
  EXPECT_EQ(format_retry(59s), "59s");
  EXPECT_EQ(format_retry(60s), "1m");
  EXPECT_EQ(format_retry(11min + 34s), "12m");
  EXPECT_EQ(format_retry(1h + 11min + 1s), "1h12m");
}

TEST_F(RateLimitTest, KeyedByProfileAndTool) {
  RateLimiter r(db, clock.fn());
  Rate rate = parse_rate("1/hour");
  EXPECT_TRUE(r.acquire(profile, "send_email", rate).allowed);
  EXPECT_FALSE(r.acquire(profile, "send_email", rate).allowed);
  // Another tool of the same profile, and the same tool name in another profile: own budgets.
  EXPECT_TRUE(r.acquire(profile, "write_to_crm", rate).allowed);
  EXPECT_TRUE(r.acquire("/etc/paddock/profiles/other.toml", "send_email", rate).allowed);
  // Keys cannot be confused by moving characters between the parts.
  EXPECT_TRUE(r.acquire("/p/a", "b", rate).allowed);
  EXPECT_TRUE(r.acquire("/p/", "ab", rate).allowed);
}

TEST_F(RateLimitTest, PersistsAcrossInstances) {
  Rate rate = parse_rate("2/hour");
  {
    RateLimiter r(db, clock.fn());
    EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);
    EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);
  }
  RateLimiter r(db, clock.fn());
  EXPECT_FALSE(r.acquire(profile, "t", rate).allowed);
}

TEST_F(RateLimitTest, ChangedRateAppliesToPastCalls) {
  RateLimiter r(db, clock.fn());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.acquire(profile, "t", parse_rate("10/hour")).allowed);
  // The profile now says 3/hour: the five calls already made count against it.
  EXPECT_FALSE(r.acquire(profile, "t", parse_rate("3/hour")).allowed);
}

TEST_F(RateLimitTest, ClockSetBackWaitsAtMostOneWindow) {
  RateLimiter r(db, clock.fn());
  Rate rate = parse_rate("1/minute");
  EXPECT_TRUE(r.acquire(profile, "t", rate).allowed);
  clock.now -= 10h;
  auto d = r.acquire(profile, "t", rate);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1min);
}

TEST_F(RateLimitTest, CreatesTheFile0600) {
  mode_t old = ::umask(0);  // the file must be 0600 whatever the umask
  RateLimiter r(db, clock.fn());
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // WAL companions take the database's mode.
  EXPECT_TRUE(r.acquire(profile, "t", parse_rate("1/hour")).allowed);
  ASSERT_EQ(::stat((db + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(RateLimitTest, UsesWal) {
  { RateLimiter r(db, clock.fn()); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::string mode;
  sqlite3_exec(
      raw, "PRAGMA journal_mode",
      [](void* out, int, char** v, char**) {
        *static_cast<std::string*>(out) = v[0];
        return 0;
      },
      &mode, nullptr);
  sqlite3_close(raw);
  EXPECT_EQ(mode, "wal");
}

TEST_F(RateLimitTest, RefusesASymlink) {
  std::string target = dir.write("real.sqlite", "", 0600);
  ASSERT_EQ(::symlink(target.c_str(), db.c_str()), 0);
  EXPECT_EQ(error_of([&] { RateLimiter r(db); }), "rate-limit database " + db + " is a symlink; refusing to follow it");
  // A dangling symlink is not followed to create its target either.
  std::string dangling = dir / "dangling.sqlite";
  ASSERT_EQ(::symlink((dir / "nowhere").c_str(), dangling.c_str()), 0);
  EXPECT_EQ(error_of([&] { RateLimiter r(dangling); }),
            "rate-limit database " + dangling + " is a symlink; refusing to follow it");
  EXPECT_NE(::access((dir / "nowhere").c_str(), F_OK), 0);
}

TEST_F(RateLimitTest, RefusesAWritableByOthersFile) {
  dir.write("rate.sqlite", "", 0620);
  EXPECT_EQ(error_of([&] { RateLimiter r(db); }),
            "rate-limit database " + db + " is writable by group or others (mode 0620); refusing to use it");
  ::chmod(db.c_str(), 0602);
  EXPECT_EQ(error_of([&] { RateLimiter r(db); }),
            "rate-limit database " + db + " is writable by group or others (mode 0602); refusing to use it");
  // Readable by others is not a danger to the limit itself.
  ::chmod(db.c_str(), 0644);
  EXPECT_EQ(error_of([&] { RateLimiter r(db); }), "<no error>");
}

TEST_F(RateLimitTest, RefusesAFolderWritableByOthers) {
  std::string shared = dir.mkdir("shared");
  ::chmod(shared.c_str(), 01777);
  EXPECT_EQ(error_of([&] { RateLimiter r(shared + "/rate.sqlite"); }),
            "rate-limit database folder " + shared +
                " is writable by group or others (mode 1777); refusing to keep rate limits there");
}

TEST_F(RateLimitTest, RefusesNonRegularFiles) {
  dir.mkdir("rate.sqlite");
  EXPECT_NE(error_of([&] { RateLimiter r(db); }).find("rate-limit database " + db), std::string::npos);
  std::string fifo = dir / "fifo.sqlite";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Must not block waiting for a writer.
  EXPECT_EQ(error_of([&] { RateLimiter r(fifo); }), "rate-limit database " + fifo + " is not a regular file");
  EXPECT_NE(error_of([&] { RateLimiter r(dir / "missing/rate.sqlite"); }).find("rate-limit database folder"),
            std::string::npos);
}

TEST_F(RateLimitTest, GarbageFileIsACleanError) {
  dir.write("rate.sqlite", std::string(4096, 'x'), 0600);
  EXPECT_EQ(error_of([&] { RateLimiter r(db); }), "rate-limit database " + db + ": file is not a database");
}

TEST_F(RateLimitTest, CorruptDatabaseIsACleanError) {
  {
    RateLimiter r(db, clock.fn());
    for (int i = 0; i < 50; ++i) r.acquire(profile, "t" + std::to_string(i), parse_rate("10/hour"));
  }
  {
    // Checkpoint the WAL into the main file and leave rollback mode, then damage the pages.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    sqlite3_exec(raw, "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  std::string bytes = test::read_file(db);
  ASSERT_GT(bytes.size(), 4096u);
  // Keep the 100-byte header, scramble everything after it.
  for (std::size_t i = 100; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) & 0xFF);
  dir.write("rate.sqlite", bytes, 0600);
  auto e = error_of([&] {
    RateLimiter r(db, clock.fn());
    r.acquire(profile, "t1", parse_rate("10/hour"));
  });
  EXPECT_EQ(e.rfind("rate-limit database " + db + ": ", 0), 0u) << e;
}

TEST_F(RateLimitTest, ForeignDatabaseIsLeftAlone) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(raw, "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me')", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(raw);
  ::chmod(db.c_str(), 0600);
  std::string before = test::read_file(db);
  EXPECT_EQ(error_of([&] { RateLimiter r(db); }),
            "rate-limit database " + db +
                ": not a paddock rate-limit database (it holds something else); refusing "
                "to touch it");
  EXPECT_EQ(test::read_file(db), before);
}

TEST_F(RateLimitTest, NewerSchemaIsRefused) {
  { RateLimiter r(db, clock.fn()); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "PRAGMA user_version = 7", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  EXPECT_EQ(error_of([&] { RateLimiter r(db); }),
            "rate-limit database " + db + ": written by a newer paddock (schema version 7, this one knows 1)");
}

// Several processes hammer the same tool at once: the total allowed is exactly the limit.
TEST_F(RateLimitTest, ConcurrentProcessesNeverExceedTheLimit) {
  constexpr int kProcs = 4;
  constexpr int kTries = 60;
  constexpr int kLimit = 50;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int allowed = 0;
      try {
        // Each process opens its own connection, as separate paddock processes do; the first
        // ones also race to create the schema.
        RateLimiter r(db);
        for (int i = 0; i < kTries; ++i)
          if (r.acquire(profile, "send_email", Rate{kLimit, std::chrono::hours(1)}).allowed) ++allowed;
      } catch (...) {
        ::_exit(255);
      }
      ::_exit(allowed);
    }
    kids.push_back(pid);
  }
  int total = 0;
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 255) << "a child failed";
    total += WEXITSTATUS(status);
  }
  EXPECT_EQ(total, kLimit);
  RateLimiter r(db);
  EXPECT_FALSE(r.acquire(profile, "send_email", Rate{kLimit, std::chrono::hours(1)}).allowed);
}

}  // namespace
}  // namespace paddock
