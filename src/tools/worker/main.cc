// paddock-tool-worker: the only paddock executable linked to V8. It serves tool calls from the supervisor over
// fd 3 (tools/worker_protocol.h), one after another, until the supervisor closes the socket.
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <v8-initialization.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/sha256.h"
#include "tools/worker/channel.h"
#include "tools/worker/isolate_runner.h"
#include "tools/worker/limits.h"
#include "tools/worker/platform.h"
#include "tools/worker/snapshot.h"
#include "tools/worker_protocol.h"

namespace {

using nlohmann::json;

bool fd3_is_stream_socket() {
  int type = 0;
  socklen_t len = sizeof type;
  return ::getsockopt(paddock::tools::kWorkerFd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

std::string real_path(const char* path) {
  char buf[PATH_MAX];
  return ::realpath(path, buf) ? std::string(buf) : std::string();
}

// The file libnode was loaded from: part of the snapshot cache key (a blob belongs to one V8 build).
std::string libnode_path() {
  std::string found;
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        const char* name = info->dlpi_name;
        const char* base = name ? std::strrchr(name, '/') : nullptr;
        if (base && std::strncmp(base + 1, "libnode.so", 10) == 0) {
          *static_cast<std::string*>(data) = name;
          return 1;
        }
        return 0;
      },
      &found);
  return found.empty() ? found : real_path(found.c_str());
}

// What the supervisor needs to find (or file) this worker's snapshot: see "ready" in the protocol.
json ready_message() {
  return {{"type", "ready"},
          {"pid", ::getpid()},
          {"v8", v8::V8::GetVersion()},
          {"libnode", libnode_path()},
          {"exe", real_path("/proc/self/exe")},
          {"recipe", paddock::tools::snapshot_recipe()}};
}

std::int64_t id_of(const json& msg) {
  return msg.contains("id") && msg["id"].is_number_integer() ? msg["id"].get<std::int64_t>() : -1;
}

// {"type":"make_snapshot"}: build a blob, use it from now on, and hand it to the supervisor for its cache.
void make_snapshot(paddock::tools::Channel& channel, paddock::tools::IsolateRunner& runner, const json& msg) {
  json reply = {{"type", "snapshot_made"}, {"id", id_of(msg)}};
  std::string error;
  std::optional<std::string> blob = paddock::tools::make_snapshot_blob(&error);
  std::string sha;
  if (blob) {
    sha = paddock::sha256_hex(*blob);
    if (paddock::tools::install_snapshot(*blob, blob->size(), sha, &error)) {
      runner.drop_isolates();
      runner.fill_pool();  // V8 reads the blob now: a blob it cannot use fails here, before anyone keeps it
    } else {
      blob.reset();
    }
  }
  if (!blob) {
    reply.update({{"ok", false}, {"error", error}});
    channel.send(reply);
    return;
  }
  reply.update({{"ok", true}, {"size", blob->size()}, {"sha256", sha}, {"recipe", paddock::tools::snapshot_recipe()}});
  channel.send(reply);
  channel.send_raw(*blob);
}

// {"type":"snapshot"} and the blob's frame: checked (size, SHA-256, recipe, V8 version) before V8 reads it.
void load_snapshot(paddock::tools::Channel& channel, paddock::tools::IsolateRunner& runner, const json& msg) {
  std::string blob = channel.next_raw();
  json reply = {{"type", "snapshot_loaded"}, {"id", id_of(msg)}};
  std::string error;
  bool ok = false;
  if (!msg.contains("size") || !msg["size"].is_number_unsigned() || !msg.contains("sha256") ||
      !msg["sha256"].is_string()) {
    error = "malformed snapshot message";
  } else if (msg.value("recipe", std::string()) != paddock::tools::snapshot_recipe()) {
    error = "the blob was made for another worker (recipe differs)";
  } else {
    ok = paddock::tools::install_snapshot(std::move(blob), msg["size"].get<std::uint64_t>(),
                                          msg["sha256"].get_ref<const std::string&>(), &error);
  }
  if (ok) {
    runner.drop_isolates();
    runner.fill_pool();
  }
  reply["ok"] = ok;
  if (!ok) reply["error"] = error;
  channel.send(reply);
}

}  // namespace

int main(int argc, char** argv) {
  (void)argv;
  if (argc != 1 || !fd3_is_stream_socket()) {
    std::fprintf(stderr,
                 "paddock-tool-worker: internal program of paddock; it expects a stream socket on fd 3 and no "
                 "arguments\n");
    return 2;
  }
  // A supervisor that goes away mid-write must end us with EPIPE handling, not a signal.
  ::signal(SIGPIPE, SIG_IGN);
  // V8 prints its out-of-memory report on stdout, which may be an MCP client's channel: only stderr is ours.
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  using paddock::tools::Channel;
  try {
    paddock::tools::initialize_v8();
    Channel channel(paddock::tools::kWorkerFd);
    paddock::tools::Watchdog watchdog;
    paddock::tools::IsolateRunner runner(channel, watchdog);
    channel.send(ready_message());
    // The pool is filled only once the supervisor has spoken: its first message may install a snapshot, which
    // would make every isolate made before it a waste.
    bool spoken = false;
    for (;;) {
      while (spoken && !channel.readable_now() && runner.fill_pool()) {
      }
      json msg;
      channel.next(msg);  // end of file exits
      spoken = true;
      const std::string& type = msg["type"].get_ref<const std::string&>();
      if (type == "call") {
        channel.send(runner.call(msg));
      } else if (type == "describe") {
        channel.send(runner.describe(msg));
      } else if (type == "make_snapshot") {
        make_snapshot(channel, runner, msg);
      } else if (type == "snapshot") {
        load_snapshot(channel, runner, msg);
      } else if (type == "no_snapshot") {
        // Nothing to install: the first spare comes from V8's own snapshot, before the answer, so the first call
        // finds it ready as it would with a snapshot.
        runner.fill_pool();
        channel.send({{"type", "isolate_ready"}, {"id", id_of(msg)}});
      } else if (type == "host_result" || type == "pause_clock" || type == "resume_clock") {
        // Late traffic for a call that already ended (it timed out while the supervisor was answering).
      } else {
        std::fprintf(stderr, "paddock-tool-worker: unknown message type \"%s\"\n", type.c_str());
        return 2;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "paddock-tool-worker: %s\n", e.what());
    return 1;
  }
}
