#include "tools/worker/hardening.h"

#include <v8-function.h>
#include <v8-isolate.h>
#include <v8-primitive.h>
#include <v8-script.h>

#include <atomic>

namespace paddock::tools {

namespace {

std::atomic<bool> g_wasm_allowed{false};

// Runs once per context, before the tool's module. A function expression, called with the seed halves, so the
// source (and V8's compilation cache entry for it) is the same for every call.
//  - Math.random: sfc32 seeded from the call's seed; 53 random bits per number like V8's own.
//  - SharedArrayBuffer is already gone (flag); Atomics.wait/waitAsync would only block on shared memory, drop them.
//  - WebAssembly: removed unless granted; the code-generation callback refuses compilation anyway.
constexpr const char kPrelude[] = R"JS((function (lo, hi, wasm) {
  "use strict";
  let a = lo >>> 0, b = hi >>> 0, c = 0x9e3779b9, d = 1;
  function next() {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  }
  for (let i = 0; i < 15; i++) next();
  const random = function random() {
    return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  };
  Object.defineProperty(Math, "random", { value: random, writable: true, configurable: true, enumerable: false });
  delete globalThis.SharedArrayBuffer;
  if (typeof Atomics === "object") { delete Atomics.wait; delete Atomics.waitAsync; }
  if (!wasm) delete globalThis.WebAssembly;
}))JS";

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

bool harden_context(v8::Isolate* isolate, v8::Local<v8::Context> context, std::uint64_t seed, bool wasm) {
  context->AllowCodeGenerationFromStrings(false);
  v8::Local<v8::String> source = v8::String::NewFromUtf8Literal(isolate, kPrelude);
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> fn;
  if (!v8::Script::Compile(context, source).ToLocal(&script) || !script->Run(context).ToLocal(&fn)) return false;
  v8::Local<v8::Value> args[] = {
      v8::Integer::NewFromUnsigned(isolate, static_cast<std::uint32_t>(seed)),
      v8::Integer::NewFromUnsigned(isolate, static_cast<std::uint32_t>(seed >> 32)),
      v8::Boolean::New(isolate, wasm),
  };
  return !fn.As<v8::Function>()->Call(context, context->Global(), 3, args).IsEmpty();
}

}  // namespace paddock::tools
