// The worker's end of the supervisor socket (fd 3): whole JSON messages in and out.
#pragma once

#include <nlohmann/json.hpp>

#include "tools/worker_protocol.h"

namespace paddock::tools {

class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}

  // A lost supervisor ends the worker (exit 0): nobody is left to report to.
  void send(const nlohmann::json& msg);
  // A raw frame (a snapshot blob, right after the message that announces it).
  void send_raw(std::string_view bytes);

  enum class Wait { kMessage, kWoken };
  // Blocks for the next message, or until `wake_fd` (when >= 0) is readable. End of file exits the process;
  // a malformed or oversized frame exits it with status 2 (the supervisor sees a crash, never a confused worker).
  Wait next(nlohmann::json& msg, int wake_fd = -1);
  // The raw frame that follows a message announcing one (a snapshot blob). Failures end the process as in next().
  std::string next_raw();
  // A message (or end of file) is waiting: next() would not block. For deciding whether there is idle time.
  [[nodiscard]] bool readable_now();

  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
  FrameReader reader_;
};

}  // namespace paddock::tools
