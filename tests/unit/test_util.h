// Helpers shared by the policy-layer unit tests: fixed variables, temporary folders with
// profiles written at a known mode, and a way to capture the one-line error text.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "config.h"  // PADDOCK_SOURCE_PROFILES, for runs of the binary outside meson test
#include "policy/variables.h"
#include "util/error.h"

namespace paddock {
// Readable gtest failure output for origins ("p.toml:3:10" rather than bytes).
inline void PrintTo(const Origin& o, std::ostream* os) {
  *os << (o.known() ? o.str() : "<no origin>");
}
}  // namespace paddock

namespace paddock::test {

// A deterministic environment: no test depends on who runs it or from where.
inline Variables test_vars() {
  Variables v;
  v.home = "/home/tester";
  v.cwd = "/work/project";
  v.user = "tester";
  v.xdg_config_home = "/home/tester/.config";
  v.xdg_state_home = "/home/tester/.local/state";
  v.tmpdir = "/var/tmp";
  v.ssh_auth_sock = std::nullopt;
  v.xdg_runtime_dir = "/run/user/1000";
  return v;
}

// Runs `f` and returns the message of the paddock::Error it throws, "ValueError: ..." for a
// ValueError, or "<no error>" when it returns normally. Any other exception propagates and
// fails the test.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const ValueError& e) {
    return std::string("ValueError: ") + e.what();
  }
  return "<no error>";
}

// A folder under $TMPDIR (or /tmp), removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && base[0] == '/' ? base : "/tmp") + "/paddock-unit-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    // Canonical, so that paths the loader reports (it does not resolve symlinks in the
    // folder of a profile it opens) compare equal to ours.
    path_ = std::filesystem::canonical(tmpl).string();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  // Writes `rel` (creating folders) with exactly `mode`, whatever the umask.
  std::string write(const std::string& rel, const std::string& text, mode_t mode = 0644) const {
    std::string p = path_ + "/" + rel;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) throw std::runtime_error("cannot write " + p);
    }
    if (::chmod(p.c_str(), mode) != 0) throw std::runtime_error("cannot chmod " + p);
    return p;
  }

  std::string mkdir(const std::string& rel) const {
    std::string p = path_ + "/" + rel;
    std::filesystem::create_directories(p);
    return p;
  }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Root of the source tree (for the shipped profiles): from the test's environment (meson test
// sets it), else the tree this binary was configured from.
inline std::string source_root() {
  if (const char* r = std::getenv("PADDOCK_SOURCE_ROOT"); r != nullptr && r[0] != '\0') return r;
  if (const char* d = std::getenv("PADDOCK_TEST_DATA"); d != nullptr && d[0] != '\0') {
    return std::filesystem::path(d).parent_path().parent_path().parent_path().string();
  }
  return std::filesystem::path(PADDOCK_SOURCE_PROFILES).parent_path().string();
}

inline std::string test_data_dir() {
  if (const char* d = std::getenv("PADDOCK_TEST_DATA"); d != nullptr && d[0] != '\0') return d;
  std::string root = source_root();
  return root.empty() ? std::string() : root + "/tests/unit/data";
}

}  // namespace paddock::test
