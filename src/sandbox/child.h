// The two processes paddock creates inside the sandbox:
//   sandbox_init_main: pid 1 of the new pid namespace. Sets up the root view, hostname,
//     loopback and the private terminal, starts the command, then reaps and forwards signals.
//   exec_command: the command's process. Applies rlimits, drops capabilities, then Landlock,
//     then seccomp, and execs.
#pragma once

#include <sys/ioctl.h>
#include <termios.h>

#include <optional>
#include <string>
#include <vector>

#include "sandbox/mounts.h"
#include "sandbox/plan.h"

namespace paddock {

struct ChildArgs {
  const SandboxPlan* plan = nullptr;
  std::vector<SecretValue>* secrets = nullptr;
  int error_fd = -1;    // write end of the setup-error pipe (close-on-exec)
  int control_fd = -1;  // socket used to hand the pty master to the supervisor
  int seccomp_fd = -1;  // the supervisor writes the compiled seccomp programs here
  int go_fd = -1;       // when valid: wait for one byte (cgroup placement) before starting the command
  int pass_fd = -1;     // when valid: the command gets it as file descriptor 3 (a tool worker's channel)
  bool pty = false;
  bool tty_fd[3] = {false, false, false};  // which of paddock's stdio are terminals (get the pty)
  std::optional<struct termios> termios;
  std::optional<struct winsize> winsize;
};

[[noreturn]] void sandbox_init_main(const ChildArgs& args);

// Reports a setup failure ("layer: what") to the supervisor and exits 125.
[[noreturn]] void report_setup_error(int error_fd, const std::string& message);

}  // namespace paddock
