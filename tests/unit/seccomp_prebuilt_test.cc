#include "sandbox/seccomp_prebuilt.h"

#include <gtest/gtest.h>

#include <cstring>

#include "sandbox/seccomp_baseline.h"

namespace paddock {
namespace {

bool same(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(sock_filter)) == 0;
}

// The programs built into the binary are exactly what libseccomp compiles now.
TEST(SeccompPrebuilt, MatchesCompiledBaseline) {
  for (bool notify : {false, true}) {
    SeccompPlan plan = baseline_plan();
    plan.notify = notify;
    auto pre = prebuilt_seccomp(plan);
    ASSERT_TRUE(pre.has_value());
    SeccompPrograms fresh = compile_seccomp(plan);
    EXPECT_TRUE(same(pre->enosys, fresh.enosys)) << "notify=" << notify;
    EXPECT_TRUE(same(pre->main, fresh.main)) << "notify=" << notify;
    EXPECT_GT(pre->main.size(), 100u);
  }
}

TEST(SeccompPrebuilt, AChangedBaselineIsCompiled) {
  SeccompPlan plan = baseline_plan();
  plan.rules.pop_back();  // e.g. a syscalls.allow entry removed a rule
  EXPECT_FALSE(prebuilt_seccomp(plan).has_value());
  SeccompPlan extra = baseline_plan();
  SeccompRule r;
  r.syscall = "getcwd";
  r.why = "syscalls.deny";
  extra.rules.push_back(r);
  EXPECT_FALSE(prebuilt_seccomp(extra).has_value());
  SeccompPrograms p = seccomp_programs_for(extra);
  EXPECT_GT(p.main.size(), 0u);
  SeccompPlan no_enosys = baseline_plan();
  no_enosys.unknown_enosys = false;
  EXPECT_FALSE(prebuilt_seccomp(no_enosys).has_value());
}

}  // namespace
}  // namespace paddock
