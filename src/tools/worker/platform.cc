#include "tools/worker/platform.h"

#include <libplatform/libplatform.h>
#include <v8-initialization.h>
#include <v8-platform.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <string_view>

namespace paddock::tools {

namespace {

// The default platform with one change: CurrentClockTimeMillis(), the source of every JS wall-clock read, reports
// the call's start time plus elapsed time rounded down to kClockGranularityMs, so a tool can neither time its host
// precisely nor learn the real clock. Everything else is forwarded unchanged.
class CoarseClockPlatform final : public v8::Platform {
 public:
  explicit CoarseClockPlatform(std::unique_ptr<v8::Platform> inner) : inner_(std::move(inner)) {}

  v8::Platform* inner() const { return inner_.get(); }

  void set_clock(double time_ms) {
    base_ms_.store(time_ms);
    base_mono_.store(inner_->MonotonicallyIncreasingTime());
  }

  v8::PageAllocator* GetPageAllocator() override { return inner_->GetPageAllocator(); }
  v8::ZoneBackingAllocator* GetZoneBackingAllocator() override { return inner_->GetZoneBackingAllocator(); }
  void OnCriticalMemoryPressure() override { inner_->OnCriticalMemoryPressure(); }
  bool OnCriticalMemoryPressure(size_t length) override { return inner_->OnCriticalMemoryPressure(length); }
  int NumberOfWorkerThreads() override { return inner_->NumberOfWorkerThreads(); }
  std::shared_ptr<v8::TaskRunner> GetForegroundTaskRunner(v8::Isolate* isolate) override {
    return inner_->GetForegroundTaskRunner(isolate);
  }
  void CallOnWorkerThread(std::unique_ptr<v8::Task> task) override { inner_->CallOnWorkerThread(std::move(task)); }
  void CallBlockingTaskOnWorkerThread(std::unique_ptr<v8::Task> task) override {
    inner_->CallBlockingTaskOnWorkerThread(std::move(task));
  }
  void CallLowPriorityTaskOnWorkerThread(std::unique_ptr<v8::Task> task) override {
    inner_->CallLowPriorityTaskOnWorkerThread(std::move(task));
  }
  void CallDelayedOnWorkerThread(std::unique_ptr<v8::Task> task, double delay_in_seconds) override {
    inner_->CallDelayedOnWorkerThread(std::move(task), delay_in_seconds);
  }
  bool IdleTasksEnabled(v8::Isolate* isolate) override { return inner_->IdleTasksEnabled(isolate); }
  std::unique_ptr<v8::JobHandle> PostJob(v8::TaskPriority priority, std::unique_ptr<v8::JobTask> job_task) override {
    return inner_->PostJob(priority, std::move(job_task));
  }
  double MonotonicallyIncreasingTime() override { return inner_->MonotonicallyIncreasingTime(); }
  double CurrentClockTimeMillis() override {
    double elapsed_ms = (inner_->MonotonicallyIncreasingTime() - base_mono_.load()) * 1000.0;
    auto g = static_cast<double>(kClockGranularityMs);
    return base_ms_.load() + std::floor(elapsed_ms / g) * g;
  }
  StackTracePrinter GetStackTracePrinter() override { return inner_->GetStackTracePrinter(); }
  v8::TracingController* GetTracingController() override { return inner_->GetTracingController(); }
  void DumpWithoutCrashing() override { inner_->DumpWithoutCrashing(); }

 private:
  std::unique_ptr<v8::Platform> inner_;
  std::atomic<double> base_ms_{0};
  std::atomic<double> base_mono_{0};
};

CoarseClockPlatform* g_platform = nullptr;

// Before V8::Initialize(): these shape the builtins every context gets.
//  - no SharedArrayBuffer, and no shared wasm memory to smuggle one in: no shared-memory timers, no Atomics.wait;
//  - code generation from strings is off by default (each context also says so explicitly);
//  - single-threaded: one call at a time needs no GC helper threads, and the sandbox may refuse clone().
constexpr std::string_view kFlags =
    "--no-harmony-sharedarraybuffer --no-experimental-wasm-threads --disallow-code-generation-from-strings "
    "--single-threaded";

}  // namespace

std::string_view v8_flags() {
  return kFlags;
}

void initialize_v8() {
  v8::V8::SetFlagsFromString(kFlags.data(), kFlags.size());
  v8::V8::InitializeICU();
  auto platform = std::make_unique<CoarseClockPlatform>(v8::platform::NewSingleThreadedDefaultPlatform());
  platform->set_clock(0);
  v8::V8::InitializePlatform(platform.get());
  v8::V8::Initialize();
  // The platform lives as long as the process: V8 keeps using it until exit.
  g_platform = platform.release();
}

void pump_platform_tasks(v8::Isolate* isolate) {
  while (v8::platform::PumpMessageLoop(g_platform->inner(), isolate, v8::platform::MessageLoopBehavior::kDoNotWait)) {
  }
}

void set_call_clock(double time_ms) {
  g_platform->set_clock(time_ms);
}

}  // namespace paddock::tools
