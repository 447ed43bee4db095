// Builds the sandbox's root view from the plan's mount list, then pivots into it.
// Runs in the sandbox's init (pid 1), inside fresh user and mount namespaces.
#pragma once

#include <string>
#include <vector>

#include "sandbox/plan.h"

namespace paddock {

struct SecretValue {
  std::string name;
  std::string value;
  Secret::Expose expose = Secret::Expose::Env;
};

// Throws Error (naming the mount) on failure. Warnings (skipped grants) are appended.
void build_root_and_pivot(const SandboxPlan& plan, const std::vector<SecretValue>& secrets,
                          std::vector<std::string>& warnings);

// Resolves `path` (absolute) beneath `root_fd` one component at a time without letting the
// kernel follow symlinks. Symlinks are followed by hand, except those lying inside one of
// `untrusted` (folders the sandboxed side can write): those make the walk fail, so a link an
// agent planted can never redirect a grant. Returns an O_PATH fd. Exposed for tests.
int open_path_safely(int root_fd, const std::string& path, const std::vector<std::string>& untrusted);

}  // namespace paddock
