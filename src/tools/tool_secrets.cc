#include "tools/tool_secrets.h"

#include <algorithm>

#include "sandbox/host_facts.h"
#include "supervisor/session.h"

namespace paddock {

std::map<std::string, std::string> read_tool_secrets(const Policy& policy) {
  // Secrets come from the environment or files: nothing else about the host is needed.
  HostFacts facts;
  facts.env = environment_map();
  std::map<std::string, std::string> out;
  for (const auto& decl : policy.secrets) {
    const bool used = std::any_of(policy.tools.begin(), policy.tools.end(), [&](const ToolDecl& t) {
      return std::find(t.secrets.begin(), t.secrets.end(), decl.name) != t.secrets.end();
    });
    if (!used) continue;
    Policy one;
    one.secrets = {decl};
    try {
      for (auto& s : read_secrets(one, facts)) out[s.name] = s.value;
    } catch (const Error&) {
      // Reported when a tool asks for it.
    }
  }
  return out;
}

}  // namespace paddock
