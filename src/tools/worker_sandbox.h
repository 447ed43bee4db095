// Starts a tool's worker (paddock-tool-worker, the V8 isolate host) inside an OS sandbox made by
// the same code as `paddock run`: its own user, mount, pid, ipc, uts and network namespaces, a
// root holding only the worker and the system libraries it links, no network at all, Landlock,
// the seccomp baseline and no capabilities. The worker can compute and talk to the supervisor
// over its channel (fd 3), nothing else: every effect a tool has (files, fetch, db, secrets)
// goes through a host function the supervisor decides and performs.
#pragma once

#include <memory>
#include <string>

#include "policy/policy.h"
#include "tools/worker_client.h"

namespace paddock {

// The worker's sandbox supervisor is a forked child of this process (it runs the same session
// loop as `paddock run`); the returned client owns the channel and reaps that child.
std::unique_ptr<tools::WorkerClient> start_sandboxed_worker(const ToolDecl& tool, const Policy& profile,
                                                            const std::string& worker_path);

}  // namespace paddock
