#include "tools/worker/hardening.h"

#include <v8-exception.h>
#include <v8-isolate.h>
#include <v8-primitive.h>
#include <v8-script.h>

#include <atomic>

#include "tools/worker/host_bridge.h"

namespace paddock::tools {

namespace {

std::atomic<bool> g_wasm_allowed{false};

// Runs once per context (or once into the snapshot), before the tool's module. It installs what a snapshot can
// keep and returns setup(lo, hi, wasm), which every call runs on its fresh context.
//  - Math.random: sfc32 seeded from the call's seed; 53 random bits per number like V8's own.
//  - SharedArrayBuffer is already gone (flag); Atomics.wait/waitAsync would only block on shared memory, drop them.
//    In setup(): V8 re-installs flag-dependent builtins (Atomics.wait among them) on every context it
//    deserialises, so a deletion made before the snapshot would not hold.
//  - WebAssembly: removed unless granted; the code-generation callback refuses compilation anyway.
constexpr const char kPrelude[] = R"JS((function () {
  "use strict";
  let a = 0, b = 0, c = 0, d = 0;
  function next() {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  }
  const random = function random() {
    return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  };
  Object.defineProperty(Math, "random", { value: random, writable: true, configurable: true, enumerable: false });
  return function setup(lo, hi, wasm) {
    a = lo >>> 0; b = hi >>> 0; c = 0x9e3779b9; d = 1;
    for (let i = 0; i < 15; i++) next();
    delete globalThis.SharedArrayBuffer;
    if (typeof Atomics === "object") { delete Atomics.wait; delete Atomics.waitAsync; }
    if (!wasm) delete globalThis.WebAssembly;
  };
})())JS";

bool allow_wasm(v8::Local<v8::Context>, v8::Local<v8::String>) {
  return g_wasm_allowed.load();
}

}  // namespace

void harden_isolate(v8::Isolate* isolate) {
  // Without this callback V8 ties wasm compilation to the context's string code-generation flag, which is off.
  isolate->SetAllowWasmCodeGenerationCallback(&allow_wasm);
}

void set_wasm_allowed(bool allowed) {
  g_wasm_allowed = allowed;
}

std::string_view prelude_source() {
  return {kPrelude, sizeof kPrelude - 1};
}

bool prepare_context(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Function>* setup,
                     v8::Local<v8::Object>* host) {
  v8::Local<v8::String> source = v8::String::NewFromUtf8Literal(isolate, kPrelude);
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> fn;
  if (!v8::Script::Compile(context, source).ToLocal(&script) || !script->Run(context).ToLocal(&fn) || !fn->IsFunction())
    return false;
  *setup = fn.As<v8::Function>();
  return HostBridge::make_host_object(context).ToLocal(host);
}

bool new_context(v8::Isolate* isolate, bool from_snapshot, ContextKit* kit) {
  v8::TryCatch tc(isolate);  // only a termination can throw here; the caller reports it
  if (from_snapshot && v8::Context::FromSnapshot(isolate, kSnapshotContextIndex).ToLocal(&kit->context)) {
    return kit->context->GetDataFromSnapshotOnce<v8::Function>(kSnapshotSetupData).ToLocal(&kit->setup) &&
           kit->context->GetDataFromSnapshotOnce<v8::Object>(kSnapshotHostData).ToLocal(&kit->host);
  }
  kit->context = v8::Context::New(isolate);
  v8::Context::Scope scope(kit->context);
  return !from_snapshot && prepare_context(isolate, kit->context, &kit->setup, &kit->host);
}

bool harden_context(v8::Isolate* isolate, const ContextKit& kit, std::uint64_t seed, bool wasm) {
  kit.context->AllowCodeGenerationFromStrings(false);
  v8::Local<v8::Value> args[] = {
      v8::Integer::NewFromUnsigned(isolate, static_cast<std::uint32_t>(seed)),
      v8::Integer::NewFromUnsigned(isolate, static_cast<std::uint32_t>(seed >> 32)),
      v8::Boolean::New(isolate, wasm),
  };
  return !kit.setup->Call(kit.context, kit.context->Global(), 3, args).IsEmpty();
}

}  // namespace paddock::tools
