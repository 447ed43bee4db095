// Runs tool calls in a V8 isolate that belongs to this worker alone: a fresh context per call, and a fresh isolate
// after any termination (timeout or heap limit), because V8 does not promise a usable isolate after one.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "tools/worker/channel.h"
#include "tools/worker/limits.h"

namespace v8 {
class Isolate;
}

namespace paddock::tools {

class IsolateRunner {
 public:
  IsolateRunner(Channel& channel, Watchdog& watchdog);
  ~IsolateRunner();
  IsolateRunner(const IsolateRunner&) = delete;
  IsolateRunner& operator=(const IsolateRunner&) = delete;

  // A "call" request in, the "result" message out.
  nlohmann::json call(const nlohmann::json& request);
  // A "describe" request in, the "described" message out.
  nlohmann::json describe(const nlohmann::json& request);

 private:
  struct Limits;
  struct Failure;
  void ensure_isolate(std::size_t memory_bytes);
  void dispose_isolate();
  [[nodiscard]] bool terminated() const;

  Channel& channel_;
  Watchdog& watchdog_;
  v8::Isolate* isolate_ = nullptr;
  std::size_t isolate_memory_ = 0;
  std::unique_ptr<BudgetAllocator> allocator_;
  std::unique_ptr<HeapGuard> guard_;
};

}  // namespace paddock::tools
