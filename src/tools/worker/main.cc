// paddock-tool-worker: the only paddock executable linked to V8. It serves tool calls from the supervisor over
// fd 3 (tools/worker_protocol.h), one after another, until the supervisor closes the socket.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <v8-initialization.h>

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "tools/worker/channel.h"
#include "tools/worker/isolate_runner.h"
#include "tools/worker/limits.h"
#include "tools/worker/platform.h"
#include "tools/worker_protocol.h"

namespace {

bool fd3_is_stream_socket() {
  int type = 0;
  socklen_t len = sizeof type;
  return ::getsockopt(paddock::tools::kWorkerFd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
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
    channel.send({{"type", "ready"}, {"pid", ::getpid()}, {"v8", v8::V8::GetVersion()}});
    for (;;) {
      nlohmann::json msg;
      channel.next(msg);  // end of file exits
      const std::string& type = msg["type"].get_ref<const std::string&>();
      if (type == "call") {
        channel.send(runner.call(msg));
      } else if (type == "describe") {
        channel.send(runner.describe(msg));
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
