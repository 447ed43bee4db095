// The `db.query(sql, params)` host function: one SQL statement against the SQLite file a tool's
// `grants.db` names, with the grant enforced by sqlite3's authorizer (never by parsing SQL):
//   read_only  the file is opened read-only and with PRAGMA query_only; the authorizer also
//              refuses INSERT/UPDATE/DELETE, schema changes and transaction control;
//   tables     when set, reading or writing any other table is refused, the schema tables,
//              temporary tables and views over other tables included; schema changes too;
//   max_rows   at most that many rows are returned, then "truncated": true.
// Always refused: ATTACH/DETACH, load_extension and similar functions, pragmas other than a
// few that only describe granted tables. One statement per call; a time budget per call.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace paddock {

struct DbQueryOptions {
  std::chrono::milliseconds time_budget{2000};  // per query: preparing, waiting for locks and stepping
  std::size_t max_result_bytes = 8u << 20;      // rough size of the rows returned; more is truncated
  int max_value_bytes = 16 << 20;               // SQLITE_LIMIT_LENGTH: largest string or blob a query may make
};

struct DbQueryResult {
  enum class Status {
    Ok,      // value holds {"columns":[...],"rows":[[...]],"truncated":bool} (+ "changes" for writes)
    Denied,  // the grant refuses the statement (an audited denial)
    Failed,  // bad SQL or parameters, time budget exceeded, a database error
  };
  Status status = Status::Failed;
  nlohmann::json value;
  std::string error;  // one line, e.g. "not authorized: table secrets is not in tool.grants.db.tables"

  [[nodiscard]] bool ok() const { return status == Status::Ok; }
};

class DbQuery {
 public:
  // Opens the granted file (never creating it, never through a symlink). Throws paddock::Error
  // when it is missing, not a SQLite database, or cannot be opened.
  explicit DbQuery(DbGrant grant, DbQueryOptions options = {});
  ~DbQuery();
  DbQuery(const DbQuery&) = delete;
  DbQuery& operator=(const DbQuery&) = delete;

  // Runs `sql` (exactly one statement) with `params`: null for none, an array bound by position
  // (?, ?NNN), or an object bound by name (:name, @name, $name). Values: strings, numbers,
  // booleans (1/0) and null. Results: integers, reals (non-finite ones as null), text (invalid
  // UTF-8 replaced) and null; blobs as {"base64": "..."}.
  DbQueryResult query(std::string_view sql, const nlohmann::json& params = nullptr);

  struct AuthState;

 private:
  struct DbClose {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };

  std::string refresh_schema_names();

  DbGrant grant_;
  DbQueryOptions options_;
  std::unique_ptr<AuthState> auth_;  // outlives db_, whose callbacks point at it
  std::unique_ptr<sqlite3, DbClose> db_;
};

}  // namespace paddock
