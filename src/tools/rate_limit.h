// A tool's `rate_limit` ("10/hour"), kept in a SQLite file so it holds across paddock processes
// running at the same time and across restarts (paddock uses $XDG_STATE_HOME/paddock/rate.sqlite).
//
// The window slides: each accepted call's time is stored per (profile, tool), and a call is
// allowed when fewer than `count` calls happened in the last `per`. Deleting expired calls,
// counting and recording the new call happen in one IMMEDIATE transaction, so concurrent
// processes are serialised by SQLite's lock and never exceed the limit in total.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "util/units.h"

namespace paddock {

struct RateDecision {
  bool allowed = false;
  std::uint64_t used = 0;                    // calls in the window, counting this one when allowed
  std::chrono::milliseconds retry_after{0};  // refused: until the oldest call in the window expires
  std::string reason;                        // refused: "10/hour used up; next call allowed in 12m"
};

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Opens the database at `path`, creating it (mode 0600) when missing. Throws paddock::Error
  // with one line when the path is a symlink or not a regular file, when the file or its folder
  // is writable by group or others or owned by another user, when it is not a SQLite database,
  // or when it is a database of something else. `clock` defaults to the system clock (wall time:
  // windows outlive the process and reboots).
  explicit RateLimiter(const std::string& path, Clock clock = {});
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Records a call of tool `tool` of the profile at `profile` (its absolute path: two profiles'
  // tools of the same name have separate budgets) when `rate` allows it. Throws paddock::Error
  // when the database fails (corrupt, busy for longer than the busy timeout).
  RateDecision acquire(const std::string& profile, const std::string& tool, const Rate& rate);

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  struct DbClose {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  struct StmtFinalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

  std::string path_;
  Clock clock_;
  std::unique_ptr<sqlite3, DbClose> db_;
  Stmt expire_, count_, insert_;  // after db_: finalized before it closes

  [[noreturn]] void fail(const std::string& what) const;
  void exec(const char* sql);
  Stmt prepare(const char* sql);
  void init_schema();
  RateDecision acquire_once(const std::string& profile, const std::string& tool, const Rate& rate);
  void retry_busy(const std::function<void()>& f);
};

// "next call allowed in 12m": rounded up to whole seconds below a minute, whole minutes above.
std::string format_retry(std::chrono::milliseconds d);

}  // namespace paddock
