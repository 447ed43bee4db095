// The baseline seccomp filter compiled at build time (see seccomp_gen.cc).
#pragma once

#include <optional>

#include "sandbox/seccomp.h"

namespace paddock {

// The prebuilt programs when `plan` is exactly the baseline (with its default switches), for
// either notification setting; nullopt when the profile changed the baseline.
std::optional<SeccompPrograms> prebuilt_seccomp(const SeccompPlan& plan);

// The build-time programs, or compile_seccomp when the plan differs from the baseline.
SeccompPrograms seccomp_programs_for(const SeccompPlan& plan);

}  // namespace paddock
