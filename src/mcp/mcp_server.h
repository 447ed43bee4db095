// The MCP server protocol layer behind `paddock mcp -p PROFILE`: MCP over stdio (one JSON-RPC 2.0
// message per line), independent of how tools run.
//
// Both protocol eras are served on the same stream (the spec's "dual-era server",
// specification/2026-07-28/basic/versioning.mdx "Backward Compatibility with Initialization-Based
// Versions"):
//
//  - Legacy clients (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05) open with `initialize`; the
//    negotiated version then applies to every later request that carries no per-request metadata.
//  - Modern clients (2026-07-28) put `io.modelcontextprotocol/protocolVersion` and
//    `io.modelcontextprotocol/clientCapabilities` in every request's `params._meta`. Such a request
//    is served statelessly: nothing from earlier requests (an `initialize`, another modern request)
//    changes how it is answered.
//
// The exact wire behaviour, with sources, is described at the top of mcp_server.cc.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {

struct McpToolInfo {
  std::string name, description;
  nlohmann::json input_schema;  // a JSON Schema object; null means "any object"
};

struct McpCallResult {
  bool ok = false;
  nlohmann::json output;  // when ok
  std::string error;      // when !ok: a one-line reason, shown to the model as a tool error (isError: true)
};

// Implemented by paddock's tool runtime. During serve(), list() and has() are called on the
// thread that reads stdin while call() may be running on worker threads, so all three must be
// safe to call concurrently, and list() and has() must not wait for a running call(): while they
// block, no notifications/cancelled (or any other message) is read.
class McpToolService {
 public:
  virtual ~McpToolService() = default;
  virtual std::vector<McpToolInfo> list() = 0;
  virtual bool has(const std::string& name) = 0;
  // May take long; `cancelled` becomes true when the client cancels this request.
  virtual McpCallResult call(const std::string& name, const nlohmann::json& arguments,
                             const std::atomic<bool>& cancelled) = 0;
};

class McpServer {
 public:
  // Lines longer than this (without the newline) are refused with an error; serving goes on.
  static constexpr std::size_t kMaxLineBytes = 4u << 20;
  // tools/call requests waiting or running at once during serve(); more are refused with an error.
  static constexpr std::size_t kMaxPendingCalls = 256;
  // Worker threads running tools/call during serve().
  static constexpr std::size_t kMaxWorkers = 16;
  // Cache hint on 2026-07-28 tools/list and server/discover results (CacheableResult.ttlMs): the
  // tool set is fixed for the life of the process, but a new process may load a changed profile.
  static constexpr long kListTtlMs = 60'000;

  // Versions answered to `initialize`, newest first; the first one is the fallback.
  static const std::vector<std::string>& legacy_versions();
  // Versions accepted in a request's _meta and listed by server/discover.
  static const std::vector<std::string>& modern_versions();

  McpServer(McpToolService& tools, std::string server_name, std::string server_version);
  McpServer(const McpServer&) = delete;
  McpServer& operator=(const McpServer&) = delete;

  // Optional natural-language guidance for the model, returned by initialize and server/discover.
  void set_instructions(std::string instructions) { instructions_ = std::move(instructions); }

  // One incoming line -> zero or more outgoing lines (responses; never more than one per request).
  // tools/call runs synchronously here. Not to be used while serve() runs.
  std::vector<std::string> handle_line(std::string_view line);

  // The stdio loop: reads lines from in_fd, writes responses to out_fd (whole lines, under a
  // mutex), until end of file. tools/call runs on worker threads so that a notifications/cancelled
  // for it can be read meanwhile. At end of file, calls still running are allowed to finish and
  // their responses are written (a client may close stdin right after its last request), then
  // serve() returns 0. Returns 1 when reading or writing fails (the client went away).
  int serve(int in_fd, int out_fd);

 private:
  enum class Era { kLegacy, kModern };
  // How a request is answered: which era, and which version within it.
  struct Dialect {
    Era era;
    std::string version;
  };
  struct ToolJob {
    nlohmann::json id;
    std::string key;  // id as JSON text, the key of in_flight_
    std::string name;
    nlohmann::json arguments;
    Dialect dialect;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };
  // What one line turns into: responses known now, and tool calls still to run.
  struct Outcome {
    std::vector<nlohmann::json> now;
    std::vector<ToolJob> jobs;
    bool batch = false;  // answer with one JSON array (a 2025-03-26 batch)
  };
  struct Step {
    std::optional<nlohmann::json> response;
    std::optional<ToolJob> job;
  };
  class Serve;

  Outcome process(std::string_view line, std::size_t max_pending);
  Step step(const nlohmann::json& message, bool in_batch, std::size_t max_pending);
  Step request(const nlohmann::json& id, const std::string& method, const nlohmann::json& params, bool in_batch,
               std::size_t max_pending);
  Step legacy_request(const nlohmann::json& id, const std::string& method, const nlohmann::json& params,
                      std::size_t max_pending);
  Step modern_request(const nlohmann::json& id, const std::string& method, const nlohmann::json& params,
                      std::size_t max_pending);
  nlohmann::json initialize(const nlohmann::json& id, const nlohmann::json& params);
  nlohmann::json tools_list(const nlohmann::json& id, const nlohmann::json& params, const Dialect& dialect);
  Step tools_call(const nlohmann::json& id, const nlohmann::json& params, const Dialect& dialect,
                  std::size_t max_pending);
  nlohmann::json discover(const nlohmann::json& id);
  void cancel(const nlohmann::json& params);
  void cancel_all();
  static nlohmann::json oversize_error();
  nlohmann::json finish(nlohmann::json result, const Dialect& dialect) const;

  // Runs a tool call; nullopt when it was cancelled (its response is not sent). Any thread.
  std::optional<nlohmann::json> run(const ToolJob& job);

  McpToolService& tools_;
  std::string server_name_, server_version_, instructions_;

  // Legacy session state, touched only by the thread that reads lines.
  std::string legacy_version_;  // empty until an initialize succeeded

  std::mutex in_flight_mutex_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> in_flight_;  // tools/call by id, queued or running
};

}  // namespace paddock
