// ProfileLoader: extends chains, merge order and rules, the search path, file trust, and the
// shipped profiles. Every test works in its own temporary folders.
#include "policy/profile_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "audit/sha256.h"
#include "policy/file_trust.h"
#include "policy/policy.h"
#include "policy/search_path.h"
#include "test_util.h"

namespace paddock {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;
using test::test_vars;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

ProfileLoader loader_for(const std::vector<std::string>& dirs, Variables vars = test_vars()) {
  std::vector<SearchDir> sd;
  for (size_t i = 0; i < dirs.size(); ++i) sd.push_back({dirs[i], "dir" + std::to_string(i + 1)});
  return ProfileLoader(std::move(vars), SearchPath(std::move(sd)));
}

std::string load_error(const ProfileLoader& l, const std::vector<std::string>& refs,
                       const Policy* overrides = nullptr) {
  return error_of([&] { (void)l.load(refs, overrides); });
}

std::vector<std::string> paths_of(const std::vector<PathGrant>& v) {
  std::vector<std::string> out;
  for (const auto& g : v) out.push_back(g.path);
  return out;
}

std::vector<std::string> names_of(const std::vector<ProfileRef>& v) {
  std::vector<std::string> out;
  for (const auto& r : v) out.push_back(r.name);
  return out;
}

std::vector<std::string> syscalls_of(const std::vector<SyscallRule>& v) {
  std::vector<std::string> out;
  for (const auto& r : v) out.push_back(r.name);
  return out;
}

const EnvSet* env_set(const Policy& p, const std::string& name) {
  for (const auto& e : p.env_set) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// extends: cycles and missing profiles

TEST(Extends, CycleOfTwo) {
  TempDir d;
  d.write("a.toml", "extends = [\"b\"]\n");
  d.write("b.toml", "extends = [\"a\"]\n");
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"a"}), d / "b.toml:1:12: extends cycle: a -> b -> a");
  EXPECT_EQ(load_error(l, {"b"}), d / "a.toml:1:12: extends cycle: b -> a -> b");
}

TEST(Extends, SelfExtend) {
  TempDir d;
  d.write("s.toml", "description = \"self\"\nextends = [\"s\"]\n");
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"s"}), d / "s.toml:2:12: extends cycle: s -> s");
  // The same file reached by a path is the same profile.
  d.write("t.toml", "extends = [\"./t.toml\"]\n");
  EXPECT_EQ(load_error(l, {"t"}), d / "t.toml:1:12: extends cycle: t -> ./t.toml");
}

TEST(Extends, LongerCycle) {
  TempDir d;
  d.write("x.toml", "extends = [\"y\"]\n");
  d.write("y.toml", "extends = [\"base\", \"z\"]\n");
  d.write("z.toml", "extends = [\"x\"]\n");
  d.write("base.toml", "");
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"x"}), d / "z.toml:1:12: extends cycle: x -> y -> z -> x");
}

TEST(Extends, MissingProfileNamesTheExtendsEntry) {
  TempDir d1, d2;
  d1.write("base.toml", "");
  d1.write("m.toml", "description = \"m\"\nextends = [\"base\", \"nope\"]\n");
  auto l = loader_for({d1.path(), d2.path()});
  EXPECT_EQ(load_error(l, {"m"}),
            d1 / "m.toml:2:20: extends: profile \"nope\" not found (searched " + d1.path() + ", " + d2.path() + ")");
}

TEST(Extends, MissingPathAndBadReferences) {
  TempDir d;
  d.write("p/m.toml", "extends = [\"../missing.toml\"]\n");
  d.write("p/n.toml", "extends = [\"bad name\"]\n");
  d.write("p/o.toml", "extends = [\"${NOPE}/x.toml\"]\n");
  auto l = loader_for({d / "p"});
  EXPECT_EQ(load_error(l, {"m"}),
            d / "p/m.toml:1:12: extends: profile file " + d.path() + "/missing.toml does not exist");
  EXPECT_EQ(load_error(l, {"n"}), d / "p/n.toml:1:12: extends: invalid profile name \"bad name\"");
  EXPECT_EQ(
      load_error(l, {"o"}),
      d / "p/o.toml:1:12: extends: unknown variable ${NOPE} (known: HOME, CWD, USER, PROFILE_DIR, XDG_CONFIG_HOME, "
          "XDG_STATE_HOME, TMPDIR, SSH_AUTH_SOCK, XDG_RUNTIME_DIR)");
}

TEST(Extends, MissingTopLevelReference) {
  TempDir d1, d2;
  auto l = loader_for({d1.path(), d2.path()});
  EXPECT_EQ(load_error(l, {"nope"}), "profile \"nope\" not found (searched " + d1.path() + ", " + d2.path() + ")");
  EXPECT_EQ(load_error(l, {"-rf"}), "invalid profile name \"-rf\"");
  EXPECT_EQ(load_error(l, {d1 / "none.toml"}), "profile file " + d1.path() + "/none.toml does not exist");
}

TEST(Extends, ErrorInExtendedProfileCitesThatFile) {
  TempDir d;
  d.write("base.toml", "[filesystem]\nreed = []\n");
  d.write("child.toml", "extends = [\"base\"]\n");
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"child"}),
            d / "base.toml:2:1: unknown key \"reed\" in [filesystem] (did you mean \"read\"?)");
}

TEST(Extends, RelativePathsResolveFromTheProfilesFolder) {
  TempDir d;
  d.write("shared/common.toml", "[filesystem]\nread = [\"/common\"]\n");
  d.write("shared/more.toml", "[filesystem]\nread = [\"${PROFILE_DIR}\"]\n");
  d.write("team/agent.toml", "extends = [\"../shared/common.toml\", \"${PROFILE_DIR}/../shared/more.toml\"]\n");
  auto l = loader_for({d / "team"});
  // shared/ is outside the profile folders: its files are used only once trusted.
  l.set_trust_store(TrustStore(d / "trusted"));
  EXPECT_THAT(error_of([&] { (void)l.load({"agent"}); }),
              AllOf(HasSubstr("team/agent.toml:1:12: extends: "), HasSubstr("shared/common.toml is not trusted"),
                    HasSubstr("paddock profile trust")));
  for (const char* f : {"shared/common.toml", "shared/more.toml"}) {
    l.trust_store().trust(d / f, sha256_hex(test::read_file(d / f)));
  }
  Policy p = l.load({"agent"});
  EXPECT_THAT(paths_of(p.read), ElementsAre("/common", d / "shared"));
  ASSERT_EQ(p.profiles.size(), 3u);
  EXPECT_EQ(p.profiles[0].path, d / "shared/common.toml");
  EXPECT_EQ(p.profiles[1].path, d / "shared/more.toml");
  EXPECT_EQ(p.profiles[2].path, d / "team/agent.toml");
}

// ---------------------------------------------------------------------------------------------
// Merge semantics

class Merge : public ::testing::Test {
 protected:
  void SetUp() override {
    d.write("tools/base.js", "export default () => 1;\n");
    d.write("tools/u.js", "export default () => 2;\n");
    d.write("tools/child.js", "export default () => 3;\n");
    d.write("base.toml",
            "description = \"base\"\n"                // 1
            "[filesystem]\n"                          // 2
            "read = [\"/usr\", \"/etc\"]\n"           // 3
            "deny = [\"${HOME}/.ssh\"]\n"             // 4
            "[network]\n"                             // 5
            "mode = \"none\"\n"                       // 6
            "allow = [\"a.example.com\"]\n"           // 7
            "[env]\n"                                 // 8
            "pass = [\"PATH\"]\n"                     // 9
            "set = { A = \"base\", KEEP = \"k\" }\n"  // 10
            "[secrets.S]\n"                           // 11
            "from_env = \"S_BASE\"\n"                 // 12
            "[limits]\n"                              // 13
            "memory = \"1G\"\n"                       // 14
            "pids = 100\n"                            // 15
            "[syscalls]\n"                            // 16
            "deny = [\"personality\"]\n"              // 17
            "[[tool]]\n"                              // 18
            "name = \"t\"\n"                          // 19
            "script = \"tools/base.js\"\n"            // 20
            "description = \"base tool\"\n"           // 21
            "rate_limit = \"1/hour\"\n"               // 22
            "[[tool]]\n"                              // 23
            "name = \"u\"\n"                          // 24
            "script = \"tools/u.js\"\n");             // 25
    d.write("child.toml",
            "extends = [\"base\"]\n"                                                       // 1
            "description = \"child\"\n"                                                    // 2
            "[filesystem]\n"                                                               // 3
            "read = [\"/opt\", \"${HOME}/.ssh\", \"${HOME}/.ssh/config\", \"${HOME}\"]\n"  // 4
            "write = [\"/etc\"]\n"                                                         // 5
            "tmpfs = [\"${HOME}/.ssh/tmp\", \"/tmp\"]\n"                                   // 6
            "[network]\n"                                                                  // 7
            "mode = \"proxy\"\n"                                                           // 8
            "allow = [\"b.example.com\"]\n"                                                // 9
            "[env]\n"                                                                      // 10
            "pass = [\"LANG\"]\n"                                                          // 11
            "set = { A = \"child\", B = \"b\" }\n"                                         // 12
            "[secrets.S]\n"                                                                // 13
            "from_env = \"S_CHILD\"\n"                                                     // 14
            "expose = \"file\"\n"                                                          // 15
            "[limits]\n"                                                                   // 16
            "memory = \"2G\"\n"                                                            // 17
            "[syscalls]\n"                                                                 // 18
            "deny = [\"acct\"]\n"                                                          // 19
            "[[tool]]\n"                                                                   // 20
            "name = \"t\"\n"                                                               // 21
            "script = \"tools/child.js\"\n");                                              // 22
  }

  TempDir d;
};

TEST_F(Merge, ProfilesInExtendsOrder) {
  Policy p = loader_for({d.path()}).load({"child"});
  EXPECT_THAT(names_of(p.profiles), ElementsAre("base", "child"));
  EXPECT_EQ(p.profiles[0].path, d / "base.toml");
  EXPECT_EQ(p.profiles[0].description, "base");
  EXPECT_EQ(p.profiles[1].description, "child");
  EXPECT_EQ(p.description, "child");
}

TEST_F(Merge, ListsAppendBaseFirst) {
  Policy p = loader_for({d.path()}).load({"child"});
  ASSERT_EQ(p.net_allow.size(), 2u);
  EXPECT_EQ(p.net_allow[0].pattern.str(), "a.example.com");
  EXPECT_EQ(p.net_allow[1].pattern.str(), "b.example.com");
  ASSERT_EQ(p.env_pass.size(), 2u);
  EXPECT_EQ(p.env_pass[0].name, "PATH");
  EXPECT_EQ(p.env_pass[1].name, "LANG");
  EXPECT_THAT(syscalls_of(p.syscalls_deny), ElementsAre("personality", "acct"));
  EXPECT_EQ(p.syscalls_deny[0].origin, (Origin{d / "base.toml", 17, 9}));
  EXPECT_EQ(p.syscalls_deny[1].origin, (Origin{d / "child.toml", 19, 9}));
}

TEST_F(Merge, ScalarsOverride) {
  Policy p = loader_for({d.path()}).load({"child"});
  EXPECT_EQ(p.net_mode.value, NetMode::Proxy);
  EXPECT_EQ(p.net_mode.origin, (Origin{d / "child.toml", 8, 8}));
  ASSERT_TRUE(p.limits.memory.has_value());
  EXPECT_EQ(p.limits.memory->value, 2ull << 30);
  EXPECT_EQ(p.limits.memory->origin, (Origin{d / "child.toml", 17, 10}));
  ASSERT_TRUE(p.limits.pids.has_value());  // not overridden: the base's value stays
  EXPECT_EQ(p.limits.pids->value, 100u);
  EXPECT_EQ(p.limits.pids->origin, (Origin{d / "base.toml", 15, 8}));
}

TEST_F(Merge, KeyedEntriesReplace) {
  Policy p = loader_for({d.path()}).load({"child"});
  ASSERT_EQ(p.env_set.size(), 3u);
  EXPECT_EQ(p.env_set[0].name, "A");  // replaced in place
  EXPECT_EQ(p.env_set[0].value, "child");
  EXPECT_EQ(p.env_set[0].origin, (Origin{d / "child.toml", 12, 9}));
  EXPECT_EQ(p.env_set[1].name, "KEEP");
  EXPECT_EQ(p.env_set[1].value, "k");
  EXPECT_EQ(p.env_set[2].name, "B");

  ASSERT_EQ(p.secrets.size(), 1u);
  EXPECT_EQ(p.secrets[0].from, "S_CHILD");
  EXPECT_EQ(p.secrets[0].expose, Secret::Expose::File);
  EXPECT_EQ(p.secrets[0].origin, (Origin{d / "child.toml", 13, 10}));

  ASSERT_EQ(p.tools.size(), 2u);
  EXPECT_EQ(p.tools[0].name, "t");
  EXPECT_EQ(p.tools[0].script, d / "tools/child.js");
  // Replaced whole: nothing of the base's declaration survives.
  EXPECT_EQ(p.tools[0].description, "");
  EXPECT_FALSE(p.tools[0].rate_limit.has_value());
  EXPECT_EQ(p.tools[0].origin, (Origin{d / "child.toml", 20, 1}));
  EXPECT_EQ(p.tools[1].name, "u");
  EXPECT_EQ(p.tools[1].script, d / "tools/u.js");
}

TEST_F(Merge, DenyWins) {
  Policy p = loader_for({d.path()}).load({"child"});
  EXPECT_THAT(paths_of(p.deny), ElementsAre("/home/tester/.ssh"));
  // The child's grants of ${HOME}/.ssh and below are dropped; ${HOME} (above the deny) stays.
  EXPECT_THAT(paths_of(p.read), ElementsAre("/usr", "/opt", "/home/tester"));
  EXPECT_THAT(paths_of(p.tmpfs), ElementsAre("/tmp"));
  ASSERT_EQ(p.overridden.size(), 3u);
  std::set<std::string> dropped;
  for (const auto& [grant, by] : p.overridden) {
    dropped.insert(grant.path);
    EXPECT_EQ(by, (Origin{d / "base.toml", 4, 9})) << grant.path;
  }
  EXPECT_THAT(dropped, UnorderedElementsAre("/home/tester/.ssh", "/home/tester/.ssh/config", "/home/tester/.ssh/tmp"));
  for (const auto& [grant, by] : p.overridden) {
    if (grant.path == "/home/tester/.ssh") {
      EXPECT_EQ(grant.origin, (Origin{d / "child.toml", 4, 17}));
    }
  }
}

TEST_F(Merge, WriteSupersedesRead) {
  Policy p = loader_for({d.path()}).load({"child"});
  EXPECT_THAT(paths_of(p.write), ElementsAre("/etc"));
  EXPECT_EQ(std::count_if(p.read.begin(), p.read.end(), [](const PathGrant& g) { return g.path == "/etc"; }), 0);
}

TEST_F(Merge, MultipleReferencesMergeInOrder) {
  d.write("x.toml",
          "[network]\nmode = \"proxy\"\n[filesystem]\nread = [\"/x\"]\n[env]\nset = { V = \"x\" }\n"
          "[limits]\nmemory = \"1G\"\n");
  d.write("y.toml", "[network]\nmode = \"host\"\n[filesystem]\nread = [\"/y\"]\n[env]\nset = { V = \"y\" }\n");
  auto l = loader_for({d.path()});

  Policy xy = l.load({"x", "y"});
  EXPECT_THAT(names_of(xy.profiles), ElementsAre("x", "y"));
  EXPECT_EQ(xy.net_mode.value, NetMode::Host);
  EXPECT_THAT(paths_of(xy.read), ElementsAre("/x", "/y"));
  ASSERT_NE(env_set(xy, "V"), nullptr);
  EXPECT_EQ(env_set(xy, "V")->value, "y");
  ASSERT_TRUE(xy.limits.memory.has_value());
  EXPECT_EQ(xy.limits.memory->value, 1ull << 30);

  Policy yx = l.load({"y", "x"});
  EXPECT_THAT(names_of(yx.profiles), ElementsAre("y", "x"));
  EXPECT_EQ(yx.net_mode.value, NetMode::Proxy);
  EXPECT_THAT(paths_of(yx.read), ElementsAre("/y", "/x"));
  EXPECT_EQ(env_set(yx, "V")->value, "x");

  // The same profile twice is merged once.
  EXPECT_THAT(names_of(l.load({"x", "x"}).profiles), ElementsAre("x"));
  // Two references with a common base: the base once, at its first position.
  d.write("child2.toml", "extends = [\"base\"]\n[syscalls]\ndeny = [\"swapon\"]\n");
  Policy both = l.load({"child", "child2"});
  EXPECT_THAT(names_of(both.profiles), ElementsAre("base", "child", "child2"));
  EXPECT_THAT(syscalls_of(both.syscalls_deny), ElementsAre("personality", "acct", "swapon"));
}

TEST_F(Merge, OverridesMergeLast) {
  Policy o;
  o.net_mode = {NetMode::Host, Origin{"command line --net", 0, 0}};
  o.read.push_back({"/extra", Origin{"command line --ro", 0, 0}});
  o.deny.push_back({"/opt", Origin{"command line --deny", 0, 0}});
  o.limits.memory = Setting<std::uint64_t>{8ull << 30, Origin{"command line --memory", 0, 0}};
  o.env_set.push_back({"A", "cli", Origin{"command line --env", 0, 0}});
  o.env_pass.push_back({"EDITOR", Origin{"command line --env", 0, 0}});

  Policy p = loader_for({d.path()}).load({"child"}, &o);
  EXPECT_THAT(names_of(p.profiles), ElementsAre("base", "child"));
  EXPECT_EQ(p.net_mode.value, NetMode::Host);
  EXPECT_EQ(p.net_mode.origin.file, "command line --net");
  EXPECT_THAT(paths_of(p.read), ElementsAre("/usr", "/home/tester", "/extra"));  // /opt denied by the flag
  EXPECT_THAT(paths_of(p.deny), ElementsAre("/home/tester/.ssh", "/opt"));
  EXPECT_EQ(p.limits.memory->value, 8ull << 30);
  EXPECT_EQ(p.limits.pids->value, 100u);
  ASSERT_NE(env_set(p, "A"), nullptr);
  EXPECT_EQ(env_set(p, "A")->value, "cli");
  EXPECT_EQ(p.env_pass.back().name, "EDITOR");
  bool opt_dropped = false;
  for (const auto& [grant, by] : p.overridden) {
    if (grant.path == "/opt") {
      opt_dropped = true;
      EXPECT_EQ(by.file, "command line --deny");
    }
  }
  EXPECT_TRUE(opt_dropped);

  // A flag's mode without an origin does not override (it was not given).
  Policy none;
  Policy q = loader_for({d.path()}).load({"child"}, &none);
  EXPECT_EQ(q.net_mode.value, NetMode::Proxy);
}

TEST_F(Merge, OverrideDenyCannotBeUndoneByAGrant) {
  Policy o;
  o.write.push_back({"/home/tester/.ssh/known_hosts", Origin{"command line --rw", 0, 0}});
  Policy p = loader_for({d.path()}).load({"child"}, &o);
  EXPECT_THAT(paths_of(p.write), ElementsAre("/etc"));
}

TEST(MergeCrossReferences, ToolSecretsResolveAcrossTheChain) {
  TempDir t;
  t.write("m.js", "export default () => 0;\n");
  // The tool in the base names a secret only the child declares: fine once merged.
  t.write("base.toml", "[[tool]]\nname = \"mail\"\nscript = \"m.js\"\ngrants = { secrets = [\"MAIL\"] }\n");
  t.write("child.toml", "extends = [\"base\"]\n[secrets.MAIL]\nfrom_env = \"MAIL\"\n");
  auto l = loader_for({t.path()});
  EXPECT_EQ(load_error(l, {"child"}), "<no error>");
  // Without the child, the error points at the [[tool]] in the file that declared it.
  EXPECT_EQ(load_error(l, {"base"}),
            t / "base.toml:1:1: tool mail is granted secret \"MAIL\", which no [secrets.MAIL] declares");
  // A secret declared only on the command line counts too.
  Policy o;
  o.secrets.push_back({"MAIL", Secret::Source::Env, "MAIL", Secret::Expose::Env, Origin{"command line", 0, 0}});
  EXPECT_EQ(load_error(l, {"base"}, &o), "<no error>");
}

TEST(MergeDiamond, SharedBaseMergedOnce) {
  TempDir t;
  t.write("d.toml", "[filesystem]\nread = [\"/d\"]\n[syscalls]\ndeny = [\"personality\"]\n[limits]\npids = 1\n");
  t.write("b.toml", "extends = [\"d\"]\n[filesystem]\nread = [\"/b\"]\n[limits]\npids = 2\n");
  t.write("c.toml", "extends = [\"d\"]\n[filesystem]\nread = [\"/c\"]\n");
  t.write("a.toml", "extends = [\"b\", \"c\"]\n[filesystem]\nread = [\"/a\"]\n");
  Policy p = loader_for({t.path()}).load({"a"});
  EXPECT_THAT(names_of(p.profiles), ElementsAre("d", "b", "c", "a"));
  EXPECT_THAT(paths_of(p.read), ElementsAre("/d", "/b", "/c", "/a"));
  // syscalls are not deduplicated, so one entry proves d was merged once.
  EXPECT_THAT(syscalls_of(p.syscalls_deny), ElementsAre("personality"));
  // d is not merged again after b, so b's pids stands.
  EXPECT_EQ(p.limits.pids->value, 2u);
}

TEST(MergeDiamond, SameFileByNameAndByPath) {
  TempDir t;
  t.write("d.toml", "[syscalls]\ndeny = [\"acct\"]\n");
  t.write("a.toml", "extends = [\"d\", \"./d.toml\", \"" + t.path() + "/./d.toml\"]\n");
  Policy p = loader_for({t.path()}).load({"a"});
  EXPECT_THAT(names_of(p.profiles), ElementsAre("d", "a"));
  EXPECT_THAT(syscalls_of(p.syscalls_deny), ElementsAre("acct"));
}

TEST(MergeLayer, DirectRules) {
  Origin o1{"one.toml", 1, 1}, o2{"two.toml", 2, 2};
  Policy base;
  base.read = {{"/a", o1}, {"/a", o1}, {"/b/c", o1}};
  base.deny = {{"/b", o1}};
  base.description = "one";
  Policy layer;
  layer.read = {{"/a", o2}};
  layer.write = {{"/b", o2}, {"/w", o2}};
  layer.tmpfs = {{"/b/tmp", o2}};
  merge_layer(base, layer);
  EXPECT_EQ(base.description, "one");  // an empty description does not override
  finalize_policy(base);
  EXPECT_THAT(paths_of(base.read), ElementsAre("/a"));
  EXPECT_EQ(base.read[0].origin, o1);                    // the first grant of a path is kept
  EXPECT_THAT(paths_of(base.write), ElementsAre("/w"));  // a write of exactly the denied path goes too
  EXPECT_THAT(base.tmpfs, IsEmpty());
  EXPECT_EQ(base.overridden.size(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Search path

TEST(SearchPathTest, FirstFolderWins) {
  TempDir d1, d2;
  d1.write("p.toml", "description = \"first\"\n");
  d2.write("p.toml", "description = \"second\"\n");
  d2.write("q.toml", "description = \"q\"\nextends = [\"p\"]\n");
  SearchPath sp({{d1.path(), "project"}, {d2.path(), "user"}});
  EXPECT_EQ(sp.find("p"), d1 / "p.toml");
  EXPECT_EQ(sp.find("q"), d2 / "q.toml");
  EXPECT_EQ(sp.find("zz"), std::nullopt);

  auto l = loader_for({d1.path(), d2.path()});
  Policy p = l.load({"p"});
  EXPECT_EQ(p.description, "first");
  EXPECT_EQ(p.profiles[0].path, d1 / "p.toml");
  // A name in extends also goes through the search path, from the top.
  Policy q = l.load({"q"});
  ASSERT_EQ(q.profiles.size(), 2u);
  EXPECT_EQ(q.profiles[0].path, d1 / "p.toml");
  EXPECT_EQ(q.description, "q");
}

TEST(SearchPathTest, ListMarksShadowed) {
  TempDir d1, d2;
  d1.write("p.toml", "");
  d1.write("b.toml", "");
  d1.write("notes.txt", "");
  d1.write(".hidden.toml", "");
  d1.write("bad name.toml", "");
  d2.write("p.toml", "");
  d2.write("r.toml", "");
  d2.write("a.toml", "");
  SearchPath sp({{d1.path(), "project"}, {d2.path(), "user"}, {d1 / "does-not-exist", "system"}});
  auto entries = sp.list();
  ASSERT_EQ(entries.size(), 5u);
  // Each folder's entries sorted by name, folders in search order.
  EXPECT_EQ(entries[0].name, "b");
  EXPECT_EQ(entries[1].name, "p");
  EXPECT_EQ(entries[1].path, d1 / "p.toml");
  EXPECT_EQ(entries[1].label, "project");
  EXPECT_FALSE(entries[1].shadowed);
  EXPECT_EQ(entries[2].name, "a");
  EXPECT_FALSE(entries[2].shadowed);
  EXPECT_EQ(entries[3].name, "p");
  EXPECT_EQ(entries[3].path, d2 / "p.toml");
  EXPECT_EQ(entries[3].label, "user");
  EXPECT_TRUE(entries[3].shadowed);
  EXPECT_EQ(entries[4].name, "r");
  EXPECT_FALSE(entries[4].shadowed);
}

TEST(SearchPathTest, NamesVersusPaths) {
  EXPECT_FALSE(is_profile_path("base"));
  EXPECT_FALSE(is_profile_path("python-agent"));
  EXPECT_FALSE(is_profile_path(".toml"));
  EXPECT_TRUE(is_profile_path("a.toml"));
  EXPECT_TRUE(is_profile_path("base.toml"));
  EXPECT_TRUE(is_profile_path("./base"));
  EXPECT_TRUE(is_profile_path("dir/base"));
  EXPECT_TRUE(is_profile_path("/etc/paddock/profiles/base.toml"));

  EXPECT_TRUE(is_valid_profile_name("python-agent"));
  EXPECT_TRUE(is_valid_profile_name("a_b.c"));
  EXPECT_FALSE(is_valid_profile_name(""));
  EXPECT_FALSE(is_valid_profile_name(".hidden"));
  EXPECT_FALSE(is_valid_profile_name("-p"));
  EXPECT_FALSE(is_valid_profile_name("a b"));
  EXPECT_FALSE(is_valid_profile_name("a/b"));
  EXPECT_TRUE(is_valid_profile_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_profile_name(std::string(65, 'a')));
}

TEST(SearchPathTest, LocateNamesAndPaths) {
  TempDir sp, cwd;
  sp.write("p.toml", "");
  cwd.write("p.toml", "");
  cwd.write("sub/q.toml", "");
  Variables vars = test_vars();
  vars.cwd = cwd.path();
  vars.home = cwd.path();
  auto l = loader_for({sp.path()}, vars);
  EXPECT_EQ(l.locate("p"), sp / "p.toml");        // a name: the search path
  EXPECT_EQ(l.locate("p.toml"), cwd / "p.toml");  // a path: the working directory
  EXPECT_EQ(l.locate("./p.toml"), cwd / "p.toml");
  EXPECT_EQ(l.locate("sub/q.toml"), cwd / "sub/q.toml");
  EXPECT_EQ(l.locate("sub/../sub/q.toml"), cwd / "sub/q.toml");
  EXPECT_EQ(l.locate("~/sub/q.toml"), cwd / "sub/q.toml");
  EXPECT_EQ(l.locate("q.toml", cwd / "sub"), cwd / "sub/q.toml");  // relative to an extending profile
  EXPECT_EQ(l.locate(sp / "p.toml"), sp / "p.toml");
  EXPECT_EQ(error_of([&] { (void)l.locate("q.toml"); }), "profile file " + cwd.path() + "/q.toml does not exist");
  EXPECT_EQ(error_of([&] { (void)l.locate("sub"); }),
            "profile \"sub\" not found (searched " + sp.path() + ")");  // a name, although a folder is there

  Policy p = l.load({"./p.toml"});
  ASSERT_EQ(p.profiles.size(), 1u);
  EXPECT_EQ(p.profiles[0].name, "./p.toml");
  EXPECT_EQ(p.profiles[0].path, cwd / "p.toml");
}

TEST(SearchPathTest, Standard) {
  const char* old = std::getenv("PADDOCK_SHIPPED_PROFILES");
  std::string saved = old != nullptr ? old : "";
  ::setenv("PADDOCK_SHIPPED_PROFILES", "/opt/shipped", 1);
  SearchPath sp = SearchPath::standard(test_vars());
  EXPECT_EQ(shipped_profiles_dir(), "/opt/shipped");
  if (old != nullptr)
    ::setenv("PADDOCK_SHIPPED_PROFILES", saved.c_str(), 1);
  else
    ::unsetenv("PADDOCK_SHIPPED_PROFILES");

  ASSERT_EQ(sp.dirs().size(), 4u);
  EXPECT_EQ(sp.dirs()[0].dir, "/work/project/.paddock");
  EXPECT_EQ(sp.dirs()[0].label, "project");
  EXPECT_EQ(sp.dirs()[1].dir, "/home/tester/.config/paddock/profiles");
  EXPECT_EQ(sp.dirs()[1].label, "user");
  EXPECT_EQ(sp.dirs()[2].dir, "/etc/paddock/profiles");
  EXPECT_EQ(sp.dirs()[2].label, "system");
  EXPECT_EQ(sp.dirs()[3].dir, "/opt/shipped");
  EXPECT_EQ(sp.dirs()[3].label, "shipped");
  EXPECT_EQ(SearchPath::user_dir(test_vars()), "/home/tester/.config/paddock/profiles");
}

// ---------------------------------------------------------------------------------------------
// File trust

TEST(FileTrust, ProfileWritableByOthersRefused) {
  TempDir d;
  d.write("p.toml", "description = \"p\"\n", 0666);
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"p"}), d / "p.toml: refusing profile writable by others (mode 0666; run chmod go-w)");
  ASSERT_EQ(::chmod((d / "p.toml").c_str(), 0602), 0);
  EXPECT_EQ(load_error(l, {"p"}), d / "p.toml: refusing profile writable by others (mode 0602; run chmod go-w)");
}

TEST(FileTrust, ProfileWritableByGroupRefused) {
  TempDir d;
  d.write("p.toml", "", 0620);
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"p"}), d / "p.toml: refusing profile writable by group (mode 0620; run chmod go-w)");
  ASSERT_EQ(::chmod((d / "p.toml").c_str(), 0664), 0);
  EXPECT_EQ(load_error(l, {"p"}), d / "p.toml: refusing profile writable by group (mode 0664; run chmod go-w)");
}

TEST(FileTrust, PrivateModesAccepted) {
  for (mode_t m : {0644, 0640, 0600, 0400, 0444, 0755}) {
    TempDir d;
    d.write("p.toml", "description = \"ok\"\n", m);
    EXPECT_EQ(loader_for({d.path()}).load({"p"}).description, "ok") << std::oct << m;
  }
}

TEST(FileTrust, ExtendedProfileWritableByOthersRefused) {
  TempDir d;
  d.write("base.toml", "", 0646);
  d.write("child.toml", "extends = [\"base\"]\n");
  EXPECT_EQ(load_error(loader_for({d.path()}), {"child"}),
            d / "base.toml: refusing profile writable by others (mode 0646; run chmod go-w)");
}

TEST(FileTrust, ToolScriptWritableByOthersRefused) {
  TempDir d;
  d.write("tools/t.js", "export default () => 1;\n", 0646);
  d.write("p.toml", "[[tool]]\nname = \"t\"\nscript = \"tools/t.js\"\n");
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"p"}),
            d / "p.toml:3:10: " + d.path() +
                "/tools/t.js: refusing tool script writable by others (mode 0646; run chmod go-w)");
  ASSERT_EQ(::chmod((d / "tools/t.js").c_str(), 0660), 0);
  EXPECT_EQ(load_error(l, {"p"}),
            d / "p.toml:3:10: " + d.path() +
                "/tools/t.js: refusing tool script writable by group (mode 0660; run chmod go-w)");
  ASSERT_EQ(::chmod((d / "tools/t.js").c_str(), 0644), 0);
  EXPECT_EQ(load_error(l, {"p"}), "<no error>");
}

TEST(FileTrust, ToolScriptMissingOrNotAFile) {
  TempDir d;
  d.mkdir("tools/dir.js");
  d.write("p.toml", "[[tool]]\nname = \"t\"\nscript = \"tools/none.js\"\n");
  d.write("q.toml", "[[tool]]\nname = \"t\"\n  script = \"${PROFILE_DIR}/tools/dir.js\"\n");
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"p"}),
            d / "p.toml:3:10: " + d.path() + "/tools/none.js: cannot read tool script: No such file or directory");
  EXPECT_EQ(load_error(l, {"q"}), d / "q.toml:3:12: " + d.path() + "/tools/dir.js: tool script is not a regular file");
}

TEST(FileTrust, ProfileNotARegularFileOrTooLarge) {
  TempDir d;
  d.mkdir("dir.toml");
  std::string big(4 * 1024 * 1024 + 1, '#');
  big[0] = '\n';
  d.write("big.toml", big);
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {d / "dir.toml"}), d / "dir.toml: profile is not a regular file");
  EXPECT_EQ(load_error(l, {"big"}), d / "big.toml: profile is larger than 4 MiB");
}

TEST(FileTrust, OwnedByAnotherUser) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "giving a file to another user (chown to 65534) needs root; run the tests as root to cover this";
  }
  TempDir d;
  std::string p = d.write("p.toml", "");
  ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
  auto l = loader_for({d.path()});
  EXPECT_EQ(load_error(l, {"p"}), p + ": refusing profile owned by uid 65534 (it must belong to you or to root)");

  std::string s = d.write("t.js", "");
  ASSERT_EQ(::chown(s.c_str(), 65534, 65534), 0);
  d.write("q.toml", "[[tool]]\nname = \"t\"\nscript = \"t.js\"\n");
  EXPECT_EQ(load_error(l, {"q"}),
            d / "q.toml:3:10: " + s + ": refusing tool script owned by uid 65534 (it must belong to you or to root)");
  // Root-owned files are trusted (here root is also the current user).
  ASSERT_EQ(::chown(p.c_str(), 0, 0), 0);
  EXPECT_EQ(load_error(l, {"p"}), "<no error>");
}

TEST(FileTrust, CheckTrustedFileDirectly) {
  TempDir d;
  std::string ok = d.write("ok", "", 0600);
  std::string bad = d.write("bad", "", 0622);
  EXPECT_NO_THROW(check_trusted_file(ok, "thing"));
  EXPECT_EQ(error_of([&] { check_trusted_file(bad, "thing"); }),
            bad + ": refusing thing writable by others (mode 0622; run chmod go-w)");
  EXPECT_EQ(error_of([&] { check_trusted_file(d / "none", "thing"); }),
            d / "none: cannot read thing: No such file or directory");
  EXPECT_EQ(error_of([&] { check_trusted_file(d.path(), "thing"); }), d.path() + ": thing is not a regular file");
}

// ---------------------------------------------------------------------------------------------
// Shipped profiles

TEST(ShippedProfiles, EveryOneLoads) {
  const std::string root = test::source_root();
  ASSERT_FALSE(root.empty()) << "set PADDOCK_SOURCE_ROOT (tests/unit/meson.build does)";
  const std::string src = root + "/profiles";
  // Copies at mode 0644, so a checkout made with umask 002 does not trip the trust check:
  // this test is about the profiles' content.
  TempDir d;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(src)) {
    if (e.path().extension() != ".toml") continue;
    names.push_back(e.path().stem().string());
    d.write(e.path().filename().string(), test::read_file(e.path().string()));
  }
  std::sort(names.begin(), names.end());
  ASSERT_THAT(names, ::testing::Contains("base"));
  ASSERT_THAT(names, ::testing::Contains("default"));

  auto l = loader_for({d.path()});
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    Policy p;
    ASSERT_NO_THROW(p = l.load({name})) << load_error(l, {name});
    EXPECT_FALSE(p.description.empty());
    ASSERT_FALSE(p.profiles.empty());
    EXPECT_EQ(p.profiles.front().name, "base");  // everything builds on base
    EXPECT_EQ(p.profiles.back().name, name);
    // Host credentials stay masked whatever the profile grants.
    EXPECT_THAT(paths_of(p.deny), ::testing::Contains("/home/tester/.ssh"));
    for (const auto& g : p.read) EXPECT_FALSE(path_within(g.path, "/home/tester/.ssh")) << g.path;
    for (const auto& g : p.write) EXPECT_FALSE(path_within(g.path, "/home/tester/.ssh")) << g.path;
  }

  // All of them together, too (as several -p flags).
  EXPECT_EQ(load_error(l, names), "<no error>");
}

TEST(ShippedProfiles, DefaultIsWhatTheDesignSays) {
  const std::string root = test::source_root();
  ASSERT_FALSE(root.empty());
  TempDir d;
  d.write("base.toml", test::read_file(root + "/profiles/base.toml"));
  d.write("default.toml", test::read_file(root + "/profiles/default.toml"));
  Policy p = loader_for({d.path()}).load({"default"});
  EXPECT_EQ(p.net_mode.value, NetMode::None);
  EXPECT_THAT(paths_of(p.write), ElementsAre("/work/project"));
  EXPECT_THAT(paths_of(p.read), ::testing::Contains("/usr"));
  EXPECT_TRUE(p.secrets.empty());
  EXPECT_TRUE(p.net_allow.empty());
  EXPECT_TRUE(p.tools.empty());
  // ${SSH_AUTH_SOCK} is masked only when the host has one.
  EXPECT_THAT(paths_of(p.deny), ::testing::Not(::testing::Contains(HasSubstr("agent.sock"))));
  Variables vars = test_vars();
  vars.ssh_auth_sock = "/run/user/1000/agent.sock";
  Policy q = loader_for({d.path()}, vars).load({"default"});
  EXPECT_THAT(paths_of(q.deny), ::testing::Contains("/run/user/1000/agent.sock"));
}

}  // namespace
}  // namespace paddock

namespace paddock {
namespace {

TEST(MergeLayer, DenyWinsOverToolGrantsToo) {
  Origin o{"p.toml", 1, 1};
  Policy p;
  p.deny = {{"/home/u/.ssh", o}};
  ToolDecl t;
  t.name = "reader";
  t.read = {{"/home/u/.ssh", o}, {"/home/u/.ssh/id_rsa", o}, {"/home/u/src", o}};
  t.write = {{"/home/u/.ssh/known_hosts", o}, {"/home/u/out", o}};
  p.tools.push_back(t);
  finalize_policy(p);
  EXPECT_THAT(paths_of(p.tools[0].read), ElementsAre("/home/u/src"));
  EXPECT_THAT(paths_of(p.tools[0].write), ElementsAre("/home/u/out"));
}

TEST(MergeLayer, AnExplicitGrantBeatsATmpfsOfTheSamePath) {
  Origin o{"p.toml", 1, 1};
  Policy p;
  p.write = {{"/tmp", o}};  // e.g. the working folder is /tmp
  p.tmpfs = {{"/tmp", o}, {"/var/tmp", o}};
  finalize_policy(p);
  EXPECT_THAT(paths_of(p.write), ElementsAre("/tmp"));
  EXPECT_THAT(paths_of(p.tmpfs), ElementsAre("/var/tmp"));
}

}  // namespace
}  // namespace paddock

namespace paddock {
namespace {

// A profile an earlier sandbox could have planted in a project folder is refused until the
// user trusts that exact content; a changed file needs trusting again.
TEST(Trust, ProjectProfilesNeedTrust) {
  TempDir d;
  d.write("project/.paddock/default.toml", "[filesystem]\nread = [\"/secret\"]\n");
  d.write("user/other.toml", "description = \"user\"\n");
  std::vector<SearchDir> dirs{{d / "project/.paddock", "project"}, {d / "user", "user"}};
  ProfileLoader l(test_vars(), SearchPath(dirs));
  l.set_trust_store(TrustStore(d / "trusted"));
  std::string planted = d / "project/.paddock/default.toml";
  EXPECT_THAT(error_of([&] { (void)l.load({"default"}); }),
              AllOf(HasSubstr(planted + " is not trusted"), HasSubstr("paddock profile trust " + planted)));
  // The user's own folder needs no trust step.
  EXPECT_EQ(l.load({"other"}).description, "user");
  // Named by path on the command line: the user chose the file.
  EXPECT_THAT(paths_of(l.load({planted}).read), ElementsAre("/secret"));

  l.trust_store().trust(planted, sha256_hex(test::read_file(planted)));
  EXPECT_THAT(paths_of(l.load({"default"}).read), ElementsAre("/secret"));
  d.write("project/.paddock/default.toml", "[filesystem]\nread = [\"/secret\", \"/more\"]\n");
  EXPECT_THAT(error_of([&] { (void)l.load({"default"}); }), HasSubstr("is not trusted"));
}

}  // namespace
}  // namespace paddock
