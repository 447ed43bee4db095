// Gathers the HostFacts make_plan needs: identity, environment, kernel features and the
// type of every path the policy names.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "sandbox/plan.h"

namespace paddock {

// `probe_userns`: fork a throwaway child to check that a user namespace can be created
// (used by --dry-run and doctor; `run` finds out from clone() itself, which is cheaper).
// paddock's own environment, as NAME -> value.
std::map<std::string, std::string> environment_map();

HostFacts gather_host_facts(const Policy& p, const std::string& cwd, bool probe_userns,
                            std::vector<std::string> protected_paths = {});

int landlock_abi_version();

}  // namespace paddock
