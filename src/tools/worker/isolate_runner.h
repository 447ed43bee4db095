// Runs tool calls in V8 isolates that belong to this worker alone: a fresh context per call, and a fresh isolate
// after any termination (timeout or heap limit), because V8 does not promise a usable isolate after one. Isolates
// come from the startup snapshot when one is installed (worker/snapshot.h), and a small pool of them is made ahead
// while the worker is idle, so the call after a termination does not pay for creating one.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "tools/worker/channel.h"
#include "tools/worker/limits.h"

namespace v8 {
class Isolate;
}

namespace paddock::tools {

class IsolateRunner {
 public:
  // Spare isolates kept ready. One covers a termination; each costs about a megabyte while it waits.
  static constexpr std::size_t kPoolSize = 1;

  IsolateRunner(Channel& channel, Watchdog& watchdog);
  ~IsolateRunner();
  IsolateRunner(const IsolateRunner&) = delete;
  IsolateRunner& operator=(const IsolateRunner&) = delete;

  // A "call" request in, the "result" message out.
  nlohmann::json call(const nlohmann::json& request);
  // A "describe" request in, the "described" message out.
  nlohmann::json describe(const nlohmann::json& request);

  // Makes one spare isolate if the pool is short of kPoolSize; false when there was nothing to do. For idle time.
  bool fill_pool();
  // Disposes every isolate (a snapshot was installed: the next ones come from it).
  void drop_isolates();

 private:
  struct Limits;
  struct Failure;
  // An isolate with what belongs to it alone.
  struct Slot {
    v8::Isolate* isolate = nullptr;
    std::size_t memory_bytes = 0;
    bool from_snapshot = false;
    std::int64_t serial = 0;
    std::unique_ptr<BudgetAllocator> allocator;
    std::unique_ptr<HeapGuard> guard;
  };
  Slot make_slot(std::size_t memory_bytes);
  static void dispose(Slot& slot);
  // Makes current_ an isolate for `memory_bytes`: the one in use, a spare, or a new one.
  void ensure_isolate(std::size_t memory_bytes);
  void dispose_current();
  [[nodiscard]] bool terminated() const;
  // {"serial","origin","snapshot"} for the reply: which isolate ran the call.
  [[nodiscard]] nlohmann::json isolate_info() const;

  Channel& channel_;
  Watchdog& watchdog_;
  std::optional<Slot> current_;
  const char* current_origin_ = "new";  // "kept" (ran the previous call too), "pool" or "new"
  std::deque<Slot> spares_;
  std::size_t pool_memory_ = 0;  // spares are made for the memory limit of the last call (0: none seen yet)
  std::int64_t next_serial_ = 1;
};

}  // namespace paddock::tools
