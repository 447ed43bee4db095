#include "policy/variables.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "test_util.h"

namespace paddock {
namespace {

using test::error_of;
using test::test_vars;

constexpr const char* kProfileDir = "/home/tester/.config/paddock/profiles";

std::string expand(const std::string& text) {
  return test_vars().expand(text, kProfileDir);
}

TEST(Variables, EachKnownVariable) {
  EXPECT_EQ(expand("${HOME}"), "/home/tester");
  EXPECT_EQ(expand("${CWD}"), "/work/project");
  EXPECT_EQ(expand("${USER}"), "tester");
  EXPECT_EQ(expand("${PROFILE_DIR}"), kProfileDir);
  EXPECT_EQ(expand("${XDG_CONFIG_HOME}"), "/home/tester/.config");
  EXPECT_EQ(expand("${XDG_STATE_HOME}"), "/home/tester/.local/state");
  EXPECT_EQ(expand("${TMPDIR}"), "/var/tmp");
  EXPECT_EQ(expand("${XDG_RUNTIME_DIR}"), "/run/user/1000");
}

TEST(Variables, InsideAndAroundText) {
  EXPECT_EQ(expand("${HOME}/.ssh"), "/home/tester/.ssh");
  EXPECT_EQ(expand("${CWD}/out/${USER}.log"), "/work/project/out/tester.log");
  EXPECT_EQ(expand("/data/${USER}${USER}"), "/data/testertester");
  EXPECT_EQ(expand("/plain/path"), "/plain/path");
  EXPECT_EQ(expand(""), "");
}

TEST(Variables, DollarWithoutBraceIsLiteral) {
  EXPECT_EQ(expand("$HOME/x"), "$HOME/x");
  EXPECT_EQ(expand("/a/$"), "/a/$");
  EXPECT_EQ(expand("/a/$}{"), "/a/$}{");
}

TEST(Variables, ExpansionIsNotRecursive) {
  Variables v = test_vars();
  v.user = "${HOME}";
  EXPECT_EQ(v.expand("/u/${USER}", kProfileDir), "/u/${HOME}");
}

TEST(Variables, Tilde) {
  EXPECT_EQ(expand("~"), "/home/tester");
  EXPECT_EQ(expand("~/x"), "/home/tester/x");
  EXPECT_EQ(expand("~/${USER}"), "/home/tester/tester");
  // Only a leading "~" or "~/" is special.
  EXPECT_EQ(expand("~other/x"), "~other/x");
  EXPECT_EQ(expand("/a/~/b"), "/a/~/b");
  EXPECT_EQ(expand("~~"), "~~");
}

TEST(Variables, UnknownVariable) {
  const std::string known =
      " (known: HOME, CWD, USER, PROFILE_DIR, XDG_CONFIG_HOME, XDG_STATE_HOME, TMPDIR, SSH_AUTH_SOCK, XDG_RUNTIME_DIR)";
  EXPECT_EQ(error_of([] { (void)expand("${HOEM}/x"); }), "ValueError: unknown variable ${HOEM}" + known);
  EXPECT_EQ(error_of([] { (void)expand("${home}"); }), "ValueError: unknown variable ${home}" + known);
  EXPECT_EQ(error_of([] { (void)expand("${}"); }), "ValueError: unknown variable ${}" + known);
  EXPECT_EQ(error_of([] { (void)expand("${PATH}"); }), "ValueError: unknown variable ${PATH}" + known);
}

TEST(Variables, Unterminated) {
  EXPECT_EQ(error_of([] { (void)expand("${HOME"); }), "ValueError: unterminated \"${\" in \"${HOME\"");
  EXPECT_EQ(error_of([] { (void)expand("/a/${"); }), "ValueError: unterminated \"${\" in \"/a/${\"");
}

TEST(Variables, UnsetHostVariable) {
  Variables v = test_vars();
  ASSERT_FALSE(v.ssh_auth_sock.has_value());
  EXPECT_THROW((void)v.expand("${SSH_AUTH_SOCK}", kProfileDir), UnsetVariable);
  EXPECT_EQ(error_of([&] { (void)v.expand("${SSH_AUTH_SOCK}", kProfileDir); }),
            "ValueError: ${SSH_AUTH_SOCK} is not set in paddock's environment");
  v.xdg_runtime_dir.reset();
  EXPECT_THROW((void)v.expand("${XDG_RUNTIME_DIR}/gnupg", kProfileDir), UnsetVariable);
  v.ssh_auth_sock = "/run/user/1000/ssh.sock";
  EXPECT_EQ(v.expand("${SSH_AUTH_SOCK}", kProfileDir), "/run/user/1000/ssh.sock");
}

TEST(Variables, UnknownIsNotUnset) {
  // An unknown name is a plain ValueError, never the UnsetVariable a deny list tolerates.
  try {
    (void)expand("${NOPE}");
    ADD_FAILURE() << "no exception";
  } catch (const UnsetVariable&) {
    ADD_FAILURE() << "unknown variable reported as unset";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown variable ${NOPE}"), std::string::npos);
  }
}

TEST(Variables, FromEnvironment) {
  // Variables::from_environment reads the real process; check the parts we control.
  const char* old_tmp = std::getenv("TMPDIR");
  std::string saved_tmp = old_tmp != nullptr ? old_tmp : "";
  const char* old_sock = std::getenv("SSH_AUTH_SOCK");
  std::string saved_sock = old_sock != nullptr ? old_sock : "";

  ::setenv("TMPDIR", "/var//tmp/./x/", 1);
  ::setenv("SSH_AUTH_SOCK", "relative/sock", 1);
  Variables v = Variables::from_environment();
  EXPECT_EQ(v.tmpdir, "/var/tmp/x");          // normalised
  EXPECT_FALSE(v.ssh_auth_sock.has_value());  // only absolute paths count
  ::setenv("TMPDIR", "not-absolute", 1);
  ::setenv("SSH_AUTH_SOCK", "/run/x//agent.sock", 1);
  v = Variables::from_environment();
  EXPECT_EQ(v.tmpdir, "/tmp");
  ASSERT_TRUE(v.ssh_auth_sock.has_value());
  EXPECT_EQ(*v.ssh_auth_sock, "/run/x/agent.sock");
  char buf[4096];
  ASSERT_NE(::getcwd(buf, sizeof buf), nullptr);
  EXPECT_EQ(v.cwd, buf);

  if (old_tmp != nullptr)
    ::setenv("TMPDIR", saved_tmp.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  if (old_sock != nullptr)
    ::setenv("SSH_AUTH_SOCK", saved_sock.c_str(), 1);
  else
    ::unsetenv("SSH_AUTH_SOCK");
}

TEST(NormalizePath, Lexical) {
  EXPECT_EQ(normalize_path("/a//b/./c/../d/"), "/a/b/d");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path(""), "/");
  EXPECT_EQ(normalize_path("//"), "/");
  EXPECT_EQ(normalize_path("/."), "/");
  EXPECT_EQ(normalize_path("/.."), "/");
  EXPECT_EQ(normalize_path("/../../etc"), "/etc");
  EXPECT_EQ(normalize_path("/a/b/../../.."), "/");
  EXPECT_EQ(normalize_path("/a/.hidden/..."), "/a/.hidden/...");
  EXPECT_EQ(normalize_path("/a/b/"), "/a/b");
  EXPECT_EQ(normalize_path("/usr/lib/../lib64"), "/usr/lib64");
}

TEST(PathWithin, Prefixes) {
  EXPECT_TRUE(path_within("/a/b", "/a/b"));
  EXPECT_TRUE(path_within("/a/b/c", "/a/b"));
  EXPECT_TRUE(path_within("/a/b/c/d", "/a"));
  EXPECT_FALSE(path_within("/a/bc", "/a/b"));  // a name prefix is not a folder prefix
  EXPECT_FALSE(path_within("/a", "/a/b"));
  EXPECT_FALSE(path_within("/b", "/a"));
  EXPECT_TRUE(path_within("/", "/"));
  EXPECT_TRUE(path_within("/anything/at/all", "/"));
  EXPECT_TRUE(path_within("/home/tester/.ssh/id_ed25519", "/home/tester/.ssh"));
  EXPECT_FALSE(path_within("/home/tester/.sshx", "/home/tester/.ssh"));
}

}  // namespace
}  // namespace paddock
