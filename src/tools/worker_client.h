// The supervisor's side of paddock-tool-worker, free of V8: starts a worker (or adopts one started inside a
// sandbox), sends calls, answers host requests through a callback, and turns a dead or stuck worker into the
// call's error (kind "crash" or "timeout") instead of failing itself. Not thread-safe: one call at a time.
//
// At start it also gives the worker its startup snapshot (tools/snapshot_cache.h): the cached blob when there is a
// valid one, otherwise the worker makes one and the client files it. Any failure there only costs the snapshot:
// the worker runs without one, and stderr says so once per process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/snapshot_cache.h"
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

// Which isolate ran a call, as the worker reports it (for tests and benchmarks).
struct IsolateInfo {
  std::int64_t serial = -1;  // per worker, never reused
  std::string origin;        // "kept" (it ran the previous call too), "pool" (made ahead while idle), "new"
  bool snapshot = false;     // made from the startup snapshot
};

struct WorkerOptions {
  // Give workers a startup snapshot from the cache (made and filed on first use).
  bool snapshot = true;
  // The snapshot cache; empty: SnapshotCache::default_dir() ($XDG_CACHE_HOME/paddock).
  std::string snapshot_dir;
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
  IsolateInfo isolate;
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
  explicit WorkerClient(std::string worker_path, WorkerOptions options = {});
  // Adopts a worker started elsewhere (inside a sandbox): its socket and its pid (-1 when not ours to reap).
  // Once it dies it is not restarted.
  WorkerClient(UniqueFd socket, pid_t pid, WorkerOptions options = {});
  ~WorkerClient();
  WorkerClient(const WorkerClient&) = delete;
  WorkerClient& operator=(const WorkerClient&) = delete;

  // Starts the worker now, waits for its "ready" message and gives it its snapshot (otherwise the first call does
  // it). Throws paddock::Error when the worker cannot be started.
  void start();
  ToolResult call(const ToolCall& call, const HostHandler& host, const LogHandler& log = {});
  ToolDescription describe(const std::string& source, const ToolLimits& limits = {});

  // For a HostHandler that waits for a person: the time between the two is not the tool's (see the protocol).
  void pause_clock();
  void resume_clock();

  [[nodiscard]] bool running() const { return sock_.valid(); }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // How the current worker got its snapshot: "loaded" (from the cache), "made" (built now and filed), "off"
  // (disabled), or "none: <reason>"; empty before the worker started.
  [[nodiscard]] const std::string& snapshot_status() const { return snapshot_status_; }
  // Closes the socket (the worker exits at end of file) and reaps it, killing it after a short grace period.
  void stop();

 private:
  enum class Next { kMessage, kTimeout, kGone };
  // Starts the worker if there is none, and completes the start-up exchange within `budget_ms`. On failure the
  // worker is buried and `why` says how it ended.
  Next ensure_started(std::uint64_t budget_ms, std::string* why);
  void spawn();
  // Waits for "ready", then sets up the snapshot.
  Next handshake(std::uint64_t budget_ms);
  // Gives the worker a snapshot (cached, or made now); only the worker's death is a failure.
  Next setup_snapshot(const nlohmann::json& ready);
  // The reply of type `type` to request `id`, skipping anything else.
  Next reply(nlohmann::json& msg, std::int64_t id, const std::string& type, std::uint64_t budget_ms);
  void snapshot_off(const std::string& why);
  // The next message (a raw frame for next_raw) before `budget_ms` of unpaused time has passed.
  Next next(nlohmann::json& msg, std::uint64_t budget_ms);
  Next next_raw(std::string& frame, std::uint64_t budget_ms);
  bool send(const nlohmann::json& msg);
  // Reaps the worker after it failed; returns how it ended ("killed by signal 9 (Killed)").
  std::string bury(bool kill_first);
  ToolResult failed(std::string kind, std::string error) const;

  std::string path_;
  WorkerOptions options_;
  bool adopted_ = false;
  bool started_ = false;  // the current worker finished its start-up exchange
  std::string snapshot_status_;
  bool snapshot_failed_ = false;  // a worker died taking a snapshot: later workers of this client run without
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
