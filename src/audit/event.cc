#include "audit/event.h"

#include <algorithm>
#include <cstdio>

#include "util/error.h"

namespace paddock {

namespace {

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Compact JSON text of a value; invalid UTF-8 is replaced rather than thrown on.
std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_string(std::string_view s) {
  return dump(nlohmann::json(std::string(s)));
}

}  // namespace

bool is_audit_layer(std::string_view layer) {
  return contains(kAuditLayers, layer);
}
bool is_audit_action(std::string_view action) {
  return contains(kAuditActions, action);
}
bool is_denial_action(std::string_view action) {
  return action == "deny" || action == "kill" || action == "reject";
}

void validate(const AuditEvent& event) {
  if (!is_audit_layer(event.layer)) throw Error("audit event with unknown layer \"" + event.layer + "\"");
  if (!is_audit_action(event.action)) {
    throw Error("audit event with unknown action \"" + event.action + "\"");
  }
  if (!event.extra.is_null() && !event.extra.is_object()) {
    throw Error("audit event extra fields must be a JSON object, not " + std::string(event.extra.type_name()));
  }
}

std::string format_audit_timestamp(const struct timespec& ts) {
  struct tm tm {};
  time_t secs = ts.tv_sec;
  if (gmtime_r(&secs, &tm) == nullptr) throw Error("cannot convert time " + std::to_string(secs) + " to UTC");
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(ts.tv_nsec / 1000));
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) throw Error("cannot format audit timestamp");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string audit_timestamp_now() {
  struct timespec ts {};
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) throw_errno("clock_gettime(CLOCK_REALTIME)");
  return format_audit_timestamp(ts);
}

std::string audit_line(const AuditEvent& event, std::string_view session, std::uint64_t seq, std::string_view ts,
                       std::string_view prev) {
  validate(event);
  std::string line;
  line.reserve(256 + event.subject.size() + event.reason.size());
  line += "{\"v\":" + std::to_string(kAuditVersion);
  line += ",\"ts\":" + json_string(ts);
  line += ",\"session\":" + json_string(session);
  line += ",\"seq\":" + std::to_string(seq);
  line += ",\"layer\":" + json_string(event.layer);
  line += ",\"action\":" + json_string(event.action);
  line += ",\"subject\":" + json_string(event.subject);
  line += ",\"reason\":" + json_string(event.reason);
  if (event.pid) line += ",\"pid\":" + std::to_string(*event.pid);
  if (event.extra.is_object()) {
    for (const auto& [key, value] : event.extra.items()) {
      if (contains(kAuditReservedKeys, key)) continue;
      line += "," + json_string(key) + ":" + dump(value);
    }
  }
  line += ",\"prev\":" + json_string(prev);
  line += "}";
  return line;
}

}  // namespace paddock
