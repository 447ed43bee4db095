#include "supervisor/session_audit.h"

#include <sched.h>

#include <sstream>

#include "audit/sha256.h"
#include "policy/policy_printer.h"

namespace paddock {

std::string policy_digest(const Policy& p) {
  std::ostringstream s;
  print_policy(s, p);
  return sha256_hex(s.str());
}

AuditEvent session_start_event(const Policy& p, const SandboxPlan& plan) {
  AuditEvent e;
  e.layer = "session";
  e.action = "start";
  std::string cmd;
  for (const auto& a : plan.command) cmd += (cmd.empty() ? "" : " ") + a;
  e.subject = cmd;
  e.reason = "sandbox started";
  nlohmann::json profiles = nlohmann::json::array();
  for (const auto& r : p.profiles) profiles.push_back({{"name", r.name}, {"path", r.path}});
  nlohmann::json layers = nlohmann::json::array();
  if (plan.namespaces) {
    layers.push_back("namespaces");
    layers.push_back("root-view");
  }
  if (plan.landlock.abi > 0) layers.push_back("landlock");
  if (plan.seccomp.enabled) layers.push_back("seccomp");
  layers.push_back("capabilities");
  nlohmann::json landlock = {
      {"abi", plan.landlock.abi},
      {"fs", landlock_access_names(plan.landlock.handled_fs)},
      {"net", plan.landlock.handled_net != 0 ? landlock_access_names(plan.landlock.handled_net, true) : "none"},
      {"scoped", plan.landlock.scoped != 0 ? "abstract-unix-socket,signal" : "none"},
      {"rules", plan.landlock.rules.size()}};
  e.extra = {
      {"profiles", profiles},          {"policy_sha256", policy_digest(p)},          {"layers", layers},
      {"landlock", landlock},          {"seccomp_rules", plan.seccomp.rules.size()}, {"network", to_string(plan.net)},
      {"degraded", plan.degradations}, {"trace_fs", plan.seccomp.trace_fs},          {"uid", plan.uid}};
  return e;
}

AuditEvent session_exit_event(const SessionResult& r, const SandboxPlan& plan, std::chrono::steady_clock::duration wall,
                              const struct rusage& ru, const AuditWriter& writer) {
  AuditEvent e;
  e.layer = "session";
  e.action = "exit";
  e.subject = std::to_string(r.exit_code);
  if (r.setup_failed)
    e.reason = "sandbox setup failed: " + r.setup_error;
  else if (r.timed_out)
    e.reason = "wall-clock limit " + format_duration(plan.wall->value) + " (" + plan.wall->origin.short_str() + ")";
  else if (r.exit_code > 128)
    e.reason = "command killed by signal " + std::to_string(r.exit_code - 128);
  else
    e.reason = "command exited";
  auto ms = [](const struct timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; };
  e.extra = {{"status", r.exit_code},
             {"wall_ms", std::chrono::duration<double, std::milli>(wall).count()},
             {"cpu_user_ms", ms(ru.ru_utime)},
             {"cpu_system_ms", ms(ru.ru_stime)},
             {"peak_rss_kib", ru.ru_maxrss},
             {"memory_peak_bytes", r.memory_peak},
             // getrusage misses processes whose reaper was killed; the cgroup counts them all.
             {"session_cpu_ms", r.cpu_usage_usec / 1000.0},
             {"denials", writer.denials()},
             {"denial_total", writer.denial_count()}};
  return e;
}

}  // namespace paddock
