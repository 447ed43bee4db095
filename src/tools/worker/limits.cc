#include "tools/worker/limits.h"

#include <sys/eventfd.h>
#include <v8-isolate.h>

#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace paddock::tools {

Watchdog::Watchdog() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!wake_) throw_errno("eventfd");
  thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Watchdog::arm(v8::Isolate* isolate, std::chrono::milliseconds budget) {
  {
    std::lock_guard lock(mu_);
    isolate_ = isolate;
    paused_ = false;
    fired_ = false;
    deadline_ = std::chrono::steady_clock::now() + budget;
    std::uint64_t drain;
    while (::read(wake_.get(), &drain, sizeof drain) > 0) {
    }
  }
  cv_.notify_all();
}

void Watchdog::pause() {
  std::lock_guard lock(mu_);
  if (!isolate_ || paused_ || fired_) return;
  paused_ = true;
  remaining_ = deadline_ - std::chrono::steady_clock::now();
}

void Watchdog::resume() {
  {
    std::lock_guard lock(mu_);
    if (!isolate_ || !paused_) return;
    paused_ = false;
    deadline_ = std::chrono::steady_clock::now() + remaining_;
  }
  cv_.notify_all();
}

void Watchdog::disarm() {
  std::lock_guard lock(mu_);
  isolate_ = nullptr;
  paused_ = false;
}

void Watchdog::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!isolate_ || paused_ || fired_) {
      cv_.wait(lock);
      continue;
    }
    if (cv_.wait_until(lock, deadline_) != std::cv_status::timeout) continue;
    // Re-check under the lock: the call may have ended, paused or moved its deadline while we slept.
    if (!isolate_ || paused_ || fired_ || std::chrono::steady_clock::now() < deadline_) continue;
    fired_ = true;
    isolate_->TerminateExecution();
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
  }
}

bool BudgetAllocator::reserve(std::size_t length) {
  std::size_t used = used_.load();
  do {
    if (length > budget_.load() || used > budget_.load() - length) return false;
  } while (!used_.compare_exchange_weak(used, used + length));
  return true;
}

void* BudgetAllocator::Allocate(std::size_t length) {
  if (!reserve(length)) return nullptr;
  void* p = std::calloc(length ? length : 1, 1);
  if (!p) used_ -= length;
  return p;
}

void* BudgetAllocator::AllocateUninitialized(std::size_t length) {
  if (!reserve(length)) return nullptr;
  void* p = std::malloc(length ? length : 1);
  if (!p) used_ -= length;
  return p;
}

void BudgetAllocator::Free(void* data, std::size_t length) {
  std::free(data);
  used_ -= length;
}

void HeapGuard::install(v8::Isolate* isolate) {
  isolate_ = isolate;
  exceeded_ = false;
  isolate->AddNearHeapLimitCallback(&HeapGuard::on_near_limit, this);
}

std::size_t HeapGuard::on_near_limit(void* data, std::size_t current_limit, std::size_t initial_limit) {
  auto* self = static_cast<HeapGuard*>(data);
  self->exceeded_ = true;
  self->isolate_->TerminateExecution();
  // Room to unwind: the call is over, the isolate is disposed right after, so the loan is never repaid.
  return current_limit + initial_limit / 2 + (16u << 20);
}

}  // namespace paddock::tools
