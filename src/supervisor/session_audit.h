// The session lifecycle events (start, exit) built from a plan and its outcome.
#pragma once

#include <sys/resource.h>

#include <chrono>

#include "audit/writer.h"
#include "policy/policy.h"
#include "sandbox/plan.h"
#include "supervisor/session.h"

namespace paddock {

// sha256 of the resolved policy as `profile show --resolved` prints it.
std::string policy_digest(const Policy& p);

AuditEvent session_start_event(const Policy& p, const SandboxPlan& plan);
AuditEvent session_exit_event(const SessionResult& r, const SandboxPlan& plan, std::chrono::steady_clock::duration wall,
                              const struct rusage& children, const AuditWriter& writer);

}  // namespace paddock
