// What a fresh context must look like before tool code runs: no code generation from strings, no shared memory,
// no WebAssembly unless granted, a Math.random whose sequence is fixed by the call's seed, and a pristine `host`
// object. The same recipe (the prelude) serves both ways a context is made: run now in a blank context, or
// captured once in a startup snapshot (worker/snapshot.h) and deserialised per call.
#pragma once

#include <v8-context.h>
#include <v8-function.h>
#include <v8-object.h>

#include <cstdint>
#include <string_view>

namespace paddock::tools {

// Isolate-wide callbacks (code generation policy); once per isolate.
void harden_isolate(v8::Isolate* isolate);
// Whether the current call may compile WebAssembly (read by the isolate callback).
void set_wasm_allowed(bool allowed);

// The JS run once per context, before anything else. Part of the snapshot recipe (its hash keys the cache).
std::string_view prelude_source();

// A context ready for one call but not yet seeded: `setup(lo, hi, wasm)` seeds Math.random and drops
// WebAssembly unless granted; `host` is the frozen host object (its functions reach the call's HostBridge).
struct ContextKit {
  v8::Local<v8::Context> context;
  v8::Local<v8::Function> setup;
  v8::Local<v8::Object> host;
};

// Runs the prelude in `context` (entered) and builds the host object: what a snapshot captures. False on an
// exception (only under termination).
bool prepare_context(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Function>* setup,
                     v8::Local<v8::Object>* host);
// The indices under which a snapshot context keeps `setup` and `host` (SnapshotCreator::AddData order).
inline constexpr std::size_t kSnapshotContextIndex = 0;
inline constexpr std::size_t kSnapshotSetupData = 0;
inline constexpr std::size_t kSnapshotHostData = 1;

// A fresh, never-used context for one call: deserialised from the isolate's snapshot when it was made from one,
// otherwise created and prepared now. kit->context is set in any case (the caller enters it); false when the kit
// is incomplete (only under termination).
bool new_context(v8::Isolate* isolate, bool from_snapshot, ContextKit* kit);
// Applies the per-call rules to a fresh context (entered). False when the setup failed (only under termination).
bool harden_context(v8::Isolate* isolate, const ContextKit& kit, std::uint64_t seed, bool wasm);

}  // namespace paddock::tools
