// The declared secrets some tool is granted, read once from their sources for the supervisor's
// side of tools (host.secret answers them; the values never leave this process). A secret whose
// source is missing is left out: only a tool asking for it fails, listing tools needs none.
#pragma once

#include <map>
#include <string>

#include "policy/policy.h"

namespace paddock {

std::map<std::string, std::string> read_tool_secrets(const Policy& policy);

}  // namespace paddock
