// One audit event, the schema every layer shares (DESIGN.md, "Audit events"), and its
// serialisation as one JSON line of a hash-chained session log.
#pragma once

#include <time.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace paddock {

inline constexpr std::array<std::string_view, 8> kAuditLayers = {"session", "fs",         "net",   "dns",
                                                                 "syscall", "credential", "limit", "tool"};
inline constexpr std::array<std::string_view, 10> kAuditActions = {"start", "exit", "allow",  "deny",    "warn",
                                                                   "kill",  "call", "result", "approve", "reject"};

// The keys the writer owns; an `extra` field with one of these names is dropped.
inline constexpr std::array<std::string_view, 10> kAuditReservedKeys = {"v",      "ts",      "session", "seq", "layer",
                                                                        "action", "subject", "reason",  "pid", "prev"};

inline constexpr int kAuditVersion = 1;

// The `prev` of the first line of a session.
inline constexpr std::string_view kAuditZeroHash = "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditEvent {
  std::string layer;    // one of kAuditLayers
  std::string action;   // one of kAuditActions
  std::string subject;  // what was acted on: a path, host:port, syscall name, tool name...
  std::string reason;   // why, in words a person reads ("not in network.allow")
  std::optional<int> pid;
  nlohmann::json extra;  // null, or an object whose fields are added at the top level
};

[[nodiscard]] bool is_audit_layer(std::string_view layer);
[[nodiscard]] bool is_audit_action(std::string_view action);
// deny, kill and reject: the actions counted as denials (and by the max_denials kill switch).
[[nodiscard]] bool is_denial_action(std::string_view action);

// Throws paddock::Error for an unknown layer or action, or an `extra` that is neither null nor
// an object: all are programming errors in the caller.
void validate(const AuditEvent& event);

// "2026-11-22T10:00:00.123456Z" (UTC, microseconds, truncated).
[[nodiscard]] std::string format_audit_timestamp(const struct timespec& ts);
// The current wall-clock time (CLOCK_REALTIME) in that format.
[[nodiscard]] std::string audit_timestamp_now();

// The line for `event` without its newline, keys in this order: v, ts, session, seq, layer,
// action, subject, reason, pid (omitted when unknown), the `extra` fields (sorted by name, any
// reserved name skipped), prev. Compact JSON; strings that are not valid UTF-8 have the bad
// bytes replaced by U+FFFD (subjects come from the sandboxed program and are not trusted to be
// well formed). Validates the event first (see validate()).
[[nodiscard]] std::string audit_line(const AuditEvent& event, std::string_view session, std::uint64_t seq,
                                     std::string_view ts, std::string_view prev);

}  // namespace paddock
