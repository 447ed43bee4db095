#include "tools/db_query.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "test_util.h"
#include "util/error.h"

namespace paddock {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Status = DbQueryResult::Status;
using test::error_of;
using test::TempDir;

// A shop database: granted tables users/orders/products, plus a secret table, a view and a
// trigger that reach it.
class DbQueryTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string path = dir / "shop.sqlite";

  void SetUp() override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* sql = R"sql(
      BEGIN;
      CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL);
      CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, photo BLOB);
      CREATE TABLE secrets (k TEXT, v TEXT);
      CREATE TABLE audit (what TEXT);
      CREATE INDEX users_email ON users (email);
      INSERT INTO users VALUES (1, 'ada', 'ada@example.com'), (2, 'bob', 'bob@example.com'), (3, 'cy', NULL);
      INSERT INTO orders VALUES (1, 1, 9.5), (2, 1, 20), (3, 2, 1.25);
      INSERT INTO products VALUES (1, 'widget', x'00ff10'), (2, 'gadget', NULL);
      INSERT INTO secrets VALUES ('api_key', 'hunter2');
      CREATE VIEW user_secrets AS SELECT u.name, s.v FROM users u, secrets s;
      CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
      CREATE TRIGGER leak AFTER INSERT ON orders BEGIN INSERT INTO secrets VALUES ('order', new.id); END;
      CREATE TRIGGER note AFTER UPDATE ON users BEGIN INSERT INTO audit VALUES ('user ' || new.id); END;
      COMMIT;
    )sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_close(db);
  }

  DbGrant grant(bool read_only = true, std::vector<std::string> tables = {"users", "orders", "products"},
                std::optional<std::uint64_t> max_rows = std::nullopt) const {
    DbGrant g;
    g.path = path;
    g.read_only = read_only;
    g.tables = std::move(tables);
    g.max_rows = max_rows;
    return g;
  }

  std::string count(const std::string& sql) const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }
};

// "Denied: <reason>" / "Failed: <reason>" / the JSON result, for compact expectations.
std::string show(const DbQueryResult& r) {
  switch (r.status) {
    case Status::Ok: return r.value.dump();
    case Status::Denied: return "Denied: " + r.error;
    case Status::Failed: return "Failed: " + r.error;
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// granted reads

TEST_F(DbQueryTest, ReadsGrantedTables) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELECT id, name FROM users ORDER BY id")),
            R"({"columns":["id","name"],"rows":[[1,"ada"],[2,"bob"],[3,"cy"]],"truncated":false})");
  EXPECT_EQ(show(q.query("SELECT u.name, sum(o.total) AS spent FROM users u JOIN orders o ON o.user_id = u.id "
                         "GROUP BY u.id ORDER BY u.id")),
            R"({"columns":["name","spent"],"rows":[["ada",29.5],["bob",1.25]],"truncated":false})");
  EXPECT_EQ(show(q.query("SELECT count(*) FROM products")),
            R"j({"columns":["count(*)"],"rows":[[2]],"truncated":false})j");
  EXPECT_EQ(show(q.query("SELECT email FROM users WHERE id = 3")),
            R"({"columns":["email"],"rows":[[null]],"truncated":false})");
  // A view over granted tables only is fine when the view is granted too.
  DbQuery v(grant(true, {"orders", "big_orders"}));
  EXPECT_EQ(show(v.query("SELECT id FROM big_orders")), R"({"columns":["id"],"rows":[[2]],"truncated":false})");
}

TEST_F(DbQueryTest, TableNamesAreCaseInsensitive) {
  DbQuery q(grant(true, {"Users"}));
  EXPECT_TRUE(q.query("SELECT name FROM USERS").ok());
  EXPECT_TRUE(q.query("SELECT name FROM main.users").ok());
}

TEST_F(DbQueryTest, NoTablesMeansEveryTable) {
  DbQuery q(grant(true, {}));
  EXPECT_EQ(show(q.query("SELECT v FROM secrets")), R"({"columns":["v"],"rows":[["hunter2"]],"truncated":false})");
  EXPECT_TRUE(q.query("SELECT name FROM sqlite_schema").ok());
}

TEST_F(DbQueryTest, ValuesOfEachType) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELECT 1, -2.5, 'x', NULL, x'00ff10', 9223372036854775807")),
            R"({"columns":["1","-2.5","'x'","NULL","x'00ff10'","9223372036854775807"],)"
            R"("rows":[[1,-2.5,"x",null,{"base64":"AP8Q"},9223372036854775807]],"truncated":false})");
  EXPECT_EQ(show(q.query("SELECT photo FROM products ORDER BY id")),
            R"({"columns":["photo"],"rows":[[{"base64":"AP8Q"}],[null]],"truncated":false})");
  // Infinity has no JSON spelling.
  EXPECT_EQ(q.query("SELECT 1e999").value["rows"][0][0], json(nullptr));
  // Text that is not UTF-8 comes back with replacement characters, never as invalid JSON.
  auto r = q.query("SELECT CAST(x'61ff62' AS TEXT)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value["rows"][0][0],
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_NO_THROW((void)r.value.dump());
}

TEST_F(DbQueryTest, JsonTableFunctionsWorkWithATableList) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELECT name FROM users WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                         json::array({"[1,3]"}))),
            R"({"columns":["name"],"rows":[["ada"],["cy"]],"truncated":false})");
}

TEST_F(DbQueryTest, DescribingGrantedTablesIsAllowed) {
  DbQuery q(grant());
  auto r = q.query("SELECT name FROM pragma_table_info('users')");
  EXPECT_EQ(show(r), R"({"columns":["name"],"rows":[["id"],["name"],["email"]],"truncated":false})");
  EXPECT_TRUE(q.query("PRAGMA table_info(orders)").ok());
  EXPECT_TRUE(q.query("PRAGMA user_version").ok());
}

// ---------------------------------------------------------------------------------------------
// refused reads

TEST_F(DbQueryTest, UngrantedTableIsRefused) {
  DbQuery q(grant());
  auto r = q.query("SELECT * FROM secrets");
  EXPECT_EQ(r.status, Status::Denied);
  EXPECT_EQ(r.error, "not authorized: table secrets is not in tool.grants.db.tables");
  // Also hidden inside subqueries, joins, CTEs and count(*).
  EXPECT_EQ(show(q.query("SELECT name FROM users WHERE EXISTS (SELECT 1 FROM secrets)")),
            "Denied: not authorized: table secrets is not in tool.grants.db.tables");
  EXPECT_EQ(show(q.query("WITH s AS (SELECT v FROM secrets) SELECT * FROM users, s")),
            "Denied: not authorized: table secrets (via s) is not in tool.grants.db.tables");
  EXPECT_EQ(show(q.query("WITH s AS (SELECT v FROM secrets) SELECT count(*) FROM s")),
            "Denied: not authorized: table secrets (via s) is not in tool.grants.db.tables");
  // A CTE named like an ungranted table is refused too (fail closed).
  EXPECT_EQ(q.query("WITH secrets AS (SELECT 1) SELECT count(*) FROM secrets").status, Status::Denied);
  // Counting through a CTE or subquery over granted tables is fine.
  EXPECT_EQ(show(q.query("WITH u AS (SELECT * FROM users) SELECT count(*) FROM u")),
            R"j({"columns":["count(*)"],"rows":[[3]],"truncated":false})j");
  EXPECT_TRUE(q.query("SELECT count(*) FROM (SELECT id FROM orders)").ok());
  EXPECT_EQ(show(q.query("SELECT count(*) FROM secrets")),
            "Denied: not authorized: table secrets is not in tool.grants.db.tables");
  // A denial does not poison the connection.
  EXPECT_TRUE(q.query("SELECT 1 FROM users").ok());
}

TEST_F(DbQueryTest, SchemaTablesAreRefused) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELECT sql FROM sqlite_master")),
            "Denied: not authorized: table sqlite_master is not in tool.grants.db.tables");
  EXPECT_EQ(show(q.query("SELECT name FROM sqlite_schema")),
            "Denied: not authorized: table sqlite_master is not in tool.grants.db.tables");
  EXPECT_EQ(show(q.query("SELECT * FROM sqlite_temp_master")),
            "Denied: not authorized: table sqlite_temp_master is not in tool.grants.db.tables");
  EXPECT_EQ(q.query("SELECT * FROM temp.sqlite_schema").status, Status::Denied);
  EXPECT_EQ(q.query("SELECT * FROM dbstat").status, Status::Denied);
  // count(*) asks about no column: still refused for schema tables and virtual tables.
  EXPECT_EQ(q.query("SELECT count(*) FROM sqlite_master").status, Status::Denied);
  EXPECT_EQ(q.query("SELECT count(*) FROM dbstat").status, Status::Denied);
  EXPECT_EQ(q.query("SELECT count(*) FROM pragma_table_list").status, Status::Denied);
}

TEST_F(DbQueryTest, ViewOverAnUngrantedTableIsRefused) {
  // Even with the view itself granted: the view reads secrets.
  DbQuery q(grant(true, {"users", "user_secrets"}));
  EXPECT_EQ(show(q.query("SELECT * FROM user_secrets")),
            "Denied: not authorized: table secrets (via user_secrets) is not in tool.grants.db.tables");
}

TEST_F(DbQueryTest, PragmasAboutUngrantedTablesAreRefused) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("PRAGMA table_info(secrets)")),
            "Denied: not authorized: PRAGMA table_info: table secrets is not in tool.grants.db.tables");
  EXPECT_EQ(q.query("SELECT * FROM pragma_table_info('secrets')").status, Status::Denied);
  EXPECT_EQ(show(q.query("PRAGMA table_list")), "Denied: not authorized: PRAGMA table_list");
  EXPECT_EQ(q.query("SELECT * FROM pragma_table_list").status, Status::Denied);
}

// ---------------------------------------------------------------------------------------------
// refused writes

TEST_F(DbQueryTest, WritesInReadOnlyAreRefused) {
  DbQuery q(grant(true));
  EXPECT_EQ(show(q.query("INSERT INTO users (name) VALUES ('eve')")),
            "Denied: not authorized: INSERT into users (tool.grants.db is read_only)");
  EXPECT_EQ(show(q.query("UPDATE users SET name = 'x'")),
            "Denied: not authorized: UPDATE of users (tool.grants.db is read_only)");
  EXPECT_EQ(show(q.query("DELETE FROM orders")),
            "Denied: not authorized: DELETE from orders (tool.grants.db is read_only)");
  EXPECT_EQ(show(q.query("CREATE TABLE t (a)")), "Denied: not authorized: schema change (tool.grants.db is read_only)");
  EXPECT_EQ(show(q.query("DROP TABLE users")), "Denied: not authorized: schema change (tool.grants.db is read_only)");
  EXPECT_EQ(show(q.query("ALTER TABLE users ADD COLUMN x")),
            "Denied: not authorized: ALTER TABLE (tool.grants.db is read_only)");
  EXPECT_EQ(show(q.query("CREATE TEMP TABLE t (a)")).rfind("Denied: not authorized: ", 0), 0u);
  EXPECT_EQ(show(q.query("BEGIN IMMEDIATE")), "Denied: not authorized: BEGIN (tool.grants.db is read_only)");
  EXPECT_EQ(show(q.query("SAVEPOINT s")), "Denied: not authorized: SAVEPOINT s (tool.grants.db is read_only)");
  EXPECT_EQ(q.query("REINDEX").status, Status::Denied);
  EXPECT_EQ(q.query("ANALYZE").status, Status::Denied);
  EXPECT_EQ(count("SELECT count(*) FROM users"), "3");
}

TEST_F(DbQueryTest, ReadWriteGrantWritesGrantedTables) {
  DbQuery q(grant(false, {"users", "orders"}));
  EXPECT_EQ(show(q.query("INSERT INTO users (name) VALUES (?) RETURNING id", json::array({"eve"}))),
            R"({"changes":1,"columns":["id"],"rows":[[4]],"truncated":false})");
  EXPECT_EQ(show(q.query("DELETE FROM users WHERE name = 'eve'")),
            R"({"changes":1,"columns":[],"rows":[],"truncated":false})");
  EXPECT_EQ(count("SELECT count(*) FROM users"), "3");
  EXPECT_EQ(show(q.query("UPDATE products SET name = 'x'")),
            "Denied: not authorized: table products is not in tool.grants.db.tables");
  // Schema changes need every table: a new table is outside the list by definition.
  EXPECT_EQ(show(q.query("CREATE TABLE users2 (a)")),
            "Denied: not authorized: schema change (schema changes need a grant without tool.grants.db.tables)");
  EXPECT_EQ(show(q.query("DROP TABLE orders")),
            "Denied: not authorized: schema change (schema changes need a grant without tool.grants.db.tables)");
}

TEST_F(DbQueryTest, TriggerSideEffectIsRefused) {
  DbQuery q(grant(false, {"users", "orders"}));
  EXPECT_EQ(show(q.query("INSERT INTO orders (user_id, total) VALUES (1, 5)")),
            "Denied: not authorized: table secrets (via leak) is not in tool.grants.db.tables");
  EXPECT_EQ(show(q.query("UPDATE users SET name = 'x' WHERE id = 1")),
            "Denied: not authorized: table audit (via note) is not in tool.grants.db.tables");
  EXPECT_EQ(count("SELECT count(*) FROM orders"), "3");
  EXPECT_EQ(count("SELECT count(*) FROM secrets"), "1");
  EXPECT_EQ(count("SELECT name FROM users WHERE id = 1"), "ada");
}

TEST_F(DbQueryTest, FullReadWriteGrantAllowsSchemaChanges) {
  DbQuery q(grant(false, {}));
  EXPECT_TRUE(q.query("CREATE TABLE notes (t TEXT)").ok());
  EXPECT_TRUE(q.query("INSERT INTO notes VALUES ('a')").ok());
  EXPECT_TRUE(q.query("BEGIN").ok());
  EXPECT_TRUE(q.query("INSERT INTO notes VALUES ('b')").ok());
  EXPECT_TRUE(q.query("ROLLBACK").ok());
  EXPECT_EQ(count("SELECT count(*) FROM notes"), "1");
  // The schema tables stay read-only even so (defensive mode).
  EXPECT_EQ(q.query("UPDATE sqlite_master SET sql = 'x'").status, Status::Failed);
  EXPECT_EQ(q.query("DELETE FROM sqlite_master").status, Status::Failed);
}

// ---------------------------------------------------------------------------------------------
// always refused

TEST_F(DbQueryTest, AttachIsRefused) {
  for (bool ro : {true, false}) {
    DbQuery q(grant(ro, {}));
    std::string other = dir / "other.sqlite";
    EXPECT_EQ(show(q.query("ATTACH '" + other + "' AS o")), "Denied: not authorized: ATTACH is never allowed");
    EXPECT_EQ(show(q.query("ATTACH ? AS o", json::array({other}))), "Denied: not authorized: ATTACH is never allowed");
    EXPECT_EQ(show(q.query("DETACH main")), "Denied: not authorized: DETACH is never allowed");
    EXPECT_NE(::access(other.c_str(), F_OK), 0);
  }
}

TEST_F(DbQueryTest, VacuumIntoIsRefused) {
  // VACUUM INTO writes a copy of the database anywhere: SQLite implements it with an ATTACH.
  DbQuery q(grant(false, {}));
  std::string copy = dir / "copy.sqlite";
  EXPECT_EQ(show(q.query("VACUUM INTO '" + copy + "'")), "Denied: not authorized: ATTACH is never allowed");
  EXPECT_NE(::access(copy.c_str(), F_OK), 0);
  DbQuery ro(grant(true, {}));
  EXPECT_EQ(ro.query("VACUUM INTO '" + copy + "'").status, Status::Denied);
  EXPECT_NE(::access(copy.c_str(), F_OK), 0);
}

TEST_F(DbQueryTest, LoadExtensionIsRefused) {
  DbQuery q(grant(false, {}));
  EXPECT_EQ(show(q.query("SELECT load_extension('/tmp/evil.so')")),
            "Denied: not authorized: function load_extension is never allowed");
  EXPECT_EQ(show(q.query("SELECT fts3_tokenizer('simple')")),
            "Denied: not authorized: function fts3_tokenizer is never allowed");
}

TEST_F(DbQueryTest, WritingPragmasAreRefused) {
  DbQuery q(grant(false, {}));
  EXPECT_EQ(show(q.query("PRAGMA writable_schema = ON")), "Denied: not authorized: PRAGMA writable_schema = ON");
  EXPECT_EQ(show(q.query("PRAGMA writable_schema")), "Denied: not authorized: PRAGMA writable_schema");
  EXPECT_EQ(show(q.query("PRAGMA query_only = 0")), "Denied: not authorized: PRAGMA query_only = 0");
  EXPECT_EQ(show(q.query("PRAGMA journal_mode = OFF")), "Denied: not authorized: PRAGMA journal_mode = OFF");
  EXPECT_EQ(show(q.query("PRAGMA user_version = 9")), "Denied: not authorized: PRAGMA user_version = 9");
  EXPECT_EQ(show(q.query("PRAGMA temp.table_info(users)")), "Denied: not authorized: PRAGMA temp.table_info");
  EXPECT_EQ(q.query("SELECT * FROM pragma_writable_schema").status, Status::Denied);
  EXPECT_EQ(count("PRAGMA user_version"), "0");
}

TEST_F(DbQueryTest, ReadOnlyHoldsWithoutTheAuthorizerToo) {
  // query_only survives a denied attempt to turn it off.
  DbQuery q(grant(true, {}));
  EXPECT_EQ(q.query("PRAGMA query_only = 0").status, Status::Denied);
  EXPECT_EQ(q.query("INSERT INTO users (name) VALUES ('x')").status, Status::Denied);
  EXPECT_EQ(count("SELECT count(*) FROM users"), "3");
}

// ---------------------------------------------------------------------------------------------
// one statement, params

TEST_F(DbQueryTest, OnlyOneStatement) {
  DbQuery q(grant(false, {"users"}));
  EXPECT_EQ(show(q.query("SELECT 1 FROM users; DELETE FROM users")),
            "Failed: only one SQL statement per call (there is more after the first)");
  EXPECT_EQ(show(q.query("SELECT 1; SELECT 2")),
            "Failed: only one SQL statement per call (there is more after the first)");
  EXPECT_EQ(count("SELECT count(*) FROM users"), "3");
  // Trailing blanks, semicolons and comments are not statements.
  EXPECT_TRUE(q.query("SELECT 1;").ok());
  EXPECT_TRUE(q.query("SELECT 1 ; ;\n -- done\n /* really */ ").ok());
  EXPECT_TRUE(q.query("SELECT 1; -- trailing").ok());
  EXPECT_EQ(show(q.query("  ")), "Failed: no SQL statement given");
  EXPECT_EQ(show(q.query("-- only a comment")), "Failed: no SQL statement given");
  EXPECT_EQ(show(q.query(std::string_view("SELECT 1\0; DELETE FROM users", 29))),
            "Failed: the SQL contains a NUL byte");
}

TEST_F(DbQueryTest, SyntaxErrorsAreOneLine) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELEC 1")), "Failed: near \"SELEC\": syntax error");
  EXPECT_EQ(show(q.query("SELECT nope FROM users")), "Failed: no such column: nope");
  EXPECT_EQ(show(q.query("SELECT * FROM missing")), "Failed: no such table: missing");
}

TEST_F(DbQueryTest, PositionalParams) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELECT name FROM users WHERE id = ? OR name = ?", json::array({1, "bob"}))),
            R"({"columns":["name"],"rows":[["ada"],["bob"]],"truncated":false})");
  EXPECT_EQ(show(q.query("SELECT ?, ?, ?, ?, ?", json::array({true, false, nullptr, 2.5, -7}))),
            R"({"columns":["?","?","?","?","?"],"rows":[[1,0,null,2.5,-7]],"truncated":false})");
  EXPECT_EQ(show(q.query("SELECT ?2, ?1", json::array({"a", "b"}))),
            R"({"columns":["?2","?1"],"rows":[["b","a"]],"truncated":false})");
  // Injection through a parameter is just a string.
  EXPECT_EQ(show(q.query("SELECT count(*) FROM users WHERE name = ?", json::array({"x' OR 1=1 --"}))),
            R"j({"columns":["count(*)"],"rows":[[0]],"truncated":false})j");
}

TEST_F(DbQueryTest, NamedParams) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELECT name FROM users WHERE id = :id OR name = @name OR email = $email",
                         json{{"id", 1}, {"name", "bob"}, {"email", "x"}})),
            R"({"columns":["name"],"rows":[["ada"],["bob"]],"truncated":false})");
  // A name used twice is one parameter.
  EXPECT_TRUE(q.query("SELECT :a + :a", json{{"a", 2}}).ok());
}

TEST_F(DbQueryTest, BadParams) {
  DbQuery q(grant());
  EXPECT_EQ(show(q.query("SELECT ?")), "Failed: the statement has 1 parameter(s) but no params were given");
  EXPECT_EQ(show(q.query("SELECT ?", json::array())), "Failed: the statement has 1 parameter(s) but 0 were given");
  EXPECT_EQ(show(q.query("SELECT 1", json::array({1}))), "Failed: the statement has 0 parameter(s) but 1 were given");
  EXPECT_EQ(show(q.query("SELECT ?", json::array({json::array({1})}))),
            "Failed: parameter 1: an array cannot be bound (pass JSON text instead)");
  EXPECT_EQ(show(q.query("SELECT ?", json::array({json::object()}))),
            "Failed: parameter 1: an object cannot be bound (pass JSON text instead)");
  EXPECT_EQ(show(q.query("SELECT ?", json::array({18446744073709551615ull}))),
            "Failed: parameter 1: integer 18446744073709551615 is out of SQLite's range");
  EXPECT_EQ(show(q.query("SELECT :a", json::object())), "Failed: parameter :a has no value in params");
  EXPECT_EQ(show(q.query("SELECT :a", json{{"a", 1}, {"b", 2}})),
            "Failed: params has \"b\", which the statement does not use");
  EXPECT_EQ(show(q.query("SELECT ?", json{{"a", 1}})), "Failed: parameter 1 is positional; pass params as an array");
  EXPECT_EQ(show(q.query("SELECT 1", json("x"))), "Failed: params must be an array, an object or null");
}

// ---------------------------------------------------------------------------------------------
// limits

TEST_F(DbQueryTest, MaxRowsCuts) {
  DbQuery q(grant(true, {"users"}, 2));
  EXPECT_EQ(show(q.query("SELECT id FROM users ORDER BY id")),
            R"({"columns":["id"],"rows":[[1],[2]],"truncated":true})");
  // Exactly max_rows rows is not a cut.
  EXPECT_EQ(show(q.query("SELECT id FROM users WHERE id < 3 ORDER BY id")),
            R"({"columns":["id"],"rows":[[1],[2]],"truncated":false})");
  // An endless generator is cut, not run forever.
  auto r = q.query("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n");
  EXPECT_EQ(show(r), R"({"columns":["x"],"rows":[[1],[2]],"truncated":true})");
}

TEST_F(DbQueryTest, ResultBytesAreCapped) {
  DbQueryOptions o;
  o.max_result_bytes = 1000;
  DbQuery q(grant(true, {}), o);
  auto r = q.query(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 100) "
      "SELECT printf('%.100c', 'x') FROM n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value["truncated"].get<bool>());
  EXPECT_LT(r.value["rows"].size(), 20u);
}

TEST_F(DbQueryTest, HugeValuesAreRefused) {
  DbQueryOptions o;
  o.max_value_bytes = 1 << 20;
  DbQuery q(grant(true, {}), o);
  EXPECT_EQ(show(q.query("SELECT zeroblob(1000000000)")), "Failed: string or blob too big");
  EXPECT_EQ(show(q.query("SELECT ?", json::array({std::string(2 << 20, 'x')}))),
            "Failed: parameter 1: string or blob too big");
}

TEST_F(DbQueryTest, RunawayQueryIsStoppedByTheTimeBudget) {
  DbQueryOptions o;
  o.time_budget = 200ms;
  DbQuery q(grant(true, {"users"}), o);
  auto start = std::chrono::steady_clock::now();
  auto r = q.query("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(show(r), "Failed: the query exceeded its time budget of 200ms");
  EXPECT_LT(took, 5s);
  // The next call gets a fresh budget.
  EXPECT_TRUE(q.query("SELECT count(*) FROM users").ok());
}

// ---------------------------------------------------------------------------------------------
// opening

TEST_F(DbQueryTest, OpeningFailuresAreCleanErrors) {
  DbGrant g = grant();
  g.path = dir / "missing.sqlite";
  EXPECT_EQ(error_of([&] { DbQuery q(g); }), "database " + g.path + " does not exist");
  EXPECT_NE(::access(g.path.c_str(), F_OK), 0);  // and it was not created

  g.path = dir.write("garbage.sqlite", std::string(4096, 'g'), 0600);
  EXPECT_EQ(error_of([&] { DbQuery q(g); }), "database " + g.path + ": file is not a database");

  g.path = dir / "link.sqlite";
  ASSERT_EQ(::symlink(path.c_str(), g.path.c_str()), 0);
  EXPECT_EQ(error_of([&] { DbQuery q(g); }), "database " + g.path + " is a symlink; refusing to follow it");

  g.path = dir.path();
  EXPECT_EQ(error_of([&] { DbQuery q(g); }), "database " + g.path + " is not a regular file");

  g.path = "relative.sqlite";
  EXPECT_EQ(error_of([&] { DbQuery q(g); }), "database path \"relative.sqlite\" is not absolute");
}

TEST_F(DbQueryTest, ReadOnlyWorksOnAReadOnlyFile) {
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  DbQuery q(grant());
  EXPECT_TRUE(q.query("SELECT * FROM users").ok());
}

}  // namespace
}  // namespace paddock
