#include "tools/worker_protocol.h"

#include <sys/socket.h>

#include <cerrno>

namespace paddock::tools {

namespace {

bool send_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

bool send_frame(int fd, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes) {
    errno = EMSGSIZE;
    return false;
  }
  // One buffer, one send(): the peer sees the header and body together, and small frames cost one syscall.
  std::string frame;
  frame.reserve(4 + payload.size());
  auto len = static_cast<std::uint32_t>(payload.size());
  frame.push_back(static_cast<char>(len >> 24));
  frame.push_back(static_cast<char>(len >> 16));
  frame.push_back(static_cast<char>(len >> 8));
  frame.push_back(static_cast<char>(len));
  frame.append(payload);
  return send_all(fd, frame.data(), frame.size());
}

std::optional<std::size_t> FrameReader::frame_length() const {
  if (buf_.size() - start_ < 4) return std::nullopt;
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(buf_[start_ + i])); };
  return static_cast<std::size_t>(b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3));
}

bool FrameReader::has_frame() const {
  auto len = frame_length();
  return len && *len <= kMaxFrameBytes && buf_.size() - start_ >= 4 + *len;
}

std::string FrameReader::pop() {
  std::size_t len = *frame_length();
  std::string out = buf_.substr(start_ + 4, len);
  start_ += 4 + len;
  if (start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  } else if (start_ > (1u << 20)) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  return out;
}

FrameReader::Status FrameReader::fill_once(int fd) {
  if (has_frame()) return Status::kFrame;
  if (auto len = frame_length(); len && *len > kMaxFrameBytes) return Status::kTooLarge;
  char chunk[65536];
  ssize_t n;
  do {
    n = ::recv(fd, chunk, sizeof chunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::kError;
  if (n == 0) return Status::kEof;
  buf_.append(chunk, static_cast<std::size_t>(n));
  if (auto len = frame_length(); len && *len > kMaxFrameBytes) return Status::kTooLarge;
  return has_frame() ? Status::kFrame : Status::kPartial;
}

FrameReader::Status FrameReader::read(int fd, std::string& out) {
  for (;;) {
    Status s = fill_once(fd);
    if (s == Status::kPartial) continue;
    if (s == Status::kFrame) out = pop();
    return s;
  }
}

}  // namespace paddock::tools
