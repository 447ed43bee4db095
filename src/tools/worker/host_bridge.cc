#include "tools/worker/host_bridge.h"

#include <v8-container.h>
#include <v8-exception.h>
#include <v8-function.h>
#include <v8-isolate.h>
#include <v8-json.h>
#include <v8-primitive.h>

#include <cstdio>

namespace paddock::tools {

namespace {

// A runaway logger must not flood the supervisor: long messages are cut, and a call's log has a ceiling.
constexpr std::size_t kMaxLogMessage = 64u << 10;
constexpr std::size_t kMaxLogPerCall = 1u << 20;
// host_calls is an audit summary, not a transcript.
constexpr std::size_t kMaxRecords = 1000;

// The bridge of the call in progress: the worker runs one call at a time, on one thread.
HostBridge* g_active = nullptr;

// Every C++ address a snapshot may refer to. Given to SnapshotCreator and to every isolate made from the blob.
const std::intptr_t kExternalReferences[] = {reinterpret_cast<std::intptr_t>(&HostBridge::invoke_callback), 0};

v8::Local<v8::String> str(v8::Isolate* isolate, std::string_view s) {
  return v8::String::NewFromUtf8(isolate, s.data(), v8::NewStringType::kNormal, static_cast<int>(s.size()))
      .ToLocalChecked();
}

std::string utf8(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  v8::String::Utf8Value s(isolate, value);
  return *s ? std::string(*s, static_cast<std::size_t>(s.length())) : std::string();
}

}  // namespace

HostBridge::HostBridge(v8::Isolate* isolate, Channel& channel, Watchdog& watchdog, std::int64_t call_id,
                       const nlohmann::json& grants)
    : isolate_(isolate), channel_(channel), watchdog_(watchdog), call_id_(call_id) {
  g_active = this;
  for (std::size_t i = 0; i < kFunctions; ++i) {
    if (grants.is_array())
      for (const auto& g : grants)
        if (g.is_string() && g.get<std::string>() == kHostFunctions[i]) granted_[i] = true;
  }
}

HostBridge::~HostBridge() {
  if (g_active == this) g_active = nullptr;
}

const std::intptr_t* HostBridge::external_references() {
  return kExternalReferences;
}

v8::MaybeLocal<v8::Object> HostBridge::make_host_object(v8::Local<v8::Context> context) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::EscapableHandleScope scope(isolate);
  v8::Local<v8::Object> host = v8::Object::New(isolate);
  std::map<std::string, v8::Local<v8::Object>, std::less<>> namespaces;
  for (std::size_t i = 0; i < kFunctions; ++i) {
    std::string_view name = kHostFunctions[i];
    v8::Local<v8::Object> target = host;
    std::string_view leaf = name;
    if (auto dot = name.find('.'); dot != std::string_view::npos) {
      std::string ns(name.substr(0, dot));
      leaf = name.substr(dot + 1);
      auto it = namespaces.find(ns);
      if (it == namespaces.end()) {
        it = namespaces.emplace(ns, v8::Object::New(isolate)).first;
        if (host->Set(context, str(isolate, ns), it->second).IsNothing()) return {};
      }
      target = it->second;
    }
    // The function's data is its index in kHostFunctions: a number, which a snapshot can hold (a pointer cannot).
    v8::Local<v8::Function> fn;
    if (!v8::Function::New(context, &HostBridge::invoke_callback,
                           v8::Integer::NewFromUnsigned(isolate, static_cast<std::uint32_t>(i)), 0,
                           v8::ConstructorBehavior::kThrow)
             .ToLocal(&fn))
      return {};
    fn->SetName(str(isolate, leaf));
    if (target->Set(context, str(isolate, leaf), fn).IsNothing()) return {};
  }
  // Frozen: a tool cannot swap a host function for one that a later library call would trust.
  for (auto& [ns, obj] : namespaces)
    if (obj->SetIntegrityLevel(context, v8::IntegrityLevel::kFrozen).IsNothing()) return {};
  if (host->SetIntegrityLevel(context, v8::IntegrityLevel::kFrozen).IsNothing()) return {};
  return scope.Escape(host);
}

void HostBridge::invoke_callback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  std::size_t index = kFunctions;
  if (info.Data()->IsUint32()) index = info.Data().As<v8::Uint32>()->Value();
  if (g_active == nullptr || g_active->isolate_ != isolate || index >= kFunctions) {
    // A host function outliving its call (impossible: each call's context is new) is refused, not trusted.
    isolate->ThrowException(v8::Exception::Error(str(isolate, "host function called outside its call")));
    return;
  }
  HostBridge& self = *g_active;
  std::string_view name = kHostFunctions[index];
  if (!self.granted_[index]) {
    std::string message = "not authorized: " + std::string(name);
    if (self.records_.size() < kMaxRecords) self.records_.push_back(Record{std::string(name), false, message});
    v8::Local<v8::Value> error = self.make_error(message);
    if (name == "secret" || name == "log") {
      self.isolate_->ThrowException(error);
      return;
    }
    auto resolver = v8::Promise::Resolver::New(self.isolate_->GetCurrentContext()).ToLocalChecked();
    resolver->Reject(self.isolate_->GetCurrentContext(), error).Check();
    info.GetReturnValue().Set(resolver->GetPromise());
    return;
  }
  if (name == "secret") return self.call_secret(info);
  if (name == "log") return self.call_log(info);
  self.call_async(info, index);
}

std::optional<std::uint64_t> HostBridge::send_request(const v8::FunctionCallbackInfo<v8::Value>& info,
                                                      std::size_t index) {
  v8::Local<v8::Context> context = isolate_->GetCurrentContext();
  v8::Local<v8::Array> args = v8::Array::New(isolate_, info.Length());
  for (int i = 0; i < info.Length(); ++i) args->Set(context, static_cast<std::uint32_t>(i), info[i]).Check();
  v8::Local<v8::String> text;
  if (!v8::JSON::Stringify(context, args).ToLocal(&text)) return std::nullopt;  // the exception propagates
  nlohmann::json parsed = nlohmann::json::parse(utf8(isolate_, text), nullptr, false);
  if (parsed.is_discarded()) {
    isolate_->ThrowException(v8::Exception::TypeError(str(isolate_, "host function arguments must be JSON")));
    return std::nullopt;
  }
  std::uint64_t seq = next_seq_++;
  if (records_.size() < kMaxRecords) {
    seq_record_[seq] = records_.size();
    records_.push_back(Record{std::string(kHostFunctions[index]), std::nullopt, {}});
  }
  channel_.send({{"type", "host"},
                 {"id", call_id_},
                 {"seq", seq},
                 {"fn", std::string(kHostFunctions[index])},
                 {"args", std::move(parsed)}});
  return seq;
}

void HostBridge::call_async(const v8::FunctionCallbackInfo<v8::Value>& info, std::size_t index) {
  v8::Local<v8::Context> context = isolate_->GetCurrentContext();
  auto seq = send_request(info, index);
  if (!seq) return;
  auto resolver = v8::Promise::Resolver::New(context).ToLocalChecked();
  pending_.emplace(*seq, v8::Global<v8::Promise::Resolver>(isolate_, resolver));
  info.GetReturnValue().Set(resolver->GetPromise());
}

void HostBridge::call_secret(const v8::FunctionCallbackInfo<v8::Value>& info) {
  std::size_t index = 0;
  while (kHostFunctions[index] != "secret") ++index;
  auto seq = send_request(info, index);
  if (!seq) return;
  sync_seq_ = seq;
  sync_answer_.reset();
  while (!sync_answer_) {
    nlohmann::json msg;
    if (channel_.next(msg, watchdog_.wake_fd()) == Channel::Wait::kWoken) {
      // The deadline passed while we waited; the pending termination unwinds the tool as soon as we return.
      sync_seq_.reset();
      isolate_->TerminateExecution();
      return;
    }
    dispatch(msg);
  }
  sync_seq_.reset();
  nlohmann::json answer = std::move(*sync_answer_);
  sync_answer_.reset();
  if (answer.value("ok", false)) {
    info.GetReturnValue().Set(to_v8(answer.value("value", nlohmann::json())));
  } else {
    isolate_->ThrowException(make_error(answer.value("error", std::string("host function failed"))));
  }
}

void HostBridge::call_log(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Local<v8::Context> context = isolate_->GetCurrentContext();
  std::string message;
  for (int i = 0; i < info.Length() && message.size() < kMaxLogMessage; ++i) {
    if (i > 0) message += ' ';
    v8::Local<v8::String> text;
    if (info[i]->IsString() || !v8::JSON::Stringify(context, info[i]).ToLocal(&text)) {
      v8::TryCatch ignore(isolate_);  // an object whose toString throws still logs something
      if (!info[i]->ToString(context).ToLocal(&text)) text = str(isolate_, "?");
    }
    message += utf8(isolate_, text);
  }
  if (message.size() > kMaxLogMessage) message.resize(kMaxLogMessage);
  if (records_.size() < kMaxRecords) records_.push_back(Record{"log", true, {}});
  if (log_bytes_ >= kMaxLogPerCall) return;
  log_bytes_ += message.size();
  channel_.send({{"type", "log"}, {"id", call_id_}, {"message", std::move(message)}});
}

bool HostBridge::wait_one() {
  nlohmann::json msg;
  if (channel_.next(msg, watchdog_.wake_fd()) == Channel::Wait::kWoken) return false;
  dispatch(msg);
  return true;
}

void HostBridge::dispatch(const nlohmann::json& msg) {
  const std::string& type = msg["type"].get_ref<const std::string&>();
  if (type == "pause_clock") return watchdog_.pause();
  if (type == "resume_clock") return watchdog_.resume();
  if (type != "host_result") {
    std::fprintf(stderr, "paddock-tool-worker: ignoring a \"%s\" message during a call\n", type.c_str());
    return;
  }
  // An answer for an earlier call (one that timed out, say) arrives late: drop it.
  if (msg.value("id", std::int64_t{-1}) != call_id_ || !msg.contains("seq") || !msg["seq"].is_number_unsigned()) return;
  auto seq = msg["seq"].get<std::uint64_t>();
  bool ok = msg.value("ok", false);
  std::string error = ok ? std::string() : msg.value("error", std::string("host function failed"));
  if (auto r = seq_record_.find(seq); r != seq_record_.end()) {
    records_[r->second].ok = ok;
    records_[r->second].error = error;
  }
  if (sync_seq_ && seq == *sync_seq_) {
    sync_answer_ = msg;
    return;
  }
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Context> context = isolate_->GetCurrentContext();
  v8::Local<v8::Promise::Resolver> resolver = it->second.Get(isolate_);
  pending_.erase(it);
  if (ok) {
    v8::Local<v8::Value> value = to_v8(msg.value("value", nlohmann::json()));
    if (!value.IsEmpty()) resolver->Resolve(context, value).Check();
  } else {
    resolver->Reject(context, make_error(error)).Check();
  }
}

v8::Local<v8::Value> HostBridge::to_v8(const nlohmann::json& value) {
  v8::Local<v8::Value> out;
  if (!v8::JSON::Parse(isolate_->GetCurrentContext(), str(isolate_, value.dump())).ToLocal(&out))
    return v8::Null(isolate_);
  return out;
}

v8::Local<v8::Value> HostBridge::make_error(const std::string& message) {
  return v8::Exception::Error(str(isolate_, message));
}

nlohmann::json HostBridge::host_calls() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records_) {
    nlohmann::json e = {{"fn", r.fn}, {"ok", r.ok.value_or(false)}};
    if (!r.ok)
      e["error"] = "no answer before the call ended";
    else if (!*r.ok)
      e["error"] = r.error;
    out.push_back(std::move(e));
  }
  return out;
}

bool is_not_authorized_error(v8::Isolate* isolate, v8::Local<v8::Value> exception) {
  if (exception.IsEmpty() || !exception->IsNativeError()) return false;
  v8::Local<v8::Value> message;
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (!exception.As<v8::Object>()->Get(context, str(isolate, "message")).ToLocal(&message)) return false;
  return utf8(isolate, message).starts_with("not authorized");
}

}  // namespace paddock::tools
