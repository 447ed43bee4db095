// libsystemd, loaded only when paddock asks systemd for a delegated cgroup scope. Linking it
// would map it (and libgcrypt, liblzma, libzstd, liblz4, libgpg-error) into every `paddock
// run`, about 0.4 ms of the few milliseconds a start may take.
#pragma once

#include <systemd/sd-bus.h>

namespace paddock {

struct LibSystemd {
  // clang-format 14 does not settle on one layout for this X-macro.
  // clang-format off
#define PADDOCK_SD_FUNCTIONS(X)                                                                        \
  X(sd_bus_call) X(sd_bus_error_free) X(sd_bus_flush_close_unref) X(sd_bus_is_bus_client)              \
  X(sd_bus_match_signal) X(sd_bus_message_append) X(sd_bus_message_close_container)                    \
  X(sd_bus_message_new_method_call) X(sd_bus_message_open_container) X(sd_bus_message_read)            \
  X(sd_bus_message_unref) X(sd_bus_new) X(sd_bus_open_system) X(sd_bus_open_user) X(sd_bus_process)    \
  X(sd_bus_set_address) X(sd_bus_slot_unref) X(sd_bus_start) X(sd_bus_wait)
#define PADDOCK_SD_MEMBER(name) decltype(&::name) name = nullptr;
  PADDOCK_SD_FUNCTIONS(PADDOCK_SD_MEMBER)
#undef PADDOCK_SD_MEMBER
  // clang-format on
};

// dlopen("libsystemd.so.0") on first use; throws Error when it or a function is missing.
const LibSystemd& libsystemd();

}  // namespace paddock
