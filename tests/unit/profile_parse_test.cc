// parse_profile_text: one profile file, no extends resolution. Every error must carry the
// exact file:line:column of the value (or key) at fault.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/policy.h"
#include "policy/profile_loader.h"
#include "test_util.h"

namespace paddock {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::test_vars;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Extends = std::vector<std::pair<std::string, Origin>>;

Policy parse(const std::string& text, Extends* extends = nullptr, const Variables& vars = test_vars()) {
  return parse_profile_text(text, "p.toml", vars, extends, /*check_scripts=*/false);
}

std::string parse_error(const std::string& text, const Variables& vars = test_vars()) {
  return error_of([&] {
    Extends ext;
    (void)parse_profile_text(text, "p.toml", vars, &ext, /*check_scripts=*/false);
  });
}

// Parse, then run the final pass as the loader does for a single profile.
std::string finalize_error(const std::string& text) {
  return error_of([&] {
    Policy p;
    merge_layer(p, parse(text));
    finalize_policy(p);
  });
}

std::vector<std::string> paths_of(const std::vector<PathGrant>& v) {
  std::vector<std::string> out;
  for (const auto& g : v) out.push_back(g.path);
  return out;
}

const std::string kKnownTop =
    "(expected version, description, extends, filesystem, network, env, secrets, limits, syscalls, sandbox or tool)";
const std::string kKnownVars =
    " (known: HOME, CWD, USER, PROFILE_DIR, XDG_CONFIG_HOME, XDG_STATE_HOME, TMPDIR, SSH_AUTH_SOCK, XDG_RUNTIME_DIR)";

// ---------------------------------------------------------------------------------------------
// Valid profiles

TEST(ProfileParse, EmptyProfileIsEmptyPolicy) {
  Policy p = parse("");
  EXPECT_TRUE(p.description.empty());
  EXPECT_TRUE(p.read.empty());
  EXPECT_TRUE(p.write.empty());
  EXPECT_TRUE(p.deny.empty());
  EXPECT_TRUE(p.tools.empty());
  EXPECT_EQ(p.net_mode.value, NetMode::None);
  EXPECT_FALSE(p.net_mode.origin.known());  // not set by this layer
  EXPECT_FALSE(p.limits.memory.has_value());
}

TEST(ProfileParse, FullFixture) {
  const std::string dir = test::test_data_dir();
  ASSERT_FALSE(dir.empty()) << "PADDOCK_TEST_DATA is not set";
  const std::string file = dir + "/full.toml";
  Extends ext;
  Variables vars = test_vars();
  Policy p = parse_profile_text(test::read_file(file), file, vars, &ext, /*check_scripts=*/false);

  EXPECT_EQ(p.description, "Every key of profile format version 1");
  ASSERT_EQ(ext.size(), 1u);
  EXPECT_EQ(ext[0].first, "base");
  EXPECT_EQ(ext[0].second, (Origin{file, 3, 12}));

  EXPECT_THAT(paths_of(p.read),
              ElementsAre("/usr", "/etc/ssl/certs", "/work/project", "/home/tester/src/lib", dir + "/shared"));
  EXPECT_EQ(p.read[0].origin, (Origin{file, 6, 10}));
  EXPECT_EQ(p.read[1].origin, (Origin{file, 6, 18}));
  EXPECT_THAT(paths_of(p.write), ElementsAre("/work/project/out", "/var/tmp/agent"));
  EXPECT_THAT(paths_of(p.deny), ElementsAre("/home/tester/.ssh", "/work/project/.env", "/run/user/1000/gnupg"));
  EXPECT_THAT(paths_of(p.tmpfs), ElementsAre("/tmp"));

  EXPECT_EQ(p.net_mode.value, NetMode::Proxy);
  EXPECT_EQ(p.net_mode.origin, (Origin{file, 12, 9}));
  ASSERT_EQ(p.net_allow.size(), 4u);
  EXPECT_EQ(p.net_allow[0].pattern.str(), "api.anthropic.com:443");
  EXPECT_EQ(p.net_allow[1].pattern.str(), "*.pythonhosted.org:443");
  EXPECT_EQ(p.net_allow[2].pattern.str(), "pypi.org");
  EXPECT_EQ(p.net_allow[3].pattern.str(), "[2001:db8::/32]:443");
  EXPECT_EQ(p.net_allow[1].origin, (Origin{file, 13, 35}));
  ASSERT_EQ(p.net_deny.size(), 1u);
  EXPECT_EQ(p.net_deny[0].pattern.str(), "10.0.0.0/8");

  ASSERT_EQ(p.env_pass.size(), 4u);
  EXPECT_EQ(p.env_pass[3].name, "LC_*");
  // Keys keep the order they have in the file (toml++ itself hands them over sorted).
  ASSERT_EQ(p.env_set.size(), 2u);
  EXPECT_EQ(p.env_set[0].name, "PYTHONUNBUFFERED");
  EXPECT_EQ(p.env_set[0].value, "1");
  EXPECT_EQ(p.env_set[0].origin, (Origin{file, 18, 10}));
  EXPECT_EQ(p.env_set[1].name, "GREETING");
  EXPECT_EQ(p.env_set[1].value, "hello \"world\"\n");

  ASSERT_EQ(p.secrets.size(), 2u);
  EXPECT_EQ(p.secrets[0].name, "GITHUB_TOKEN");
  EXPECT_EQ(p.secrets[0].source, Secret::Source::Env);
  EXPECT_EQ(p.secrets[0].from, "GH_TOKEN");
  EXPECT_EQ(p.secrets[0].expose, Secret::Expose::Env);
  EXPECT_EQ(p.secrets[1].name, "MAIL_TOKEN");
  EXPECT_EQ(p.secrets[1].source, Secret::Source::File);
  EXPECT_EQ(p.secrets[1].from, "/home/tester/.config/mail/token");
  EXPECT_EQ(p.secrets[1].expose, Secret::Expose::File);

  ASSERT_TRUE(p.limits.memory && p.limits.pids && p.limits.cpu && p.limits.wall && p.limits.cpu_time &&
              p.limits.nofile && p.limits.max_denials);
  EXPECT_EQ(p.limits.memory->value, 2ull << 30);
  EXPECT_EQ(p.limits.pids->value, 512u);
  EXPECT_DOUBLE_EQ(p.limits.cpu->value, 1.5);
  EXPECT_EQ(p.limits.wall->value, 30min);
  EXPECT_EQ(p.limits.cpu_time->value, 1h + 30min);
  EXPECT_EQ(p.limits.nofile->value, 1024u);
  EXPECT_EQ(p.limits.max_denials->value, 50u);

  ASSERT_EQ(p.syscalls_deny.size(), 2u);
  EXPECT_EQ(p.syscalls_deny[0].name, "personality");
  EXPECT_EQ(p.syscalls_deny[1].name, "acct");
  ASSERT_EQ(p.syscalls_allow.size(), 1u);
  EXPECT_EQ(p.syscalls_allow[0].name, "ptrace");
  EXPECT_TRUE(p.allows_best_effort("cgroup"));
  EXPECT_FALSE(p.allows_best_effort("landlock"));

  ASSERT_EQ(p.tools.size(), 2u);
  const ToolDecl* t = p.find_tool("send_email");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->script, dir + "/tools/send_email.js");
  EXPECT_EQ(t->description, "Send an email");
  ASSERT_EQ(t->net.size(), 1u);
  EXPECT_EQ(t->net[0].pattern.str(), "smtp-api.example.com:443");
  EXPECT_THAT(t->secrets, ElementsAre("MAIL_TOKEN"));
  ASSERT_TRUE(t->rate_limit.has_value());
  EXPECT_EQ(*t->rate_limit, (Rate{10, std::chrono::seconds(3600)}));
  EXPECT_TRUE(t->requires_approval);
  EXPECT_TRUE(t->audit_full);
  EXPECT_EQ(t->timeout, std::optional<std::chrono::milliseconds>(5s));
  EXPECT_EQ(t->memory, std::optional<std::uint64_t>(64ull << 20));
  EXPECT_EQ(t->max_output, std::optional<std::uint64_t>(1ull << 20));
  EXPECT_FALSE(t->db.has_value());

  const ToolDecl* q = p.find_tool("query-db");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->script, dir + "/tools/query.js");
  EXPECT_FALSE(q->requires_approval);
  EXPECT_FALSE(q->audit_full);
  EXPECT_TRUE(q->wasm);
  EXPECT_THAT(paths_of(q->read), ElementsAre("/work/project/data"));
  EXPECT_THAT(paths_of(q->write), ElementsAre("/work/project/data/out"));
  ASSERT_TRUE(q->db.has_value());
  EXPECT_EQ(q->db->path, dir + "/app.sqlite");
  EXPECT_FALSE(q->db->read_only);
  EXPECT_THAT(q->db->tables, ElementsAre("users", "orders"));
  EXPECT_EQ(q->db->max_rows, std::optional<std::uint64_t>(100));
  EXPECT_EQ(p.find_tool("nope"), nullptr);

  // The whole fixture also survives the final pass.
  Policy merged;
  merge_layer(merged, p);
  EXPECT_NO_THROW(finalize_policy(merged));
}

TEST(ProfileParse, ExtendsWithOrigins) {
  Extends ext;
  (void)parse("extends = [\"base\", \"../x.toml\"]\n", &ext);
  ASSERT_EQ(ext.size(), 2u);
  EXPECT_EQ(ext[0].first, "base");
  EXPECT_EQ(ext[0].second, (Origin{"p.toml", 1, 12}));
  EXPECT_EQ(ext[1].first, "../x.toml");
  EXPECT_EQ(ext[1].second, (Origin{"p.toml", 1, 20}));
  EXPECT_EQ(parse_error("extends = [\"\"]\n"), "p.toml:1:12: extends entries must not be empty");
}

TEST(ProfileParse, ExtendsIgnoredWithoutSink) {
  Policy p = parse("extends = [\"base\"]\ndescription = \"d\"\n", nullptr);
  EXPECT_EQ(p.description, "d");
}

TEST(ProfileParse, GrantOriginsAndVariables) {
  Policy p = parse(
      "[filesystem]\n"
      "read = [\"~\", \"~/src\", \"${XDG_CONFIG_HOME}/app\", \"/usr//lib/../lib64/\"]\n"
      "write = [\"${TMPDIR}/${USER}\", \"${XDG_STATE_HOME}\"]\n");
  EXPECT_THAT(paths_of(p.read),
              ElementsAre("/home/tester", "/home/tester/src", "/home/tester/.config/app", "/usr/lib64"));
  EXPECT_THAT(paths_of(p.write), ElementsAre("/var/tmp/tester", "/home/tester/.local/state"));
  EXPECT_EQ(p.read[0].origin, (Origin{"p.toml", 2, 9}));
  EXPECT_EQ(p.read[1].origin, (Origin{"p.toml", 2, 14}));
  EXPECT_EQ(p.write[1].origin, (Origin{"p.toml", 3, 31}));
}

TEST(ProfileParse, ProfileDirIsTheFilesFolder) {
  Variables vars = test_vars();
  Policy p = parse_profile_text(
      "[filesystem]\nread = [\"${PROFILE_DIR}/data\"]\n"
      "[[tool]]\nname = \"a\"\nscript = \"tools/a.js\"\ngrants = { db = { path = \"db/x.sqlite\" } }\n"
      "[[tool]]\nname = \"b\"\nscript = \"../shared/./b.js\"\n"
      "[[tool]]\nname = \"c\"\nscript = \"/opt/tools/c.js\"\n",
      "/etc/paddock/profiles/ops.toml", vars, nullptr, /*check_scripts=*/false);
  EXPECT_THAT(paths_of(p.read), ElementsAre("/etc/paddock/profiles/data"));
  ASSERT_EQ(p.tools.size(), 3u);
  EXPECT_EQ(p.tools[0].script, "/etc/paddock/profiles/tools/a.js");
  ASSERT_TRUE(p.tools[0].db.has_value());
  EXPECT_EQ(p.tools[0].db->path, "/etc/paddock/profiles/db/x.sqlite");
  EXPECT_TRUE(p.tools[0].db->read_only);  // the default
  EXPECT_EQ(p.tools[1].script, "/etc/paddock/shared/b.js");
  EXPECT_EQ(p.tools[2].script, "/opt/tools/c.js");

  // A profile named by a relative file name lives in the working directory.
  Policy q = parse("[filesystem]\nread = [\"${PROFILE_DIR}\"]\n");
  EXPECT_THAT(paths_of(q.read), ElementsAre("/work/project"));
  Policy r = parse_profile_text("[filesystem]\nread = [\"${PROFILE_DIR}\"]\n", "sub/dir/r.toml", vars, nullptr, false);
  EXPECT_THAT(paths_of(r.read), ElementsAre("/work/project/sub/dir"));
}

TEST(ProfileParse, NetworkModes) {
  EXPECT_EQ(parse("[network]\nmode = \"none\"\n").net_mode.value, NetMode::None);
  EXPECT_EQ(parse("[network]\nmode = \"proxy\"\n").net_mode.value, NetMode::Proxy);
  Policy h = parse("[network]\nmode = \"host\"\n");
  EXPECT_EQ(h.net_mode.value, NetMode::Host);
  EXPECT_EQ(h.net_mode.origin, (Origin{"p.toml", 2, 8}));
  EXPECT_STREQ(to_string(NetMode::Proxy), "proxy");
}

TEST(ProfileParse, SizesAsIntegersOrStrings) {
  EXPECT_EQ(parse("[limits]\nmemory = 8388608\n").limits.memory->value, 8u << 20);
  EXPECT_EQ(parse("[limits]\nmemory = \"8M\"\n").limits.memory->value, 8u << 20);
  EXPECT_DOUBLE_EQ(parse("[limits]\ncpu = 2\n").limits.cpu->value, 2.0);
  EXPECT_EQ(parse("[limits]\nwall = \"1h30m\"\n").limits.wall->value, 90min);
  Policy p = parse("[limits]\npids = 64\n");
  EXPECT_EQ(p.limits.pids->origin, (Origin{"p.toml", 2, 8}));
}

TEST(ProfileParse, DenyDropsUnsetHostVariables) {
  Policy p = parse("[filesystem]\ndeny = [\"${SSH_AUTH_SOCK}\", \"/x\", \"${XDG_RUNTIME_DIR}/keyring\"]\n");
  EXPECT_THAT(paths_of(p.deny), ElementsAre("/x", "/run/user/1000/keyring"));
  EXPECT_EQ(p.deny[0].origin, (Origin{"p.toml", 2, 29}));

  Variables with_sock = test_vars();
  with_sock.ssh_auth_sock = "/run/user/1000/agent.sock";
  with_sock.xdg_runtime_dir.reset();
  Policy q = parse("[filesystem]\ndeny = [\"${SSH_AUTH_SOCK}\", \"/x\", \"${XDG_RUNTIME_DIR}/keyring\"]\n", nullptr,
                   with_sock);
  EXPECT_THAT(paths_of(q.deny), ElementsAre("/run/user/1000/agent.sock", "/x"));
}

TEST(ProfileParse, UnsetHostVariableOutsideDenyIsAnError) {
  EXPECT_EQ(parse_error("[filesystem]\nread = [\"${SSH_AUTH_SOCK}\"]\n"),
            "p.toml:2:9: filesystem.read: ${SSH_AUTH_SOCK} is not set in paddock's environment");
  // Other errors in a deny entry are still errors.
  EXPECT_EQ(parse_error("[filesystem]\ndeny = [\"${NOPE}\"]\n"),
            "p.toml:2:9: filesystem.deny: unknown variable ${NOPE}" + kKnownVars);
}

// ---------------------------------------------------------------------------------------------
// Unknown keys

TEST(ProfileErrors, UnknownTopLevelKey) {
  EXPECT_EQ(parse_error("version = 1\ndescripton = \"x\"\n"),
            "p.toml:2:1: unknown key \"descripton\" at the top level (did you mean \"description\"?)");
  EXPECT_EQ(parse_error("extend = [\"base\"]\n"),
            "p.toml:1:1: unknown key \"extend\" at the top level (did you mean \"extends\"?)");
  EXPECT_EQ(parse_error("\n\n   zzzz = 1\n"), "p.toml:3:4: unknown key \"zzzz\" at the top level " + kKnownTop);
}

TEST(ProfileErrors, UnknownKeyInFilesystem) {
  EXPECT_EQ(parse_error("[filesystem]\nread = []\nwrit = []\n"),
            "p.toml:3:1: unknown key \"writ\" in [filesystem] (did you mean \"write\"?)");
  EXPECT_EQ(parse_error("[filesystem]\nreadonly = []\n"),
            "p.toml:2:1: unknown key \"readonly\" in [filesystem] (expected read, write, deny or tmpfs)");
}

TEST(ProfileErrors, UnknownKeyInLimits) {
  EXPECT_EQ(parse_error("[limits]\nmemory = \"1G\"\n  memroy = \"2G\"\n"),
            "p.toml:3:3: unknown key \"memroy\" in [limits] (did you mean \"memory\"?)");
  EXPECT_EQ(parse_error("[limits]\nswap = \"1G\"\n"),
            "p.toml:2:1: unknown key \"swap\" in [limits] (expected memory, pids, cpu, wall, cpu_time, nofile, "
            "max_denials, max_tool_calls, tool_loop or on_exceed)");
}

TEST(ProfileErrors, UnknownKeyInTool) {
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\ntimout = \"5s\"\n"),
            "p.toml:4:1: unknown key \"timout\" in [tool] (did you mean \"timeout\"?)");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\ngrants = { nett = [] }\n"),
            "p.toml:4:12: unknown key \"nett\" in [tool.grants] (did you mean \"net\"?)");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\ngrants = { db = { path = \"x\", tabels = [] } }\n"),
            "p.toml:4:31: unknown key \"tabels\" in [tool.grants.db] (did you mean \"tables\"?)");
}

TEST(ProfileErrors, UnknownKeyInOtherTables) {
  EXPECT_EQ(parse_error("[network]\nallowed = []\n"),
            "p.toml:2:1: unknown key \"allowed\" in [network] (did you mean \"allow\"?)");
  EXPECT_EQ(parse_error("[env]\npas = []\n"), "p.toml:2:1: unknown key \"pas\" in [env] (did you mean \"pass\"?)");
  EXPECT_EQ(parse_error("[syscalls]\ndenny = []\n"),
            "p.toml:2:1: unknown key \"denny\" in [syscalls] (did you mean \"deny\"?)");
  EXPECT_EQ(parse_error("[sandbox]\nbest-effort = []\n"),
            "p.toml:2:1: unknown key \"best-effort\" in [sandbox] (did you mean \"best_effort\"?)");
  EXPECT_EQ(parse_error("[secrets.TOKEN]\nfrom_env = \"T\"\nexposed = \"env\"\n"),
            "p.toml:3:1: unknown key \"exposed\" in [secrets.TOKEN] (did you mean \"expose\"?)");
}

// ---------------------------------------------------------------------------------------------
// Wrong types

TEST(ProfileErrors, StringWhereArrayExpected) {
  EXPECT_EQ(parse_error("[filesystem]\nread = \"/usr\"\n"),
            "p.toml:2:8: filesystem.read must be an array of strings, not a string");
  EXPECT_EQ(parse_error("extends = \"base\"\n"), "p.toml:1:11: extends must be an array of strings, not a string");
  EXPECT_EQ(parse_error("[network]\nallow = \"pypi.org\"\n"),
            "p.toml:2:9: network.allow must be an array of strings, not a string");
  EXPECT_EQ(parse_error("[env]\npass = { PATH = true }\n"),
            "p.toml:2:8: env.pass must be an array of strings, not a table");
}

TEST(ProfileErrors, IntegerWhereStringExpected) {
  EXPECT_EQ(parse_error("description = 5\n"), "p.toml:1:15: description must be a string, not an integer");
  EXPECT_EQ(parse_error("[network]\nmode = 1\n"), "p.toml:2:8: network.mode must be a string, not an integer");
  EXPECT_EQ(parse_error("[limits]\nwall = 30\n"), "p.toml:2:8: limits.wall must be a string, not an integer");
  EXPECT_EQ(parse_error("[env]\nset = { A = 1 }\n"), "p.toml:2:13: env.set.A must be a string, not an integer");
  EXPECT_EQ(parse_error("[[tool]]\nname = 5\n"), "p.toml:2:8: tool.name must be a string, not an integer");
}

TEST(ProfileErrors, ArrayElementNotAString) {
  EXPECT_EQ(parse_error("[filesystem]\nread = [\"/usr\", 5]\n"),
            "p.toml:2:17: filesystem.read must contain only strings, found an integer");
  EXPECT_EQ(parse_error("[syscalls]\ndeny = [[\"ptrace\"]]\n"),
            "p.toml:2:9: syscalls.deny must contain only strings, found an array");
  EXPECT_EQ(parse_error("[network]\nallow = [{ host = \"x\" }]\n"),
            "p.toml:2:10: network.allow must contain only strings, found a table");
  EXPECT_EQ(parse_error("[env]\npass = [true]\n"), "p.toml:2:9: env.pass must contain only strings, found a boolean");
}

TEST(ProfileErrors, OtherWrongTypes) {
  EXPECT_EQ(parse_error("filesystem = [\"/usr\"]\n"), "p.toml:1:14: filesystem must be a table, not an array");
  EXPECT_EQ(parse_error("[network]\nmode = true\n"), "p.toml:2:8: network.mode must be a string, not a boolean");
  EXPECT_EQ(parse_error("[limits]\npids = \"512\"\n"), "p.toml:2:8: limits.pids must be an integer, not a string");
  EXPECT_EQ(parse_error("[limits]\npids = 1.0\n"), "p.toml:2:8: limits.pids must be an integer, not a float");
  EXPECT_EQ(parse_error("[limits]\ncpu = \"2\"\n"), "p.toml:2:7: limits.cpu must be a number of cores, not a string");
  EXPECT_EQ(parse_error("[limits]\nmemory = 1.5\n"),
            "p.toml:2:10: limits.memory must be a size such as \"512M\" or a byte count, not a float");
  EXPECT_EQ(parse_error("[env]\nset = [\"A=1\"]\n"), "p.toml:2:7: env.set must be a table, not an array");
  EXPECT_EQ(parse_error("[secrets]\nTOKEN = \"x\"\n"), "p.toml:2:9: secrets.TOKEN must be a table, not a string");
  EXPECT_EQ(parse_error("tool = 5\n"), "p.toml:1:8: tool must be an array of tables ([[tool]])");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\ngrants = { wasm = \"yes\" }\n"),
            "p.toml:4:19: tool t: grants.wasm must be true or false, not a string");
  EXPECT_EQ(parse_error("[limits]\nwall = 1970-01-01\n"), "p.toml:2:8: limits.wall must be a string, not a date/time");
}

TEST(ProfileErrors, Version) {
  EXPECT_NO_THROW(parse("version = 1\n"));
  EXPECT_EQ(parse_error("version = 2\n"), "p.toml:1:11: unsupported profile version (this paddock reads version = 1)");
  EXPECT_EQ(parse_error("version = \"1\"\n"),
            "p.toml:1:11: unsupported profile version (this paddock reads version = 1)");
}

// ---------------------------------------------------------------------------------------------
// Bad values

TEST(ProfileErrors, BadSize) {
  EXPECT_EQ(parse_error("[limits]\nmemory = \"2X\"\n"),
            "p.toml:2:10: limits.memory: invalid size unit in \"2X\" (use K, M, G or T)");
  EXPECT_EQ(parse_error("[limits]\nmemory = \"1M\"\n"), "p.toml:2:10: limits.memory must be at least 4M");
  EXPECT_EQ(parse_error("[limits]\nmemory = \"0\"\n"), "p.toml:2:10: limits.memory must be greater than 0");
  EXPECT_EQ(parse_error("[limits]\nmemory = 0\n"), "p.toml:2:10: limits.memory must be at least 1");
  EXPECT_EQ(parse_error("[limits]\nmemory = -5\n"), "p.toml:2:10: limits.memory must be at least 1");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\nmemory = \"512K\"\n"),
            "p.toml:4:10: tool t: memory must be at least 1M");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\nmax_output = \"1.5\"\n"),
            "p.toml:4:14: tool t: max_output: invalid size \"1.5\" (a byte count must be a whole number)");
}

TEST(ProfileErrors, BadDuration) {
  EXPECT_EQ(parse_error("[limits]\nwall = \"30\"\n"),
            "p.toml:2:8: limits.wall: duration \"30\" needs a unit (ms, s, m, h or d)");
  EXPECT_EQ(parse_error("[limits]\nwall = \"0s\"\n"), "p.toml:2:8: limits.wall must be greater than 0");
  EXPECT_EQ(parse_error("[limits]\ncpu_time = \"-1s\"\n"),
            "p.toml:2:12: limits.cpu_time: invalid duration \"-1s\" (expected e.g. \"500ms\", \"30s\", \"5m\", \"2h\", "
            "\"1h30m\")");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\ntimeout = \"5 s\"\n"),
            "p.toml:4:11: tool t: timeout: duration \"5 s\" needs a unit (ms, s, m, h or d)");
}

TEST(ProfileErrors, BadRate) {
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\nrate_limit = \"0/hour\"\n"),
            "p.toml:4:14: tool t: rate_limit: rate \"0/hour\" allows nothing (the count must be at least 1)");
  EXPECT_EQ(
      parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\nrate_limit = \"10/week\"\n"),
      "p.toml:4:14: tool t: rate_limit: invalid rate period \"week\" in \"10/week\" (use second, minute, hour or day)");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\nrate_limit = 10\n"),
            "p.toml:4:14: tool t: rate_limit must be a string, not an integer");
}

TEST(ProfileErrors, BadHostPattern) {
  EXPECT_EQ(parse_error("[network]\nmode = \"proxy\"\nallow = [\"pypi.org\", \"https://example.com\"]\n"),
            "p.toml:3:22: network.allow: \"https://example.com\" is a URL; write a host, host:port or CIDR "
            "(e.g. \"example.com:443\")");
  EXPECT_EQ(parse_error("[network]\ndeny = [\"10.0.0.1/8\"]\n"),
            "p.toml:2:9: network.deny: CIDR \"10.0.0.1/8\" has host bits set (did you mean the network address?)");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\ngrants = { net = [\"a.*.com:443\"] }\n"),
            "p.toml:4:19: tool t: grants.net: invalid host \"a.*.com:443\" (a wildcard must be the whole first label, "
            "as in \"*.example.com\")");
  EXPECT_EQ(parse_error("[network]\nallow = [\"example.com:0\"]\n"),
            "p.toml:2:10: network.allow: port 0 in \"example.com:0\" is out of range (1-65535)");
}

TEST(ProfileErrors, RelativePath) {
  EXPECT_EQ(parse_error("[filesystem]\nread = [\"/usr\", \"usr/lib\"]\n"),
            "p.toml:2:17: filesystem.read: \"usr/lib\" is a relative path; use an absolute path or ${CWD}/usr/lib");
  EXPECT_EQ(parse_error("[filesystem]\nwrite = [\"./out\"]\n"),
            "p.toml:2:10: filesystem.write: \"./out\" is a relative path; use an absolute path or ${CWD}/./out");
  EXPECT_EQ(
      parse_error("[filesystem]\ndeny = [\"~other/.ssh\"]\n"),
      "p.toml:2:9: filesystem.deny: \"~other/.ssh\" is a relative path; use an absolute path or ${CWD}/~other/.ssh");
  EXPECT_EQ(
      parse_error("[filesystem]\ntmpfs = [\"$HOME/tmp\"]\n"),
      "p.toml:2:10: filesystem.tmpfs: \"$HOME/tmp\" is a relative path; use an absolute path or ${CWD}/$HOME/tmp");
  EXPECT_EQ(parse_error("[filesystem]\nread = [\"\"]\n"), "p.toml:2:9: filesystem.read: empty path");
  EXPECT_EQ(parse_error("[secrets.T]\nfrom_file = \"token.txt\"\n"),
            "p.toml:2:13: secrets.T.from_file: \"token.txt\" is a relative path; use an absolute path or "
            "${CWD}/token.txt");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"t.js\"\ngrants = { read = [\"data\"] }\n"),
            "p.toml:4:20: tool t: grants.read: \"data\" is a relative path; use an absolute path or ${CWD}/data");
}

TEST(ProfileErrors, NulInPath) {
  EXPECT_EQ(parse_error("[filesystem]\nread = [\"/usr\\u0000/x\"]\n"),
            "p.toml:2:9: filesystem.read: path contains a NUL byte");
  EXPECT_EQ(parse_error("[env]\nset = { A = \"x\\u0000y\" }\n"), "p.toml:2:13: env.set.A contains a NUL byte");
}

TEST(ProfileErrors, TmpfsRoot) {
  EXPECT_EQ(parse_error("[filesystem]\ntmpfs = [\"/tmp\", \"/usr/..\"]\n"),
            "p.toml:2:18: filesystem.tmpfs: \"/\" cannot be a tmpfs (the root is always fresh)");
}

TEST(ProfileErrors, UnknownVariable) {
  EXPECT_EQ(parse_error("[filesystem]\nwrite = [\"${HOEM}/x\"]\n"),
            "p.toml:2:10: filesystem.write: unknown variable ${HOEM}" + kKnownVars);
  EXPECT_EQ(parse_error("[filesystem]\nwrite = [\"${HOME/x\"]\n"),
            "p.toml:2:10: filesystem.write: unterminated \"${\" in \"${HOME/x\"");
}

TEST(ProfileErrors, TomlSyntax) {
  EXPECT_THAT(parse_error("[filesystem\nread = []\n"), StartsWith("p.toml:1:12: "));
  // The description is toml++'s; the position is what paddock promises.
  EXPECT_THAT(parse_error("description = \"x\"\ndescription = \"y\"\n"), StartsWith("p.toml:2:15: "));
  EXPECT_THAT(parse_error("[limits]\nmemory = \"4G\n"), StartsWith("p.toml:2:13: "));
  EXPECT_THAT(parse_error("[filesystem]\nread = [\"/usr\",\n"), StartsWith("p.toml:2:17: "));
  EXPECT_THAT(parse_error("\n\nx = 1 2\n"), StartsWith("p.toml:3:7: "));
  EXPECT_THAT(parse_error("a = \xff\n"), StartsWith("p.toml:1:"));
  EXPECT_THAT(parse_error("a = \xff\n"), HasSubstr("utf-8"));
  // Exactly one line, like every paddock error.
  EXPECT_EQ(parse_error("[filesystem\n").find('\n'), std::string::npos);
}

TEST(ProfileErrors, UnknownNetworkMode) {
  EXPECT_EQ(parse_error("[network]\nmode = \"open\"\n"),
            "p.toml:2:8: network.mode must be \"none\", \"proxy\" or \"host\", not \"open\"");
  EXPECT_EQ(parse_error("[network]\nmode = \"Proxy\"\n"),
            "p.toml:2:8: network.mode must be \"none\", \"proxy\" or \"host\", not \"Proxy\"");
}

TEST(ProfileErrors, SecretSources) {
  EXPECT_EQ(parse_error("[secrets.TOKEN]\nfrom_env = \"T\"\nfrom_file = \"/run/t\"\n"),
            "p.toml:1:10: secret TOKEN needs exactly one of from_env or from_file");
  EXPECT_EQ(parse_error("[secrets.TOKEN]\nexpose = \"env\"\n"),
            "p.toml:1:10: secret TOKEN needs exactly one of from_env or from_file");
  EXPECT_EQ(parse_error("[secrets]\nA = { from_env = \"A\" }\nTOKEN = {}\n"),
            "p.toml:3:1: secret TOKEN needs exactly one of from_env or from_file");
  EXPECT_EQ(parse_error("[secrets.TOKEN]\nfrom_env = \"T\"\nexpose = \"stdin\"\n"),
            "p.toml:3:10: secrets.TOKEN.expose must be \"env\" or \"file\", not \"stdin\"");
  EXPECT_EQ(parse_error("[secrets.TOKEN]\nfrom_env = \"MY-TOKEN\"\n"),
            "p.toml:2:12: secrets.TOKEN.from_env: \"MY-TOKEN\" is not a variable name");
  EXPECT_EQ(parse_error("[secrets.\"BAD-NAME\"]\nfrom_env = \"T\"\n"),
            "p.toml:1:10: secret name \"BAD-NAME\" must be letters, digits and '_'");
  Policy p = parse("[secrets.TOKEN]\nfrom_file = \"~/.token\"\n");
  ASSERT_EQ(p.secrets.size(), 1u);
  EXPECT_EQ(p.secrets[0].from, "/home/tester/.token");
  EXPECT_EQ(p.secrets[0].expose, Secret::Expose::Env);  // the default
  EXPECT_EQ(p.secrets[0].origin, (Origin{"p.toml", 1, 10}));
}

TEST(ProfileErrors, UnknownSyscall) {
  EXPECT_EQ(parse_error("[syscalls]\ndeny = [\"personality\", \"no_such_call\"]\n"),
            "p.toml:2:24: syscalls.deny: unknown system call \"no_such_call\"");
  EXPECT_EQ(parse_error("[syscalls]\nallow = [\"PTRACE\"]\n"),
            "p.toml:2:10: syscalls.allow: unknown system call \"PTRACE\"");
}

TEST(ProfileErrors, BestEffortLayer) {
  EXPECT_EQ(parse_error("[sandbox]\nbest_effort = [\"seccomp\"]\n"),
            "p.toml:2:16: sandbox.best_effort: unknown layer \"seccomp\" (expected namespaces, landlock, cgroup or "
            "seccomp-notify)");
  EXPECT_TRUE(
      parse("[sandbox]\nbest_effort = [\"landlock\", \"seccomp-notify\"]\n").allows_best_effort("seccomp-notify"));
}

TEST(ProfileErrors, EnvNames) {
  EXPECT_EQ(parse_error("[env]\npass = [\"1BAD\"]\n"),
            "p.toml:2:9: env.pass: \"1BAD\" is not a variable name (letters, digits, '_', optionally ending in '*')");
  EXPECT_EQ(parse_error("[env]\npass = [\"*\"]\n"),
            "p.toml:2:9: env.pass: \"*\" is not a variable name (letters, digits, '_', optionally ending in '*')");
  EXPECT_EQ(parse_error("[env]\npass = [\"A*B\"]\n"),
            "p.toml:2:9: env.pass: \"A*B\" is not a variable name (letters, digits, '_', optionally ending in '*')");
  EXPECT_EQ(parse_error("[env]\nset = { \"A-B\" = \"x\" }\n"), "p.toml:2:9: env.set: \"A-B\" is not a variable name");
  EXPECT_EQ(parse_error("[env]\nset = { \"LC_*\" = \"x\" }\n"), "p.toml:2:9: env.set: \"LC_*\" is not a variable name");
}

TEST(ProfileErrors, ToolDeclarations) {
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"a.js\"\n\n[[tool]]\nname = \"t\"\nscript = \"b.js\"\n"),
            "p.toml:6:8: tool \"t\" is declared twice in this profile");
  EXPECT_EQ(parse_error("[[tool]]\nscript = \"a.js\"\n"), "p.toml:1:1: [[tool]] needs a name");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\n"), "p.toml:1:1: tool t needs a script");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"send email\"\nscript = \"a.js\"\n"),
            "p.toml:2:8: tool name \"send email\" must be 1-64 letters, digits, '_' or '-'");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"\"\nscript = \"a.js\"\n"),
            "p.toml:2:8: tool name \"\" must be 1-64 letters, digits, '_' or '-'");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"a.js\"\nrequires = [\"approval\", \"sudo\"]\n"),
            "p.toml:4:25: tool t: requires: unknown requirement \"sudo\" (expected \"approval\")");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"a.js\"\naudit = \"all\"\n"),
            "p.toml:4:9: tool t: audit must be \"full\" or \"metadata\", not \"all\"");
  EXPECT_EQ(parse_error("[[tool]]\nname = \"t\"\nscript = \"a.js\"\ngrants = { db = { read_only = false } }\n"),
            "p.toml:4:17: tool t: grants.db needs a path");
  EXPECT_EQ(
      parse_error("[[tool]]\nname = \"t\"\nscript = \"a.js\"\ngrants = { db = { path = \"x\", max_rows = 0 } }\n"),
      "p.toml:4:42: tool t: grants.db.max_rows must be at least 1");
  EXPECT_EQ(parse_error("[tool]\nname = \"t\"\n"), "p.toml:1:1: tool must be an array of tables ([[tool]])");
}

TEST(ProfileErrors, ToolSecretNotDeclared) {
  // Checked by the final pass, once every layer is merged; the error points at the [[tool]].
  const std::string text =
      "[secrets.OTHER]\nfrom_env = \"O\"\n\n"
      "[[tool]]\nname = \"mail\"\nscript = \"m.js\"\ngrants = { secrets = [\"MAIL_TOKEN\"] }\n";
  EXPECT_NO_THROW(parse(text));
  EXPECT_EQ(finalize_error(text),
            "p.toml:4:1: tool mail is granted secret \"MAIL_TOKEN\", which no [secrets.MAIL_TOKEN] declares");
  EXPECT_EQ(finalize_error(text + "[secrets.MAIL_TOKEN]\nfrom_env = \"M\"\n"), "<no error>");
}

TEST(ProfileErrors, EnvSetCollidesWithEnvSecret) {
  EXPECT_EQ(finalize_error("[env]\nset = { TOKEN = \"x\" }\n[secrets.TOKEN]\nfrom_env = \"T\"\n"),
            "p.toml:2:9: env.set.TOKEN collides with secret TOKEN exposed as env");
  EXPECT_EQ(finalize_error("[env]\nset = { TOKEN = \"x\" }\n[secrets.TOKEN]\nfrom_env = \"T\"\nexpose = \"file\"\n"),
            "<no error>");
}

TEST(ProfileErrors, EveryErrorIsOneLineWithPosition) {
  for (const char* text : {"[filesystem]\nread = [\"rel\"]\n", "[limits]\npids = 0\n", "bogus = 1\n",
                           "[network]\nallow = [\"*\"]\n", "[secrets.X]\n"}) {
    std::string e = parse_error(text);
    EXPECT_THAT(e, StartsWith("p.toml:")) << text;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace paddock

namespace paddock {
namespace {

TEST(ProfileErrors, FirstUnknownKeyInFileOrderIsReported) {
  // toml++ sorts keys; the error must still point at the first mistake in the file.
  EXPECT_EQ(parse_error("[filesystem]\nzzz = []\naaa = []\n"),
            "p.toml:2:1: unknown key \"zzz\" in [filesystem] (expected read, write, deny or tmpfs)");
}

TEST(ProfileErrors, BracketsOnlyForIpv6) {
  EXPECT_THAT(parse_error("[network]\nallow = [\"[example.com]:443\"]\n"),
              HasSubstr("brackets are only for IPv6 addresses"));
}

TEST(ProfileNetwork, EgressBudgetsForTheSessionAndPerHost) {
  Policy p = parse(
      "[network]\n"
      "mode = \"proxy\"\n"
      "max_bytes_out = \"5M\"\n"
      "max_connections = 100\n"
      "[network.per_host]\n"
      "max_bytes_out = 4096\n"
      "max_connections = 5\n");
  ASSERT_TRUE(p.net_budget.max_bytes_out && p.net_budget.max_connections);
  EXPECT_EQ(p.net_budget.max_bytes_out->value, 5u << 20);
  EXPECT_EQ(p.net_budget.max_bytes_out->origin.short_str(), "p.toml:3");
  EXPECT_EQ(p.net_budget.max_connections->value, 100u);
  ASSERT_TRUE(p.net_budget_per_host.max_bytes_out && p.net_budget_per_host.max_connections);
  EXPECT_EQ(p.net_budget_per_host.max_bytes_out->value, 4096u);
  EXPECT_EQ(p.net_budget_per_host.max_connections->origin.short_str(), "p.toml:7");
}

TEST(ProfileNetwork, BadBudgetsAreErrorsAtTheirValue) {
  EXPECT_THAT(parse_error("[network]\nmax_bytes_out = \"lots\"\n"), StartsWith("p.toml:2:17: "));
  EXPECT_THAT(parse_error("[network]\nmax_connections = 0\n"), StartsWith("p.toml:2:19: "));
  EXPECT_THAT(parse_error("[network]\nmax_connections = \"9\"\n"), StartsWith("p.toml:2:19: "));
  EXPECT_THAT(parse_error("[network.per_host]\nmax_bytes = 1\n"), HasSubstr("max_bytes"));
  EXPECT_THAT(parse_error("[network]\nper_host = 3\n"), StartsWith("p.toml:2:"));
}

TEST(ProfileTools, KillSwitchesParseWithOrigins) {
  Policy p = parse(
      "[limits]\n"
      "max_tool_calls = 50\n"
      "tool_loop = 3\n"
      "on_exceed = \"kill\"\n");
  ASSERT_TRUE(p.limits.max_tool_calls && p.limits.tool_loop && p.limits.on_exceed_kill);
  EXPECT_EQ(p.limits.max_tool_calls->value, 50u);
  EXPECT_EQ(p.limits.tool_loop->value, 3u);
  EXPECT_TRUE(p.limits.on_exceed_kill->value);
  EXPECT_EQ(p.limits.on_exceed_kill->origin.short_str(), "p.toml:4");
  EXPECT_THAT(parse_error("[limits]\non_exceed = \"explode\"\n"), HasSubstr("\"refuse\" or \"kill\""));
  EXPECT_THAT(parse_error("[limits]\ntool_loop = 1\n"), StartsWith("p.toml:2:13: "));
  EXPECT_THAT(parse_error("[limits]\nmax_tool_calls = 0\n"), StartsWith("p.toml:2:18: "));
}

}  // namespace
}  // namespace paddock
