#include "tools/worker/channel.h"

#include <poll.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace paddock::tools {

namespace {

[[noreturn]] void lost(const char* why, int status) {
  if (why) std::fprintf(stderr, "paddock-tool-worker: %s\n", why);
  std::_Exit(status);
}

}  // namespace

void Channel::send(const nlohmann::json& msg) {
  // Tool output may hold any bytes a JS string can; replace invalid UTF-16 halves instead of throwing.
  std::string payload = msg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!send_frame(fd_, payload)) {
    if (errno == EMSGSIZE) lost("message over the 16 MiB frame limit", 2);
    lost(nullptr, 0);
  }
}

void Channel::send_raw(std::string_view bytes) {
  if (!send_frame(fd_, bytes)) {
    if (errno == EMSGSIZE) lost("raw frame over the 16 MiB frame limit", 2);
    lost(nullptr, 0);
  }
}

std::string Channel::next_raw() {
  std::string frame;
  switch (reader_.read(fd_, frame)) {
    case FrameReader::Status::kFrame: return frame;
    case FrameReader::Status::kPartial:
    case FrameReader::Status::kEof: lost(nullptr, 0);
    case FrameReader::Status::kError: lost(std::strerror(errno), 2);
    case FrameReader::Status::kTooLarge: lost("frame over the 16 MiB limit", 2);
  }
  lost("frame reader failed", 2);
}

bool Channel::readable_now() {
  if (reader_.has_frame()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;  // an error counts as readable: next() reports it
}

Channel::Wait Channel::next(nlohmann::json& msg, int wake_fd) {
  for (;;) {
    if (!reader_.has_frame()) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
      int n = ::poll(fds, wake_fd >= 0 ? 2 : 1, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        lost("poll failed", 2);
      }
      if (wake_fd >= 0 && (fds[1].revents & POLLIN)) return Wait::kWoken;
      switch (reader_.fill_once(fd_)) {
        case FrameReader::Status::kFrame: break;
        case FrameReader::Status::kPartial: continue;
        case FrameReader::Status::kEof: lost(nullptr, 0);
        case FrameReader::Status::kError: lost(std::strerror(errno), 2);
        case FrameReader::Status::kTooLarge: lost("frame over the 16 MiB limit", 2);
      }
    }
    msg = nlohmann::json::parse(reader_.pop(), nullptr, false);
    if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) lost("malformed message", 2);
    return Wait::kMessage;
  }
}

}  // namespace paddock::tools
