// Renders a resolved Policy as TOML a person can read, each grant annotated with its origin.
// The output is itself a valid profile (without the comments' provenance).
#pragma once

#include <iosfwd>

#include "policy/policy.h"

namespace paddock {

void print_policy(std::ostream& out, const Policy& p);

// TOML basic-string quoting.
std::string toml_quote(std::string_view s);

}  // namespace paddock
