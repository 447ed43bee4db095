#include "policy/policy.h"

#include <algorithm>

namespace paddock {

const char* to_string(NetMode m) {
  switch (m) {
    case NetMode::None: return "none";
    case NetMode::Proxy: return "proxy";
    case NetMode::Host: return "host";
  }
  return "?";
}

bool Policy::allows_best_effort(std::string_view layer) const {
  return std::any_of(best_effort.begin(), best_effort.end(), [&](const BestEffort& b) { return b.layer == layer; });
}

const ToolDecl* Policy::find_tool(std::string_view name) const {
  for (const auto& t : tools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace paddock
