#include "tools/db_query.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "util/error.h"
#include "util/units.h"

namespace paddock {

using nlohmann::json;

struct DbQuery::AuthState {
  const DbGrant* grant = nullptr;
  // Names of the tables and views in the file (lower-case), refreshed before each query: a
  // name SQLite reports that is none of them is a CTE or a subquery.
  std::vector<std::string> schema_names;
  std::vector<std::string> module_names;  // virtual table modules: table-valued functions are not CTEs either
  std::string denial;                     // the first refusal while preparing or running the current statement
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
};

namespace {

struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

// Table-valued functions that compute from their arguments alone and reach no table: reading
// them is never a read of the database.
constexpr std::array kPureTableFunctions{"json_each", "json_tree"};

// Pragmas whose table-valued form (pragma_table_info('t')) a tool may read; the PRAGMA itself
// is then authorised with the table as its argument.
constexpr std::array kTablePragmas{"table_info", "table_xinfo", "index_list", "foreign_key_list"};
// Pragmas a tool may read without an argument: they describe the file, not its rows. FTS5
// queries data_version on their own.
constexpr std::array kReadPragmas{"user_version", "application_id", "data_version"};

// Functions that reach outside the database or change the connection.
constexpr std::array kDeniedFunctions{"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"};

template <std::size_t N>
bool in(const std::array<const char*, N>& list, std::string_view name) {
  for (const char* x : list)
    if (iequals(x, name)) return true;
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_schema_name(const DbQuery::AuthState& st, std::string_view name) {
  std::string l = lower(name);
  // The schema tables are not rows of themselves; no CTE may be named sqlite_* either.
  if (l.compare(0, 7, "pragma_") == 0 || l.compare(0, 7, "sqlite_") == 0) return true;
  for (const auto* names : {&st.schema_names, &st.module_names})
    for (const auto& n : *names)
      if (n == l) return true;
  return false;
}

const char* ddl_name(int action) {
  switch (action) {
    case SQLITE_CREATE_INDEX: return "CREATE INDEX";
    case SQLITE_CREATE_TABLE: return "CREATE TABLE";
    case SQLITE_CREATE_TEMP_INDEX: return "CREATE TEMP INDEX";
    case SQLITE_CREATE_TEMP_TABLE: return "CREATE TEMP TABLE";
    case SQLITE_CREATE_TEMP_TRIGGER: return "CREATE TEMP TRIGGER";
    case SQLITE_CREATE_TEMP_VIEW: return "CREATE TEMP VIEW";
    case SQLITE_CREATE_TRIGGER: return "CREATE TRIGGER";
    case SQLITE_CREATE_VIEW: return "CREATE VIEW";
    case SQLITE_DROP_INDEX: return "DROP INDEX";
    case SQLITE_DROP_TABLE: return "DROP TABLE";
    case SQLITE_DROP_TEMP_INDEX: return "DROP TEMP INDEX";
    case SQLITE_DROP_TEMP_TABLE: return "DROP TEMP TABLE";
    case SQLITE_DROP_TEMP_TRIGGER: return "DROP TEMP TRIGGER";
    case SQLITE_DROP_TEMP_VIEW: return "DROP TEMP VIEW";
    case SQLITE_DROP_TRIGGER: return "DROP TRIGGER";
    case SQLITE_DROP_VIEW: return "DROP VIEW";
    case SQLITE_ALTER_TABLE: return "ALTER TABLE";
    case SQLITE_REINDEX: return "REINDEX";
    case SQLITE_ANALYZE: return "ANALYZE";
    case SQLITE_CREATE_VTABLE: return "CREATE VIRTUAL TABLE";
    case SQLITE_DROP_VTABLE: return "DROP VIRTUAL TABLE";
    default: return nullptr;
  }
}

// The grant's answer to one authorizer question: empty to allow, else why not (after
// "not authorized: "). Default deny: an action this code does not know is refused.
std::string decide(const DbQuery::AuthState& st, int action, const char* p3, const char* p4, const char* db,
                   const char* inner) {
  const DbGrant& g = *st.grant;
  auto sv = [](const char* s) { return s != nullptr ? std::string_view(s) : std::string_view(); };
  std::string_view a3 = sv(p3), a4 = sv(p4), schema = sv(db);
  const bool restricted = !g.tables.empty();
  const std::string via = inner != nullptr ? " (via " + std::string(inner) + ")" : "";
  auto listed = [&](std::string_view table) {
    if (!restricted) return true;
    // Only the main database: a temp table of the same name is another table.
    if (!schema.empty() && schema != "main") return false;
    for (const auto& t : g.tables)
      if (iequals(t, table)) return true;
    return false;
  };
  auto not_listed = [&](std::string_view table) {
    return "table " + std::string(table) + via + " is not in tool.grants.db.tables";
  };

  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE: return {};

    case SQLITE_READ:
      if (in(kPureTableFunctions, a3)) return {};
      if (a3.substr(0, 7) == "pragma_" && in(kTablePragmas, a3.substr(7))) return {};
      if (listed(a3)) return {};
      // count(*) over a CTE asks about the CTE's name as if it were a table (no column, no
      // schema); what the CTE itself reads was asked about separately. A real table of that
      // name is still refused.
      if (a4.empty() && db == nullptr && !is_schema_name(st, a3)) return {};
      return not_listed(a3);

    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE: {
      const char* verb = action == SQLITE_INSERT   ? "INSERT into "
                         : action == SQLITE_UPDATE ? "UPDATE of "
                                                   : "DELETE from ";
      // DDL writes the schema table before SQLite asks about the DDL itself, and a refusal
      // ends the questions: name it as what it is.
      if (iequals(a3, "sqlite_master") || iequals(a3, "sqlite_temp_master")) {
        if (g.read_only) return "schema change" + via + " (tool.grants.db is read_only)";
        if (restricted) return "schema change" + via + " (schema changes need a grant without tool.grants.db.tables)";
        return {};
      }
      if (g.read_only) return verb + std::string(a3) + via + " (tool.grants.db is read_only)";
      // Unrestricted, schema tables are written by DDL; SQLite itself (defensive mode, no
      // writable_schema) refuses direct writes to them.
      return listed(a3) ? std::string() : not_listed(a3);
    }

    case SQLITE_FUNCTION:
      if (in(kDeniedFunctions, a4)) return "function " + std::string(a4) + " is never allowed";
      return {};

    case SQLITE_PRAGMA: {
      if (!schema.empty() && schema != "main") return "PRAGMA " + std::string(schema) + "." + std::string(a3);
      if (in(kTablePragmas, a3) && !a4.empty()) {
        if (listed(a4)) return {};
        return "PRAGMA " + std::string(a3) + ": " + not_listed(a4);
      }
      if (in(kReadPragmas, a3) && p4 == nullptr) return {};
      return "PRAGMA " + std::string(a3) + (p4 != nullptr ? " = " + std::string(a4) : std::string());
    }

    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      if (g.read_only) {
        std::string what(a3);  // BEGIN, COMMIT, ROLLBACK
        if (action == SQLITE_SAVEPOINT)
          what = (a3 == "BEGIN" ? "SAVEPOINT " : a3 == "RELEASE" ? "RELEASE " : "ROLLBACK TO ") + std::string(a4);
        return what + " (tool.grants.db is read_only)";
      }
      return {};

    case SQLITE_ATTACH: return "ATTACH is never allowed";
    case SQLITE_DETACH: return "DETACH is never allowed";

    default:
      if (const char* ddl = ddl_name(action)) {
        if (g.read_only) return std::string(ddl) + via + " (tool.grants.db is read_only)";
        if (restricted) return std::string(ddl) + via + " (schema changes need a grant without tool.grants.db.tables)";
        return {};
      }
      return "operation " + std::to_string(action);
  }
}

int authorize(void* user, int action, const char* a3, const char* a4, const char* db, const char* inner) {
  auto& st = *static_cast<DbQuery::AuthState*>(user);
  std::string why = decide(st, action, a3, a4, db, inner);
  if (why.empty()) return SQLITE_OK;
  if (st.denial.empty()) st.denial = one_line("not authorized: " + why);
  return SQLITE_DENY;
}

int on_progress(void* user) {
  auto& st = *static_cast<DbQuery::AuthState*>(user);
  if (std::chrono::steady_clock::now() < st.deadline) return 0;
  st.timed_out = true;
  return 1;  // interrupts the statement
}

// What is left after the first statement must be nothing but blanks, comments and semicolons.
// This is a lexer for those three, not a SQL parser: whether it is a statement SQLite decides.
bool only_blanks(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';') {
      ++i;
    } else if (s.compare(i, 2, "--") == 0) {
      auto nl = s.find('\n', i);
      if (nl == std::string_view::npos) return true;
      i = nl + 1;
    } else if (s.compare(i, 2, "/*") == 0) {
      auto end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return true;  // SQLite ignores an unterminated comment at the end
      i = end + 2;
    } else {
      return false;
    }
  }
  return true;
}

// Text columns may hold any bytes; JSON output must be UTF-8. Bad bytes become U+FFFD.
std::string utf8_or_replaced(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve(n);
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xC0) == 0x80;
    if (ok && len > 1) {
      std::uint32_t cp = c & (0xFF >> (len + 1));
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
      static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min_for_len[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok) {
      out.append(reinterpret_cast<const char*>(p + i), len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string base64(const unsigned char* p, std::size_t n) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(p[i]) << 16;
    if (i + 1 < n) v |= static_cast<std::uint32_t>(p[i + 1]) << 8;
    if (i + 2 < n) v |= p[i + 2];
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out += i + 2 < n ? tbl[v & 63] : '=';
  }
  return out;
}

// Binds one JSON value; returns an error text, empty on success.
std::string bind_value(sqlite3_stmt* s, int idx, const json& v, const std::string& what) {
  int rc = SQLITE_OK;
  switch (v.type()) {
    case json::value_t::null: rc = sqlite3_bind_null(s, idx); break;
    case json::value_t::boolean: rc = sqlite3_bind_int(s, idx, v.get<bool>() ? 1 : 0); break;
    case json::value_t::number_integer: rc = sqlite3_bind_int64(s, idx, v.get<std::int64_t>()); break;
    case json::value_t::number_unsigned: {
      auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return what + ": integer " + std::to_string(u) + " is out of SQLite's range";
      rc = sqlite3_bind_int64(s, idx, static_cast<std::int64_t>(u));
      break;
    }
    case json::value_t::number_float: rc = sqlite3_bind_double(s, idx, v.get<double>()); break;
    case json::value_t::string: {
      const auto& str = v.get_ref<const std::string&>();
      rc = sqlite3_bind_text64(s, idx, str.data(), str.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    default:
      return what + ": " + (v.is_array() ? "an array" : "an object") + " cannot be bound (pass JSON text instead)";
  }
  if (rc == SQLITE_TOOBIG || rc == SQLITE_RANGE) return what + ": " + sqlite3_errstr(rc);
  if (rc != SQLITE_OK) return what + ": " + sqlite3_errstr(rc);
  return {};
}

std::string bind_params(sqlite3_stmt* s, const json& params) {
  const int n = sqlite3_bind_parameter_count(s);
  if (params.is_null()) {
    if (n > 0) return "the statement has " + std::to_string(n) + " parameter(s) but no params were given";
    return {};
  }
  if (params.is_array()) {
    if (params.size() != static_cast<std::size_t>(n))
      return "the statement has " + std::to_string(n) + " parameter(s) but " + std::to_string(params.size()) +
             " were given";
    for (int i = 1; i <= n; ++i)
      if (auto e = bind_value(s, i, params[static_cast<std::size_t>(i - 1)], "parameter " + std::to_string(i));
          !e.empty())
        return e;
    return {};
  }
  if (params.is_object()) {
    std::size_t used = 0;
    for (int i = 1; i <= n; ++i) {
      const char* raw = sqlite3_bind_parameter_name(s, i);
      if (raw == nullptr || raw[0] == '?')
        return "parameter " + std::to_string(i) + " is positional; pass params as an array";
      std::string name(raw + 1);  // without the ':', '@' or '$'
      auto it = params.find(name);
      if (it == params.end()) return "parameter " + std::string(raw) + " has no value in params";
      ++used;
      if (auto e = bind_value(s, i, *it, "parameter " + std::string(raw)); !e.empty()) return e;
    }
    if (used != params.size()) {
      for (const auto& [key, value] : params.items()) {
        bool found = false;
        for (int i = 1; i <= n && !found; ++i) {
          const char* raw = sqlite3_bind_parameter_name(s, i);
          found = raw != nullptr && key == raw + 1;
        }
        if (!found) return "params has \"" + one_line(key) + "\", which the statement does not use";
      }
    }
    return {};
  }
  return "params must be an array, an object or null";
}

}  // namespace

DbQuery::DbQuery(DbGrant grant, DbQueryOptions options)
    : grant_(std::move(grant)), options_(options), auth_(std::make_unique<AuthState>()) {
  auth_->grant = &grant_;
  const std::string& path = grant_.path;
  if (path.empty() || path[0] != '/') throw Error("database path \"" + path + "\" is not absolute");
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error("database " + path + " does not exist");
    throw_errno("database " + path);
  }
  if (S_ISLNK(st.st_mode)) throw Error("database " + path + " is a symlink; refusing to follow it");
  if (!S_ISREG(st.st_mode)) throw Error("database " + path + " is not a regular file");

  // Never SQLITE_OPEN_CREATE: a typo in a grant must not conjure up an empty database.
  int flags = (grant_.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOFOLLOW |
              SQLITE_OPEN_PRIVATECACHE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);
  auto fail = [&](const std::string& what) { throw Error("database " + path + ": " + one_line(what)); };
  if (rc != SQLITE_OK) fail(raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  sqlite3* db = db_.get();
  sqlite3_extended_result_codes(db, 1);

  // Defence in depth under the authorizer: schema tables stay read-only even to a full grant,
  // functions in the file's schema (views, triggers) may not be "unsafe" ones, no extensions.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, nullptr);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, options_.max_value_bytes);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 20);
  sqlite3_busy_timeout(db, static_cast<int>(std::min<std::int64_t>(options_.time_budget.count(), INT32_MAX)));

  auto exec = [&](const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      fail(msg);
    }
  };
  // Reads the header and schema now, so a file that is not a database fails here, not at a call.
  exec("SELECT count(*) FROM sqlite_schema");
  if (grant_.read_only) exec("PRAGMA query_only = 1");
  // The first use of a table-valued function on a connection makes SQLite ask the authorizer
  // about schema-table accesses of its own; done here, before there is an authorizer, so that
  // a tool's use of them is judged on what it reads.
  exec(
      "SELECT 1 FROM json_each('[]'), json_tree('[]'), pragma_table_info(''), pragma_table_xinfo(''), "
      "pragma_index_list(''), pragma_foreign_key_list('') LIMIT 0");
  // Without SQLITE_INTROSPECTION_PRAGMAS the list is unavailable; the common modules are named
  // anyway so that count(*) over them is not mistaken for count(*) over a CTE.
  auth_->module_names = {"dbstat",       "sqlite_dbpage", "sqlite_stmt", "sqlite_dbptr",   "sqlite_dbdata",
                         "fts3",         "fts4",          "fts4aux",     "fts5",           "fts5vocab",
                         "fts3tokenize", "rtree",         "rtree_i32",   "generate_series"};
  sqlite3_exec(
      db, "SELECT lower(name) FROM pragma_module_list",
      [](void* out, int n, char** v, char**) {
        if (n == 1 && v[0] != nullptr) static_cast<std::vector<std::string>*>(out)->emplace_back(v[0]);
        return 0;
      },
      &auth_->module_names, nullptr);

  sqlite3_set_authorizer(db, authorize, auth_.get());
  sqlite3_progress_handler(db, 1000, on_progress, auth_.get());
}

DbQuery::~DbQuery() = default;

std::string DbQuery::refresh_schema_names() {
  sqlite3* db = db_.get();
  // Our own query: asked without the authorizer, which would refuse the schema tables.
  sqlite3_set_authorizer(db, nullptr, nullptr);
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db,
                              "SELECT lower(name) FROM sqlite_schema WHERE type IN ('table', 'view') UNION ALL "
                              "SELECT lower(name) FROM sqlite_temp_schema WHERE type IN ('table', 'view')",
                              -1, &raw, nullptr);
  Stmt s(raw);
  std::vector<std::string> names;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      const unsigned char* name = sqlite3_column_text(s.get(), 0);
      if (name != nullptr) names.emplace_back(reinterpret_cast<const char*>(name));
    }
  }
  sqlite3_set_authorizer(db, authorize, auth_.get());
  if (rc != SQLITE_DONE) return one_line(sqlite3_errmsg(db));
  auth_->schema_names = std::move(names);
  return {};
}

DbQueryResult DbQuery::query(std::string_view sql, const json& params) {
  DbQueryResult r;
  auto failed = [&](const std::string& why) {
    r.status = DbQueryResult::Status::Failed;
    r.error = one_line(why);
    return r;
  };
  if (sql.find('\0') != std::string_view::npos) return failed("the SQL contains a NUL byte");
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return failed("the SQL is too long");

  AuthState& st = *auth_;
  st.denial.clear();
  st.timed_out = false;
  st.deadline = std::chrono::steady_clock::now() + options_.time_budget;
  sqlite3* db = db_.get();
  if (!grant_.tables.empty()) {
    // Another process may have changed the schema since the last call.
    if (auto e = refresh_schema_names(); !e.empty()) return failed(e);
  }

  // Why the statement stopped, once SQLite has said it did.
  auto stopped = [&]() {
    if (st.timed_out) return failed("the query exceeded its time budget of " + format_duration(options_.time_budget));
    // A refusal can surface as SQLITE_AUTH or, from SQLite's own nested statements (VACUUM's
    // ATTACH), as a plain error: either way the grant is why.
    if (!st.denial.empty()) {
      r.status = DbQueryResult::Status::Denied;
      r.error = st.denial;
      return r;
    }
    return failed(sqlite3_errmsg(db));
  };

  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), 0, &raw, &tail);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return stopped();
  if (!stmt) return failed("no SQL statement given");
  if (!only_blanks(sql.substr(static_cast<std::size_t>(tail - sql.data()))))
    return failed("only one SQL statement per call (there is more after the first)");

  if (auto e = bind_params(stmt.get(), params); !e.empty()) return failed(e);

  const int ncol = sqlite3_column_count(stmt.get());
  json columns = json::array();
  for (int c = 0; c < ncol; ++c) {
    const char* name = sqlite3_column_name(stmt.get(), c);
    columns.push_back(name != nullptr ? utf8_or_replaced(reinterpret_cast<const unsigned char*>(name),
                                                         std::char_traits<char>::length(name))
                                      : std::string());
  }
  json rows = json::array();
  bool truncated = false;
  std::size_t bytes = 0;
  const std::uint64_t max_rows = grant_.max_rows.value_or(std::numeric_limits<std::uint64_t>::max());
  while (true) {
    rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return stopped();
    // Stepping once past the limit tells a cut result from one that happened to fit.
    if (rows.size() >= max_rows || bytes > options_.max_result_bytes) {
      truncated = true;
      break;
    }
    json row = json::array();
    for (int c = 0; c < ncol; ++c) {
      switch (sqlite3_column_type(stmt.get(), c)) {
        case SQLITE_INTEGER: row.push_back(sqlite3_column_int64(stmt.get(), c)); break;
        case SQLITE_FLOAT: {
          double d = sqlite3_column_double(stmt.get(), c);
          row.push_back(std::isfinite(d) ? json(d) : json(nullptr));
          break;
        }
        case SQLITE_TEXT: {
          const unsigned char* p = sqlite3_column_text(stmt.get(), c);
          auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), c));
          bytes += n;
          row.push_back(p != nullptr ? utf8_or_replaced(p, n) : std::string());
          break;
        }
        case SQLITE_BLOB: {
          const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt.get(), c));
          auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), c));
          bytes += n * 4 / 3;
          row.push_back(json{{"base64", base64(p, n)}});
          break;
        }
        default: row.push_back(nullptr); break;
      }
      bytes += 8;
    }
    rows.push_back(std::move(row));
  }

  r.status = DbQueryResult::Status::Ok;
  r.value = json{{"columns", std::move(columns)}, {"rows", std::move(rows)}, {"truncated", truncated}};
  if (sqlite3_stmt_readonly(stmt.get()) == 0) r.value["changes"] = sqlite3_changes64(db);
  return r;
}

}  // namespace paddock
