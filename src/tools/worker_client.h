// The supervisor's side of paddock-tool-worker, free of V8: starts a worker (or adopts one started inside a
// sandbox), sends calls, answers host requests through a callback, and turns a dead or stuck worker into the
// call's error (kind "crash" or "timeout") instead of failing itself. Not thread-safe: one call at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/worker_protocol.h"
#include "util/unique_fd.h"

namespace paddock::tools {

struct ToolLimits {
  std::uint64_t timeout_ms = kDefaultTimeoutMs;
  std::uint64_t memory_bytes = kDefaultMemoryBytes;
  std::uint64_t max_output_bytes = kDefaultMaxOutputBytes;
};

struct ToolCall {
  std::string tool;
  std::string source;  // the ES module text
  nlohmann::json input;
  std::vector<std::string> grants;  // names from kHostFunctions
  ToolLimits limits;
  bool wasm = false;
  std::uint64_t seed = 0;
  std::int64_t time_ms = -1;  // what Date.now() starts at; -1 means the real time
};

struct HostRequest {
  std::int64_t call_id = 0;
  std::uint64_t seq = 0;
  std::string fn;  // "fs.read", "secret", ...
  nlohmann::json args;
};

struct HostAnswer {
  bool ok = false;
  nlohmann::json value;
  std::string error;

  static HostAnswer success(nlohmann::json value) { return {true, std::move(value), {}}; }
  static HostAnswer failure(std::string error) { return {false, nullptr, std::move(error)}; }
};

// Answers one host request. An exception thrown here becomes a failed answer carrying its message: the tool sees
// an error, the supervisor keeps running.
using HostHandler = std::function<HostAnswer(const HostRequest&)>;
using LogHandler = std::function<void(std::int64_t call_id, const std::string& message)>;

struct ToolResult {
  bool ok = false;
  nlohmann::json output;  // when ok
  std::string error;      // one line, when !ok
  std::string kind;       // timeout, memory, exception, output_too_large, bad_module, not_authorized, protocol, crash
  nlohmann::json host_calls = nlohmann::json::array();  // [{"fn","ok"[,"error"]}]
  double duration_ms = 0;
};

struct ToolDescription {
  bool ok = false;
  nlohmann::json description;   // string or null
  nlohmann::json input_schema;  // object or null
  std::string error;
  std::string kind;
};

class WorkerClient {
 public:
  // Starts `worker_path` with one end of a new socketpair as fd 3, on first use and again after a crash.
  explicit WorkerClient(std::string worker_path);
  // Adopts a worker started elsewhere (inside a sandbox): its socket and its pid (-1 when not ours to reap).
  // Once it dies it is not restarted.
  WorkerClient(UniqueFd socket, pid_t pid);
  ~WorkerClient();
  WorkerClient(const WorkerClient&) = delete;
  WorkerClient& operator=(const WorkerClient&) = delete;

  // Starts the worker now and waits for its "ready" message (otherwise the first call does it). Throws
  // paddock::Error when the worker cannot be started.
  void start();
  ToolResult call(const ToolCall& call, const HostHandler& host, const LogHandler& log = {});
  ToolDescription describe(const std::string& source, const ToolLimits& limits = {});

  // For a HostHandler that waits for a person: the time between the two is not the tool's (see the protocol).
  void pause_clock();
  void resume_clock();

  [[nodiscard]] bool running() const { return sock_.valid(); }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Closes the socket (the worker exits at end of file) and reaps it, killing it after a short grace period.
  void stop();

 private:
  enum class Next { kMessage, kTimeout, kGone };
  void ensure_started();
  void spawn();
  // The next message before `budget_ms` of unpaused time has passed.
  Next next(nlohmann::json& msg, std::uint64_t budget_ms);
  bool send(const nlohmann::json& msg);
  // Reaps the worker after it failed; returns how it ended ("killed by signal 9 (Killed)").
  std::string bury(bool kill_first);
  ToolResult failed(std::string kind, std::string error) const;

  std::string path_;
  bool adopted_ = false;
  UniqueFd sock_;
  pid_t pid_ = -1;
  FrameReader reader_;
  std::int64_t next_id_ = 1;
  std::int64_t current_id_ = -1;
  bool paused_ = false;
  double paused_ms_ = 0;     // paused time so far in this call
  double paused_since_ = 0;  // steady-clock ms when the current pause began
  double call_start_ = 0;    // steady-clock ms when the current call was sent
};

}  // namespace paddock::tools
