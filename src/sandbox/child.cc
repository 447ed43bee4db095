#include "sandbox/child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sandbox/capabilities.h"
#include "sandbox/landlock.h"
#include "sandbox/network.h"
#include "sandbox/seccomp.h"
#include "util/error.h"
#include "util/fd_passing.h"
#include "util/unique_fd.h"

extern char** environ;

namespace paddock {
namespace {

void write_file(const char* path, const std::string& text) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd) throw_errno(std::string("namespaces: opening ") + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw_errno(std::string("namespaces: writing ") + path);
  }
}

// The invoking user maps to itself; nothing else exists inside (setgroups is denied, as an
// unprivileged map requires).
void write_id_maps(std::uint32_t uid, std::uint32_t gid) {
  write_file("/proc/self/setgroups", "deny");
  write_file("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1\n");
  write_file("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1\n");
}

[[noreturn]] void exec_command(const ChildArgs& a, const std::string& pty_slave) {
  const SandboxPlan& plan = *a.plan;
  try {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::setsid() < 0) throw_errno("session: setsid");
    if (a.pty) {
      // The terminal belongs to the sandbox's own devpts: TIOCSTI on it reaches nobody outside.
      UniqueFd slave(::open(pty_slave.c_str(), O_RDWR | O_CLOEXEC));
      if (!slave) throw_errno("terminal: opening " + pty_slave);
      if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) throw_errno("terminal: TIOCSCTTY");
      if (a.termios) ::tcsetattr(slave.get(), TCSANOW, &*a.termios);
      // Only the descriptors that were the outer terminal get the inner one; a redirected
      // stdout or stderr keeps going where the user sent it, byte for byte.
      for (int fd = 0; fd < 3; ++fd) {
        if (a.tty_fd[fd] && ::dup2(slave.get(), fd) < 0) throw_errno("terminal: dup2");
      }
    }
    if (!plan.namespaces) {
      // Without a pid namespace nothing else ends the command when paddock dies.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    }
    if (::chdir(plan.cwd.c_str()) != 0) throw_errno("filesystem: entering the working directory " + plan.cwd);
    for (const auto& r : plan.rlimits) {
      struct rlimit rl {
        r.soft, r.hard
      };
      if (::setrlimit(r.resource, &rl) != 0) throw_errno("rlimits: " + r.name);
    }
    // Every inherited descriptor above stderr closes at exec, including paddock's own pipe.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    std::vector<std::string> env_strings;
    for (const auto& e : plan.env) {
      if (!e.secret) env_strings.push_back(e.name + "=" + e.value);
    }
    for (const auto& s : *a.secrets) {
      if (s.expose == Secret::Expose::Env) env_strings.push_back(s.name + "=" + s.value);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (const auto& s : plan.command) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);

    // Compiled by the supervisor while this sandbox was being set up.
    SeccompPrograms filters;
    if (plan.seccomp.enabled) filters = read_seccomp(a.seccomp_fd);
    if (plan.namespaces)
      drop_capabilities();
    else if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      throw_errno("no_new_privs");
    std::vector<std::string> skipped;
    apply_landlock(plan.landlock, skipped);
    if (plan.seccomp.enabled) {
      int listener = -1;
      load_seccomp(filters, plan.seccomp.notify, &listener);
      if (listener >= 0) {
        // From here on every refused call waits for the supervisor's answer.
        send_fd(a.control_fd, listener, 'n');
        ::close(listener);
      }
    }
    if (a.pass_fd >= 0) {
      // The last thing before exec: fd 3 may have been one of paddock's own pipes until now.
      if (a.pass_fd == 3 ? ::fcntl(3, F_SETFD, 0) != 0 : ::dup2(a.pass_fd, 3) < 0) throw_errno("passing fd 3");
    }
    environ = envp.data();  // execvp searches the sandbox's PATH
    ::execvp(argv[0], argv.data());
    int err = errno;
    std::fprintf(stderr, "paddock: %s: %s\n", argv[0], err == ENOENT ? "command not found" : std::strerror(err));
    ::_exit(err == ENOENT ? 127 : 126);
  } catch (const std::exception& e) {
    report_setup_error(a.error_fd, e.what());
  }
}

int init_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD};

void noop_handler(int) {}

// pid 1 drops signals it has no handler for, so install no-op handlers, block the signals
// and read them from a signalfd.
UniqueFd init_signalfd() {
  sigset_t set;
  sigemptyset(&set);
  struct sigaction sa {};
  sa.sa_handler = noop_handler;
  for (int s : init_signals) {
    sigaddset(&set, s);
    ::sigaction(s, &sa, nullptr);
  }
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!fd) throw_errno("init: signalfd");
  return fd;
}

[[noreturn]] void init_loop(pid_t command, int sigfd) {
  for (;;) {
    struct signalfd_siginfo si {};
    ssize_t n = ::read(sigfd, &si, sizeof si);
    if (n != sizeof si) {
      if (n < 0 && errno == EINTR) continue;
      ::_exit(125);
    }
    int sig = static_cast<int>(si.ssi_signo);
    if (sig != SIGCHLD) {
      // The command leads its own session; signal its whole process group like a terminal would.
      if (::kill(-command, sig) != 0) ::kill(command, sig);
      continue;
    }
    for (;;) {
      int status = 0;
      pid_t p = ::waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p == command) {
        // Leaving pid 1 makes the kernel kill everything left in the namespace, daemons included.
        ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    }
  }
}

}  // namespace

void report_setup_error(int error_fd, const std::string& message) {
  if (error_fd >= 0) {
    ssize_t ignored = ::write(error_fd, message.data(), message.size());
    (void)ignored;
  }
  ::_exit(125);
}

void sandbox_init_main(const ChildArgs& a) {
  const SandboxPlan& plan = *a.plan;
  try {
    // If paddock dies, so does pid 1, and with it the whole pid namespace.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) throw_errno("init: PR_SET_PDEATHSIG");
    UniqueFd sigfd = init_signalfd();
    std::vector<std::string> warnings;
    if (plan.namespaces) {
      write_id_maps(plan.uid, plan.gid);
      build_root_and_pivot(plan, *a.secrets, warnings);
      if (::sethostname(plan.hostname.data(), plan.hostname.size()) != 0) throw_errno("namespaces: sethostname");
      if (plan.clone_flags & CLONE_NEWNET) bring_up_loopback();
      if (plan.proxy.enabled) {
        // Created in here, served out there: the supervisor answers on them, the sandbox keeps none.
        ProxyListeners l = open_proxy_listeners(plan.proxy);
        for (const auto& fd : l.tcp) send_fd(a.control_fd, fd.get(), 'L');
        send_fd(a.control_fd, l.dns_udp.get(), 'D');
      }
      if (plan.mcp.enabled) {
        // The tools endpoint, served by paddock-tools outside (through the supervisor).
        McpListeners m = open_mcp_listeners(plan.mcp);
        send_fd(a.control_fd, m.unix_socket.get(), 'U');
        if (m.tcp) send_fd(a.control_fd, m.tcp.get(), 'T');
      }
    }
    std::string slave;
    if (a.pty) {
      UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
      if (!master) throw_errno("terminal: opening /dev/ptmx");
      if (::unlockpt(master.get()) != 0) throw_errno("terminal: unlockpt");
      char name[64];
      if (::ptsname_r(master.get(), name, sizeof name) != 0) throw_errno("terminal: ptsname");
      slave = name;
      if (a.winsize) ::ioctl(master.get(), TIOCSWINSZ, &*a.winsize);
      send_fd(a.control_fd, master.get(), 'm');
    }
    if (a.go_fd >= 0) {
      // The supervisor moves us into the session's cgroup first: the command inherits it.
      char go = 0;
      ssize_t n;
      do {
        n = ::read(a.go_fd, &go, 1);
      } while (n < 0 && errno == EINTR);
      if (n != 1) throw Error("resources: paddock did not place the sandbox in its cgroup");
    }
    pid_t command = ::fork();
    if (command < 0) throw_errno("init: fork");
    if (command == 0) exec_command(a, slave);
    ::close(a.control_fd);
    // Only the command holds the passed channel: when it dies, the other end sees end of file.
    if (a.pass_fd >= 0) ::close(a.pass_fd);
    // Secrets now live only in the command (until its exec) and in /run/secrets.
    for (auto& s : *a.secrets) explicit_bzero(s.value.data(), s.value.size());
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    ::close(a.error_fd);
    if (plan.namespaces) drop_capabilities();
    init_loop(command, sigfd.get());
  } catch (const std::exception& e) {
    report_setup_error(a.error_fd, e.what());
  }
}

}  // namespace paddock
