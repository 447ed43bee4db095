#include "supervisor/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.h"
#include "util/fd_io.h"

namespace paddock {
namespace {}  // namespace

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  if (::tcgetattr(fd_, &saved_) != 0) throw_errno("terminal: tcgetattr");
  resume();
}

RawTerminal::~RawTerminal() {
  suspend();
}

void RawTerminal::suspend() {
  if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
  active_ = false;
}

void RawTerminal::resume() {
  struct termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd_, TCSADRAIN, &raw) != 0) throw_errno("terminal: raw mode");
  active_ = true;
}

PtyRelay::PtyRelay(int in, int out, UniqueFd master) : in_(in), out_(out), master_(std::move(master)) {
  int fl = ::fcntl(master_.get(), F_GETFL);
  ::fcntl(master_.get(), F_SETFL, fl | O_NONBLOCK);
}

bool PtyRelay::on_input() {
  char buf[4096];
  ssize_t n = ::read(in_, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  pending_.append(buf, static_cast<size_t>(n));
  on_master_writable();
  return true;
}

void PtyRelay::on_master_writable() {
  while (!pending_.empty()) {
    ssize_t w = ::write(master_.get(), pending_.data(), pending_.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) pending_.clear();  // the sandbox side is gone
      return;
    }
    pending_.erase(0, static_cast<size_t>(w));
  }
}

bool PtyRelay::on_master_readable() {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;  // EIO: every slave descriptor is closed
    if (!write_fd(out_, std::string_view(buf, static_cast<size_t>(n)))) return false;
  }
}

void PtyRelay::drain() {
  on_master_readable();
}

void PtyRelay::copy_window_size() {
  struct winsize ws {};
  if (::ioctl(in_, TIOCGWINSZ, &ws) == 0) ::ioctl(master_.get(), TIOCSWINSZ, &ws);
}

}  // namespace paddock
