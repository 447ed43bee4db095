// Shared by the tool worker tests: where the worker is, a call with fixed seed and clock, and private snapshot
// caches (tests never touch the user's ~/.cache).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/worker_client.h"

namespace paddock::tools {

inline std::string worker_path() {
  const char* p = std::getenv("PADDOCK_TOOL_WORKER");
  return p ? p : "src/paddock-tool-worker";
}

inline ToolCall make_test_call(std::string source, nlohmann::json input, std::int64_t time_ms) {
  ToolCall c;
  c.tool = "test";
  c.source = std::move(source);
  c.input = std::move(input);
  c.seed = 12345;
  c.time_ms = time_ms;
  c.limits.timeout_ms = 2000;
  return c;
}

inline HostAnswer refuse_all(const HostRequest&) {
  return HostAnswer::failure("no host calls expected");
}

// A new private directory under the test temp dir, removed when the process ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir() + "/paddock-snapshots-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One snapshot cache for the whole run: the first worker makes the blob, the others load it.
inline const std::string& shared_snapshot_dir() {
  static ScratchDir dir;
  return dir.path();
}

inline WorkerOptions test_options(bool snapshot = true) {
  WorkerOptions o;
  o.snapshot = snapshot;
  o.snapshot_dir = shared_snapshot_dir();
  return o;
}

}  // namespace paddock::tools
