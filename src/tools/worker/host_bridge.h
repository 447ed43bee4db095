// The `host` object a tool receives and the traffic behind it: each granted call becomes a "host" message, each
// "host_result" settles the matching Promise. Ungranted functions exist and refuse locally.
//
// The host object itself holds no pointer into C++ (only each function's index), so it can live in a startup
// snapshot: its functions find the call's bridge through HostBridge::active(), the one bridge alive at a time.
#pragma once

#include <v8-context.h>
#include <v8-function-callback.h>
#include <v8-object.h>
#include <v8-persistent-handle.h>
#include <v8-promise.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tools/worker/channel.h"
#include "tools/worker/limits.h"
#include "tools/worker_protocol.h"

namespace paddock::tools {

class HostBridge {
 public:
  HostBridge(v8::Isolate* isolate, Channel& channel, Watchdog& watchdog, std::int64_t call_id,
             const nlohmann::json& grants);
  ~HostBridge();
  HostBridge(const HostBridge&) = delete;
  HostBridge& operator=(const HostBridge&) = delete;

  // The frozen host object of `context`, the same for every call: built into the snapshot, or per call without one.
  static v8::MaybeLocal<v8::Object> make_host_object(v8::Local<v8::Context> context);
  // The C++ functions the host object's functions call: the snapshot's external references (null-terminated).
  static const std::intptr_t* external_references();
  // What every host function calls (its data is the index in kHostFunctions).
  static void invoke_callback(const v8::FunctionCallbackInfo<v8::Value>& info);

  // Host calls still waiting for their answer.
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }
  // Waits for the next host answer and settles its Promise (microtasks are left for the caller to run).
  // False when the watchdog fired instead.
  bool wait_one();
  // Every host call of this call, in order: {"fn","ok"[,"error"]}.
  [[nodiscard]] nlohmann::json host_calls() const;

 private:
  static constexpr std::size_t kFunctions = std::size(kHostFunctions);
  struct Record {
    std::string fn;
    std::optional<bool> ok;  // empty while unanswered
    std::string error;
  };

  void call_async(const v8::FunctionCallbackInfo<v8::Value>& info, std::size_t index);
  void call_secret(const v8::FunctionCallbackInfo<v8::Value>& info);
  void call_log(const v8::FunctionCallbackInfo<v8::Value>& info);
  // Sends a "host" message for a granted function; returns its seq.
  std::optional<std::uint64_t> send_request(const v8::FunctionCallbackInfo<v8::Value>& info, std::size_t index);
  // Handles one incoming message; a host_result for `sync_seq` is stored in `sync_answer` instead of settling.
  void dispatch(const nlohmann::json& msg);
  v8::Local<v8::Value> to_v8(const nlohmann::json& value);
  v8::Local<v8::Value> make_error(const std::string& message);

  v8::Isolate* isolate_;
  Channel& channel_;
  Watchdog& watchdog_;
  std::int64_t call_id_;
  std::array<bool, kFunctions> granted_{};
  std::uint64_t next_seq_ = 1;
  std::vector<Record> records_;
  std::map<std::uint64_t, std::size_t> seq_record_;  // seq -> index in records_
  std::map<std::uint64_t, v8::Global<v8::Promise::Resolver>> pending_;
  std::optional<std::uint64_t> sync_seq_;
  std::optional<nlohmann::json> sync_answer_;
  std::size_t log_bytes_ = 0;
};

// True for an exception value that is one of the bridge's own "not authorized" refusals.
bool is_not_authorized_error(v8::Isolate* isolate, v8::Local<v8::Value> exception);

}  // namespace paddock::tools
