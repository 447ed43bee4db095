// A transient systemd scope with Delegate=yes, started over D-Bus with sd-bus (libsystemd):
// how an unprivileged paddock gets a cgroup v2 subtree it may write to on a systemd host.
//
//   StartTransientUnit("paddock-<session>.scope", "fail",
//                      [Description, PIDs=[pid], Delegate=yes, CollectMode=inactive-or-failed], [])
//
// systemd moves the pid into the new scope and chowns the scope's cgroup to the caller; paddock
// then subdivides it (see cgroup.h). The call returns a job; the scope is usable once that job's
// JobRemoved signal says "done".
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

// sd-bus's opaque types (the full declarations are in <systemd/sd-bus.h>).
struct sd_bus;
struct sd_bus_message;

namespace paddock {

struct SdBusDeleter {
  void operator()(sd_bus* bus) const;  // sd_bus_flush_close_unref
};
struct SdBusMessageDeleter {
  void operator()(sd_bus_message* m) const;  // sd_bus_message_unref
};
using SdBusPtr = std::unique_ptr<sd_bus, SdBusDeleter>;
using SdBusMessagePtr = std::unique_ptr<sd_bus_message, SdBusMessageDeleter>;

struct TransientScope {
  std::string unit;         // "paddock-<session>.scope"
  std::string description;  // shown by systemctl status
  pid_t pid = 0;            // moved into the scope
};

// "paddock-<session>.scope", with characters systemd does not accept in unit names replaced by '_'.
std::string scope_unit_name(const std::string& session);

// Connects to the systemd that manages this user's processes: the system instance as root
// (its private socket /run/systemd/private when present, else the system bus), the user
// instance otherwise ($DBUS_SESSION_BUS_ADDRESS, or $XDG_RUNTIME_DIR/bus). Returns nullptr and
// sets `why` (e.g. "systemd is not running (no /run/systemd/system)", "no systemd user bus
// ($DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist)") when there is
// nothing to connect to.
SdBusPtr open_systemd_bus(std::string& why);

// The StartTransientUnit method call for `scope` on `bus` (any started connection), not sent.
SdBusMessagePtr build_start_transient_scope(sd_bus* bus, const TransientScope& scope);

// Sends StartTransientUnit on `bus` and waits, at most `timeout` in all, for the job's
// JobRemoved signal. Throws Error naming the unit when the call fails, the job ends with a
// result other than "done", or time runs out.
void start_transient_scope(sd_bus* bus, const TransientScope& scope, std::chrono::milliseconds timeout);

}  // namespace paddock
