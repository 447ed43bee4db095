// What a fresh context must look like before tool code runs: no code generation from strings, no shared memory,
// no WebAssembly unless granted, and a Math.random whose sequence is fixed by the call's seed.
#pragma once

#include <v8-context.h>

#include <cstdint>

namespace paddock::tools {

// Isolate-wide callbacks (code generation policy); once per isolate.
void harden_isolate(v8::Isolate* isolate);
// Whether the current call may compile WebAssembly (read by the isolate callback).
void set_wasm_allowed(bool allowed);
// Applies the per-context rules. False when the prelude failed (only under termination).
bool harden_context(v8::Isolate* isolate, v8::Local<v8::Context> context, std::uint64_t seed, bool wasm);

}  // namespace paddock::tools
