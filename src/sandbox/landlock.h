// Applies the plan's Landlock ruleset to the calling thread (and so to what it executes).
#pragma once

#include <string>
#include <vector>

#include "sandbox/plan.h"

namespace paddock {

// Throws Error("landlock: ...") when the kernel refuses; rules whose path does not exist in
// the sandbox are skipped and reported in `skipped`.
void apply_landlock(const LandlockPlan& plan, std::vector<std::string>& skipped);

}  // namespace paddock
