#include "sandbox/seccomp_prebuilt.h"

#include "sandbox/seccomp_baseline.h"
#include "seccomp_baseline_bpf.h"  // generated at build time

namespace paddock {

std::optional<SeccompPrograms> prebuilt_seccomp(const SeccompPlan& plan) {
  static const SeccompPlan baseline = baseline_plan();
  // A --trace-fs plan has rules the build-time filter lacks (its rules differ too; checked
  // first so that this never depends on how the trace rules are spelled).
  if (!plan.enabled || plan.trace_fs || plan.unknown_enosys != baseline.unknown_enosys ||
      plan.kill_foreign_arch != baseline.kill_foreign_arch || !plan.removed.empty() || plan.rules != baseline.rules) {
    return std::nullopt;
  }
  SeccompPrograms p;
  if (plan.notify) {
    p.enosys.assign(prebuilt::notify_enosys, prebuilt::notify_enosys + prebuilt::notify_enosys_len);
    p.main.assign(prebuilt::notify_main, prebuilt::notify_main + prebuilt::notify_main_len);
  } else {
    p.enosys.assign(prebuilt::plain_enosys, prebuilt::plain_enosys + prebuilt::plain_enosys_len);
    p.main.assign(prebuilt::plain_main, prebuilt::plain_main + prebuilt::plain_main_len);
  }
  return p;
}

SeccompPrograms seccomp_programs_for(const SeccompPlan& plan) {
  if (auto p = prebuilt_seccomp(plan)) return *p;
  return compile_seccomp(plan);
}

}  // namespace paddock
