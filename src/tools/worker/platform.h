// V8's process-wide setup for the tool worker: flags that must precede initialisation, and a platform whose wall
// clock is coarse and starts at the call's "time_ms" (V8 reads Date.now() and new Date() from the platform).
#pragma once

#include <cstdint>
#include <string_view>

namespace v8 {
class Isolate;
class Platform;
}  // namespace v8

namespace paddock::tools {

// Sets the hardening flags, makes the platform and initialises V8. Call once, before any isolate exists.
void initialize_v8();
// The flags initialize_v8() gives V8 (they shape every context, so they are part of the snapshot recipe).
std::string_view v8_flags();
// Runs the platform's pending foreground tasks for `isolate` (GC finalisers and the like) without blocking.
void pump_platform_tasks(v8::Isolate* isolate);

// What Date.now() says from now on: `time_ms`, then advancing in steps of kClockGranularityMs.
inline constexpr std::uint64_t kClockGranularityMs = 100;
void set_call_clock(double time_ms);

}  // namespace paddock::tools
