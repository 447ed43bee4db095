#include "tools/worker/isolate_runner.h"

#include <v8-context.h>
#include <v8-exception.h>
#include <v8-function.h>
#include <v8-isolate.h>
#include <v8-json.h>
#include <v8-message.h>
#include <v8-microtask-queue.h>
#include <v8-primitive.h>
#include <v8-promise.h>
#include <v8-script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

#include "tools/worker/hardening.h"
#include "tools/worker/host_bridge.h"
#include "tools/worker/platform.h"
#include "tools/worker/snapshot.h"
#include "tools/worker_protocol.h"

namespace paddock::tools {

namespace {

using nlohmann::json;

// Below this V8 cannot even set up a context; a tool asking for less gets this much.
constexpr std::size_t kMinMemoryBytes = 16u << 20;
constexpr std::size_t kMaxErrorChars = 1000;

// What the fatal-error handlers need to say goodbye: they run where no C++ state can be trusted.
struct CurrentRequest {
  std::int64_t id = -1;
  const char* reply = "result";
};
CurrentRequest g_current;

// V8 aborts the process on an out-of-memory it cannot unwind (a single allocation past every limit). The
// supervisor still gets a proper answer for the call before the worker goes; it starts a new worker next time.
void say_goodbye(const char* kind, const char* what, const char* location) {
  char buf[512];
  // A location is a V8 function name: no quotes or backslashes to escape.
  int n = std::snprintf(buf, sizeof buf,
                        R"J({"type":"%s","id":%lld,"ok":false,"kind":"%s","error":"%s (%s)","host_calls":[],)J"
                        R"J("worker_exiting":true})J",
                        g_current.reply, static_cast<long long>(g_current.id), kind, what, location ? location : "");
  if (n > 0 && g_current.id >= 0)
    send_frame(kWorkerFd, std::string_view(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1)));
  std::_Exit(70);
}

void on_oom(const char* location, bool /*is_heap_oom*/) {
  say_goodbye("memory", "out of memory", location);
}
void on_fatal(const char* location, const char* /*message*/) {
  say_goodbye("crash", "V8 fatal error", location);
}

v8::MaybeLocal<v8::Module> refuse_import(v8::Local<v8::Context> context, v8::Local<v8::String> specifier,
                                         v8::Local<v8::FixedArray>, v8::Local<v8::Module>) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::String::Utf8Value spec(isolate, specifier);
  std::string message = std::string("imports are not allowed: \"") + (*spec ? *spec : "") + "\"";
  isolate->ThrowException(
      v8::Exception::Error(v8::String::NewFromUtf8(isolate, message.c_str()).FromMaybe(v8::Local<v8::String>())));
  return {};
}

v8::MaybeLocal<v8::Promise> refuse_dynamic_import(v8::Local<v8::Context> context, v8::Local<v8::Data>,
                                                  v8::Local<v8::Value>, v8::Local<v8::String> specifier,
                                                  v8::Local<v8::FixedArray>) {
  v8::Local<v8::Promise::Resolver> resolver;
  if (!v8::Promise::Resolver::New(context).ToLocal(&resolver)) return {};
  v8::Isolate* isolate = context->GetIsolate();
  v8::String::Utf8Value spec(isolate, specifier);
  std::string message = std::string("imports are not allowed: \"") + (*spec ? *spec : "") + "\"";
  resolver->Reject(context, v8::Exception::Error(v8::String::NewFromUtf8(isolate, message.c_str()).ToLocalChecked()))
      .Check();
  return resolver->GetPromise();
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  if (s.size() > kMaxErrorChars) s = s.substr(0, kMaxErrorChars) + "...";
  return s;
}

std::string describe_exception(v8::Isolate* isolate, v8::Local<v8::Value> exception,
                               v8::Local<v8::Message> message = {}) {
  if (exception.IsEmpty()) return "unknown exception";
  v8::TryCatch inner(isolate);  // a toString() that throws must not leave an exception behind
  v8::String::Utf8Value text(isolate, exception);
  std::string out = *text ? std::string(*text, static_cast<std::size_t>(text.length())) : "exception";
  if (!message.IsEmpty()) {
    int line = message->GetLineNumber(isolate->GetCurrentContext()).FromMaybe(0);
    if (line > 0) out += " (line " + std::to_string(line) + ")";
  }
  return one_line(out);
}

std::uint64_t get_u64(const json& obj, const char* key, std::uint64_t fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) return fallback;
  return it->get<std::uint64_t>();
}

v8::Local<v8::String> v8_str(v8::Isolate* isolate, const std::string& s) {
  return v8::String::NewFromUtf8(isolate, s.data(), v8::NewStringType::kNormal, static_cast<int>(s.size()))
      .ToLocalChecked();
}

// What is wrong with a request's fields, if anything: checked before anything is armed, so a malformed request is
// answered with kind "protocol" and never half-runs.
std::optional<std::string> malformed(const json& r) {
  auto has = [&](const char* key) { return r.contains(key); };
  if (has("id") && !r["id"].is_number_integer()) return "\"id\" is not an integer";
  if (!r.contains("source") || !r["source"].is_string()) return "no \"source\" string";
  if (has("tool") && !r["tool"].is_string()) return "\"tool\" is not a string";
  if (has("wasm") && !r["wasm"].is_boolean()) return "\"wasm\" is not a boolean";
  if (has("seed") && !r["seed"].is_number_unsigned()) return "\"seed\" is not an unsigned integer";
  if (has("time_ms") && !r["time_ms"].is_number()) return "\"time_ms\" is not a number";
  if (has("limits") && !r["limits"].is_object()) return "\"limits\" is not an object";
  if (has("grants")) {
    if (!r["grants"].is_array()) return "\"grants\" is not an array";
    for (const auto& g : r["grants"])
      if (!g.is_string()) return "\"grants\" holds a non-string";
  }
  return std::nullopt;
}

std::int64_t request_id(const json& r) {
  return r.contains("id") && r["id"].is_number_integer() ? r["id"].get<std::int64_t>() : -1;
}

}  // namespace

struct IsolateRunner::Limits {
  std::uint64_t timeout_ms = kDefaultTimeoutMs;
  std::size_t memory_bytes = kDefaultMemoryBytes;
  std::size_t max_output_bytes = kDefaultMaxOutputBytes;

  static Limits from(const json& request) {
    Limits l;
    const json& j = request.contains("limits") ? request["limits"] : json();
    l.timeout_ms = get_u64(j, "timeout_ms", l.timeout_ms);
    l.memory_bytes = std::max<std::size_t>(get_u64(j, "memory_bytes", l.memory_bytes), kMinMemoryBytes);
    // The result must fit in one frame with its envelope (JSON escaping can only grow it, so leave room).
    l.max_output_bytes = std::min<std::size_t>(get_u64(j, "max_output_bytes", l.max_output_bytes), kMaxFrameBytes / 2);
    return l;
  }
};

struct IsolateRunner::Failure {
  std::string kind;
  std::string error;
};

IsolateRunner::IsolateRunner(Channel& channel, Watchdog& watchdog)
    : channel_(channel), watchdog_(watchdog), pool_memory_(kDefaultMemoryBytes) {}

IsolateRunner::~IsolateRunner() {
  drop_isolates();
}

IsolateRunner::Slot IsolateRunner::make_slot(std::size_t memory_bytes) {
  Slot slot;
  slot.allocator = std::make_unique<BudgetAllocator>();
  slot.guard = std::make_unique<HeapGuard>();
  v8::Isolate::CreateParams params;
  params.array_buffer_allocator = slot.allocator.get();
  params.constraints.ConfigureDefaultsFromHeapSize(0, memory_bytes);
  if (v8::StartupData* blob = current_snapshot()) {
    params.snapshot_blob = blob;
    params.external_references = HostBridge::external_references();
    slot.from_snapshot = true;
  }
  slot.isolate = v8::Isolate::New(params);
  slot.memory_bytes = memory_bytes;
  slot.serial = next_serial_++;
  slot.isolate->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
  slot.isolate->SetOOMErrorHandler(&on_oom);
  slot.isolate->SetFatalErrorHandler(&on_fatal);
  slot.isolate->SetHostImportModuleDynamicallyCallback(&refuse_dynamic_import);
  harden_isolate(slot.isolate);
  slot.guard->install(slot.isolate);
  return slot;
}

void IsolateRunner::dispose(Slot& slot) {
  if (!slot.isolate) return;
  slot.isolate->Dispose();
  slot.isolate = nullptr;
  slot.allocator.reset();
  slot.guard.reset();
}

void IsolateRunner::ensure_isolate(std::size_t memory_bytes) {
  pool_memory_ = memory_bytes;
  if (current_ && current_->memory_bytes == memory_bytes) {
    current_origin_ = "kept";
    return;
  }
  dispose_current();
  for (auto it = spares_.begin(); it != spares_.end(); ++it) {
    if (it->memory_bytes != memory_bytes) continue;
    current_ = std::move(*it);
    spares_.erase(it);
    current_origin_ = "pool";
    return;
  }
  current_ = make_slot(memory_bytes);
  current_origin_ = "new";
}

void IsolateRunner::dispose_current() {
  if (!current_) return;
  dispose(*current_);
  current_.reset();
}

bool IsolateRunner::fill_pool() {
  // Spares made for another memory limit go first, one at a time: disposing also takes a while.
  for (auto it = spares_.begin(); it != spares_.end(); ++it) {
    if (it->memory_bytes == pool_memory_) continue;
    dispose(*it);
    spares_.erase(it);
    return true;
  }
  if (spares_.size() >= kPoolSize) return false;
  spares_.push_back(make_slot(pool_memory_));
  return true;
}

void IsolateRunner::drop_isolates() {
  dispose_current();
  for (Slot& s : spares_) dispose(s);
  spares_.clear();
}

bool IsolateRunner::terminated() const {
  return watchdog_.fired() || (current_ && current_->guard->exceeded());
}

json IsolateRunner::isolate_info() const {
  if (!current_) return nullptr;
  return {{"serial", current_->serial}, {"origin", current_origin_}, {"snapshot", current_->from_snapshot}};
}

namespace {

// Drives a promise to completion: microtasks, then host answers, until it settles, the clock runs out, or nothing
// is left that could settle it.
enum class Settle { kSettled, kTerminated, kStuck };

Settle settle(v8::Isolate* isolate, v8::Local<v8::Promise> promise, HostBridge* bridge,
              const std::function<bool()>& terminated) {
  for (;;) {
    isolate->PerformMicrotaskCheckpoint();
    if (terminated()) return Settle::kTerminated;
    if (promise->State() != v8::Promise::kPending) return Settle::kSettled;
    if (!bridge || bridge->pending() == 0) return Settle::kStuck;
    if (!bridge->wait_one()) return Settle::kTerminated;
  }
}

}  // namespace

json IsolateRunner::call(const json& request) {
  auto started = std::chrono::steady_clock::now();
  std::int64_t id = request_id(request);
  json reply = {{"type", "result"}, {"id", id}};
  if (auto what = malformed(request)) {
    reply.update({{"ok", false},
                  {"kind", "protocol"},
                  {"error", "malformed call: " + *what},
                  {"host_calls", json::array()},
                  {"duration_ms", 0}});
    return reply;
  }
  Limits limits = Limits::from(request);
  std::string tool = request.value("tool", std::string("tool"));

  ensure_isolate(limits.memory_bytes);
  v8::Isolate* isolate = current_->isolate;
  current_->allocator->set_budget(limits.memory_bytes);
  json isolate_used = isolate_info();
  set_call_clock(static_cast<double>(
      request.contains("time_ms") && request["time_ms"].is_number() ? request["time_ms"].get<double>() : 0.0));
  bool wasm = request.value("wasm", false);
  set_wasm_allowed(wasm);
  g_current = {id, "result"};

  std::optional<Failure> failure;
  std::optional<json> output;
  json host_calls = json::array();
  watchdog_.arm(isolate, std::chrono::milliseconds(limits.timeout_ms));
  {
    v8::Isolate::Scope isolate_scope(isolate);
    v8::HandleScope handles(isolate);
    ContextKit kit;
    bool kit_ok = new_context(isolate, current_->from_snapshot, &kit);
    v8::Local<v8::Context> context = kit.context;
    v8::Context::Scope context_scope(context);
    HostBridge bridge(isolate, channel_, watchdog_, id, request.contains("grants") ? request["grants"] : json());
    auto is_terminated = [this] { return terminated(); };
    auto fail = [&](const char* kind, const std::string& error) {
      if (terminated())
        failure = current_->guard->exceeded()
                      ? Failure{"memory", "memory limit of " + std::to_string(limits.memory_bytes) + " bytes exceeded"}
                      : Failure{"timeout", "timed out after " + std::to_string(limits.timeout_ms) + " ms"};
      else
        failure = Failure{kind, error};
    };

    v8::TryCatch tc(isolate);
    v8::Local<v8::Module> module;
    v8::Local<v8::Value> value;
    if (!kit_ok || !harden_context(isolate, kit, get_u64(request, "seed", 0), wasm)) {
      fail("exception", "context setup failed: " + describe_exception(isolate, tc.Exception()));
    } else {
      v8::ScriptOrigin origin(isolate, v8_str(isolate, tool + ".mjs"), 0, 0, false, -1, {}, false, false, true);
      v8::ScriptCompiler::Source source(v8_str(isolate, request["source"].get_ref<const std::string&>()), origin);
      if (!v8::ScriptCompiler::CompileModule(isolate, &source).ToLocal(&module)) {
        fail("bad_module", describe_exception(isolate, tc.Exception(), tc.Message()));
      } else if (!module->InstantiateModule(context, &refuse_import).FromMaybe(false)) {
        fail("bad_module", describe_exception(isolate, tc.Exception()));
      } else if (!module->Evaluate(context).ToLocal(&value)) {
        fail("bad_module", describe_exception(isolate, tc.Exception()));
      }
    }
    // Top-level code runs before the default export: its promise (top-level await) must settle first.
    if (!failure && value->IsPromise()) {
      auto p = value.As<v8::Promise>();
      Settle s = settle(isolate, p, nullptr, is_terminated);
      if (s == Settle::kTerminated)
        fail("timeout", "");
      else if (s == Settle::kStuck)
        fail("bad_module", "the module's top-level await never settles");
      else if (p->State() == v8::Promise::kRejected)
        fail("bad_module", describe_exception(isolate, p->Result()));
    }
    v8::Local<v8::Value> entry;
    if (!failure) {
      auto ns = module->GetModuleNamespace().As<v8::Object>();
      if (!ns->Get(context, v8_str(isolate, "default")).ToLocal(&entry) || !entry->IsFunction())
        fail("bad_module", "the module has no default export function");
    }
    if (!failure) {
      v8::Local<v8::Value> input;
      if (!v8::JSON::Parse(context, v8_str(isolate, request.value("input", json()).dump())).ToLocal(&input))
        input = v8::Null(isolate);
      v8::Local<v8::Value> args[] = {input, kit.host};
      if (!entry.As<v8::Function>()->Call(context, v8::Undefined(isolate), 2, args).ToLocal(&value)) {
        v8::Local<v8::Value> e = tc.Exception();
        fail(is_not_authorized_error(isolate, e) ? "not_authorized" : "exception", describe_exception(isolate, e));
      }
    }
    if (!failure && value->IsPromise()) {
      auto p = value.As<v8::Promise>();
      Settle s = settle(isolate, p, &bridge, is_terminated);
      if (s == Settle::kTerminated) {
        fail("timeout", "");
      } else if (s == Settle::kStuck) {
        fail("exception", "the tool's promise never settles (nothing left to wait for)");
      } else if (p->State() == v8::Promise::kRejected) {
        v8::Local<v8::Value> e = p->Result();
        fail(is_not_authorized_error(isolate, e) ? "not_authorized" : "exception", describe_exception(isolate, e));
      } else {
        value = p->Result();
      }
    }
    if (!failure) {
      v8::Local<v8::String> text;
      if (value->IsUndefined()) {
        output = json();
      } else if (!v8::JSON::Stringify(context, value).ToLocal(&text)) {
        fail("exception", "the result is not JSON: " + describe_exception(isolate, tc.Exception()));
      } else if (static_cast<std::size_t>(text->Utf8Length(isolate)) > limits.max_output_bytes) {
        fail("output_too_large", "the result is over " + std::to_string(limits.max_output_bytes) + " bytes");
      } else {
        v8::String::Utf8Value utf8(isolate, text);
        json parsed = json::parse(*utf8, *utf8 + utf8.length(), nullptr, false);
        if (parsed.is_discarded())
          fail("exception", "the result is not valid JSON text (a lone surrogate?)");
        else
          output = std::move(parsed);
      }
    }
    host_calls = bridge.host_calls();
  }
  watchdog_.disarm();
  g_current = {};
  // Any termination, even one that landed after the result was ready, poisons the isolate.
  if (terminated() || isolate->IsExecutionTerminating()) {
    dispose_current();
  } else {
    isolate->ContextDisposedNotification();
    pump_platform_tasks(isolate);
  }

  auto duration = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (failure) {
    reply.update({{"ok", false}, {"kind", failure->kind}, {"error", failure->error}});
  } else {
    reply.update({{"ok", true}, {"output", std::move(*output)}});
  }
  reply["host_calls"] = std::move(host_calls);
  reply["duration_ms"] = duration;
  reply["isolate"] = std::move(isolate_used);
  return reply;
}

json IsolateRunner::describe(const json& request) {
  std::int64_t id = request_id(request);
  json reply = {{"type", "described"}, {"id", id}};
  if (auto what = malformed(request)) {
    reply.update({{"ok", false}, {"kind", "protocol"}, {"error", "malformed describe: " + *what}});
    return reply;
  }
  Limits limits = Limits::from(request);
  ensure_isolate(limits.memory_bytes);
  v8::Isolate* isolate = current_->isolate;
  current_->allocator->set_budget(limits.memory_bytes);
  json isolate_used = isolate_info();
  set_call_clock(0);
  set_wasm_allowed(false);
  g_current = {id, "described"};

  std::optional<Failure> failure;
  json description;
  json schema;
  watchdog_.arm(isolate, std::chrono::milliseconds(limits.timeout_ms));
  {
    v8::Isolate::Scope isolate_scope(isolate);
    v8::HandleScope handles(isolate);
    ContextKit kit;
    bool kit_ok = new_context(isolate, current_->from_snapshot, &kit);
    v8::Local<v8::Context> context = kit.context;
    v8::Context::Scope context_scope(context);
    auto fail = [&](const char* kind, const std::string& error) {
      if (terminated())
        failure = Failure{current_->guard->exceeded() ? "memory" : "timeout", "the module's top level did not finish"};
      else
        failure = Failure{kind, error};
    };
    v8::TryCatch tc(isolate);
    v8::Local<v8::Module> module;
    v8::Local<v8::Value> value;
    if (!kit_ok || !harden_context(isolate, kit, 0, false)) {
      fail("exception", "context setup failed");
    } else {
      v8::ScriptOrigin origin(isolate, v8_str(isolate, request.value("tool", std::string("tool")) + ".mjs"), 0, 0,
                              false, -1, {}, false, false, true);
      v8::ScriptCompiler::Source source(v8_str(isolate, request["source"].get_ref<const std::string&>()), origin);
      if (!v8::ScriptCompiler::CompileModule(isolate, &source).ToLocal(&module))
        fail("bad_module", describe_exception(isolate, tc.Exception(), tc.Message()));
      else if (!module->InstantiateModule(context, &refuse_import).FromMaybe(false))
        fail("bad_module", describe_exception(isolate, tc.Exception()));
      else if (!module->Evaluate(context).ToLocal(&value))
        fail("bad_module", describe_exception(isolate, tc.Exception()));
    }
    if (!failure && value->IsPromise()) {
      auto p = value.As<v8::Promise>();
      Settle s = settle(isolate, p, nullptr, [this] { return terminated(); });
      if (s == Settle::kTerminated)
        fail("timeout", "");
      else if (s == Settle::kStuck)
        fail("bad_module", "the module's top-level await never settles");
      else if (p->State() == v8::Promise::kRejected)
        fail("bad_module", describe_exception(isolate, p->Result()));
    }
    if (!failure) {
      auto ns = module->GetModuleNamespace().As<v8::Object>();
      v8::Local<v8::Value> d;
      if (ns->Get(context, v8_str(isolate, "description")).ToLocal(&d) && d->IsString()) {
        v8::String::Utf8Value s(isolate, d);
        description = std::string(*s, static_cast<std::size_t>(s.length()));
      }
      v8::Local<v8::Value> in;
      v8::Local<v8::String> text;
      if (ns->Get(context, v8_str(isolate, "input")).ToLocal(&in) && in->IsObject() &&
          v8::JSON::Stringify(context, in).ToLocal(&text)) {
        v8::String::Utf8Value s(isolate, text);
        json parsed = json::parse(*s, *s + s.length(), nullptr, false);
        if (!parsed.is_discarded()) schema = std::move(parsed);
      }
    }
  }
  watchdog_.disarm();
  g_current = {};
  if (terminated() || isolate->IsExecutionTerminating()) dispose_current();

  if (failure)
    reply.update({{"ok", false}, {"kind", failure->kind}, {"error", failure->error}});
  else
    reply.update({{"ok", true}, {"description", description}, {"input_schema", schema}});
  reply["isolate"] = std::move(isolate_used);
  return reply;
}

}  // namespace paddock::tools
