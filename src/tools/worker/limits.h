// Per-call limits: the timeout watchdog, the ArrayBuffer budget and the near-heap-limit guard.
#pragma once

#include <v8-array-buffer.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "util/unique_fd.h"

namespace v8 {
class Isolate;
}

namespace paddock::tools {

// A thread that calls TerminateExecution() on the armed isolate at the deadline. It is the only timer: while the
// main thread waits for host answers it also polls wake_fd(), which becomes readable when the deadline passes.
class Watchdog {
 public:
  Watchdog();
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(v8::Isolate* isolate, std::chrono::milliseconds budget);
  // Stops and restarts the clock (an approval wait is not the tool's time). Nested pauses count as one.
  void pause();
  void resume();
  // After disarm() returns no termination can reach the isolate any more, so it may be reused or disposed.
  void disarm();
  [[nodiscard]] bool fired() const { return fired_.load(); }
  [[nodiscard]] int wake_fd() const { return wake_.get(); }

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  v8::Isolate* isolate_ = nullptr;  // armed when non-null
  bool paused_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::duration remaining_{};
  std::atomic<bool> fired_{false};
  UniqueFd wake_;
  std::thread thread_;
};

// Refuses ArrayBuffer backing stores beyond the call's budget: `new ArrayBuffer(2**31)` becomes a RangeError in
// JS instead of an abort in the allocator or a sandbox OOM kill.
class BudgetAllocator final : public v8::ArrayBuffer::Allocator {
 public:
  void set_budget(std::size_t bytes) { budget_.store(bytes); }
  void* Allocate(std::size_t length) override;
  void* AllocateUninitialized(std::size_t length) override;
  void Free(void* data, std::size_t length) override;

 private:
  bool reserve(std::size_t length);
  std::atomic<std::size_t> budget_{0};
  std::atomic<std::size_t> used_{0};
};

// The near-heap-limit callback's state: when the heap is about to run out, terminate the call and lend the heap a
// little room so V8 can unwind instead of aborting the process.
class HeapGuard {
 public:
  void install(v8::Isolate* isolate);
  [[nodiscard]] bool exceeded() const { return exceeded_.load(); }

 private:
  static std::size_t on_near_limit(void* data, std::size_t current_limit, std::size_t initial_limit);
  v8::Isolate* isolate_ = nullptr;
  std::atomic<bool> exceeded_{false};
};

}  // namespace paddock::tools
