#include "supervisor/session.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "audit/writer.h"
#include "net/proxy.h"
#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_prebuilt.h"
#include "supervisor/connect_trace.h"
#include "supervisor/fs_trace.h"
#include "supervisor/limit_watch.h"
#include "supervisor/syscall_notify.h"
#include "supervisor/terminal.h"
#include "util/error.h"
#include "util/fd_passing.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

std::string read_to_eof(int fd) {
  std::string out;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Blocks the signals the event loop reads from a signalfd; restores the old mask on exit.
class BlockedSignals {
 public:
  explicit BlockedSignals(bool tty) {
    sigemptyset(&set_);
    for (int s : kForwarded) sigaddset(&set_, s);
    sigaddset(&set_, SIGCHLD);
    sigaddset(&set_, SIGWINCH);
    if (tty) {
      sigaddset(&set_, SIGTSTP);
      sigaddset(&set_, SIGCONT);
    }
    ::sigprocmask(SIG_BLOCK, &set_, &old_);
    fd_ = UniqueFd(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) throw_errno("signalfd");
  }
  ~BlockedSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  sigset_t set_{}, old_{};
  UniqueFd fd_;
};

void epoll_add(int ep, int fd, std::uint32_t events) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("epoll_ctl");
}

void epoll_mod(int ep, int fd, std::uint32_t events) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

bool is_event_fd(const SessionCgroup& cg, int fd) {
  for (int e : cg.event_fds()) {
    if (e == fd) return true;
  }
  return false;
}

// Denials of every layer count toward limits.max_denials; the audit writer counts them.
std::uint64_t denial_total(const SessionOptions& o) {
  return o.audit != nullptr ? o.audit->denial_count() : 0;
}

void record_limit_kill(const SessionOptions& o, const std::string& limit, const std::string& reason) {
  if (o.audit == nullptr) return;
  AuditEvent e;
  e.layer = "limit";
  e.action = "kill";
  e.subject = limit;
  e.reason = reason + "; the session was ended";
  e.extra = {{"limit", limit}};
  o.audit->write(e);
}

}  // namespace

std::vector<SecretValue> read_secrets(const Policy& p, const HostFacts& h) {
  std::vector<SecretValue> out;
  for (const auto& s : p.secrets) {
    // A tool's secret is read by paddock-tools, never handed to the sandbox.
    if (secret_for_tools(p, s.name)) continue;
    SecretValue v;
    v.name = s.name;
    v.expose = s.expose;
    if (s.source == Secret::Source::Env) {
      auto it = h.env.find(s.from);
      if (it == h.env.end()) {
        throw Error(s.origin, "secret " + s.name + ": environment variable " + s.from + " is not set");
      }
      v.value = it->second;
    } else {
      std::ifstream in(s.from, std::ios::binary);
      if (!in) throw Error(s.origin, "secret " + s.name + ": cannot read " + s.from + ": " + std::strerror(errno));
      std::ostringstream ss;
      ss << in.rdbuf();
      v.value = ss.str();
    }
    if (s.expose == Secret::Expose::Env && v.value.find('\0') != std::string::npos) {
      throw Error(s.origin,
                  "secret " + s.name + " contains a NUL byte and cannot be exposed as an environment variable");
    }
    out.push_back(std::move(v));
  }
  return out;
}

SessionResult run_session(const SandboxPlan& plan, std::vector<SecretValue> secrets, const SessionOptions& opts) {
  SessionResult result;
  // Interactive when stdin and stdout are a terminal: the sandbox then gets a terminal of its
  // own (TIOCSTI and friends cannot reach the outer one) and paddock relays it.
  const bool tty = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1 && plan.namespaces;

  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd err_read(errpipe[0]), err_write(errpipe[1]);
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) throw_errno("socketpair");
  UniqueFd ctl_parent(sp[0]), ctl_child(sp[1]);

  int bpfpipe[2];
  if (::pipe2(bpfpipe, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd bpf_read(bpfpipe[0]), bpf_write(bpfpipe[1]);

  ChildArgs args;
  args.seccomp_fd = bpf_read.get();
  args.plan = &plan;
  args.secrets = &secrets;
  args.error_fd = err_write.get();
  args.control_fd = ctl_child.get();
  args.pty = tty;
  args.pass_fd = opts.pass_fd;
  for (int fd = 0; fd < 3; ++fd) args.tty_fd[fd] = tty && ::isatty(fd) == 1;
  if (tty) {
    struct termios t {};
    if (::tcgetattr(STDIN_FILENO, &t) == 0) args.termios = t;
    struct winsize ws {};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) args.winsize = ws;
  }

  SessionCgroup* cg = opts.cgroup;
  const bool into_cgroup = cg != nullptr && cg->version() == SessionCgroup::Version::V2 && cg->v2_dirfd() >= 0;
  // v1 (or v2 without a directory fd): init waits until it has been moved into the cgroup.
  UniqueFd go_read, go_write;
  if (cg != nullptr && !into_cgroup) {
    int gp[2];
    if (::pipe2(gp, O_CLOEXEC) != 0) throw_errno("pipe");
    go_read = UniqueFd(gp[0]);
    go_write = UniqueFd(gp[1]);
    args.go_fd = go_read.get();
  }

  BlockedSignals signals(tty);
  int pidfd = -1;
  std::uint64_t flags = plan.namespaces ? plan.clone_flags : 0;
  long pid;
  if (into_cgroup) {
    // clone3 with CLONE_INTO_CGROUP: the sandbox is born inside its cgroup, no window.
    struct clone_args_v2 {
      std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
          cgroup;
    } ca{};
    ca.flags = flags | CLONE_PIDFD | 0x200000000ULL /* CLONE_INTO_CGROUP */;
    ca.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
    ca.exit_signal = SIGCHLD;
    ca.cgroup = static_cast<std::uint64_t>(cg->v2_dirfd());
    pid = ::syscall(SYS_clone3, &ca, sizeof ca);
  } else {
    // Raw clone with CLONE_PIDFD: fork semantics (no separate stack) plus a pidfd, atomically.
    pid = ::syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, nullptr, &pidfd, nullptr, nullptr);
  }
  if (pid < 0) {
    int err = errno;
    if (plan.namespaces && (err == EPERM || err == ENOSPC || err == EUSERS || err == EINVAL)) {
      throw NamespacesUnavailable(std::string("namespaces: cannot create the sandbox's namespaces: ") +
                                  std::strerror(err));
    }
    throw_errno("clone", err);
  }
  if (pid == 0) sandbox_init_main(args);  // never returns
  UniqueFd pid_fd(pidfd);
  if (opts.pass_fd >= 0) ::close(opts.pass_fd);
  if (opts.on_started) opts.on_started();
  go_read.reset();
  if (go_write) {
    try {
      cg->add(static_cast<pid_t>(pid));
    } catch (...) {
      ::syscall(SYS_pidfd_send_signal, pid_fd.get(), SIGKILL, nullptr, 0);
      siginfo_t si{};
      ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pid_fd.get()), &si, WEXITED);
      throw;
    }
    char go = 1;
    ssize_t w = ::write(go_write.get(), &go, 1);
    (void)w;  // if the sandbox already died, its error arrives on the error pipe
    go_write.reset();
  }
  err_write.reset();
  ctl_child.reset();
  bpf_read.reset();
  for (auto& s : secrets) explicit_bzero(s.value.data(), s.value.size());

  // Compile the seccomp filter now, in parallel with the sandbox building its root view.
  if (plan.seccomp.enabled) {
    std::string wire;
    try {
      wire = serialize_seccomp(seccomp_programs_for(plan.seccomp));
    } catch (...) {
      ::syscall(SYS_pidfd_send_signal, pid_fd.get(), SIGKILL, nullptr, 0);
      siginfo_t si{};
      ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pid_fd.get()), &si, WEXITED);
      throw;
    }
    // A few KiB: fits the pipe buffer, so this never waits for the sandbox. If the sandbox
    // already failed, EPIPE (not SIGPIPE) and its error arrives on the error pipe.
    struct sigaction ignore {
    }, old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    size_t off = 0;
    while (off < wire.size()) {
      ssize_t w = ::write(bpf_write.get(), wire.data() + off, wire.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) break;
      off += static_cast<size_t>(w);
    }
    ::sigaction(SIGPIPE, &old, nullptr);
  }
  bpf_write.reset();

  std::unique_ptr<SyscallNotifier> notifier;
  std::unique_ptr<FsTracer> tracer;
  std::unique_ptr<ConnectTracer> connect_tracer;
  // Ending the session: pid 1 first (the kernel then kills its namespace), every process of
  // the cgroup at once, and no further answer to a waiting system call: it gets SIGKILL.
  auto kill_sandbox = [&] {
    ::syscall(SYS_pidfd_send_signal, pid_fd.get(), SIGKILL, nullptr, 0);
    if (cg != nullptr) cg->kill_all();
    if (notifier) notifier->end_session();
  };
  auto check_denials = [&] {
    if (opts.max_denials && denial_total(opts) >= opts.max_denials->value && !result.denials_exceeded) {
      result.denials_exceeded = true;
      record_limit_kill(opts, "max_denials",
                        "limits.max_denials = " + std::to_string(opts.max_denials->value) + " (" +
                            opts.max_denials->origin.short_str() + ") reached");
      kill_sandbox();
    }
  };
  auto start_notifier = [&](UniqueFd listener) {
    notifier = std::make_unique<SyscallNotifier>(std::move(listener), plan.seccomp, opts.audit, opts.verbose,
                                                 [&] { check_denials(); });
    if (plan.seccomp.trace_fs) {
      tracer = std::make_unique<FsTracer>(plan, opts.audit, opts.verbose, [&] { check_denials(); });
    }
    if (plan.proxy.enabled) {
      // The tools endpoint's port is served too: connections to it are not refused egress.
      ProxyPlan served = plan.proxy;
      if (plan.mcp.tcp_port != 0) served.transparent_ports.push_back(plan.mcp.tcp_port);
      connect_tracer = std::make_unique<ConnectTracer>(served, opts.audit, opts.verbose, [&] { check_denials(); });
    }
    if (tracer || connect_tracer) {
      notifier->set_trace_handler([t = tracer.get(), c = connect_tracer.get()](int fd, const struct seccomp_notif& req,
                                                                               const std::string& name) {
        if (name == "connect") {
          if (c != nullptr) c->on_notification(fd, req);
        } else if (t != nullptr) {
          t->on_notification(fd, req, name);
        }
      });
    }
  };

  // Descriptors the sandbox hands over until its command is exec'd (end of stream). Once the
  // seccomp listener has arrived the command may wait on us (a denied or traced call before or
  // in its exec): answer it meanwhile.
  UniqueFd master;
  std::vector<UniqueFd> proxy_listeners;
  UniqueFd proxy_dns;
  std::vector<std::pair<char, UniqueFd>> tool_listeners;
  bool listener_gone = false;
  for (;;) {
    if (notifier && !listener_gone) {
      struct pollfd p[2] = {{ctl_parent.get(), POLLIN, 0}, {notifier->fd(), POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        throw_errno("poll");
      }
      if ((p[1].revents & (POLLHUP | POLLERR)) != 0) {
        listener_gone = true;
      } else if ((p[1].revents & POLLIN) != 0 && !notifier->on_readable()) {
        listener_gone = true;
      }
      if (p[0].revents == 0) continue;
    }
    char tag = 0;
    UniqueFd fd = recv_fd(ctl_parent.get(), &tag);
    if (!fd) break;
    if (tag == 'm')
      master = std::move(fd);
    else if (tag == 'n')
      start_notifier(std::move(fd));
    else if (tag == 'L')
      proxy_listeners.push_back(std::move(fd));
    else if (tag == 'D')
      proxy_dns = std::move(fd);
    else if (tag == 'U' || tag == 'T')
      tool_listeners.emplace_back(tag, std::move(fd));
  }
  ctl_parent.reset();
  // EOF without a message: the command has been exec'd.
  result.setup_error = read_to_eof(err_read.get());
  if (!result.setup_error.empty()) {
    siginfo_t si{};
    ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pid_fd.get()), &si, WEXITED);
    result.setup_failed = true;
    result.exit_code = 125;
    return result;
  }

  std::unique_ptr<RawTerminal> raw;
  std::unique_ptr<PtyRelay> relay;
  if (tty && master) {
    raw = std::make_unique<RawTerminal>(STDIN_FILENO);
    relay = std::make_unique<PtyRelay>(STDIN_FILENO, STDOUT_FILENO, std::move(master));
    relay->copy_window_size();
  }

  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep) throw_errno("epoll_create1");
  epoll_add(ep.get(), pid_fd.get(), EPOLLIN);
  epoll_add(ep.get(), signals.fd(), EPOLLIN);
  UniqueFd timer;
  if (plan.wall) {
    timer = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!timer) throw_errno("timerfd_create");
    auto ms = plan.wall->value.count();
    struct itimerspec its {};
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1'000'000;
    if (::timerfd_settime(timer.get(), 0, &its, nullptr) != 0) throw_errno("timerfd_settime");
    epoll_add(ep.get(), timer.get(), EPOLLIN);
  }
  std::unique_ptr<LimitWatch> limits;
  UniqueFd cpu_timer;
  if (cg != nullptr) {
    limits = std::make_unique<LimitWatch>(*cg, plan.resources, opts.audit, opts.verbose);
    for (int efd : cg->event_fds()) epoll_add(ep.get(), efd, EPOLLIN | EPOLLPRI);
    if (plan.resources.cpu_time) {
      // The session's CPU time is the cgroup's; look at it a few times a second.
      cpu_timer = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
      if (!cpu_timer) throw_errno("timerfd_create");
      struct itimerspec its {};
      its.it_value.tv_nsec = 200'000'000;
      its.it_interval.tv_nsec = 200'000'000;
      if (::timerfd_settime(cpu_timer.get(), 0, &its, nullptr) != 0) throw_errno("timerfd_settime");
      epoll_add(ep.get(), cpu_timer.get(), EPOLLIN);
    }
  }
  if (notifier) epoll_add(ep.get(), notifier->fd(), EPOLLIN);
  std::unique_ptr<EgressProxy> proxy;
  if (plan.proxy.enabled) {
    if (proxy_listeners.size() != plan.proxy.listen_ports().size() || !proxy_dns) {
      kill_sandbox();
      throw Error("network: the sandbox did not hand over the proxy's listening sockets");
    }
    ProxyOptions po;
    po.audit = opts.audit;
    po.verbose = opts.verbose;
    po.quiet = opts.quiet;
    po.on_denial = [&] { check_denials(); };
    proxy = std::make_unique<EgressProxy>(plan.proxy, std::move(proxy_listeners), std::move(proxy_dns), po);
    epoll_add(ep.get(), proxy->fd(), EPOLLIN);
  }
  if (plan.mcp.enabled) {
    if (tool_listeners.empty()) {
      kill_sandbox();
      throw Error("tools: the sandbox did not hand over the tools endpoint's listening sockets");
    }
    if (opts.on_tool_listeners) {
      try {
        opts.on_tool_listeners(std::move(tool_listeners));
      } catch (...) {
        kill_sandbox();
        throw;
      }
    }
    tool_listeners.clear();  // ours closed: when paddock-tools ends, connecting fails instead of hanging
  }
  for (const auto& [wfd, cb] : opts.watch_fds) epoll_add(ep.get(), wfd, EPOLLIN);
  bool input_open = relay != nullptr;
  if (relay) {
    epoll_add(ep.get(), relay->in(), EPOLLIN);
    epoll_add(ep.get(), relay->master(), EPOLLIN);
  }

  bool done = false;
  siginfo_t status{};
  while (!done) {
    struct epoll_event events[8];
    int n = ::epoll_wait(ep.get(), events, 8, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == pid_fd.get()) {
        if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pid_fd.get()), &status, WEXITED | WNOHANG) ==
                0 &&
            status.si_pid != 0) {
          done = true;
        }
      } else if (fd == signals.fd()) {
        struct signalfd_siginfo si {};
        while (::read(signals.fd(), &si, sizeof si) == sizeof si) {
          int sig = static_cast<int>(si.ssi_signo);
          if (sig == SIGCHLD) continue;
          if (sig == SIGWINCH) {
            if (relay)
              relay->copy_window_size();
            else
              ::kill(static_cast<pid_t>(pid), SIGWINCH);
          } else if (sig == SIGTSTP && raw) {
            // Give the terminal back, stop, and take it again when continued.
            raw->suspend();
            ::kill(0, SIGSTOP);
          } else if (sig == SIGCONT && raw) {
            raw->resume();
            relay->copy_window_size();
          } else {
            ::syscall(SYS_pidfd_send_signal, pid_fd.get(), sig, nullptr, 0);
          }
        }
      } else if (auto w = std::find_if(opts.watch_fds.begin(), opts.watch_fds.end(),
                                       [&](const auto& p) { return p.first == fd; });
                 w != opts.watch_fds.end()) {
        SessionOptions::Watch what = w->second();
        if (what != SessionOptions::Watch::kKeep) ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
        if (what == SessionOptions::Watch::kKill && !result.watch_killed) {
          result.watch_killed = true;
          kill_sandbox();
        }
      } else if (proxy && fd == proxy->fd()) {
        proxy->run_ready();
      } else if (notifier && fd == notifier->fd()) {
        if ((events[i].events & (EPOLLHUP | EPOLLERR)) != 0 || !notifier->on_readable()) {
          ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, notifier->fd(), nullptr);
        }
      } else if (cpu_timer && fd == cpu_timer.get()) {
        std::uint64_t ticks = 0;
        ssize_t rn = ::read(cpu_timer.get(), &ticks, sizeof ticks);
        (void)rn;
        if (!result.cpu_time_exceeded && limits->cpu_time_exceeded()) {
          result.cpu_time_exceeded = true;
          record_limit_kill(opts, "cpu_time",
                            "session CPU time " + format_duration(plan.resources.cpu_time->value) + " (" +
                                plan.resources.cpu_time->origin.short_str() + ") used up");
          kill_sandbox();
        }
      } else if (limits && is_event_fd(*cg, fd)) {
        if (limits->on_event() > 0) check_denials();
      } else if (timer && fd == timer.get()) {
        std::uint64_t expirations = 0;
        ssize_t rn = ::read(timer.get(), &expirations, sizeof expirations);  // disarms the level trigger
        (void)rn;
        ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, timer.get(), nullptr);
        result.timed_out = true;
        record_limit_kill(opts, "wall",
                          "wall-clock limit " + format_duration(plan.wall->value) + " (" +
                              plan.wall->origin.short_str() + ") reached");
        ::syscall(SYS_pidfd_send_signal, pid_fd.get(), SIGKILL, nullptr, 0);
      } else if (relay && fd == relay->in()) {
        if (!relay->on_input()) {
          input_open = false;
          ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, relay->in(), nullptr);
        }
        epoll_mod(ep.get(), relay->master(), EPOLLIN | (relay->wants_master_write() ? EPOLLOUT : 0u));
      } else if (relay && fd == relay->master()) {
        if (events[i].events & EPOLLOUT) relay->on_master_writable();
        if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !relay->on_master_readable()) {
          ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, relay->master(), nullptr);
        } else {
          epoll_mod(ep.get(), relay->master(), EPOLLIN | (relay->wants_master_write() ? EPOLLOUT : 0u));
        }
      }
    }
  }
  (void)input_open;
  if (relay) relay->drain();
  raw.reset();

  if (notifier) result.syscall_denials = notifier->denials();
  if (limits) {
    limits->finish();
    result.oom_killed = limits->oom_killed();
    result.memory_limit = limits->memory_limit_text();
    result.memory_peak = limits->memory_peak();
    result.cpu_usage_usec = limits->cpu_usage_usec();
  }
  if (result.denials_exceeded || result.cpu_time_exceeded || result.watch_killed) {
    result.exit_code = 137;
  } else if (result.timed_out) {
    result.exit_code = 124;
  } else if (status.si_code == CLD_EXITED) {
    result.exit_code = status.si_status;
  } else {
    result.exit_code = 128 + status.si_status;
  }
  (void)opts;
  return result;
}

}  // namespace paddock
