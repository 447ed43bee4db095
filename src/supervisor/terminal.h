// The outer terminal while an interactive sandbox runs: raw mode (restored on every exit
// path), window-size propagation and a non-blocking relay between it and the sandbox's
// private pseudo-terminal.
#pragma once

#include <termios.h>

#include <optional>
#include <string>

#include "util/unique_fd.h"

namespace paddock {

class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal();
  void suspend();  // restore the saved mode (before stopping paddock itself)
  void resume();   // raw again
  [[nodiscard]] const struct termios& saved() const { return saved_; }

 private:
  int fd_;
  struct termios saved_ {};
  bool active_ = false;
};

// Copies bytes stdin -> master and master -> stdout without ever blocking on the master.
class PtyRelay {
 public:
  PtyRelay(int in, int out, UniqueFd master);
  [[nodiscard]] int master() const { return master_.get(); }
  [[nodiscard]] int in() const { return in_; }
  // Each returns false when that direction has ended.
  bool on_input();  // stdin readable
  bool on_master_readable();
  void on_master_writable();
  [[nodiscard]] bool wants_master_write() const { return !pending_.empty(); }
  void drain();  // after the sandbox exits: copy what is left
  void copy_window_size();

 private:
  int in_, out_;
  UniqueFd master_;
  std::string pending_;  // typed but not yet accepted by the master
};

}  // namespace paddock
