// The supervisor's side of tools (issue 6): a call of a declared tool goes through, in this
// order, the declaration (unknown tool: "tool not found"), the rate limit (checked before any
// isolate is made), the input schema (checked before any JavaScript runs), the approval gate,
// and then the tool's own worker (a V8 isolate inside an OS sandbox), whose host function
// requests are answered here, each within the tool's grants. Every call is audited.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "tools/worker_client.h"

namespace paddock {

class AuditWriter;
class RateLimiter;

struct ToolInfo {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // {"type":"object"} when the tool declares none
  std::vector<std::string> grants;
  nlohmann::json limits;  // timeout_ms, memory_bytes, max_output_bytes, rate_limit, requires_approval
};

struct ToolOutcome {
  bool ok = false;
  bool found = true;  // false: no such tool (a protocol error for MCP)
  nlohmann::json output;
  std::string error;  // one line
  std::string kind;   // not_found, rate_limited, invalid_input, rejected, timeout, memory, exception, ...
  std::string call_id;
  // A kill switch tripped with limits.on_exceed = "kill": the caller ends the session (137).
  bool end_session = false;
};

enum class ApprovalMode { Prompt, Never };

// Asks a person whether a call may run; returns true to approve. `who` is set to who decided.
using ApprovalPrompt = std::function<bool(const ToolDecl& tool, const nlohmann::json& input, std::string& who)>;

// Starts the worker for one tool (inside its sandbox); tests may start it unsandboxed.
using WorkerStarter = std::function<std::unique_ptr<tools::WorkerClient>(const ToolDecl& tool)>;

struct ToolRuntimeOptions {
  AuditWriter* audit = nullptr;
  WorkerStarter start_worker;
  ApprovalMode approve = ApprovalMode::Prompt;
  ApprovalPrompt prompt;                       // used when approve == Prompt
  std::string rate_db;                         // the rate-limit database ($XDG_STATE_HOME/paddock/rate.sqlite)
  std::string profile_key;                     // what rate limits are keyed by (the profile's path)
  std::map<std::string, std::string> secrets;  // declared secrets, read once at start
  std::function<void(const std::string& tool, const std::string& message)> on_log;  // host.log(...)
  // Where host function answers of tools with audit = "full" are stored for replay (content-
  // addressed files beside the session log); empty: not recorded.
  std::string record_dir;
};

// A recorded host function answer, as replay hands it back to a script.
struct RecordedAnswer {
  std::string fn;
  nlohmann::json answer;  // {"ok":true,"value":...} | {"ok":false,"error":"..."} | {"ok":true,"secret":"NAME"}
};

// How a recorded call is run again: the same seed and clock, and host functions answered from
// the record (in order) or, when `answers` is empty, for real (--live).
struct ReplaySpec {
  std::uint64_t seed = 0;
  std::int64_t time_ms = -1;
  std::optional<std::vector<RecordedAnswer>> answers;
};

class ToolRuntime {
 public:
  ToolRuntime(const Policy& policy, ToolRuntimeOptions options);
  ~ToolRuntime();
  ToolRuntime(const ToolRuntime&) = delete;
  ToolRuntime& operator=(const ToolRuntime&) = delete;

  // Every declared tool, with its description and input schema (read from the script's exports
  // when the profile gives none). Throws Error when a script cannot be read or evaluated.
  std::vector<ToolInfo> list();
  [[nodiscard]] bool has(const std::string& name) const;
  ToolOutcome call(const std::string& name, const nlohmann::json& input, const std::atomic<bool>* cancelled = nullptr);
  // Runs a call again for `paddock replay` (no kill switches, rate limit, approval or audit).
  ToolOutcome replay(const std::string& name, const nlohmann::json& input, const ReplaySpec& spec);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The host function names a tool's declaration grants, in kHostFunctions order.
std::vector<std::string> granted_host_functions(const ToolDecl& tool);

}  // namespace paddock
