// HostFs: a tool's fs.read/write/list reach exactly its grants; no "..", symlink or absolute
// path leads out, and a read-only grant cannot be written.
#include "tools/host_fs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace paddock {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class HostFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/paddock-hostfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ + "/data/sub");
    fs::create_directories(root_ + "/out");
    fs::create_directories(root_ + "/secret");
    put(root_ + "/data/a.txt", "alpha");
    put(root_ + "/data/sub/b.txt", "beta");
    put(root_ + "/secret/key", "hunter2");
    put(root_ + "/single.txt", "one file");
    fs::create_symlink(root_ + "/secret/key", root_ + "/data/link-out");
    fs::create_symlink("a.txt", root_ + "/data/link-in");
    fs::create_symlink(root_ + "/secret", root_ + "/out/escape");
  }
  void TearDown() override { fs::remove_all(root_); }
  static void put(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
  HostFs make() const { return HostFs({root_ + "/data", root_ + "/single.txt"}, {root_ + "/out"}); }
  static std::string error_of(const std::function<void()>& f, bool* not_authorized = nullptr) {
    try {
      f();
    } catch (const HostCallError& e) {
      if (not_authorized != nullptr) *not_authorized = e.not_authorized();
      return e.what();
    }
    return "";
  }
  std::string root_;
};

TEST_F(HostFsTest, ReadsInsideTheGrants) {
  HostFs h = make();
  EXPECT_EQ(h.read(root_ + "/data/a.txt", 1024), "alpha");
  EXPECT_EQ(h.read(root_ + "/data/sub/b.txt", 1024), "beta");
  EXPECT_EQ(h.read(root_ + "/data//sub/./b.txt", 1024), "beta");
  EXPECT_EQ(h.read(root_ + "/single.txt", 1024), "one file");
}

TEST_F(HostFsTest, OutsideTheGrantsIsNotAuthorized) {
  HostFs h = make();
  bool na = false;
  EXPECT_THAT(error_of([&] { (void)h.read(root_ + "/secret/key", 1024); }, &na), StartsWith("not authorized: "));
  EXPECT_TRUE(na);
  EXPECT_THAT(error_of([&] { (void)h.read("/etc/passwd", 1024); }), HasSubstr("outside tool.grants.read"));
  EXPECT_THAT(error_of([&] { (void)h.read("data/a.txt", 1024); }), HasSubstr("not an absolute path"));
}

TEST_F(HostFsTest, DotDotAndSymlinksNeverLeadOut) {
  HostFs h = make();
  for (const std::string& p : {root_ + "/data/../secret/key", root_ + "/data/sub/../../secret/key",
                               root_ + "/data/link-out", root_ + "/data/link-in"}) {
    bool na = false;
    EXPECT_THAT(error_of([&] { (void)h.read(p, 1024); }, &na), StartsWith("not authorized: ")) << p;
    EXPECT_TRUE(na) << p;
  }
  EXPECT_THAT(error_of([&] { h.write(root_ + "/out/escape/key", "pwned"); }), StartsWith("not authorized: "));
  std::ifstream in(root_ + "/secret/key");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "hunter2");
}

TEST_F(HostFsTest, WritesOnlyWhereGrantedForWriting) {
  HostFs h = make();
  h.write(root_ + "/out/new.txt", "written");
  EXPECT_EQ(h.read(root_ + "/out/new.txt", 1024), "written");
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/out/new.txt").c_str(), &st), 0);
  bool na = false;
  EXPECT_THAT(error_of([&] { h.write(root_ + "/data/a.txt", "x"); }, &na), HasSubstr("only readable"));
  EXPECT_TRUE(na);
  std::ifstream in(root_ + "/data/a.txt");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "alpha");
}

TEST_F(HostFsTest, ListsAFolderSortedWithTypes) {
  HostFs h = make();
  auto entries = h.list(root_ + "/data");
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name + ":" + e.type);
  EXPECT_THAT(names, ::testing::ElementsAre("a.txt:file", "link-in:symlink", "link-out:symlink", "sub:dir"));
  EXPECT_EQ(entries[0].size, 5u);
  EXPECT_THAT(error_of([&] { (void)h.list(root_ + "/secret"); }), StartsWith("not authorized: "));
}

TEST_F(HostFsTest, ReadsAreCappedAndMissingFilesAreOrdinaryFailures) {
  HostFs h = make();
  bool na = true;
  EXPECT_THAT(error_of([&] { (void)h.read(root_ + "/data/a.txt", 3); }, &na), HasSubstr("larger than"));
  EXPECT_FALSE(na);
  EXPECT_THAT(error_of([&] { (void)h.read(root_ + "/data/none.txt", 10); }, &na), HasSubstr("No such file"));
  EXPECT_FALSE(na);
}

}  // namespace
}  // namespace paddock
