#include "sandbox/systemd_scope.h"

#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "sandbox/libsystemd.h"
#include "util/error.h"

namespace paddock {

void SdBusDeleter::operator()(sd_bus* bus) const {
  libsystemd().sd_bus_flush_close_unref(bus);
}
void SdBusMessageDeleter::operator()(sd_bus_message* m) const {
  libsystemd().sd_bus_message_unref(m);
}

namespace {

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

// RAII for an sd_bus_error.
struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  BusError() = default;
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  ~BusError() { libsystemd().sd_bus_error_free(&e); }
};

struct SlotDeleter {
  void operator()(sd_bus_slot* s) const { libsystemd().sd_bus_slot_unref(s); }
};
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotDeleter>;

[[noreturn]] void throw_bus(const std::string& what, int r) {
  throw_errno(what, r < 0 ? -r : r);
}

std::uint64_t now_usec() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U + static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

// JobRemoved(u id, o job, s unit, s result), collected from before the call returns: the
// signal can arrive ahead of the method reply.
int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error* /*error*/) {
  auto* results = static_cast<std::map<std::string, std::string>*>(userdata);
  std::uint32_t id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (libsystemd().sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0 && job != nullptr &&
      result != nullptr) {
    (*results)[job] = result;
  }
  return 0;
}

}  // namespace

std::string scope_unit_name(const std::string& session) {
  std::string name = "paddock-";
  for (char c : session) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == ':';
    name += ok ? c : '_';
  }
  return name + ".scope";
}

SdBusPtr open_systemd_bus(std::string& why) {
  sd_bus* raw = nullptr;
  int r = 0;
  std::string which;
  if (access("/run/systemd/system", F_OK) != 0) {
    why = "systemd is not running (no /run/systemd/system)";
    return nullptr;
  }
  if (geteuid() == 0) {
    if (access("/run/systemd/private", F_OK) == 0) {
      // The manager's own socket: works without a D-Bus daemon, and systemd sends its signals
      // to every private connection.
      which = "/run/systemd/private";
      r = libsystemd().sd_bus_new(&raw);
      if (r >= 0) {
        SdBusPtr bus(raw);
        r = libsystemd().sd_bus_set_address(bus.get(), "unix:path=/run/systemd/private");
        if (r >= 0) r = libsystemd().sd_bus_start(bus.get());
        if (r >= 0) return bus;
      }
    } else {
      const char* addr = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
      if ((addr == nullptr || addr[0] == '\0') && access("/run/dbus/system_bus_socket", F_OK) != 0) {
        why = "no systemd bus (neither /run/systemd/private nor the system bus exists)";
        return nullptr;
      }
      which = "the system bus";
      r = libsystemd().sd_bus_open_system(&raw);
      if (r >= 0) return SdBusPtr(raw);
    }
  } else {
    const char* addr = std::getenv("DBUS_SESSION_BUS_ADDRESS");
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    bool have_addr = addr != nullptr && addr[0] != '\0';
    bool have_socket = xdg != nullptr && xdg[0] == '/' && access((std::string(xdg) + "/bus").c_str(), F_OK) == 0;
    if (!have_addr && !have_socket) {
      why = "no systemd user bus ($DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist)";
      return nullptr;
    }
    which = "the user bus";
    r = libsystemd().sd_bus_open_user(&raw);
    if (r >= 0) return SdBusPtr(raw);
  }
  why = "cannot connect to systemd on " + which + ": " + std::strerror(r < 0 ? -r : r);
  return nullptr;
}

SdBusMessagePtr build_start_transient_scope(sd_bus* bus, const TransientScope& scope) {
  sd_bus_message* raw = nullptr;
  const std::string what = "building StartTransientUnit(" + scope.unit + ")";
  int r = libsystemd().sd_bus_message_new_method_call(bus, &raw, kDestination, kPath, kManager, "StartTransientUnit");
  if (r < 0) throw_bus(what, r);
  SdBusMessagePtr m(raw);
  r = libsystemd().sd_bus_message_append(m.get(), "ss", scope.unit.c_str(), "fail");
  if (r >= 0) r = libsystemd().sd_bus_message_open_container(m.get(), 'a', "(sv)");
  if (r >= 0) r = libsystemd().sd_bus_message_append(m.get(), "(sv)", "Description", "s", scope.description.c_str());
  if (r >= 0)
    r = libsystemd().sd_bus_message_append(m.get(), "(sv)", "PIDs", "au", 1, static_cast<std::uint32_t>(scope.pid));
  if (r >= 0) r = libsystemd().sd_bus_message_append(m.get(), "(sv)", "Delegate", "b", 1);
  if (r >= 0) r = libsystemd().sd_bus_message_append(m.get(), "(sv)", "CollectMode", "s", "inactive-or-failed");
  if (r >= 0) r = libsystemd().sd_bus_message_close_container(m.get());
  // No auxiliary units.
  if (r >= 0) r = libsystemd().sd_bus_message_append(m.get(), "a(sa(sv))", 0);
  if (r < 0) throw_bus(what, r);
  return m;
}

void start_transient_scope(sd_bus* bus, const TransientScope& scope, std::chrono::milliseconds timeout) {
  const std::uint64_t deadline = now_usec() + static_cast<std::uint64_t>(timeout.count()) * 1000U;
  std::map<std::string, std::string> results;

  // On a bus (dbus-daemon) match the sender; a direct connection (systemd's private socket)
  // carries no sender field, so there only the path, interface and member can be matched.
  sd_bus_slot* slot_raw = nullptr;
  int r = libsystemd().sd_bus_match_signal(bus, &slot_raw,
                                           libsystemd().sd_bus_is_bus_client(bus) > 0 ? kDestination : nullptr, kPath,
                                           kManager, "JobRemoved", on_job_removed, &results);
  if (r < 0) throw_bus("systemd: subscribing to JobRemoved for " + scope.unit, r);
  SlotPtr slot(slot_raw);

  SdBusMessagePtr call = build_start_transient_scope(bus, scope);
  BusError err;
  sd_bus_message* reply_raw = nullptr;
  std::uint64_t left = deadline > now_usec() ? deadline - now_usec() : 1;
  r = libsystemd().sd_bus_call(bus, call.get(), left, &err.e, &reply_raw);
  SdBusMessagePtr reply(reply_raw);
  if (r < 0) {
    std::string msg = err.e.message != nullptr ? err.e.message : std::strerror(-r);
    throw Error("systemd: StartTransientUnit(" + scope.unit + ") failed: " + msg);
  }
  const char* job_raw = nullptr;
  r = libsystemd().sd_bus_message_read(reply.get(), "o", &job_raw);
  if (r < 0 || job_raw == nullptr) throw_bus("systemd: reading the job of StartTransientUnit(" + scope.unit + ")", r);
  const std::string job = job_raw;

  for (;;) {
    // Dispatch everything queued (including signals that came in during sd_bus_call).
    for (;;) {
      r = libsystemd().sd_bus_process(bus, nullptr);
      if (r < 0) throw_bus("systemd: waiting for the job of " + scope.unit, r);
      if (r == 0) break;
    }
    if (auto it = results.find(job); it != results.end()) {
      if (it->second != "done") {
        throw Error("systemd: starting " + scope.unit + " ended with result \"" + it->second + "\"");
      }
      return;
    }
    std::uint64_t now = now_usec();
    if (now >= deadline) {
      throw Error("systemd: " + scope.unit + " was not started within " + std::to_string(timeout.count()) + " ms");
    }
    r = libsystemd().sd_bus_wait(bus, deadline - now);
    if (r < 0 && r != -EINTR) throw_bus("systemd: waiting for the job of " + scope.unit, r);
  }
}

}  // namespace paddock
