#include "supervisor/limit_watch.h"

#include <cstdio>

#include "util/units.h"

namespace paddock {
namespace {

std::string approx_size(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

LimitWatch::LimitWatch(SessionCgroup& cgroup, const ResourcePlan& plan, AuditWriter* audit, bool verbose)
    : cgroup_(cgroup), plan_(plan), audit_(audit), verbose_(verbose), last_(cgroup.events()) {}

std::string LimitWatch::memory_limit_text() const {
  if (!plan_.memory) return "memory limit";
  return "memory limit " + format_size(plan_.memory->value) + " (" + plan_.memory->origin.short_str() + ")";
}

void LimitWatch::record(const char* action, const std::string& limit, const std::string& reason, std::uint64_t value) {
  if (audit_ != nullptr) {
    AuditEvent e;
    e.layer = "limit";
    e.action = action;
    e.subject = limit;
    e.reason = reason;
    e.extra = {{"limit", limit}, {"count", value}};
    audit_->write(e);
  }
  if (verbose_) std::fprintf(stderr, "paddock: limit %s: %s\n", action, reason.c_str());
}

std::uint64_t LimitWatch::on_event() {
  cgroup_.ack_events();
  CgroupEvents now = cgroup_.events();
  std::uint64_t denials = 0;
  if (now.memory_high > last_.memory_high && plan_.memory) {
    record("warn", "memory",
           "memory use passed " + approx_size(plan_.memory_high()) + " (90 % of the " + memory_limit_text() +
               "); the kernel is reclaiming",
           now.memory_high);
  }
  if (now.oom_kill > last_.oom_kill) {
    record("kill", "memory",
           memory_limit_text() + " reached: the OOM killer ended " + std::to_string(now.oom_kill - last_.oom_kill) +
               " process(es)",
           now.oom_kill);
  }
  if (now.pids_max > last_.pids_max && plan_.pids) {
    record("deny", "pids",
           "pids limit " + std::to_string(plan_.pids->value) + " (" + plan_.pids->origin.short_str() +
               ") reached: fork/clone refused",
           now.pids_max);
    denials += now.pids_max - last_.pids_max;
  }
  last_ = now;
  return denials;
}

bool LimitWatch::cpu_time_exceeded() {
  if (!plan_.cpu_time) return false;
  CgroupEvents now = cgroup_.events();
  last_.cpu_usage_usec = now.cpu_usage_usec;
  auto limit_us = static_cast<std::uint64_t>(plan_.cpu_time->value.count()) * 1000;
  return now.cpu_usage_usec >= limit_us;
}

void LimitWatch::finish() {
  CgroupEvents before = last_;
  on_event();
  last_.cpu_usage_usec = cgroup_.events().cpu_usage_usec;
  if (last_.cpu_throttled > before.cpu_throttled && plan_.cpus) {
    record("warn", "cpu",
           "cpu limit " + std::to_string(plan_.cpus->value) + " cores (" + plan_.cpus->origin.short_str() +
               ") throttled the session in " + std::to_string(last_.cpu_throttled) + " periods",
           last_.cpu_throttled);
  }
}

}  // namespace paddock
