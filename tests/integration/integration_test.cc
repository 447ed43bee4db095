// Integration tests: real commands in real sandboxes, asserting what the kernel did.
//
// Every test starts the paddock binary under test (PADDOCK_BIN) with a profile and flags and
// runs paddock-probe (PADDOCK_PROBE) inside, which attempts one thing and prints `OK` or
// `ERR <ERRNONAME>`. Tests come in pairs where a layer has a grant: the layer denies, and the
// matching grant allows. Tests named Escape* are the escape battery: each asserts the precise
// errno (or the kill) that stops a known way out.
//
// The suite runs as the invoking user. When run as root with PADDOCK_IT_UNPRIVILEGED=1 (the
// `integration-unprivileged` meson test), it copies paddock, the probe, the profiles and
// itself to a world-readable folder and re-runs itself as uid/gid 65534 through setpriv;
// not root or no setpriv: exit 77 (meson: skipped).
//
// The Tools and Mcp suites run `paddock tool` and `paddock mcp`, which need paddock-tools and
// paddock-tool-worker (PADDOCK_TOOLS_BIN, PADDOCK_WORKER_BIN; copied, like the test tools in
// tests/integration/tools/, for the unprivileged re-run too).
//
// Layout of one test's folder (all under a private mkdtemp folder of this process):
//   work/        the working directory of paddock (the default profile grants it read-write)
//   work/.bin/   paddock-probe (and a paddock copy), hard links to this process's private copies
//   home/        $HOME of paddock (not granted unless a test says so)
//   state/       $XDG_STATE_HOME (audit logs), config/ $XDG_CONFIG_HOME (empty)
// The probe lives in the working directory so that a test needs no extra --ro flag to run it.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/sha256.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using paddock::Sha256;
using paddock::sha256_hex;
using Clock = std::chrono::steady_clock;
using Args = std::vector<std::string>;

// ------------------------------------------------------------------------------------------
// Configuration of this process

struct Config {
  std::string paddock;       // the binary under test
  std::string paddock_copy;  // a private copy, hard-linked into work dirs for nested runs
  std::string probe;         // a private copy of paddock-probe
  std::string profiles;      // the shipped profiles (PADDOCK_SHIPPED_PROFILES for paddock)
  std::string tools_bin;     // paddock-tools and paddock-tool-worker as given (PADDOCK_TOOLS_BIN,
  std::string worker_bin;    // PADDOCK_WORKER_BIN), copied into libexec on first use
  std::string libexec;       // the folder PADDOCK_LIBEXEC names for the Tools and Mcp suites
  std::string it_tools;      // the test tools (tests/integration/tools/*.js)
  std::string examples;      // the example profiles (profiles/examples/)
  std::string base;          // this process's temporary folder
  uid_t uid = 0;
  gid_t gid = 0;
  int landlock_abi = 0;  // as the kernel reports it (capped at 6 like paddock's plan)
};
Config g;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' ? v : fallback;
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  ::chmod(path.c_str(), mode);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// The probe's answers in a terminal's output (which also carries paddock's own messages).
std::vector<std::string> probe_lines(const std::string& s) {
  std::vector<std::string> out;
  for (auto& l : lines_of(s)) {
    if (l.rfind("OK", 0) == 0 || l.rfind("ERR ", 0) == 0) out.push_back(l);
  }
  return out;
}

std::string copy_exe(const std::string& from, const std::string& dir, const std::string& name) {
  std::string to = dir + "/" + name;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  ::chmod(to.c_str(), 0755);
  return to;
}

int landlock_abi() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(std::min(abi, 6L));
}

// ------------------------------------------------------------------------------------------
// Running processes

struct Result {
  int code = -1;  // exit status, -1 when killed by a signal
  int sig = 0;    // the signal that killed paddock itself (never expected)
  bool timed_out = false;
  double seconds = 0;
  std::string out, err;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  os << "exit " << r.code;
  if (r.sig != 0) os << " (paddock killed by signal " << r.sig << ")";
  if (r.timed_out) os << " (TEST WATCHDOG: killed after timeout)";
  os << "\n--- stdout ---\n" << r.out.substr(0, 4000) << "\n--- stderr ---\n" << r.err.substr(0, 4000);
  return os;
}

struct CStrings {
  explicit CStrings(const std::vector<std::string>& v) : keep(v) {
    for (auto& s : keep) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
  std::vector<std::string> keep;
  std::vector<char*> ptrs;
  char** get() { return ptrs.data(); }
};

// In the child between fork and exec: only async-signal-safe calls.
void reset_child_signals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

struct Spawned {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
  Clock::time_point started;
  std::string out_buf, err_buf;
};

// argv[0] must be a path. `keep` descriptors are inherited (their close-on-exec flag cleared).
Spawned spawn(const Args& argv, const Args& env, const std::string& cwd, bool stdin_pipe,
              const std::vector<int>& keep = {}) {
  int in[2] = {-1, -1}, out[2], err[2];
  if (stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  CStrings a(argv), e(env);
  Spawned s;
  s.started = Clock::now();
  s.pid = ::fork();
  if (s.pid < 0) throw std::runtime_error("fork");
  if (s.pid == 0) {
    reset_child_signals();
    if (stdin_pipe) {
      ::dup2(in[0], 0);
    } else {
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
    }
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(121);
    ::execve(a.get()[0], a.get(), e.get());
    ::_exit(120);
  }
  if (stdin_pipe) {
    ::close(in[0]);
    s.in = in[1];
    ::fcntl(s.in, F_SETFL, O_NONBLOCK);
  }
  ::close(out[1]);
  ::close(err[1]);
  s.out = out[0];
  s.err = err[0];
  return s;
}

// Reads stdout until `needle` appears (true) or the timeout passes (false).
bool read_until(Spawned& s, const std::string& needle, double timeout) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
  while (!contains(s.out_buf, needle)) {
    if (Clock::now() > deadline || s.out < 0) return false;
    struct pollfd p {
      s.out, POLLIN, 0
    };
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(s.out, buf, sizeof buf);
    if (n <= 0) {
      ::close(s.out);
      s.out = -1;
      return contains(s.out_buf, needle);
    }
    s.out_buf.append(buf, static_cast<size_t>(n));
  }
  return true;
}

// Writes `input` to stdin (then closes it), collects stdout and stderr, and reaps paddock.
// After `timeout` seconds paddock is killed (SIGKILL) and the result says timed_out.
Result finish(Spawned& s, const std::string& input = "", double timeout = 10) {
  Result r;
  size_t written = 0;
  if (s.in >= 0 && input.empty()) {
    ::close(s.in);
    s.in = -1;
  }
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
  bool exited = false;
  int status = 0;
  Clock::time_point exit_seen;
  for (;;) {
    std::vector<struct pollfd> fds;
    if (s.in >= 0) fds.push_back({s.in, POLLOUT, 0});
    if (s.out >= 0) fds.push_back({s.out, POLLIN, 0});
    if (s.err >= 0) fds.push_back({s.err, POLLIN, 0});
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 20);
    for (auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == s.in) {
        ssize_t n = ::write(s.in, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
          ::close(s.in);
          s.in = -1;
        }
      } else {
        char buf[65536];
        ssize_t n = ::read(p.fd, buf, sizeof buf);
        std::string& dst = p.fd == s.out ? s.out_buf : s.err_buf;
        if (n > 0) {
          dst.append(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          ::close(p.fd);
          (p.fd == s.out ? s.out : s.err) = -1;
        }
      }
    }
    if (!exited) {
      pid_t w = ::waitpid(s.pid, &status, WNOHANG);
      if (w == s.pid) {
        exited = true;
        exit_seen = Clock::now();
      }
    }
    // Done when paddock is reaped and its pipes are closed (or, if something inside still
    // holds them -- which would itself be a bug the tests catch elsewhere -- after a grace).
    if (exited && ((s.out < 0 && s.err < 0) || Clock::now() - exit_seen > std::chrono::milliseconds(1500))) break;
    if (!exited && Clock::now() > deadline) {
      r.timed_out = true;
      ::kill(s.pid, SIGKILL);
      deadline = Clock::now() + std::chrono::hours(1);
    }
    if (fds.empty() && !exited) ::usleep(10000);
  }
  for (int* fd : {&s.in, &s.out, &s.err}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - s.started).count();
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.sig = WTERMSIG(status);
  r.out = std::move(s.out_buf);
  r.err = std::move(s.err_buf);
  return r;
}

// Host processes whose command line contains the NUL-separated `parts` in a row.
std::vector<pid_t> host_pids_with(const Args& parts) {
  std::string needle;
  for (const auto& p : parts) needle += p + '\0';
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string cmdline = read_file(std::string("/proc/") + e->d_name + "/cmdline");
    if (contains(cmdline, needle)) out.push_back(std::atoi(e->d_name));
  }
  ::closedir(d);
  return out;
}

bool wait_for(const std::function<bool()>& cond, double timeout) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
  while (Clock::now() < deadline) {
    if (cond()) return true;
    ::usleep(20000);
  }
  return cond();
}

std::string unique_marker(const char* what) {
  static int n = 0;
  return std::string("paddock-it-") + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

// A host process outside every sandbox (`sleep`), for the tests that try to reach one.
class HostSleeper {
 public:
  HostSleeper() {
    pid_ = ::fork();
    if (pid_ == 0) {
      reset_child_signals();
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~HostSleeper() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string str() const { return std::to_string(pid_); }
  [[nodiscard]] bool alive() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_;
};

// A socket of `type` bound to 127.0.0.1 on a kernel-chosen port (stored in `port`), listening
// with `backlog` when it is a stream socket. `ok` says whether binding and listening worked.
int loopback_socket(int type, int backlog, int& port, bool* ok = nullptr) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool good = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (type == SOCK_STREAM) good = ::listen(fd, backlog) == 0 && good;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  if (ok != nullptr) *ok = good;
  return fd;
}

// A TCP or UDP socket on 127.0.0.1 with a kernel-chosen port.
class Listener {
 public:
  explicit Listener(int type) { fd_ = loopback_socket(type, 16, port_); }
  ~Listener() { ::close(fd_); }
  [[nodiscard]] std::string port() const { return std::to_string(port_); }
  // UDP: the first datagram within `timeout` seconds, or "" when none came.
  std::string receive(double timeout) {
    struct pollfd p {
      fd_, POLLIN, 0
    };
    if (::poll(&p, 1, static_cast<int>(timeout * 1000)) <= 0) return "";
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ------------------------------------------------------------------------------------------
// Pseudo-terminals: paddock started under forkpty, the test holding the master side.

class PtyRun {
 public:
  // stdin_null: paddock's stdin is /dev/null while stdout and stderr stay on the terminal.
  PtyRun(const Args& argv, const Args& env, const std::string& cwd, unsigned short rows, unsigned short cols,
         bool stdin_null = false) {
    CStrings a(argv), e(env);
    struct winsize ws {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    char name[256] = {};
    started_ = Clock::now();
    pid_ = ::forkpty(&master_, name, nullptr, &ws);
    if (pid_ < 0) throw std::runtime_error("forkpty");
    if (pid_ == 0) {
      reset_child_signals();
      if (stdin_null) {
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
      }
      if (::chdir(cwd.c_str()) != 0) ::_exit(121);
      ::execve(a.get()[0], a.get(), e.get());
      ::_exit(120);
    }
    slave_name_ = name;
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
    // Hold the outer slave open too: the terminal (and its input queue) then outlives
    // paddock, so the test can look for input injected into it.
    slave_ = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  }
  ~PtyRun() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
    if (slave_ >= 0) ::close(slave_);
  }

  [[nodiscard]] int master() const { return master_; }
  [[nodiscard]] const std::string& slave_name() const { return slave_name_; }

  bool read_until(const std::string& needle, double timeout) {
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    while (!contains(out_, needle)) {
      if (Clock::now() > deadline) return false;
      pump(50);
    }
    return true;
  }

  void write(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::write(master_, s.data() + off, s.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  Result finish(double timeout = 10) {
    Result r;
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    int status = 0;
    for (;;) {
      pump(20);
      if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
      if (Clock::now() > deadline && !r.timed_out) {
        r.timed_out = true;
        ::kill(pid_, SIGKILL);
      }
    }
    reaped_ = true;
    for (int i = 0; i < 10; ++i) pump(20);  // what paddock wrote just before it exited
    r.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.sig = WTERMSIG(status);
    r.out = out_;
    return r;
  }

  // Bytes waiting in the outer terminal's input queue (input nobody has read), counted in
  // non-canonical mode so that a partial line counts too.
  int pending_outer_input() {
    struct termios t {};
    if (slave_ < 0 || ::tcgetattr(slave_, &t) != 0) return -1;
    ::cfmakeraw(&t);
    ::tcsetattr(slave_, TCSANOW, &t);
    int n = -1;
    ::ioctl(slave_, FIONREAD, &n);
    return n;
  }

 private:
  void pump(int ms) {
    struct pollfd p {
      master_, POLLIN, 0
    };
    if (::poll(&p, 1, ms) <= 0) return;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n > 0)
      out_.append(buf, static_cast<size_t>(n));
    else
      ::usleep(ms * 1000);
  }

  pid_t pid_ = -1;
  int master_ = -1, slave_ = -1;
  bool reaped_ = false;
  std::string slave_name_, out_;
  Clock::time_point started_;
};

// ------------------------------------------------------------------------------------------
// The fixture

class Paddock : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = g.base + "/" + info->test_suite_name() + "." + info->name();
    fs::create_directories(dir_);
    work_ = dir_ + "/work";
    home_ = dir_ + "/home";
    for (const auto& d : {work_, home_, dir_ + "/state", dir_ + "/config", work_ + "/.bin"}) fs::create_directories(d);
    probe_ = work_ + "/.bin/paddock-probe";
    if (::link(g.probe.c_str(), probe_.c_str()) != 0) copy_exe(g.probe, work_ + "/.bin", "paddock-probe");
  }

  void TearDown() override {
    if (std::getenv("PADDOCK_IT_KEEP") == nullptr) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // paddock's environment: a small, known one, plus `extra` (NAME=VALUE).
  Args env(const Args& extra = {}) const {
    const char* user = std::getenv("USER");
    struct passwd* pw = ::getpwuid(g.uid);
    Args e = {
        "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME=" + home_,
        "USER=" + std::string(user != nullptr ? user
                              : pw != nullptr ? pw->pw_name
                                              : "paddock-it"),
        "LANG=C.UTF-8",
        "TERM=xterm",
        "XDG_STATE_HOME=" + dir_ + "/state",
        "XDG_CONFIG_HOME=" + dir_ + "/config",
        "PADDOCK_SHIPPED_PROFILES=" + g.profiles,
    };
    for (const auto& x : extra) {
      std::string name = x.substr(0, x.find('='));
      std::erase_if(e, [&](const std::string& v) { return v.rfind(name + "=", 0) == 0; });
      e.push_back(x);
    }
    return e;
  }

  // argv for paddock: FLAGS -- COMMAND.
  static Args argv(const Args& flags, const Args& cmd) {
    Args a = {g.paddock};
    a.insert(a.end(), flags.begin(), flags.end());
    a.push_back("--");
    a.insert(a.end(), cmd.begin(), cmd.end());
    return a;
  }

  struct Opts {
    Args env;               // extra variables for paddock
    std::string cwd;        // default: work/
    std::string input;      // stdin (a pipe when not empty; /dev/null otherwise)
    std::vector<int> keep;  // descriptors paddock inherits
    double timeout = 8;
  };

  Result run(const Args& flags, const Args& cmd, const Opts& o) {
    Spawned s = spawn(argv(flags, cmd), env(o.env), o.cwd.empty() ? work_ : o.cwd, !o.input.empty(), o.keep);
    return finish(s, o.input, o.timeout);
  }
  Result run(const Args& flags, const Args& cmd) { return run(flags, cmd, Opts{}); }

  // The probe's command line: PROBE ARGS...
  Args P(const Args& args) const {
    Args a = {probe_};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }
  // The probe inside `sh -c`: "PROBE args".
  std::string sh_probe(const std::string& args) const { return probe_ + " " + args; }

  // Runs the probe with `flags` and returns its one line; the run must succeed.
  std::string probe(const Args& flags, const Args& args, const Opts& o) {
    Result r = run(flags, P(args), o);
    EXPECT_EQ(r.code, 0) << "probe " << ::testing::PrintToString(args) << ": " << r;
    return trim(r.out);
  }
  std::string probe(const Args& flags, const Args& args) { return probe(flags, args, Opts{}); }
  std::string probe(const Args& args) { return probe({}, args, Opts{}); }

  std::string write_profile(const std::string& name, const std::string& text) {
    std::string path = work_ + "/" + name + ".toml";
    write_file(path, text, 0644);
    return path;
  }

  std::string dir_, work_, home_, probe_;
};

// ==========================================================================================
// Running a command: exit statuses, signals, timeouts, the process tree

using Session = Paddock;

TEST_F(Session, CommandRunsInItsOwnNamespaces) {
  EXPECT_EQ(probe({"hostname"}), "OK paddock");
  // pid 1 is paddock's init, the command is the first process it starts.
  EXPECT_EQ(probe({"pid"}), "OK 2");
  Result r = run({}, {"sh", "-c", "id -u; echo $PWD"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, std::to_string(g.uid) + "\n" + work_ + "\n");
}

TEST_F(Session, ExitStatusIsTheCommands) {
  Result r = run({}, {"sh", "-c", "exit 3"});
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_EQ(run({}, {"true"}).code, 0);
  EXPECT_EQ(run({}, {"false"}).code, 1);
}

TEST_F(Session, DeathBySignalIs128PlusN) {
  Result r = run({}, {"sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.code, 143) << r;
  r = run({}, {"sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(r.code, 137) << r;
}

TEST_F(Session, NotExecutableIs126) {
  write_file(work_ + "/script.sh", "#!/bin/sh\necho should-not-run\n", 0644);
  Result r = run({}, {"./script.sh"});
  EXPECT_EQ(r.code, 126) << r;
  EXPECT_FALSE(contains(r.out, "should-not-run"));
  EXPECT_TRUE(contains(r.err, "script.sh")) << r;
}

TEST_F(Session, NotFoundIs127) {
  Result r = run({}, {"paddock-it-no-such-command"});
  EXPECT_EQ(r.code, 127) << r;
  EXPECT_TRUE(contains(r.err, "paddock-it-no-such-command")) << r;
  EXPECT_TRUE(contains(r.err, "not found")) << r;
  // A path that is not granted does not exist inside either.
  write_file(dir_ + "/outside.sh", "#!/bin/sh\necho ran\n", 0755);
  r = run({}, {dir_ + "/outside.sh"});
  EXPECT_EQ(r.code, 127) << r;
}

TEST_F(Session, BadProfileIs125WithItsPosition) {
  std::string p = write_profile("bad", "version = 1\nextends = [\"default\"]\n\n[filesystem]\nraed = [\"/usr\"]\n");
  Result r = run({"-p", p}, {"true"});
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_TRUE(contains(r.err, p + ":5:1")) << r;
  EXPECT_TRUE(contains(r.err, "raed")) << r;
  EXPECT_EQ(r.out, "");
}

TEST_F(Session, TimeoutIs124AndKillsTheWholeTree) {
  std::string marker = unique_marker("timeout");
  Result r = run({"--timeout", "1s"},
                 {"sh", "-c", sh_probe("daemonize " + marker) + " >/dev/null; (sleep 1000 &); exec sleep 10"},
                 Opts{.timeout = 8});
  EXPECT_EQ(r.code, 124) << r;
  EXPECT_LT(r.seconds, 4.0) << r;
  EXPECT_FALSE(r.timed_out);
  // The double-forked daemon (re-parented to the sandbox's init, in its own session) is gone.
  EXPECT_TRUE(wait_for(
      [&] {
        return host_pids_with({"hang", marker}).empty();
      },
      2.0))
      << "a daemonized process survived the timeout";
  EXPECT_TRUE(wait_for(
      [&] {
        return host_pids_with({"sleep", "1000"}).empty();
      },
      2.0))
      << "a background `sleep 1000` survived the timeout";
}

// When the command exits, whatever it left running in the sandbox dies with paddock's init,
// and paddock does not wait for it (nor for the pipes it holds).
TEST_F(Session, BackgroundProcessesDieWithTheCommand) {
  std::string marker = unique_marker("leftover");
  Result r = run({}, {"sh", "-c", sh_probe("daemonize " + marker) + " >/dev/null; sleep 30 & exit 4"});
  EXPECT_EQ(r.code, 4) << r;
  EXPECT_LT(r.seconds, 3.0) << r;
  EXPECT_TRUE(wait_for(
      [&] {
        return host_pids_with({"hang", marker}).empty();
      },
      2.0))
      << "a daemonized process outlived the command";
}

TEST_F(Session, SigtermIsForwardedToTheCommand) {
  Spawned s = spawn(argv({}, {"sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"}), env(),
                    work_, false);
  ASSERT_TRUE(read_until(s, "ready", 5)) << s.out_buf;
  ::kill(s.pid, SIGTERM);
  Result r = finish(s, "", 5);
  EXPECT_EQ(r.code, 7) << r;
}

TEST_F(Session, SigintIsForwardedToTheCommand) {
  Spawned s =
      spawn(argv({}, {"sh", "-c", "trap 'exit 9' INT; echo ready; while :; do sleep 0.05; done"}), env(), work_, false);
  ASSERT_TRUE(read_until(s, "ready", 5)) << s.out_buf;
  ::kill(s.pid, SIGINT);
  Result r = finish(s, "", 5);
  EXPECT_EQ(r.code, 9) << r;
}

TEST_F(Session, SigkillOfPaddockLeavesNoSurvivors) {
  std::string daemon = unique_marker("daemon"), command = unique_marker("command");
  Spawned s = spawn(argv({}, {"sh", "-c", sh_probe("daemonize " + daemon) + "; exec " + sh_probe("hang " + command)}),
                    env(), work_, false);
  ASSERT_TRUE(wait_for(
      [&] {
        return !host_pids_with({"hang", daemon}).empty() && !host_pids_with({"hang", command}).empty();
      },
      5))
      << "the sandboxed processes never started";
  ::kill(s.pid, SIGKILL);
  Result r = finish(s, "", 5);
  EXPECT_EQ(r.sig, SIGKILL);
  EXPECT_TRUE(wait_for([&] { return host_pids_with({"hang", daemon}).empty(); }, 3)) << "the daemon survived paddock";
  EXPECT_TRUE(wait_for([&] { return host_pids_with({"hang", command}).empty(); }, 3)) << "the command survived paddock";
}

TEST_F(Session, PipesAreBinarySafe) {
  std::string data(1 << 20, '\0');
  std::mt19937_64 rng(42);
  for (auto& c : data) c = static_cast<char>(rng());
  Result r = run({}, {"cat"}, Opts{.input = data});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.size(), data.size());
  EXPECT_TRUE(r.out == data) << "stdout differs from stdin";
  // stderr is separate and stdin's end reaches the command.
  r = run({}, {"sh", "-c", "wc -c; echo to-stderr >&2"}, Opts{.input = "12345"});
  EXPECT_EQ(trim(r.out), "5");
  EXPECT_EQ(trim(r.err), "to-stderr");
}

TEST_F(Session, HundredsOfGrantsInAProfile) {
  fs::create_directories(dir_ + "/many");
  std::string list;
  for (int i = 0; i < 300; ++i) {
    std::string f = dir_ + "/many/f" + std::to_string(i);
    write_file(f, "content-" + std::to_string(i));
    list += (i ? ", \"" : "\"") + f + "\"";
  }
  std::string p = write_profile("many", "version = 1\nextends = [\"default\"]\n[filesystem]\nread = [" + list + "]\n");
  Result r = run({"-p", p}, {"sh", "-c", "cat " + dir_ + "/many/f0 " + dir_ + "/many/f150 " + dir_ + "/many/f299"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "content-0content-150content-299");
  EXPECT_EQ(probe({"-p", p}, {"write", dir_ + "/many/f7"}), "ERR EROFS");
}

TEST_F(Session, HundredsOfGrantsAsRoFlags) {
  fs::create_directories(dir_ + "/many");
  Args flags;
  for (int i = 0; i < 300; ++i) {
    std::string f = dir_ + "/many/f" + std::to_string(i);
    write_file(f, "content-" + std::to_string(i));
    flags.push_back("--ro");
    flags.push_back(f);
  }
  Result r = run(flags, {"sh", "-c", "cat " + dir_ + "/many/f0 " + dir_ + "/many/f150 " + dir_ + "/many/f299"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "content-0content-150content-299");
}

// Every repeatable flag accumulates (`--ro A --ro B`, `--env X --env Y`, `-p A -p B`).
TEST_F(Session, RepeatedFlagsAccumulate) {
  fs::create_directories(dir_ + "/a");
  fs::create_directories(dir_ + "/b");
  write_file(dir_ + "/a/x", "A");
  write_file(dir_ + "/b/y", "B");
  Result r = run({"--ro", dir_ + "/a", "--ro", dir_ + "/b", "--env", "ONE=1", "--env", "TWO=2"},
                 {"sh", "-c", "cat " + dir_ + "/a/x " + dir_ + "/b/y; echo \" $ONE $TWO\""});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "AB 1 2\n");
  std::string extra = write_profile("extra", "version = 1\n[env]\nset = { EXTRA = \"yes\" }\n");
  r = run({"-p", "default", "-p", extra}, {"sh", "-c", "echo $EXTRA"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "yes\n");
}

TEST_F(Session, DryRunPrintsThePlanWithoutSecretValues) {
  std::string p = write_profile("dry", R"(version = 1
extends = ["default"]
[env]
set = { VISIBLE_SETTING = "plain-value" }
[secrets.API_TOKEN]
from_env = "PADDOCK_IT_TOKEN"
expose = "env"
[secrets.FILE_TOKEN]
from_env = "PADDOCK_IT_FILE_TOKEN"
expose = "file"
)");
  const std::string secret = "s3cr3t-value-0f-the-test", file_secret = "f1le-s3cr3t-value";
  Result r = run({"-p", p, "--dry-run"}, {"true"},
                 Opts{.env = {"PADDOCK_IT_TOKEN=" + secret, "PADDOCK_IT_FILE_TOKEN=" + file_secret}});
  EXPECT_EQ(r.code, 0) << r;
  for (const char* s :
       {"[mounts]", "bind-ro", "/usr", "bind-rw", work_.c_str(), "mask-file", "/etc/shadow", "proc", "[landlock]",
        "[seccomp]", "ptrace", "[environment]", "API_TOKEN", "VISIBLE_SETTING", "/run/secrets", "PATH"}) {
    EXPECT_TRUE(contains(r.out, s)) << "dry run lacks " << s << "\n" << r.out;
  }
  EXPECT_FALSE(contains(r.out + r.err, secret)) << "a secret value is printed";
  EXPECT_FALSE(contains(r.out + r.err, file_secret)) << "a secret value is printed";
  // Nothing ran: no session log.
  EXPECT_FALSE(fs::exists(dir_ + "/state/paddock/sessions") && !fs::is_empty(dir_ + "/state/paddock/sessions"));
}

// The session log: a start event with the Landlock ABI, an exit event with the status.
TEST_F(Session, AuditSessionLog) {
  Result r = run({}, {"sh", "-c", "exit 3"});
  ASSERT_EQ(r.code, 3) << r;
  std::string sessions = dir_ + "/state/paddock/sessions";
  ASSERT_TRUE(fs::is_directory(sessions)) << r;
  std::vector<fs::path> logs;
  for (const auto& e : fs::directory_iterator(sessions)) logs.push_back(e.path());
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].extension(), ".jsonl");
  auto lines = lines_of(read_file(logs[0]));
  ASSERT_GE(lines.size(), 2u);
  const std::string& start = lines.front();
  EXPECT_TRUE(contains(start, "\"layer\":\"session\"")) << start;
  EXPECT_TRUE(contains(start, "\"action\":\"start\"")) << start;
  EXPECT_TRUE(contains(start, "\"landlock\":{\"abi\":" + std::to_string(g.landlock_abi))) << start;
  const std::string& exit = lines.back();
  EXPECT_TRUE(contains(exit, "\"action\":\"exit\"")) << exit;
  EXPECT_TRUE(contains(exit, "\"status\":3")) << exit;
}

TEST_F(Session, AuditFileFlag) {
  std::string log = dir_ + "/audit.jsonl";
  Result r = run({"--audit", log}, {"sh", "-c", "exit 5"});
  ASSERT_EQ(r.code, 5) << r;
  auto lines = lines_of(read_file(log));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_TRUE(contains(lines.front(), "\"action\":\"start\"")) << lines.front();
  EXPECT_TRUE(contains(lines.front(), "\"landlock\":{\"abi\":")) << lines.front();
  EXPECT_TRUE(contains(lines.back(), "\"status\":5")) << lines.back();
}

// paddock inside paddock: the outer seccomp filter refuses the inner clone(CLONE_NEWUSER).
class Nested : public Paddock {
 protected:
  void SetUp() override {
    Paddock::SetUp();
    inner_ = work_ + "/.bin/paddock";
    if (::link(g.paddock_copy.c_str(), inner_.c_str()) != 0) copy_exe(g.paddock_copy, work_ + "/.bin", "paddock");
  }
  // The outer sandbox: default profile plus the profiles folder; the inner paddock audits to
  // work/inner-N.jsonl (its default, under $HOME, is not writable inside).
  Result nested(const Args& inner_flags, const Args& cmd) {
    inner_audit_ = work_ + "/inner-" + std::to_string(++sessions_) + ".jsonl";  // one log per session
    Args inner = {inner_, "--audit", inner_audit_};
    inner.insert(inner.end(), inner_flags.begin(), inner_flags.end());
    inner.push_back("--");
    inner.insert(inner.end(), cmd.begin(), cmd.end());
    return run({"--ro", g.profiles, "--env", "PADDOCK_SHIPPED_PROFILES=" + g.profiles}, inner);
  }
  std::string inner_, inner_audit_;
  int sessions_ = 0;
};

// Inside paddock the outer filter refuses both new user namespaces and a second seccomp
// listener: the inner paddock names the first layer it cannot have and refuses.
TEST_F(Nested, RefusesToRunWithoutNamespaces) {
  Result r = nested({}, P({"pid"}));
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_TRUE(contains(r.err, "refusing to run")) << r;
  EXPECT_TRUE(contains(r.err, "best_effort")) << r;
  EXPECT_FALSE(contains(r.out, "OK")) << r;
}

TEST_F(Nested, BestEffortRunsDegradedWithLandlockAndSeccomp) {
  // base (system folders, credential masks) plus the working directory, without tmpfs
  // grants (see BestEffortTmpfsIsNotTheHostsFolder).
  std::string p = write_profile("degraded", R"(version = 1
extends = ["base"]
[filesystem]
write = ["${CWD}"]
[sandbox]
best_effort = ["namespaces", "seccomp-notify"]
)");
  Result r = nested({"-p", p}, P({"pid"}));
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.err, "DEGRADED")) << r;
  EXPECT_TRUE(r.out.rfind("OK ", 0) == 0 && trim(r.out) != "OK 2") << "expected the outer pid namespace: " << r;
  // The degradation is audited too.
  std::string audit = read_file(inner_audit_);
  EXPECT_TRUE(contains(audit, "\"degraded\":[\"namespaces: unavailable")) << audit;

  // Without the mount view, Landlock alone confines files: the profiles folder is visible to
  // the inner paddock (the outer sandbox granted it) but not granted to the inner command.
  r = nested({"-p", p}, P({"read", g.profiles + "/base.toml"}));
  EXPECT_EQ(trim(r.out), "ERR EACCES") << r;
  r = nested({"-p", p}, P({"read", work_ + "/degraded.toml"}));
  EXPECT_TRUE(trim(r.out).rfind("OK bytes=", 0) == 0) << r;
  r = nested({"-p", p}, P({"create", "/usr/x"}));
  EXPECT_EQ(trim(r.out), "ERR EROFS") << r;  // the outer mount view still holds
  // Seccomp still holds.
  r = nested({"-p", p}, P({"unshare-user"}));
  EXPECT_EQ(trim(r.out), "ERR EPERM") << r;
  if (g.landlock_abi >= 4) {
    Listener tcp(SOCK_STREAM);
    r = nested({"-p", p}, P({"bind-tcp", "127.0.0.1", "0"}));
    EXPECT_EQ(trim(r.out), "ERR EACCES") << r;
  }
  if (g.landlock_abi >= 6) {
    // No pid namespace: the inner command sees the outer sandbox's init (pid 1), and
    // Landlock's signal scope alone refuses signalling it.
    r = nested({"-p", p}, P({"kill", "1", "0"}));
    EXPECT_EQ(trim(r.out), "ERR EPERM") << r;
  }
}

// Without a mount namespace a `filesystem.tmpfs` folder cannot be fresh and private. It must
// not turn into a Landlock grant of the real folder: with the default profile
// (tmpfs = ["/tmp", "/var/tmp"]) the command could then read and write everything in the
// host's /tmp (Kerberos caches, other sessions' files, ...). Here "the host" is the outer
// sandbox, whose /tmp holds a file the inner command was never granted.
TEST_F(Nested, BestEffortTmpfsIsNotTheHostsFolder) {
  std::string p = write_profile("degraded", R"(version = 1
extends = ["default"]
[sandbox]
best_effort = ["namespaces", "seccomp-notify"]
)");
  std::string inner = inner_ + " -q --audit " + work_ + "/inner.jsonl -p " + p + " -- sh -c '" +
                      sh_probe("read /tmp/outer-file") + "; " + sh_probe("create /tmp/inner-file") + "'";
  Result r = run({"--ro", g.profiles, "--env", "PADDOCK_SHIPPED_PROFILES=" + g.profiles},
                 {"sh", "-c",
                  "echo outer-secret > /tmp/outer-file; " + inner + "; echo inner-exit=$?; " +
                      sh_probe("exists /tmp/inner-file")});
  auto l = lines_of(r.out);
  ASSERT_GE(l.size(), 2u) << r;
  EXPECT_EQ(l.back(), "ERR ENOENT") << "the degraded sandbox created a file in the host's /tmp\n" << r;
  EXPECT_FALSE(contains(r.out, "OK bytes=13")) << "the degraded sandbox read a file of the host's /tmp\n" << r;
  // Either the inner paddock refuses (naming the tmpfs it cannot provide) or its command ran
  // and was refused both.
  if (contains(r.out, "inner-exit=125")) {
    EXPECT_TRUE(contains(r.err, "tmpfs")) << "the inner paddock failed for another reason\n" << r;
  } else {
    ASSERT_EQ(l.size(), 4u) << r;
    EXPECT_TRUE(l[0].rfind("ERR ", 0) == 0) << r;
    EXPECT_TRUE(l[1].rfind("ERR ", 0) == 0) << r;
  }
}

// ==========================================================================================
// File system view: grants, denies, tmpfs, /dev, /proc

using Fs = Paddock;

TEST_F(Fs, PathsOutsideTheGrantsDoNotExist) {
  fs::create_directories(dir_ + "/outside");
  write_file(dir_ + "/outside/data.txt", "host data");
  EXPECT_EQ(probe({"read", dir_ + "/outside/data.txt"}), "ERR ENOENT");
  EXPECT_EQ(probe({"ls", dir_ + "/outside"}), "ERR ENOENT");
  EXPECT_EQ(probe({"exists", home_}), "ERR ENOENT");
  EXPECT_EQ(probe({"exists", "/root"}), "ERR ENOENT");
  EXPECT_EQ(probe({"exists", "/var/log"}), "ERR ENOENT");
  EXPECT_EQ(probe({"exists", "/run"}), "ERR ENOENT");
}

TEST_F(Fs, RoGrantAllowsReadingOnly) {
  fs::create_directories(dir_ + "/outside");
  write_file(dir_ + "/outside/data.txt", "host data");
  EXPECT_EQ(probe({"--ro", dir_ + "/outside"}, {"read", dir_ + "/outside/data.txt"}), "OK bytes=9");
  EXPECT_EQ(probe({"--ro", dir_ + "/outside"}, {"write", dir_ + "/outside/data.txt"}), "ERR EROFS");
  EXPECT_EQ(probe({"--ro", dir_ + "/outside"}, {"create", dir_ + "/outside/new"}), "ERR EROFS");
  // A single file can be granted.
  EXPECT_EQ(probe({"--ro", dir_ + "/outside/data.txt"}, {"read", dir_ + "/outside/data.txt"}), "OK bytes=9");
  EXPECT_EQ(read_file(dir_ + "/outside/data.txt"), "host data");
  EXPECT_FALSE(fs::exists(dir_ + "/outside/new"));
}

TEST_F(Fs, RwGrantAllowsWriting) {
  fs::create_directories(dir_ + "/other");
  write_file(dir_ + "/other/data.txt", "v1");
  EXPECT_EQ(probe({"write", dir_ + "/other/data.txt"}), "ERR ENOENT");
  EXPECT_EQ(probe({"--rw", dir_ + "/other"}, {"write", dir_ + "/other/data.txt"}), "OK");
  EXPECT_EQ(probe({"--rw", dir_ + "/other"}, {"create", dir_ + "/other/new"}), "OK");
  EXPECT_EQ(read_file(dir_ + "/other/data.txt"), "v1paddock-probe\n");
  EXPECT_TRUE(fs::exists(dir_ + "/other/new"));
}

TEST_F(Fs, WorkingDirectoryIsWritableSystemFoldersAreNot) {
  EXPECT_EQ(probe({"create", work_ + "/made-inside"}), "OK");
  EXPECT_TRUE(fs::exists(work_ + "/made-inside"));
  EXPECT_EQ(probe({"create", "/usr/paddock-it"}), "ERR EROFS");
  EXPECT_EQ(probe({"create", "/etc/paddock-it"}), "ERR EROFS");
  EXPECT_EQ(probe({"create", "/paddock-it"}), "ERR EROFS");
  EXPECT_EQ(probe({"mkdir", "/paddock-it"}), "ERR EROFS");
  EXPECT_EQ(probe({"read", "/etc/hostname"}).rfind("OK bytes=", 0), 0u);
}

TEST_F(Fs, DenyMasksAFileInsideAWritableGrant) {
  write_file(work_ + "/secret.txt", "do not read");
  EXPECT_EQ(probe({"read", work_ + "/secret.txt"}), "OK bytes=11");
  // Masked: an empty, read-only file.
  EXPECT_EQ(probe({"--deny", work_ + "/secret.txt"}, {"read", work_ + "/secret.txt"}), "OK bytes=0");
  EXPECT_EQ(probe({"--deny", work_ + "/secret.txt"}, {"write", work_ + "/secret.txt"}), "ERR EACCES");
  EXPECT_EQ(probe({"--deny", work_ + "/secret.txt"}, {"unlink", work_ + "/secret.txt"}), "ERR EBUSY");
  EXPECT_EQ(read_file(work_ + "/secret.txt"), "do not read");
}

TEST_F(Fs, DenyMasksAFolderInsideAWritableGrant) {
  fs::create_directories(work_ + "/private");
  write_file(work_ + "/private/key", "do not read");
  EXPECT_EQ(probe({"ls", work_ + "/private"}), "OK key");
  EXPECT_EQ(probe({"--deny", work_ + "/private"}, {"ls", work_ + "/private"}), "ERR EACCES");
  EXPECT_EQ(probe({"--deny", work_ + "/private"}, {"read", work_ + "/private/key"}), "ERR EACCES");
  EXPECT_EQ(probe({"--deny", work_ + "/private"}, {"create", work_ + "/private/new"}), "ERR EACCES");
}

TEST_F(Fs, DenyWinsOverAnExplicitGrant) {
  write_file(work_ + "/secret.txt", "do not read");
  EXPECT_EQ(probe({"--ro", work_ + "/secret.txt", "--deny", work_ + "/secret.txt"}, {"read", work_ + "/secret.txt"}),
            "OK bytes=0");
  // base.toml denies /etc/shadow; granting it on the command line does not undo that.
  EXPECT_EQ(probe({"--ro", "/etc/shadow"}, {"read", "/etc/shadow"}), "OK bytes=0");
}

// A granted symlink is recreated as the same symlink: its target is reachable only if granted.
// (A profile without the default's tmpfs /tmp, which would contain the symlink's folder.)
TEST_F(Fs, GrantedSymlinkIsRecreatedNotFollowed) {
  fs::create_directories(dir_ + "/target");
  write_file(dir_ + "/target/data.txt", "target data");
  fs::create_symlink(dir_ + "/target", dir_ + "/alias");
  std::string p = write_profile("notmp", "version = 1\nextends = [\"base\"]\n[filesystem]\nwrite = [\"${CWD}\"]\n");
  EXPECT_EQ(probe({"-p", p, "--ro", dir_ + "/alias"}, {"stat", dir_ + "/alias"}).substr(0, 23),
            "OK mode=0777 type=symli");
  EXPECT_EQ(probe({"-p", p, "--ro", dir_ + "/alias"}, {"read", dir_ + "/alias/data.txt"}), "ERR ENOENT");
  EXPECT_EQ(probe({"-p", p, "--ro", dir_ + "/target"}, {"read", dir_ + "/target/data.txt"}), "OK bytes=11");
}

TEST_F(Fs, TmpfsIsFreshEmptyAndWritable) {
  fs::create_directories(work_ + "/scratch");
  write_file(work_ + "/scratch/host-file", "x");
  EXPECT_EQ(probe({"--tmpfs", work_ + "/scratch"}, {"ls", work_ + "/scratch"}), "OK");
  EXPECT_EQ(probe({"--tmpfs", work_ + "/scratch"}, {"create", work_ + "/scratch/inside"}), "OK");
  EXPECT_FALSE(fs::exists(work_ + "/scratch/inside"));
  EXPECT_TRUE(fs::exists(work_ + "/scratch/host-file"));
  // The default profile's /tmp is one too: the host's /tmp content is not there.
  EXPECT_EQ(probe({"exists", g.base + "/.host-only"}), "ERR ENOENT");
  EXPECT_EQ(probe({"create", "/var/tmp/x"}), "OK");
}

TEST_F(Fs, MinimalDev) {
  EXPECT_EQ(probe({"ls", "/dev"}), "OK fd full null ptmx pts random shm stderr stdin stdout tty urandom zero");
  EXPECT_EQ(probe({"write", "/dev/null"}), "OK");
  EXPECT_EQ(probe({"read", "/dev/null"}), "OK bytes=0");
  EXPECT_EQ(probe({"create", "/dev/shm/x"}), "OK");
  EXPECT_EQ(probe({"create", "/dev/x"}), "ERR EACCES");
}

TEST_F(Fs, FreshProcNoSys) {
  HostSleeper host;
  EXPECT_EQ(probe({"exists", "/proc/" + host.str()}), "ERR ENOENT");
  EXPECT_EQ(probe({"exists", "/proc/1/status"}), "OK");
  EXPECT_EQ(probe({"exists", "/sys"}), "ERR ENOENT");
  Result r = run({}, P({"cat", "/proc/1/cmdline"}));
  EXPECT_FALSE(contains(r.out, "ERR")) << r;
}

// ==========================================================================================
// Environment, secrets, limits

using Env = Paddock;

TEST_F(Env, OnlyTheAllowlistAndWhatIsSetReachTheCommand) {
  Result r = run({"--env", "ADDED=by-flag"}, P({"env"}), Opts{.env = {"HOST_ONLY_VARIABLE=leak", "LC_ALL=C"}});
  ASSERT_EQ(r.code, 0) << r;
  std::set<std::string> names;
  for (const auto& l : lines_of(r.out)) names.insert(l.substr(0, l.find('=')));
  EXPECT_TRUE(contains(r.out, "ADDED=by-flag\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "LC_ALL=C\n")) << r.out;  // LC_* pattern
  EXPECT_FALSE(contains(r.out, "HOST_ONLY_VARIABLE")) << r.out;
  EXPECT_FALSE(contains(r.out, "XDG_STATE_HOME")) << r.out;
  EXPECT_FALSE(contains(r.out, "PADDOCK_SHIPPED_PROFILES")) << r.out;
  const std::set<std::string> allowed = {"PATH", "HOME", "USER",      "LOGNAME",  "LANG",    "LANGUAGE", "LC_ALL",
                                         "TZ",   "TERM", "COLORTERM", "NO_COLOR", "COLUMNS", "LINES",    "ADDED"};
  for (const auto& n : names) EXPECT_TRUE(allowed.count(n)) << "unexpected variable " << n;
  // --env NAME passes a host variable through.
  EXPECT_EQ(probe({"--env", "HOST_ONLY_VARIABLE"}, {"getenv", "HOST_ONLY_VARIABLE"},
                  Opts{.env = {"HOST_ONLY_VARIABLE=passed"}}),
            "OK passed");
}

TEST_F(Env, ProfileEnvSet) {
  std::string p =
      write_profile("envset", "version = 1\nextends = [\"default\"]\n[env]\nset = { GREETING = \"hello world\" }\n");
  EXPECT_EQ(probe({"-p", p}, {"getenv", "GREETING"}), "OK hello world");
}

TEST_F(Env, SecretExposedAsEnvironmentVariable) {
  std::string p = write_profile("sec", R"(version = 1
extends = ["default"]
[secrets.API_TOKEN]
from_env = "PADDOCK_IT_SOURCE"
expose = "env"
)");
  Opts o{.env = {"PADDOCK_IT_SOURCE=tok-123"}};
  EXPECT_EQ(probe({"-p", p}, {"getenv", "API_TOKEN"}, o), "OK tok-123");
  // The source variable itself is not passed.
  EXPECT_EQ(probe({"-p", p}, {"getenv", "PADDOCK_IT_SOURCE"}, o), "ERR ENOENT");
  EXPECT_EQ(probe({"-p", p}, {"exists", "/run/secrets"}, o), "ERR ENOENT");
}

TEST_F(Env, SecretExposedAsFile0400) {
  std::string p = write_profile("sec", R"(version = 1
extends = ["default"]
[secrets.FILE_TOKEN]
from_env = "PADDOCK_IT_SOURCE"
expose = "file"
)");
  Opts o{.env = {"PADDOCK_IT_SOURCE=file-secret-456"}};
  EXPECT_EQ(probe({"-p", p}, {"stat", "/run/secrets/FILE_TOKEN"}, o), "OK mode=0400 type=file size=15");
  EXPECT_EQ(probe({"-p", p}, {"cat", "/run/secrets/FILE_TOKEN"}, o), "file-secret-456");
  EXPECT_EQ(probe({"-p", p}, {"getenv", "FILE_TOKEN"}, o), "ERR ENOENT");
  EXPECT_EQ(probe({"-p", p}, {"write", "/run/secrets/FILE_TOKEN"}, o), "ERR EACCES");
  EXPECT_EQ(probe({"-p", p}, {"create", "/run/secrets/other"}, o), "ERR EROFS");
  Result r = run({"-p", p}, P({"env"}), o);
  EXPECT_FALSE(contains(r.out, "file-secret-456")) << r;
}

TEST_F(Env, MissingSecretSourceIs125NamingTheSecret) {
  std::string p = write_profile("sec", R"(version = 1
extends = ["default"]
[secrets.MISSING_TOKEN]
from_env = "PADDOCK_IT_NOT_SET"
expose = "env"
)");
  Result r = run({"-p", p}, P({"pid"}));
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_TRUE(contains(r.err, "MISSING_TOKEN")) << r;
  EXPECT_EQ(r.out, "");
}

TEST_F(Env, RlimitNofileFromTheProfile) {
  std::string p = write_profile("lim", "version = 1\nextends = [\"default\"]\n[limits]\nnofile = 64\n");
  Result r = run({"-p", p}, {"sh", "-c", "ulimit -n; ulimit -c"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "64\n0\n");
}

// Resource limits. Each asks for a layer paddock must either enforce or refuse to run without
// (exit 125 naming it); running the command with the limit silently ignored is fail-open.
using Limits = Paddock;

TEST_F(Limits, PidsLimitIsEnforcedOrRefused) {
  Result r = run({"--pids", "8", "--timeout", "5s"}, P({"forks", "40"}));
  if (r.code == 125) {
    EXPECT_TRUE(contains(r.err, "pids") || contains(r.err, "cgroup")) << r;
    return;
  }
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, " then EAGAIN")) << "--pids 8 did not stop 40 forks: " << r;
}

TEST_F(Limits, MemoryLimitIsEnforcedOrRefused) {
  Result r = run({"--memory", "16M", "--timeout", "5s"}, P({"alloc", "128"}));
  if (r.code == 125) {
    EXPECT_TRUE(contains(r.err, "memory") || contains(r.err, "cgroup")) << r;
    return;
  }
  // Enforced: killed by the memory cgroup (137), or the allocation refused (an rlimit).
  EXPECT_TRUE(r.code == 137 || (r.code == 0 && trim(r.out) == "ERR ENOMEM"))
      << "--memory 16M let the command allocate 128M: " << r;
  EXPECT_FALSE(contains(r.out, "OK allocated")) << r;
}

TEST_F(Limits, CpuTimeLimitIsEnforcedOrRefused) {
  std::string p = write_profile("cpu", "version = 1\nextends = [\"default\"]\n[limits]\ncpu_time = \"1s\"\n");
  Result r = run({"-p", p, "--timeout", "6s"}, P({"spin", "3"}));
  if (r.code == 125) {
    EXPECT_TRUE(contains(r.err, "cpu")) << r;
    return;
  }
  // RLIMIT_CPU: SIGXCPU at the soft limit (152), SIGKILL at the hard one (137).
  EXPECT_TRUE(r.code == 128 + SIGXCPU || r.code == 137) << "limits.cpu_time = 1s let 3s of CPU run: " << r;
  EXPECT_LT(r.seconds, 2.5) << r;
}

// ==========================================================================================
// Network

using Net = Paddock;

TEST_F(Net, NoneOnlyHasLoopback) {
  Result r = run({}, P({"cat", "/proc/net/dev"}));
  ASSERT_EQ(r.code, 0) << r;
  int interfaces = 0;
  for (const auto& l : lines_of(r.out)) {
    if (contains(l, ":")) {
      ++interfaces;
      EXPECT_TRUE(contains(l, "lo:")) << l;
    }
  }
  EXPECT_EQ(interfaces, 1) << r.out;
}

TEST_F(Net, NoneCannotConnectToAHostLoopbackListener) {
  Listener tcp(SOCK_STREAM);
  // Landlock (ABI >= 4) refuses every TCP connect before the routing would; without it the
  // sandbox's own lo has nothing listening.
  EXPECT_EQ(probe({"connect", "127.0.0.1", tcp.port()}), g.landlock_abi >= 4 ? "ERR EACCES" : "ERR ECONNREFUSED");
  EXPECT_EQ(probe({"--net", "none"}, {"connect", "127.0.0.1", tcp.port()}),
            g.landlock_abi >= 4 ? "ERR EACCES" : "ERR ECONNREFUSED");
}

TEST_F(Net, HostModeReachesAHostLoopbackListener) {
  Listener tcp(SOCK_STREAM);
  EXPECT_EQ(probe({"--net", "host"}, {"connect", "127.0.0.1", tcp.port()}), "OK");
}

// UDP is outside Landlock's reach: this is the network namespace alone.
TEST_F(Net, NoneUdpNeverLeavesTheSandbox) {
  Listener udp(SOCK_DGRAM);
  EXPECT_EQ(probe({"udp-send", "127.0.0.1", udp.port(), "from-none"}), "OK");
  EXPECT_EQ(udp.receive(0.5), "");
  EXPECT_EQ(probe({"--net", "host"}, {"udp-send", "127.0.0.1", udp.port(), "from-host"}), "OK");
  EXPECT_EQ(udp.receive(2), "from-host");
}

TEST_F(Net, NoneTcpBindRefusedByLandlock) {
  if (g.landlock_abi < 4) GTEST_SKIP() << "Landlock ABI " << g.landlock_abi << " < 4 has no TCP rules";
  EXPECT_EQ(probe({"bind-tcp", "127.0.0.1", "18080"}), "ERR EACCES");
  EXPECT_EQ(probe({"bind-tcp", "0.0.0.0", "0"}), "ERR EACCES");
  EXPECT_EQ(probe({"--net", "host"}, {"bind-tcp", "127.0.0.1", "0"}), "OK");
}

// ==========================================================================================
// Terminals

using Tty = Paddock;

TEST_F(Tty, InteractiveCommandGetsItsOwnTerminal) {
  PtyRun t(argv({}, {"sh", "-c", "tty; " + sh_probe("isatty")}), env(), work_, 24, 80);
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  // The sandbox's own devpts instance: pts/0 is the first (and only) terminal there.
  EXPECT_TRUE(contains(r.out, "/dev/pts/0\r\nOK /dev/pts/0")) << r.out;
}

TEST_F(Tty, WindowSizeFollowsTheOuterTerminal) {
  PtyRun t(argv({}, {"sh", "-c", "stty size; echo ready; read x; stty size"}), env(), work_, 33, 111);
  ASSERT_TRUE(t.read_until("ready", 5));
  struct winsize ws {};
  ws.ws_row = 40;
  ws.ws_col = 100;
  ::ioctl(t.master(), TIOCSWINSZ, &ws);  // SIGWINCH to paddock, which copies the size inside
  ::usleep(300 * 1000);
  t.write("go\n");
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "33 111\r\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "40 100\r\n")) << r.out;
}

TEST_F(Tty, InputReachesTheCommand) {
  PtyRun t(argv({}, {"sh", "-c", "echo ready; read line; echo \"got:$line\""}), env(), work_, 24, 80);
  ASSERT_TRUE(t.read_until("ready", 5));
  t.write("hello\n");
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "got:hello")) << r.out;
}

// What the command does to its terminal stays on the sandbox's pseudo-terminal; paddock puts
// the outer terminal back as it found it.
TEST_F(Tty, OuterTerminalSettingsAreRestored) {
  PtyRun t(argv({}, {"sh", "-c", "stty -echo -icanon raw; stty size"}), env(), work_, 24, 80);
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  struct termios after {};
  int slave = ::open(t.slave_name().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  ASSERT_EQ(::tcgetattr(slave, &after), 0);
  ::close(slave);
  EXPECT_TRUE(after.c_lflag & ECHO) << "ECHO left off on the outer terminal";
  EXPECT_TRUE(after.c_lflag & ICANON) << "ICANON left off on the outer terminal";
  EXPECT_TRUE(after.c_oflag & OPOST) << "OPOST left off on the outer terminal";
}

// ==========================================================================================
// The escape battery

using Escape = Paddock;

// Terminal injection through the command's own terminal (stdin a pty): seccomp refuses
// TIOCSTI whatever the upper 32 bits of the request, and TIOCLINUX.
TEST_F(Escape, TiocstiOnTheTerminal) {
  PtyRun t(argv({}, {"sh", "-c",
                     sh_probe("tiocsti 0") + "; " + sh_probe("tiocsti-tty") + "; " + sh_probe("tiocsti-hi 0") + "; " +
                         sh_probe("tiocsti 1") + "; " + sh_probe("tioclinux 0")}),
           env(), work_, 24, 80);
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  auto l = probe_lines(r.out);
  ASSERT_EQ(l.size(), 5u) << r.out;
  EXPECT_EQ(l[0], "ERR EPERM");  // TIOCSTI on stdin
  EXPECT_EQ(l[1], "ERR EPERM");  // TIOCSTI on /dev/tty (the controlling terminal)
  EXPECT_EQ(l[2], "ERR EPERM");  // TIOCSTI with garbage in the upper half of the request
  EXPECT_EQ(l[3], "ERR EPERM");  // TIOCSTI on stdout
  EXPECT_EQ(l[4], "ERR EPERM");  // TIOCLINUX
  EXPECT_EQ(t.pending_outer_input(), 0);
}

// With seccomp's ioctl rules lifted (syscalls.allow), TIOCSTI works -- on the sandbox's own
// pseudo-terminal: the text is read by the sandboxed shell, and the outer terminal's input
// queue stays empty.
TEST_F(Escape, TiocstiReachesOnlyTheSandboxTerminal) {
  std::string p = write_profile("ioctl", "version = 1\nextends = [\"default\"]\n[syscalls]\nallow = [\"ioctl\"]\n");
  PtyRun t(
      argv({"-p", p}, {"sh", "-c", sh_probe("tiocsti-str injected-text") + "; read line; echo \"inner-got:$line\""}),
      env(), work_, 24, 80);
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "OK\r\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "inner-got:injected-text")) << r.out;
  EXPECT_EQ(t.pending_outer_input(), 0);
}

// stdin is not a terminal but stdout is: the command writes to the user's terminal directly.
// seccomp refuses TIOCSTI and TIOCLINUX on it; /dev/tty is not its controlling terminal.
TEST_F(Escape, TiocstiOnAnInheritedTerminal) {
  PtyRun t(argv({}, {"sh", "-c",
                     sh_probe("tiocsti 1") + "; " + sh_probe("tiocsti-hi 1") + "; " + sh_probe("tiocsti 2") + "; " +
                         sh_probe("tioclinux 1") + "; " + sh_probe("tiocsti-tty")}),
           env(), work_, 24, 80, /*stdin_null=*/true);
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  auto l = probe_lines(r.out);
  ASSERT_EQ(l.size(), 5u) << r.out;
  EXPECT_EQ(l[0], "ERR EPERM");
  EXPECT_EQ(l[1], "ERR EPERM");
  EXPECT_EQ(l[2], "ERR EPERM");
  EXPECT_EQ(l[3], "ERR EPERM");
  EXPECT_EQ(l[4], "ERR ENXIO");  // setsid: no controlling terminal inside
  EXPECT_EQ(t.pending_outer_input(), 0);
}

// ... and with the ioctl rules lifted, the kernel still refuses TIOCSTI on a terminal that is
// not the caller's controlling terminal (no CAP_SYS_ADMIN): a second layer.
TEST_F(Escape, TiocstiOnAnInheritedTerminalWithoutSeccomp) {
  std::string p = write_profile("ioctl", "version = 1\nextends = [\"default\"]\n[syscalls]\nallow = [\"ioctl\"]\n");
  PtyRun t(argv({"-q", "-p", p}, {"sh", "-c", sh_probe("tiocsti 1")}), env(), work_, 24, 80, /*stdin_null=*/true);
  Result r = t.finish(10);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(probe_lines(r.out), std::vector<std::string>{"ERR EPERM"}) << r.out;
  EXPECT_EQ(t.pending_outer_input(), 0);
}

TEST_F(Escape, TiocstiWithoutATerminal) {
  EXPECT_EQ(probe({"tiocsti", "0"}), "ERR EPERM");
  EXPECT_EQ(probe({"tiocsti-hi", "1"}), "ERR EPERM");
  EXPECT_EQ(probe({"tioclinux", "0"}), "ERR EPERM");
}

// A host process is invisible in the pid namespace; the calls that could still name it by
// number are refused by seccomp first (ptrace, process_vm_readv: EPERM regardless of pid).
TEST_F(Escape, PtraceAHostProcess) {
  HostSleeper host;
  EXPECT_EQ(probe({"ptrace-attach", host.str()}), "ERR EPERM");
  EXPECT_EQ(probe({"ptrace-attach", "1"}), "ERR EPERM");
  EXPECT_EQ(probe({"ptrace-traceme"}), "ERR EPERM");
  EXPECT_TRUE(host.alive());
}

TEST_F(Escape, ProcessVmReadvAHostProcess) {
  HostSleeper host;
  EXPECT_EQ(probe({"process-vm-read", host.str()}), "ERR EPERM");
  EXPECT_EQ(probe({"process-vm-read", "1"}), "ERR EPERM");
}

TEST_F(Escape, ProcOfAHostProcess) {
  HostSleeper host;
  // Not in the sandbox's procfs at all.
  EXPECT_EQ(probe({"read-proc-environ", host.str()}), "ERR ENOENT");
  // pid 1 is paddock's init: a fork of paddock holding paddock's environment, made
  // non-dumpable, so its environ, memory and descriptors are out of reach.
  EXPECT_EQ(probe({"read-proc-environ", "1"}), "ERR EACCES");
  EXPECT_EQ(probe({"read", "/proc/1/mem"}), "ERR EACCES");
  EXPECT_EQ(probe({"read", "/proc/1/fd/0"}), "ERR EACCES");
  EXPECT_EQ(probe({"read", "/proc/1/fd/2"}), "ERR EACCES");
  EXPECT_EQ(probe({"ls", "/proc/1/root"}), "ERR EACCES");
}

TEST_F(Escape, SignalsToHostProcesses) {
  HostSleeper host;
  EXPECT_EQ(probe({"kill", host.str(), "9"}), "ERR ESRCH");
  EXPECT_EQ(probe({"kill", host.str(), "0"}), "ERR ESRCH");
  EXPECT_EQ(probe({"pidfd-open", host.str()}), "ERR ESRCH");
  // kill(-1, 0): nobody else to signal in the pid namespace (init is exempt).
  EXPECT_EQ(probe({"kill", "-1", "0"}), "ERR ESRCH");
  EXPECT_TRUE(host.alive());
}

TEST_F(Escape, MountFamilyAfterSetup) {
  EXPECT_EQ(probe({"mount", "/tmp"}), "ERR EPERM");
  EXPECT_EQ(probe({"bind-mount", "/", work_}), "ERR EPERM");
  EXPECT_EQ(probe({"umount", "/usr"}), "ERR EPERM");
  EXPECT_EQ(probe({"umount", "/etc/shadow"}), "ERR EPERM");
  EXPECT_EQ(probe({"pivot-root", "/tmp", "/tmp"}), "ERR EPERM");
  EXPECT_EQ(probe({"chroot", "/tmp"}), "ERR EPERM");
  // The new mount API: ENOSYS, so that libraries fall back to mount(2).
  EXPECT_EQ(probe({"open-tree"}), "ERR ENOSYS");
  EXPECT_EQ(probe({"fsopen"}), "ERR ENOSYS");
}

TEST_F(Escape, NewNamespaces) {
  EXPECT_EQ(probe({"unshare-user"}), "ERR EPERM");
  EXPECT_EQ(probe({"unshare", std::to_string(CLONE_NEWNS)}), "ERR EPERM");
  EXPECT_EQ(probe({"unshare", std::to_string(CLONE_NEWNET)}), "ERR EPERM");
  EXPECT_EQ(probe({"unshare", "128"}), "ERR EPERM");  // CLONE_NEWTIME
  EXPECT_EQ(probe({"clone-newuser"}), "ERR EPERM");
  EXPECT_EQ(probe({"clone-newns"}), "ERR EPERM");
  // clone3 hides its flags from seccomp: refused whole, ENOSYS so that libc falls back.
  EXPECT_EQ(probe({"clone3", std::to_string(CLONE_NEWUSER)}), "ERR ENOSYS");
  EXPECT_EQ(probe({"clone3", "0"}), "ERR ENOSYS");
  EXPECT_EQ(probe({"setns"}), "ERR EPERM");
  // Plain fork still works.
  EXPECT_EQ(probe({"clone", "0"}), "OK");
}

// A system call of a non-native ABI reaches paddock's supervisor (seccomp user notification),
// which records it and SIGKILLs the process: the call never runs and the kill is in the log.
std::string single_session_log(const std::string& dir) {
  std::string text;
  for (const auto& e : fs::directory_iterator(dir + "/state/paddock/sessions")) text += read_file(e.path());
  return text;
}

TEST_F(Escape, X32SyscallIsKilled) {
  Result r = run({}, P({"x32-getpid"}));
  EXPECT_EQ(r.code, 128 + SIGKILL) << r;
  EXPECT_EQ(r.out, "");
  std::string log = single_session_log(dir_);
  EXPECT_TRUE(contains(log, "\"layer\":\"syscall\",\"action\":\"kill\"")) << log;
  EXPECT_TRUE(contains(log, "x86_64 x32 syscall 39")) << log;
}

TEST_F(Escape, Int80SyscallIsKilled) {
  Result r = run({}, P({"int80-getpid"}));
  EXPECT_EQ(r.code, 128 + SIGKILL) << r;
  EXPECT_EQ(r.out, "");
  std::string log = single_session_log(dir_);
  EXPECT_TRUE(contains(log, "\"layer\":\"syscall\",\"action\":\"kill\"")) << log;
  EXPECT_TRUE(contains(log, "i386 syscall 20")) << log;
}

TEST_F(Escape, Keyring) {
  EXPECT_EQ(probe({"keyctl"}), "ERR EPERM");
  EXPECT_EQ(probe({"add-key"}), "ERR EPERM");
}

TEST_F(Escape, KernelAttackSurface) {
  EXPECT_EQ(probe({"bpf"}), "ERR EPERM");
  EXPECT_EQ(probe({"perf-event-open"}), "ERR EPERM");
  EXPECT_EQ(probe({"userfaultfd"}), "ERR EPERM");
  EXPECT_EQ(probe({"io-uring-setup"}), "ERR ENOSYS");
}

TEST_F(Escape, OpenByHandleAt) {
  EXPECT_EQ(probe({"open-by-handle-at", "/etc/passwd"}), "ERR EPERM");
  EXPECT_EQ(probe({"name-to-handle-at", "/etc/passwd"}), "ERR EPERM");
}

TEST_F(Escape, Personality) {
  EXPECT_EQ(probe({"personality", "0x0040000"}), "ERR EPERM");  // ADDR_NO_RANDOMIZE
  EXPECT_EQ(probe({"personality", "0x0400000"}), "ERR EPERM");  // READ_IMPLIES_EXEC
  EXPECT_EQ(probe({"personality", "0xffffffff"}), "OK");        // query
}

// Symlinks inside a writable grant resolve inside the sandbox's view, never the host's.
TEST_F(Escape, SymlinksOutOfAGrant) {
  fs::create_directories(dir_ + "/hostsecret");
  write_file(dir_ + "/hostsecret/file", "host secret");
  fs::create_symlink("/etc/shadow", work_ + "/to-shadow");
  fs::create_symlink(dir_ + "/hostsecret", work_ + "/to-hostdir");
  fs::create_symlink("../hostsecret/file", work_ + "/relative");
  EXPECT_EQ(probe({"read", work_ + "/to-shadow"}), "OK bytes=0");  // masked /etc/shadow
  EXPECT_EQ(probe({"read", work_ + "/to-hostdir/file"}), "ERR ENOENT");
  EXPECT_EQ(probe({"read", work_ + "/relative"}), "ERR ENOENT");
  // Made inside: a link to "/" leads to the sandbox's own root.
  EXPECT_EQ(probe({"symlink-escape", work_}), "OK bytes=0");
  EXPECT_EQ(probe({"symlink-escape", "/tmp"}), "OK bytes=0");
}

TEST_F(Escape, DotDotOutOfAGrant) {
  fs::create_directories(dir_ + "/hostsecret");
  write_file(dir_ + "/hostsecret/file", "host secret");
  EXPECT_EQ(probe({"read", work_ + "/../hostsecret/file"}), "ERR ENOENT");
  EXPECT_EQ(probe({"read", work_ + "/../../../../../../" + dir_ + "/hostsecret/file"}), "ERR ENOENT");
  EXPECT_EQ(probe({"ls", work_ + "/.."}), "OK work");  // paddock's own tmpfs, nothing else
}

// A symlink planted by an earlier sandbox in its writable folder is not followed when paddock
// later binds a grant through it.
TEST_F(Escape, SymlinkPlantedBySandboxIsNotFollowedByPaddock) {
  fs::create_directories(dir_ + "/hostsecret");
  write_file(dir_ + "/hostsecret/file", "host secret");
  ASSERT_EQ(probe({"symlink", dir_ + "/hostsecret", work_ + "/evil"}), "OK");
  ASSERT_TRUE(fs::is_symlink(work_ + "/evil"));
  Result r = run({"--ro", work_ + "/evil/file"}, P({"cat", work_ + "/evil/file"}));
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_TRUE(contains(r.err, work_ + "/evil")) << r;
  EXPECT_FALSE(contains(r.out, "host secret")) << r;
}

TEST_F(Escape, HardLinksAndRenamesAcrossGrants) {
  fs::create_directories(dir_ + "/other");
  fs::create_directories(dir_ + "/ro");
  write_file(work_ + "/mine", "mine");
  write_file(dir_ + "/ro/theirs", "theirs");
  Args rw = {"--rw", dir_ + "/other"};
  // Within one grant: allowed.
  EXPECT_EQ(probe(rw, {"link", work_ + "/mine", work_ + "/mine2"}), "OK");
  EXPECT_EQ(probe(rw, {"rename", work_ + "/mine2", work_ + "/mine3"}), "OK");
  // Across grants (each its own mount): EXDEV.
  EXPECT_EQ(probe(rw, {"link", work_ + "/mine", dir_ + "/other/x"}), "ERR EXDEV");
  EXPECT_EQ(probe(rw, {"rename", work_ + "/mine", dir_ + "/other/x"}), "ERR EXDEV");
  EXPECT_EQ(probe({"--ro", dir_ + "/ro"}, {"link", dir_ + "/ro/theirs", work_ + "/stolen"}), "ERR EXDEV");
  EXPECT_EQ(probe({"--ro", dir_ + "/ro"}, {"rename", dir_ + "/ro/theirs", work_ + "/stolen"}), "ERR EXDEV");
  // From a system folder into the writable one (hard link to a file the sandbox can read
  // only): EXDEV.
  EXPECT_EQ(probe({"link", "/etc/passwd", work_ + "/passwd"}), "ERR EXDEV");
  // A masked file cannot be moved or linked away either.
  write_file(work_ + "/masked", "secret");
  EXPECT_EQ(probe({"--deny", work_ + "/masked"}, {"link", work_ + "/masked", work_ + "/copy"}), "ERR EXDEV");
  EXPECT_EQ(probe({"--deny", work_ + "/masked"}, {"rename", work_ + "/masked", work_ + "/copy"}), "ERR EBUSY");
  EXPECT_FALSE(fs::exists(dir_ + "/other/x"));
  EXPECT_FALSE(fs::exists(work_ + "/stolen"));
  EXPECT_EQ(read_file(work_ + "/masked"), "secret");
}

// A descriptor paddock inherits (fd 5 on a secret file) does not reach the command.
TEST_F(Escape, InheritedDescriptors) {
  write_file(dir_ + "/inherited-secret", "inherited secret");
  int fd = ::open((dir_ + "/inherited-secret").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  int five = 5;
  if (fd != five) {
    ASSERT_EQ(::fcntl(five, F_GETFD), -1) << "fd 5 is in use in the test process";
    ASSERT_EQ(::dup2(fd, five), five);
    ::close(fd);
  }
  Opts o{.keep = {five}};
  EXPECT_EQ(probe({}, {"fds"}, o), "OK fds=");
  EXPECT_EQ(probe({}, {"fd-read", "5"}, o), "ERR EBADF");
  // paddock's init still holds it; its descriptors are out of reach.
  EXPECT_EQ(probe({}, {"read", "/proc/1/fd/5"}, o), "ERR EACCES");
  ::close(five);
}

// setuid binaries gain nothing: no_new_privs, nosuid mounts, empty capability sets.
TEST_F(Escape, SetuidBinaries) {
  std::string ids = std::to_string(g.uid);
  std::string uid_line = ids + " " + ids + " " + ids + " " + ids;
  for (const char* bin : {"/usr/bin/passwd", "/usr/bin/su"}) {
    if (!fs::exists(bin)) continue;
    EXPECT_EQ(probe({"setuid-exec", bin}), "OK uid=" + uid_line + " capeff=0000000000000000 capprm=0000000000000000")
        << bin;
  }
  Result r = run({}, P({"caps"}));
  EXPECT_EQ(r.code, 0) << r;
  for (const char* line : {"CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000",
                           "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"}) {
    EXPECT_TRUE(contains(r.out, line)) << "missing " << line << "\n" << r.out;
  }
}

TEST_F(Escape, DeviceNodes) {
  EXPECT_EQ(probe({"mknod", "/tmp/null2"}), "ERR EPERM");
  EXPECT_EQ(probe({"mknod", work_ + "/null2"}), "ERR EPERM");
  EXPECT_EQ(probe({"mknod", "/dev/shm/null2"}), "ERR EPERM");
  EXPECT_EQ(probe({"ls", "/dev"}), "OK fd full null ptmx pts random shm stderr stdin stdout tty urandom zero");
  EXPECT_EQ(probe({"ls", "/dev/pts"}), "OK ptmx");
}

TEST_F(Escape, RawPacketAndNetlinkSockets) {
  EXPECT_EQ(probe({"socket", "17", "3", "768"}), "ERR EAFNOSUPPORT");  // AF_PACKET, SOCK_RAW, ETH_P_ALL
  EXPECT_EQ(probe({"socket", "17", "2", "0"}), "ERR EAFNOSUPPORT");    // AF_PACKET, SOCK_DGRAM
  EXPECT_EQ(probe({"socket", "2", "3", "1"}), "ERR EPERM");            // AF_INET, SOCK_RAW, ICMP
  EXPECT_EQ(probe({"socket", "2", std::to_string(3 | SOCK_CLOEXEC), "255"}), "ERR EPERM");
  EXPECT_EQ(probe({"socket", "10", "3", "58"}), "ERR EPERM");        // AF_INET6, SOCK_RAW, ICMPv6
  EXPECT_EQ(probe({"socket", "2", "10", "0"}), "ERR EPERM");         // SOCK_PACKET
  EXPECT_EQ(probe({"socket", "16", "3", "9"}), "ERR EAFNOSUPPORT");  // NETLINK_AUDIT
  EXPECT_EQ(probe({"socket", "16", "3", "4"}), "ERR EAFNOSUPPORT");  // NETLINK_SOCK_DIAG
  EXPECT_EQ(probe({"socket", "16", "3", "0"}), "OK");                // NETLINK_ROUTE
  EXPECT_EQ(probe({"socket", "2", "1", "0"}), "OK");                 // TCP
  EXPECT_EQ(probe({"socket", "2", "2", "0"}), "OK");                 // UDP
  EXPECT_EQ(probe({"socket", "1", "1", "0"}), "OK");                 // UNIX
  EXPECT_EQ(probe({"socket", "38", "5", "0"}), "ERR EAFNOSUPPORT");  // AF_ALG
  EXPECT_EQ(probe({"socket", "40", "1", "0"}), "ERR EAFNOSUPPORT");  // AF_VSOCK
}

// Host credential folders in a granted home are masked.
TEST_F(Escape, HostCredentialPaths) {
  // The agent runs in its home folder (HOME is the working directory, which the default
  // profile grants read-write): the base profile's deny list masks the credentials there.
  fs::create_directories(work_ + "/.ssh");
  fs::create_directories(work_ + "/.aws");
  write_file(work_ + "/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----", 0600);
  write_file(work_ + "/.aws/credentials", "[default]\naws_secret_access_key = x", 0600);
  write_file(work_ + "/.netrc", "machine example.com password hunter2", 0600);
  write_file(work_ + "/notes.txt", "fine");
  Opts o{.env = {"HOME=" + work_}};
  EXPECT_EQ(probe({}, {"read", work_ + "/notes.txt"}, o), "OK bytes=4");
  EXPECT_EQ(probe({}, {"read", work_ + "/.ssh/id_rsa"}, o), "ERR EACCES");  // masked folder: mode 0000
  EXPECT_EQ(probe({}, {"ls", work_ + "/.ssh"}, o), "ERR EACCES");
  EXPECT_EQ(probe({}, {"read", work_ + "/.aws/credentials"}, o), "ERR EACCES");
  EXPECT_EQ(probe({}, {"create", work_ + "/.ssh/authorized_keys"}, o), "ERR EACCES");
  EXPECT_EQ(probe({}, {"read", work_ + "/.netrc"}, o), "OK bytes=0");  // masked file: empty
  EXPECT_EQ(probe({}, {"write", work_ + "/.netrc"}, o), "ERR EACCES");
  EXPECT_EQ(read_file(work_ + "/.netrc"), "machine example.com password hunter2");
  EXPECT_FALSE(fs::exists(work_ + "/.ssh/authorized_keys"));

  // A home folder granted explicitly (read-only or read-write) from elsewhere.
  fs::create_directories(home_ + "/.ssh");
  fs::create_directories(home_ + "/.aws");
  write_file(home_ + "/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----", 0600);
  write_file(home_ + "/.aws/credentials", "[default]\naws_secret_access_key = x", 0600);
  EXPECT_EQ(probe({"--rw", home_}, {"read", home_ + "/.ssh/id_rsa"}), "ERR EACCES");
  EXPECT_EQ(probe({"--ro", home_}, {"read", home_ + "/.aws/credentials"}), "ERR EACCES");
  EXPECT_EQ(probe({"--ro", home_}, {"ls", home_}), "OK .aws .ssh");
}

// The IPC namespace: a host System V shared memory segment is not there.
TEST_F(Escape, HostSysVIpcInvisible) {
  const key_t key = 0x70640000 + (::getpid() & 0xffff);
  int id = ::shmget(key, 4096, IPC_CREAT | 0666);
  ASSERT_GE(id, 0) << std::strerror(errno);
  EXPECT_EQ(probe({"shmget", std::to_string(key)}), "ERR ENOENT");
  ::shmctl(id, IPC_RMID, nullptr);
}

// A secret in paddock's own environment reaches neither the command's environment nor, via
// /proc/1/environ, paddock's init (which inherited it).
TEST_F(Escape, SecretsInPaddocksEnvironment) {
  const std::string secret = "wJalrXUtnFEMI-paddock-it-secret";
  Opts o{.env = {"AWS_SECRET_ACCESS_KEY=" + secret, "GITHUB_TOKEN=" + secret}};
  Result r = run({}, P({"env"}), o);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_FALSE(contains(r.out, secret)) << r.out;
  EXPECT_EQ(probe({}, {"read-proc-environ", "1"}, o), "ERR EACCES");
  // pid 2 is the probe itself: its own environment is readable.
  EXPECT_EQ(probe({}, {"read-proc-environ", "2"}, o).rfind("OK bytes=", 0), 0u);
  r = run({}, {"sh", "-c", "cat /proc/[0-9]*/environ 2>/dev/null; cat /proc/1/cmdline"}, o);
  EXPECT_FALSE(contains(r.out, secret)) << r;
}

TEST_F(Escape, ProcSysAndSysfs) {
  EXPECT_EQ(probe({"write-proc-sys", "/proc/sys/kernel/hostname"}), "ERR EROFS");
  EXPECT_EQ(probe({"write-proc-sys", "/proc/sys/kernel/core_pattern"}), "ERR EROFS");
  EXPECT_EQ(probe({"write-proc-sys", "/proc/sys/vm/drop_caches"}), "ERR EROFS");
  if (fs::exists("/proc/sysrq-trigger")) {
    EXPECT_EQ(probe({"write", "/proc/sysrq-trigger"}), g.uid == 0 ? "ERR EROFS" : "ERR EACCES");
  }
  EXPECT_EQ(probe({"write-cgroup", "/sys/fs/cgroup/cgroup.procs"}), "ERR ENOENT");
  EXPECT_EQ(probe({"write-cgroup", "/sys/kernel/uevent_helper"}), "ERR ENOENT");
  if (fs::exists("/proc/kcore")) {
    EXPECT_EQ(probe({"read", "/proc/kcore"}), "ERR EACCES");
  }
  EXPECT_EQ(probe({"read", "/proc/kmsg"}), g.uid == 0 ? "ERR EPERM" : "ERR EACCES");
}

// Abstract UNIX sockets: per network namespace, and scoped by Landlock (ABI >= 6) even when
// the sandbox shares the host's network.
TEST_F(Escape, HostAbstractUnixSocket) {
  std::string name = unique_marker("abstract");
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), len), 0);
  ASSERT_EQ(::listen(s, 4), 0);
  EXPECT_EQ(probe({"unix-connect-abstract", name}), "ERR ECONNREFUSED");  // another namespace
  if (g.landlock_abi >= 6) {
    EXPECT_EQ(probe({"--net", "host"}, {"unix-connect-abstract", name}), "ERR EPERM");
  }
  ::close(s);
}

TEST_F(Escape, SignalsToPaddocksInit) {
  if (g.landlock_abi < 6) GTEST_SKIP() << "Landlock ABI " << g.landlock_abi << " < 6 has no signal scope";
  // pid 1 is paddock's init, outside the command's Landlock domain.
  EXPECT_EQ(probe({"kill", "1", "0"}), "ERR EPERM");
  EXPECT_EQ(probe({"kill", "1", "9"}), "ERR EPERM");
}

TEST_F(Escape, PrivilegedSyscalls) {
#if defined(__x86_64__)
  const std::pair<const char*, long> calls[] = {
      {"reboot", SYS_reboot},
      {"kexec_load", SYS_kexec_load},
      {"init_module", SYS_init_module},
      {"finit_module", SYS_finit_module},
      {"delete_module", SYS_delete_module},
      {"iopl", SYS_iopl},
      {"ioperm", SYS_ioperm},
      {"swapon", SYS_swapon},
      {"swapoff", SYS_swapoff},
      {"acct", SYS_acct},
      {"syslog", SYS_syslog},
      {"settimeofday", SYS_settimeofday},
      {"clock_settime", SYS_clock_settime},
      {"adjtimex", SYS_adjtimex},
      {"sethostname", SYS_sethostname},
      {"setdomainname", SYS_setdomainname},
      {"modify_ldt", SYS_modify_ldt},
      {"quotactl", SYS_quotactl},
      {"vhangup", SYS_vhangup},
      {"fanotify_init", SYS_fanotify_init},
      {"kcmp", SYS_kcmp},
      {"pidfd_getfd", SYS_pidfd_getfd},
      {"process_vm_writev", SYS_process_vm_writev},
      {"lookup_dcookie", SYS_lookup_dcookie},
      {"request_key", SYS_request_key},
      {"io_uring_enter", SYS_io_uring_enter},
      {"move_mount", SYS_move_mount},
      {"fsmount", SYS_fsmount},
  };
  std::string script;
  for (const auto& [name, nr] : calls)
    script += "echo " + std::string(name) + ": $(" + sh_probe("syscall " + std::to_string(nr)) + "); ";
  Result r = run({}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  for (const auto& [name, nr] : calls) {
    std::string n = name;
    std::string expected = n == "io_uring_enter" || n == "move_mount" || n == "fsmount" ? "ERR ENOSYS" : "ERR EPERM";
    EXPECT_TRUE(contains(r.out, n + ": " + expected + "\n")) << n << " (" << nr << ") expected " << expected << "\n"
                                                             << r.out;
  }
  // A number no kernel knows: ENOSYS from the filter, not a kill.
  EXPECT_EQ(probe({"syscall", "1000"}), "ERR ENOSYS");
#else
  GTEST_SKIP() << "system call numbers are x86_64's";
#endif
}

TEST_F(Escape, SeccompListenerOfItsOwn) {
  EXPECT_EQ(probe({"seccomp-listener"}), "ERR EPERM");
}

// paddock run as root: root inside (capabilities dropped) still owns what it creates, and the
// owner may set the setuid bit. A setuid-root executable left in a writable grant is a root
// shell for any host user who can reach that folder.
TEST_F(Escape, SetuidRootFileLeftInAWritableGrant) {
  if (g.uid != 0) GTEST_SKIP() << "paddock runs as uid " << g.uid << ": a setuid-to-oneself file gains nothing";
  fs::create_directories(dir_ + "/shared");
  ::chmod((dir_ + "/shared").c_str(), 0755);
  Args rw = {"--rw", dir_ + "/shared"};
  std::string chmodded = dir_ + "/shared/chmodded", created = dir_ + "/shared/created";
  probe(rw, {"create", chmodded});
  probe(rw, {"chmod", chmodded, "04755"});
  probe(rw, {"create-mode", created, "06755"});
  probe(rw, {"mkdir", dir_ + "/shared/dir"});
  probe(rw, {"chmod", dir_ + "/shared/dir", "02755"});
  for (const auto& f : {chmodded, created, dir_ + "/shared/dir"}) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) continue;  // refused outright: fine
    EXPECT_FALSE(st.st_uid == 0 && (st.st_mode & S_ISUID)) << f << " is setuid root on the host";
    EXPECT_FALSE(st.st_gid == 0 && (st.st_mode & S_ISGID)) << f << " is setgid root on the host";
  }
}

// A denied path inside a writable grant is masked by a mount on it. Its parent folder is not
// a mount point, so the sandbox can rename the parent: the mask moves along for this session,
// but on the host the secret now lives at a path no deny rule names, and the next session
// reads it.
TEST_F(Escape, DeniedPathMovedAsideForTheNextSession) {
  fs::create_directories(work_ + "/.config/gcloud");
  write_file(work_ + "/.config/gcloud/credentials", "gcloud-secret", 0600);
  Opts o{.env = {"HOME=" + work_}};  // the agent works in its home folder
  EXPECT_EQ(probe({}, {"read", work_ + "/.config/gcloud/credentials"}, o), "ERR EACCES");
  probe({}, {"rename", work_ + "/.config", work_ + "/moved"}, o);
  Result r = run({}, P({"cat", work_ + "/moved/gcloud/credentials"}), o);
  EXPECT_FALSE(contains(r.out, "gcloud-secret")) << "a later session read the denied file: " << r;
}

// The profile search path starts with ./.paddock/ (and $XDG_CONFIG_HOME/paddock/profiles/).
// A sandbox that can write there -- the default profile grants the working directory -- can
// plant default.toml and widen every later `paddock -- CMD` started in that folder.
TEST_F(Escape, ProjectProfilePlantedForTheNextSession) {
  fs::create_directories(dir_ + "/outside");
  write_file(dir_ + "/outside/secret", "outside-secret");
  std::string planted = "version = 1\nextends = [\"base\"]\n[filesystem]\nread = [\"" + dir_ +
                        "/outside\"]\nwrite = [\"${CWD}\"]\n[network]\nmode = \"host\"\n";
  write_file(dir_ + "/planted.toml", planted);
  run({}, {"sh", "-c", "mkdir -p .paddock && cat > .paddock/default.toml"}, Opts{.input = planted});
  Result r = run({}, P({"cat", dir_ + "/outside/secret"}));
  EXPECT_FALSE(contains(r.out, "outside-secret")) << "a profile written by a sandbox widened the next session: " << r;
}

TEST_F(Escape, UserProfilePlantedForTheNextSession) {
  fs::create_directories(dir_ + "/outside");
  write_file(dir_ + "/outside/secret", "outside-secret");
  std::string planted =
      "version = 1\nextends = [\"base\"]\n[filesystem]\nread = [\"" + dir_ + "/outside\"]\nwrite = [\"${CWD}\"]\n";
  // The agent works in its home folder; XDG_CONFIG_HOME is ~/.config.
  Opts o{.env = {"HOME=" + work_, "XDG_CONFIG_HOME=" + work_ + "/.config"}};
  o.input = planted;
  run({}, {"sh", "-c", "mkdir -p .config/paddock/profiles && cat > .config/paddock/profiles/default.toml"}, o);
  o.input.clear();
  Result r = run({}, P({"cat", dir_ + "/outside/secret"}), o);
  EXPECT_FALSE(contains(r.out, "outside-secret")) << "a profile written by a sandbox widened the next session: " << r;
}

// The session's own audit log is out of the command's reach, even when $XDG_STATE_HOME lies
// inside a writable grant (an agent working in its home folder).
TEST_F(Escape, AuditLogOutOfReach) {
  std::string state = work_ + "/.local/state";
  Opts o{.env = {"HOME=" + work_, "XDG_STATE_HOME=" + state}};
  ASSERT_EQ(run({}, {"true"}, o).code, 0);  // an earlier session
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(state + "/paddock/sessions")) before[e.path()] = read_file(e.path());
  Result r = run({},
                 {"sh", "-c",
                  "for f in .local/state/paddock/sessions/*.jsonl; do " + sh_probe("write \"$f\"") + "; " +
                      sh_probe("unlink \"$f\"") + "; done"},
                 o);
  EXPECT_EQ(r.code, 0) << r;
  for (const auto& l : lines_of(r.out))
    EXPECT_TRUE(l.rfind("ERR ", 0) == 0) << "the sandbox changed an audit log: " << r;
  size_t logs = 0;
  for (const auto& e : fs::directory_iterator(state + "/paddock/sessions")) {
    ++logs;
    auto it = before.find(e.path());
    if (it != before.end()) {
      EXPECT_EQ(read_file(e.path()), it->second) << e.path() << " was changed from inside";
    }
  }
  EXPECT_EQ(logs, 2u) << "an audit log was deleted from inside";
}

// ==========================================================================================
// Resource bounds, kill switches, the audit log and denials in the terminal (issue 4)
//
// Each bound is asserted for real in both variants: as root paddock gives the session a cgroup
// (v1 on this machine: memory, pids, cpuacct); as uid 65534 no cgroup is writable, so paddock
// falls back to rlimits (data, nproc, cpu), prints a DEGRADED line, and refuses the limits
// rlimits cannot express unless the profile allows `best_effort = ["cgroup"]`. Where the
// mechanism differs a test branches on geteuid() and says what each branch proves.
// Everything that misbehaves (fork bomb, memory bomb, spinning loops) runs inside a sandbox.

class LimitsAndAudit : public Paddock {
 protected:
  static bool root() { return ::geteuid() == 0; }

  [[nodiscard]] std::string sessions_dir() const { return dir_ + "/state/paddock/sessions"; }
  void clear_logs() {
    std::error_code ec;
    fs::remove_all(sessions_dir(), ec);
  }

  struct SessionLog {
    std::string path, session;
    std::vector<std::string> lines;
    [[nodiscard]] std::string text() const {
      std::string t;
      for (const auto& l : lines) t += l.substr(0, 600) + "\n";
      return t;
    }
  };
  // The one session log in the sessions folder (clear_logs() before a run to get its own).
  SessionLog the_log() {
    SessionLog l;
    std::vector<fs::path> logs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sessions_dir(), ec)) logs.push_back(e.path());
    EXPECT_EQ(logs.size(), 1u) << "expected exactly one session log in " << sessions_dir();
    if (logs.empty()) return l;
    l.path = logs[0].string();
    l.session = logs[0].stem().string();
    l.lines = lines_of(read_file(l.path));
    return l;
  }
  // Indexes of the events with this layer and action (and subject, when given).
  static std::vector<size_t> events(const SessionLog& l, const std::string& layer, const std::string& action,
                                    const std::string& subject = "") {
    std::string key = "\"layer\":\"" + layer + "\",\"action\":\"" + action + "\"";
    if (!subject.empty()) key += ",\"subject\":\"" + subject + "\"";
    std::vector<size_t> out;
    for (size_t i = 0; i < l.lines.size(); ++i) {
      if (contains(l.lines[i], key)) out.push_back(i);
    }
    return out;
  }

  // `paddock ARGS...` (a subcommand such as `log`), in the test's environment.
  Result paddock_cmd(const Args& args) {
    Args a = {g.paddock};
    a.insert(a.end(), args.begin(), args.end());
    Spawned s = spawn(a, env(), work_, false);
    return finish(s, "", 10);
  }

  // Session cgroup directories (paddock-<session>-<supervisor pid>) of the paddock process
  // `pid`, anywhere under /sys/fs/cgroup/*/.
  static std::vector<std::string> session_cgroups_of(pid_t pid) {
    const std::string suffix = "-" + std::to_string(pid);
    std::vector<std::string> found;
    std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
      DIR* d = ::opendir(dir.c_str());
      if (d == nullptr) return;
      std::vector<std::string> subdirs;
      while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || e->d_type != DT_DIR) continue;
        if (n.rfind("paddock-", 0) == 0 && n.size() > suffix.size() &&
            n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
          found.push_back(dir + "/" + n);
        } else if (depth < 6) {
          subdirs.push_back(dir + "/" + n);
        }
      }
      ::closedir(d);
      for (const auto& s : subdirs) walk(s, depth + 1);
    };
    walk("/sys/fs/cgroup", 0);
    return found;
  }

  static std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x + "\n";
    return s;
  }
};

using Bounds = LimitsAndAudit;
using Denials = LimitsAndAudit;

// A fork bomb under limits.pids = 16: forks past the limit fail with EAGAIN, the bomb gives up
// after 1000 failures (or 3 s), paddock returns and the host can still fork.
TEST_F(Bounds, ForkBombIsStoppedByThePidsLimit) {
  std::string p = write_profile("pids", "version = 1\nextends = [\"default\"]\n[limits]\npids = 16\n");
  Result r = run({"-p", p}, P({"forkbomb", "3", "1000"}), Opts{.timeout = 15});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.sig, 0) << r;
  const std::string out = trim(r.out);
  ASSERT_EQ(out.rfind("OK forks=", 0), 0u) << r;
  // At most 16 processes: the sandbox's init + the probe + 14 forks (nothing in the bomb exits
  // before the end). Fewer is possible: the kernel charges a fork before it checks the limit
  // (pids.max and RLIMIT_NPROC alike), so concurrent attempts that fail can crowd out one that
  // would have fitted.
  const long forks = std::atol(out.c_str() + 9);
  EXPECT_LE(forks, 14) << r;
  EXPECT_GE(forks, 8) << r;
  EXPECT_TRUE(contains(out, " errnos=EAGAIN stopped=failures")) << "only EAGAIN, and stopped by the limit: " << r;
  EXPECT_LT(r.seconds, 3.0) << r;
  // The host is unaffected: this process can still fork.
  pid_t k = ::fork();
  if (k == 0) ::_exit(0);
  ASSERT_GT(k, 0) << std::strerror(errno);
  int st = 0;
  ASSERT_EQ(::waitpid(k, &st, 0), k);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  SessionLog log = the_log();
  if (root()) {
    // root: pids.max of the session's cgroup. Its pids.events counter counts every refused
    // fork; paddock records it as one limit/deny event with that count and the rule's origin.
    EXPECT_FALSE(contains(r.err, "DEGRADED")) << r;
    auto deny = events(log, "limit", "deny", "pids");
    ASSERT_EQ(deny.size(), 1u) << log.text();
    const std::string& e = log.lines[deny[0]];
    EXPECT_TRUE(contains(e, "\"reason\":\"pids limit 16 (" + p + ":4) reached: fork/clone refused\"")) << e;
    // The kernel counts a refused fork before the bomb does (and the bomb is killed in between
    // now and then): at least the failures the bomb saw.
    const long failed = std::atol(out.substr(out.find("failed=") + 7).c_str());
    const auto at = e.find("\"count\":");
    ASSERT_NE(at, std::string::npos) << e;
    const long count = std::atol(e.c_str() + at + 8);
    EXPECT_GE(count, failed) << e;
    EXPECT_LT(count, failed + 100) << e;
  } else {
    // uid 65534: no cgroup, RLIMIT_NPROC (per user, in the sandbox's own user namespace) holds
    // the bomb; the degradation is printed and recorded in the start event.
    EXPECT_TRUE(contains(r.err, "paddock: DEGRADED: resources: no usable cgroup (")) << r;
    EXPECT_TRUE(contains(r.err, "enforced with rlimits instead: nproc=16\n")) << r;
    ASSERT_FALSE(log.lines.empty());
    EXPECT_TRUE(contains(log.lines.front(), "enforced with rlimits instead: nproc=16")) << log.lines.front();
  }
}

// A memory bomb under limits.memory = 32M: the probe allocates and touches 256M.
TEST_F(Bounds, MemoryBombIsContainedInside) {
  std::string p = write_profile("mem", "version = 1\nextends = [\"default\"]\n[limits]\nmemory = \"32M\"\n");
  Result r = run({"-p", p}, P({"alloc", "256"}));
  EXPECT_EQ(r.sig, 0) << "paddock itself was killed: " << r;
  EXPECT_FALSE(contains(r.out, "OK allocated")) << r;
  SessionLog log = the_log();
  ASSERT_FALSE(log.lines.empty());
  if (root()) {
    // root: memory.limit_in_bytes of the session's cgroup. The kernel's OOM killer ends the
    // probe inside the sandbox; paddock exits 137 and names the limit, its value and origin.
    EXPECT_EQ(r.code, 137) << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_TRUE(contains(
        r.err, "paddock: killed: memory limit 32M (" + p + ":4) reached: the kernel's OOM killer ended the command\n"))
        << r;
    auto kill = events(log, "limit", "kill", "memory");
    ASSERT_EQ(kill.size(), 1u) << log.text();
    EXPECT_TRUE(contains(log.lines[kill[0]],
                         "\"reason\":\"memory limit 32M (" + p + ":4) reached: the OOM killer ended 1 process(es)\""))
        << log.lines[kill[0]];
    EXPECT_TRUE(contains(log.lines.back(), "\"action\":\"exit\"")) << log.text();
    EXPECT_TRUE(contains(log.lines.back(), "\"status\":137")) << log.lines.back();
  } else {
    // uid 65534: RLIMIT_DATA = 32M: the allocation itself fails, nothing is killed.
    EXPECT_EQ(r.code, 0) << r;
    EXPECT_EQ(trim(r.out), "ERR ENOMEM") << r;
    EXPECT_TRUE(contains(r.err, "enforced with rlimits instead: data=33554432\n")) << r;
    EXPECT_TRUE(events(log, "limit", "kill").empty()) << log.text();
  }
}

// /tmp is a tmpfs in the default profile, sized after limits.memory: filling it is ENOSPC for
// the writer, not an OOM kill of the session, in both variants.
TEST_F(Bounds, FillingTheTmpfsIsENOSPC) {
  std::string p = write_profile("mem", "version = 1\nextends = [\"default\"]\n[limits]\nmemory = \"32M\"\n");
  const std::string file = "/tmp/" + unique_marker("fill");
  Result r = run({"-p", p}, P({"fill", file, "64"}));
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(trim(r.out), "ERR ENOSPC") << r;
  EXPECT_FALSE(fs::exists(file)) << "the sandbox's /tmp is the host's";
  SessionLog log = the_log();
  EXPECT_TRUE(events(log, "limit", "kill").empty()) << log.text();
}

// An endless loop with a wall-clock limit: at the deadline the sandbox is killed (124), the
// reason is printed and audited, and no process is left.
TEST_F(Bounds, InfiniteLoopEndsAtTheWallLimit) {
  std::string marker = unique_marker("spin");
  Result r = run({"--timeout", "1s"}, P({"spin", "600", marker}), Opts{.timeout = 8});
  EXPECT_EQ(r.code, 124) << r;
  EXPECT_FALSE(r.timed_out) << r;
  EXPECT_GE(r.seconds, 0.9) << r;
  EXPECT_LT(r.seconds, 3.0) << r;
  EXPECT_TRUE(contains(
      r.err, "paddock: timeout: wall-clock limit 1s (command line --timeout) reached; the sandbox was killed\n"))
      << r;
  SessionLog log = the_log();
  auto kill = events(log, "limit", "kill", "wall");
  ASSERT_EQ(kill.size(), 1u) << log.text();
  EXPECT_TRUE(contains(log.lines[kill[0]],
                       "\"reason\":\"wall-clock limit 1s (command line --timeout) reached; the session was ended\""))
      << log.lines[kill[0]];
  EXPECT_TRUE(contains(log.lines.back(), "\"status\":124")) << log.text();
  EXPECT_TRUE(wait_for(
      [&] {
        return host_pids_with({"spin", "600", marker}).empty();
      },
      2.0))
      << "the spinning process survived the timeout";

  // The same limit set in a profile is named by its file:line.
  clear_logs();
  std::string p = write_profile("wall", "version = 1\nextends = [\"default\"]\n[limits]\nwall = \"1s\"\n");
  std::string marker2 = unique_marker("spin");
  r = run({"-p", p}, P({"spin", "600", marker2}), Opts{.timeout = 8});
  EXPECT_EQ(r.code, 124) << r;
  EXPECT_TRUE(contains(r.err, "paddock: timeout: wall-clock limit 1s (" + p + ":4) reached; the sandbox was killed\n"))
      << r;
  log = the_log();
  EXPECT_EQ(events(log, "limit", "kill", "wall").size(), 1u) << log.text();
  EXPECT_TRUE(wait_for(
      [&] {
        return host_pids_with({"spin", "600", marker2}).empty();
      },
      2.0))
      << "the spinning process survived the timeout";
}

// limits.cpu_time = "1s" with a probe that spins for 10 s.
TEST_F(Bounds, CpuTimeKillSwitch) {
  std::string p = write_profile("cpu", "version = 1\nextends = [\"default\"]\n[limits]\ncpu_time = \"1s\"\n");
  Result r = run({"-p", p}, P({"spin", "10"}), Opts{.timeout = 10});
  if (root()) {
    // root: the session cgroup's CPU time (cpuacct) passes 1 s: the session is ended (137),
    // the limit printed with its origin and recorded as limit/kill "cpu_time".
    EXPECT_EQ(r.code, 137) << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_GE(r.seconds, 0.9) << r;
    EXPECT_LT(r.seconds, 3.0) << r;
    EXPECT_TRUE(contains(r.err, "paddock: killed: limits.cpu_time = 1s (" + p + ":4) used up; the session was ended\n"))
        << r;
    SessionLog log = the_log();
    auto kill = events(log, "limit", "kill", "cpu_time");
    ASSERT_EQ(kill.size(), 1u) << log.text();
    EXPECT_TRUE(
        contains(log.lines[kill[0]], "\"reason\":\"session CPU time 1s (" + p + ":4) used up; the session was ended\""))
        << log.lines[kill[0]];
    EXPECT_TRUE(contains(log.lines.back(), "\"status\":137")) << log.text();
    return;
  }
  // uid 65534, no cgroup: RLIMIT_CPU is per process, not the session-wide budget the profile
  // asks for, so paddock refuses to run (125) and names the layer and the way out.
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_TRUE(contains(r.err, "resources: no usable cgroup (")) << r;
  EXPECT_TRUE(
      contains(r.err, "limits.cpu_time (" + p + ":4) applies per process, not to the whole session; refusing to run"))
      << r;
  EXPECT_TRUE(contains(r.err, "sandbox.best_effort = [\"cgroup\"]")) << r;
  // With best_effort = ["cgroup"] it runs degraded: RLIMIT_CPU's soft limit (1 s) sends
  // SIGXCPU, whose default action ends the probe: 128 + SIGXCPU (the hard limit's SIGKILL, 1 s
  // later, is never needed).
  std::string pb = write_profile("cpu-best-effort",
                                 "version = 1\nextends = [\"default\"]\n[limits]\ncpu_time = \"1s\"\n"
                                 "[sandbox]\nbest_effort = [\"cgroup\"]\n");
  r = run({"-p", pb}, P({"spin", "10"}), Opts{.timeout = 10});
  EXPECT_EQ(r.code, 128 + SIGXCPU) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_LT(r.seconds, 3.0) << r;
  EXPECT_TRUE(contains(r.err, "paddock: DEGRADED: resources: no usable cgroup (")) << r;
  EXPECT_TRUE(
      contains(r.err, "enforced with rlimits instead: cpu=1; limits.cpu_time (" + pb + ":4) applies per process"))
      << r;
}

// Survivors with limits set (as root the session then has a cgroup): a double-forked daemon is
// gone after a normal exit and after paddock itself is SIGKILLed; the session's cgroup
// directories are removed at exit, and after the SIGKILL by the next run. The same without
// limits (no cgroup): Session.BackgroundProcessesDieWithTheCommand and
// Session.SigkillOfPaddockLeavesNoSurvivors.
TEST_F(Bounds, NoSurvivorsAndNoCgroupsLeftWithLimits) {
  const Args limits = {"--pids", "64", "--memory", "256M"};
  std::string daemon = unique_marker("daemon");
  Spawned s =
      spawn(argv(limits, {"sh", "-c", sh_probe("daemonize " + daemon) + " >/dev/null; exit 3"}), env(), work_, false);
  const pid_t first = s.pid;
  Result r = finish(s, "", 8);
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_TRUE(wait_for(
      [&] {
        return host_pids_with({"hang", daemon}).empty();
      },
      2.0))
      << "a daemonized process outlived the command";
  if (root()) {
    EXPECT_EQ(joined(session_cgroups_of(first)), "") << "left behind after a normal exit";
  }

  std::string daemon2 = unique_marker("daemon"), command = unique_marker("command");
  s = spawn(argv(limits, {"sh", "-c", sh_probe("daemonize " + daemon2) + "; exec " + sh_probe("hang " + command)}),
            env(), work_, false);
  const pid_t killed = s.pid;
  ASSERT_TRUE(wait_for(
      [&] {
        return !host_pids_with({"hang", daemon2}).empty() && !host_pids_with({"hang", command}).empty();
      },
      5))
      << "the sandboxed processes never started";
  if (root()) {
    // Otherwise this test would prove nothing about cgroups.
    ASSERT_NE(joined(session_cgroups_of(killed)), "") << "the session has no cgroup";
  }
  ::kill(s.pid, SIGKILL);
  r = finish(s, "", 5);
  EXPECT_EQ(r.sig, SIGKILL) << r;
  EXPECT_TRUE(wait_for([&] { return host_pids_with({"hang", daemon2}).empty(); }, 3)) << "the daemon survived paddock";
  EXPECT_TRUE(wait_for([&] { return host_pids_with({"hang", command}).empty(); }, 3)) << "the command survived paddock";
  if (root()) {
    // A SIGKILLed paddock cannot remove its cgroup; the next run (with limits) does.
    r = run(limits, {"true"});
    EXPECT_EQ(r.code, 0) << r;
    EXPECT_EQ(joined(session_cgroups_of(killed)), "") << "stale session cgroup left after the next run";
  }
}

// A session cgroup whose supervisor is gone (made by hand here: a fake session, a dead pid) is
// removed by the next paddock run; one whose supervisor still runs is not touched.
TEST_F(Bounds, StaleSessionCgroupIsRemovedByTheNextRun) {
  if (!root()) GTEST_SKIP() << "as uid " << ::geteuid() << " no cgroup is writable: nothing can be left behind";
  std::string own;  // this process's path in the v1 pids hierarchy
  for (const auto& l : lines_of(read_file("/proc/self/cgroup"))) {
    auto a = l.find(':'), b = l.find(':', a + 1);
    if (a != std::string::npos && b != std::string::npos && l.substr(a + 1, b - a - 1) == "pids") own = l.substr(b + 1);
  }
  ASSERT_FALSE(own.empty()) << read_file("/proc/self/cgroup");
  const std::string parent = "/sys/fs/cgroup/pids" + (own == "/" ? std::string() : own);
  if (!fs::is_directory(parent)) GTEST_SKIP() << "no cgroup v1 pids hierarchy at " << parent;
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  const std::string session = "20000101T000000Z-paddockit" + std::to_string(::getpid());
  const std::string stale = parent + "/paddock-" + session + "-" + std::to_string(dead);
  const std::string live = parent + "/paddock-" + session + "x-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0) << stale << ": " << std::strerror(errno);
  ASSERT_EQ(::mkdir(live.c_str(), 0755), 0) << live << ": " << std::strerror(errno);
  // Stale cgroups are looked for by runs that set a limit (those that use cgroups).
  Result r = run({"--pids", "64"}, {"true"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_FALSE(fs::exists(stale)) << stale << " is still there";
  EXPECT_TRUE(fs::exists(live)) << "a live session's cgroup was removed";
  ::rmdir(live.c_str());
  ::rmdir(stale.c_str());
}

// limits.max_denials = 3 and a probe that makes denied system calls in a tight loop: the third
// denial ends the session (137), the reason is printed and audited, and nothing runs on.
TEST_F(Denials, MaxDenialsEndsTheSession) {
  std::string p = write_profile("denials", "version = 1\nextends = [\"default\"]\n\n[limits]\nmax_denials = 3\n");
  Result r = run({"-p", p}, P({"deny-loop", "1000"}));
  EXPECT_EQ(r.code, 137) << r;
  EXPECT_EQ(r.out, "") << "the loop ran to its end: " << r;
  EXPECT_TRUE(contains(r.err, "paddock: killed: limits.max_denials = 3 (" + p + ":5) reached; the session was ended\n"))
      << r;
  SessionLog log = the_log();
  auto kill = events(log, "limit", "kill", "max_denials");
  ASSERT_EQ(kill.size(), 1u) << log.text();
  EXPECT_TRUE(contains(log.lines[kill[0]],
                       "\"reason\":\"limits.max_denials = 3 (" + p + ":5) reached; the session was ended\""))
      << log.lines[kill[0]];
  auto denied = events(log, "syscall", "deny");
  EXPECT_EQ(std::count_if(denied.begin(), denied.end(), [&](size_t i) { return i < kill[0]; }), 3) << log.text();
  // Once the switch trips the command must not run on: a denied call answered (and recorded)
  // after the kill event means it kept executing.
  EXPECT_EQ(denied.size(), 3u) << "denied system calls after the kill switch tripped:\n" << log.text();
  EXPECT_TRUE(contains(log.lines.back(), "\"action\":\"exit\"")) << log.text();
  EXPECT_TRUE(contains(log.lines.back(), "\"status\":137")) << log.lines.back();
}

// A denied system call lands in the log under its name, `paddock log --denials` shows it with
// the profile line that would allow it, -v prints it as it happens, and without -v a one-line
// summary is printed at exit.
TEST_F(Denials, SyscallDenialIsLoggedWithItsName) {
  Result r = run({}, P({"ptrace-traceme"}));
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(trim(r.out), "ERR EPERM") << r;
  SessionLog log = the_log();
  auto denied = events(log, "syscall", "deny");
  ASSERT_EQ(denied.size(), 1u) << log.text();
  const std::string& e = log.lines[denied[0]];
  EXPECT_TRUE(contains(e, "\"layer\":\"syscall\",\"action\":\"deny\",\"subject\":\"ptrace(0x0, ")) << e;
  EXPECT_TRUE(contains(e, "\"syscall\":\"ptrace\"")) << e;
  EXPECT_TRUE(contains(e, "\"errno\":\"EPERM\"")) << e;
  EXPECT_TRUE(contains(e, "\"reason\":\"baseline seccomp denylist")) << e;
  EXPECT_TRUE(contains(e, "\"pid\":")) << e;
  EXPECT_TRUE(contains(r.err, "paddock: denials: 1 (syscall 1); see: paddock log --denials " + log.session + "\n"))
      << r;
  EXPECT_FALSE(contains(r.err, "paddock: denied ")) << "printed live without -v: " << r;

  Result shown = paddock_cmd({"log", "--denials", log.session});
  EXPECT_EQ(shown.code, 0) << shown;
  EXPECT_TRUE(contains(shown.out, "ptrace(0x0, ")) << shown;
  EXPECT_TRUE(contains(shown.out, "allow with: syscalls.allow = [\"ptrace\"]")) << shown;

  // -v: printed while the session runs (before what the command writes 0.3 s later).
  r = run({"-v"}, {"sh", "-c", sh_probe("ptrace-traceme") + "; sleep 0.3; echo after-the-denial >&2"});
  EXPECT_EQ(r.code, 0) << r;
  auto live = r.err.find("paddock: denied ptrace(0x0, ");
  ASSERT_NE(live, std::string::npos) << r;
  EXPECT_TRUE(contains(r.err.substr(live, r.err.find('\n', live) - live), " -> EPERM")) << r;
  EXPECT_LT(live, r.err.find("after-the-denial")) << "not printed live: " << r;
}

// `paddock log --verify`: 0 for an untouched log, 1 when a line was edited (one byte), removed
// or reordered, 2 when it was cut off (no exit event).
TEST_F(Denials, LogVerifyDetectsEditsDropsAndTruncation) {
  Result r = run(
      {},
      {"sh", "-c", sh_probe("ptrace-traceme") + "; " + sh_probe("ptrace-traceme") + "; " + sh_probe("ptrace-traceme")});
  ASSERT_EQ(r.code, 0) << r;
  SessionLog log = the_log();
  ASSERT_EQ(log.lines.size(), 5u) << "start, 3 denials, exit:\n" << log.text();
  auto verify = [&](const std::string& target) { return paddock_cmd({"log", "--verify", target}); };
  auto variant = [&](const std::string& name, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    std::string path = dir_ + "/" + name + ".jsonl";
    write_file(path, text, 0600);
    return path;
  };

  Result v = verify(log.path);
  EXPECT_EQ(v.code, 0) << v;
  EXPECT_EQ(v.out, "ok: 5 events, hash chain intact\n") << v;
  v = verify(log.session);
  EXPECT_EQ(v.code, 0) << v;

  // One byte of the middle line changed (still valid JSON): the next line's hash no longer
  // matches.
  auto edited = log.lines;
  auto at = edited[2].find("baseline");
  ASSERT_NE(at, std::string::npos) << edited[2];
  edited[2][at] = 'B';
  v = verify(variant("edited", edited));
  EXPECT_EQ(v.code, 1) << v;
  EXPECT_EQ(v.out, "tampered or damaged: line 4: hash chain broken (the previous line was edited or removed)\n") << v;

  auto dropped = log.lines;
  dropped.erase(dropped.begin() + 2);
  v = verify(variant("dropped", dropped));
  EXPECT_EQ(v.code, 1) << v;
  EXPECT_EQ(v.out, "tampered or damaged: line 3: seq is 3, expected 2 (lines were reordered or removed)\n") << v;

  auto reordered = log.lines;
  std::swap(reordered[1], reordered[2]);
  v = verify(variant("reordered", reordered));
  EXPECT_EQ(v.code, 1) << v;
  EXPECT_TRUE(contains(v.out, "line 2: seq is 2, expected 1")) << v;

  auto truncated = log.lines;
  truncated.pop_back();
  v = verify(variant("truncated", truncated));
  EXPECT_EQ(v.code, 2) << v;
  EXPECT_EQ(v.out, "ok: 4 events, hash chain intact\nsession still running or truncated (no session exit event yet)\n")
      << v;
}

// ==========================================================================================
// --trace-fs: file accesses outside the grants are recorded (issue 4, "File access denials")
//
// With --trace-fs every file-opening system call stops in paddock's supervisor, which records
// the ones outside the grants as fs/deny events and lets every call continue: what the kernel
// answers never changes. These tests read the session log directly (one log per run).
// The test folders lie in the host's /tmp, which the default profile replaces with a fresh
// tmpfs: most tests use a profile without that tmpfs (`flags()`), so that home/ is simply
// outside the grants.

class TraceFs : public Paddock {
 protected:
  void SetUp() override {
    Paddock::SetUp();
    profile_ = write_profile("notmp", "version = 1\nextends = [\"base\"]\n[filesystem]\nwrite = [\"${CWD}\"]\n");
  }
  // --trace-fs with the base profile and the working directory writable, plus `extra`.
  Args flags(const Args& extra = {}) const {
    Args a = {"--trace-fs", "-p", profile_};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::string profile_;
  [[nodiscard]] std::string sessions_dir() const { return dir_ + "/state/paddock/sessions"; }
  void clear_logs() {
    std::error_code ec;
    fs::remove_all(sessions_dir(), ec);
  }
  // Every line of every session log.
  [[nodiscard]] std::vector<std::string> log_lines() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sessions_dir(), ec)) {
      for (auto& l : lines_of(read_file(e.path()))) out.push_back(l);
    }
    return out;
  }
  [[nodiscard]] std::vector<std::string> fs_events() const {
    std::vector<std::string> out;
    for (auto& l : log_lines()) {
      if (contains(l, "\"layer\":\"fs\"")) out.push_back(l);
    }
    return out;
  }
  [[nodiscard]] std::string session_id() const {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sessions_dir(), ec)) return e.path().stem().string();
    return "";
  }
  static std::string all(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x.substr(0, 700) + "\n";
    return s;
  }
  // The fs event for `path` (there must be exactly one).
  static std::string event_for(const std::vector<std::string>& events, const std::string& path) {
    std::vector<std::string> hits;
    for (const auto& e : events) {
      if (contains(e, "\"subject\":\"" + path + "\"")) hits.push_back(e);
    }
    EXPECT_EQ(hits.size(), 1u) << "fs events for " << path << ":\n" << all(events);
    return hits.empty() ? "" : hits[0];
  }
  Result paddock_log(const Args& args) {
    Args a = {g.paddock, "log"};
    a.insert(a.end(), args.begin(), args.end());
    Spawned s = spawn(a, env(), work_, false);
    return finish(s, "", 10);
  }
};

TEST_F(TraceFs, ReadOutsideTheGrantsIsRecorded) {
  std::string secret = home_ + "/notes.txt";
  write_file(secret, "private\n");
  EXPECT_EQ(probe(flags(), {"read", secret}, Opts{}), "ERR ENOENT");
  auto events = fs_events();
  std::string e = event_for(events, secret);
  EXPECT_TRUE(contains(e, "\"layer\":\"fs\",\"action\":\"deny\",\"subject\":\"" + secret + "\"")) << e;
  EXPECT_TRUE(contains(e, "\"reason\":\"not in filesystem.read/write\"")) << e;
  EXPECT_TRUE(contains(e, "\"access\":\"read\"")) << e;
  EXPECT_TRUE(contains(e, "\"path\":\"" + secret + "\"")) << e;
  EXPECT_TRUE(contains(e, "\"syscall\":\"openat\"")) << e;
  EXPECT_TRUE(contains(e, "\"pid\":")) << e;
  EXPECT_EQ(events.size(), 1u) << all(events);
}

TEST_F(TraceFs, WriteIntoAReadOnlyGrantIsRecordedAsWrite) {
  std::string ro = dir_ + "/ro";
  fs::create_directories(ro);
  write_file(ro + "/data.txt", "data\n", 0666);
  std::string answer = probe(flags({"--ro", ro}), {"write", ro + "/data.txt"}, Opts{});
  EXPECT_TRUE(answer == "ERR EROFS" || answer == "ERR EACCES") << answer;
  EXPECT_EQ(read_file(ro + "/data.txt"), "data\n");
  std::string e = event_for(fs_events(), ro + "/data.txt");
  EXPECT_TRUE(contains(e, "\"access\":\"write\"")) << e;
  EXPECT_TRUE(contains(e, "\"reason\":\"not in filesystem.write: " + ro + " (command line --ro) grants only ")) << e;
  // Creating a file there is a "create".
  clear_logs();
  answer = probe(flags({"--ro", ro}), {"create", ro + "/new.txt"}, Opts{});
  EXPECT_TRUE(answer == "ERR EROFS" || answer == "ERR EACCES") << answer;
  e = event_for(fs_events(), ro + "/new.txt");
  EXPECT_TRUE(contains(e, "\"access\":\"create\"")) << e;
}

TEST_F(TraceFs, ExecOfABinaryOutsideTheGrantsIsRecorded) {
  std::string tool = dir_ + "/outside-tool.sh";
  write_file(tool, "#!/bin/sh\necho ran\n", 0755);
  // The command itself: its exec happens while paddock still sets the session up.
  Result r = run(flags(), {tool});
  EXPECT_EQ(r.code, 127) << r;
  std::string e = event_for(fs_events(), tool);
  EXPECT_TRUE(contains(e, "\"access\":\"exec\"")) << e;
  EXPECT_TRUE(contains(e, "\"syscall\":\"execve\"")) << e;
  // A program the command starts.
  clear_logs();
  r = run(flags(), {"sh", "-c", tool + "; echo status=$?"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(trim(r.out), "status=127") << r;
  e = event_for(fs_events(), tool);
  EXPECT_TRUE(contains(e, "\"access\":\"exec\"")) << e;
}

// Granted accesses are not recorded: reading, writing, creating, renaming and removing in the
// writable working directory, running programs from /usr (through the /bin -> usr/bin and
// /lib -> usr/lib symbolic links of merged-/usr systems) and reading /etc.
TEST_F(TraceFs, GrantedAccessesLeaveNoRecord) {
  write_file(work_ + "/mine.txt", "mine\n");
  std::string script = sh_probe("read " + work_ + "/mine.txt") + " && " + sh_probe("write mine.txt") + " && " +
                       sh_probe("create new.txt") + " && " + sh_probe("mkdir sub") + " && " +
                       sh_probe("rename new.txt sub/moved.txt") + " && " + sh_probe("unlink sub/moved.txt") +
                       " && /bin/ls /usr/bin >/dev/null && cat /etc/hostname >/dev/null 2>&1; " +
                       sh_probe("read /dev/null") + "; echo done";
  Result r = run(flags(), {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "done")) << r;
  EXPECT_FALSE(contains(r.out, "ERR")) << r;
  EXPECT_TRUE(fs_events().empty()) << all(fs_events());
  EXPECT_TRUE(fs::exists(work_ + "/sub"));
}

TEST_F(TraceFs, WithoutTheFlagNothingIsTraced) {
  std::string secret = home_ + "/notes.txt";
  write_file(secret, "private\n");
  EXPECT_EQ(probe({"-p", profile_}, {"read", secret}, Opts{}), "ERR ENOENT");
  EXPECT_TRUE(fs_events().empty()) << all(fs_events());
  // And the plan has no trace rules.
  Result r = run({"--dry-run"}, {"true"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_FALSE(contains(r.out, "--trace-fs")) << r.out;
  r = run({"--dry-run", "--trace-fs"}, {"true"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(
      contains(r.out, "openat -> NOTIFY, then continue (recorded by the supervisor; the kernel decides)  [--trace-fs]"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "execve -> NOTIFY, then continue")) << r.out;
}

// Relative paths are resolved against the caller's working directory (and symbolic links as
// the sandbox sees them): the record names the absolute path a grant would have to cover.
TEST_F(TraceFs, RelativePathsAndSymlinksResolve) {
  std::string secret = home_ + "/notes.txt";
  write_file(secret, "private\n");
  fs::create_directories(work_ + "/a/b");
  fs::create_directory_symlink(home_, work_ + "/to-home");
  // work/a/b -> ../../../home/notes.txt
  Result r = run(flags(), {"sh", "-c",
                           "cd a/b && " + sh_probe("read ../../../home/notes.txt") + " && cd " + work_ + " && " +
                               sh_probe("read to-home/notes.txt")});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "ERR ENOENT\nERR ENOENT\n") << r;
  auto events = fs_events();
  std::vector<std::string> hits;
  for (const auto& e : events) {
    if (contains(e, "\"path\":\"" + secret + "\"") && contains(e, "\"access\":\"read\"")) hits.push_back(e);
  }
  EXPECT_EQ(hits.size(), 2u) << all(events);
  EXPECT_EQ(events.size(), 2u) << all(events);
}

// The baseline's deny rules on the same calls still decide first: a setuid file is refused
// (EPERM, a syscall event), not merely traced.
TEST_F(TraceFs, DenyRulesKeepPrecedence) {
  EXPECT_EQ(probe(flags(), {"create-mode", work_ + "/suid", "04755"}, Opts{}), "ERR EPERM");
  EXPECT_FALSE(fs::exists(work_ + "/suid"));
  auto lines = log_lines();
  bool syscall_denial = std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return contains(l, "\"layer\":\"syscall\",\"action\":\"deny\"") &&
           contains(l, "\"reason\":\"baseline seccomp denylist @suid\"");
  });
  EXPECT_TRUE(syscall_denial) << all(lines);
  EXPECT_TRUE(fs_events().empty()) << all(fs_events());
}

// A path under a filesystem.deny mask: the reason cites the deny rule and where it is.
TEST_F(TraceFs, MaskedPathCitesTheDenyRule) {
  fs::create_directories(home_ + "/.ssh");
  write_file(home_ + "/.ssh/id_ed25519", "key\n", 0600);
  std::string answer = probe(flags({"--ro", home_}), {"read", home_ + "/.ssh/id_ed25519"}, Opts{});
  EXPECT_TRUE(answer == "ERR EACCES" || answer == "ERR ENOENT") << answer;
  std::string e = event_for(fs_events(), home_ + "/.ssh/id_ed25519");
  EXPECT_TRUE(contains(e, "\"reason\":\"filesystem.deny \\\"" + home_ + "/.ssh\\\" (" + g.profiles + "/base.toml:"))
      << e;
  EXPECT_TRUE(contains(e, "\"access\":\"read\"")) << e;
}

// `paddock log --denials` shows the attempt and the profile line that would allow it.
TEST_F(TraceFs, LogDenialsShowsTheHint) {
  std::string secret = home_ + "/notes.txt";
  write_file(secret, "private\n");
  std::string ro = dir_ + "/ro";
  fs::create_directories(ro);
  write_file(ro + "/data.txt", "data\n", 0666);
  Result r =
      run(flags({"--ro", ro}), {"sh", "-c", sh_probe("read " + secret) + "; " + sh_probe("write " + ro + "/data.txt")});
  EXPECT_EQ(r.code, 0) << r;
  std::string id = session_id();
  EXPECT_TRUE(contains(r.err, "paddock: denials: 2 (fs 2); see: paddock log --denials " + id)) << r;
  Result shown = paddock_log({"--denials", id});
  EXPECT_EQ(shown.code, 0) << shown;
  EXPECT_TRUE(contains(shown.out, "attempted:  read " + secret)) << shown;
  EXPECT_TRUE(contains(shown.out, "allow with: filesystem.read = [\"" + secret + "\"]")) << shown;
  EXPECT_TRUE(contains(shown.out, "attempted:  write " + ro + "/data.txt")) << shown;
  EXPECT_TRUE(contains(shown.out, "allow with: filesystem.write = [\"" + ro + "/data.txt\"]")) << shown;
}

// Each recorded access is a denial for limits.max_denials.
TEST_F(TraceFs, RecordsCountTowardMaxDenials) {
  std::string secret = home_ + "/notes.txt";
  write_file(secret, "private\n");
  std::string p = write_profile("few", "version = 1\n[limits]\nmax_denials = 2\n");
  std::string read = sh_probe("read " + secret);
  Result r = run(flags({"-p", p}), {"sh", "-c", read + "; " + read + "; sleep 1; " + read + "; echo survived"});
  EXPECT_EQ(r.code, 137) << r;
  EXPECT_FALSE(contains(r.out, "survived")) << r;
  EXPECT_TRUE(contains(r.err, "max_denials")) << r;
  EXPECT_EQ(fs_events().size(), 2u) << all(fs_events());
}

// The default profile's /tmp is a fresh tmpfs: a host file looked for there is recorded too
// (granting /tmp as a tmpfs grants an empty folder, not the host's files).
TEST_F(TraceFs, HostFilesHiddenByATmpfsAreRecorded) {
  std::string secret = home_ + "/notes.txt";
  write_file(secret, "private\n");
  ASSERT_EQ(secret.rfind("/tmp/", 0), 0u) << "the test folders are expected in /tmp";
  EXPECT_EQ(probe({"--trace-fs"}, {"read", secret}, Opts{}), "ERR ENOENT");
  std::string e = event_for(fs_events(), secret);
  EXPECT_TRUE(contains(e, "\"reason\":\"not in filesystem.read/write: /tmp is a fresh tmpfs (filesystem.tmpfs, " +
                              g.profiles + "/default.toml:"))
      << e;
  EXPECT_TRUE(contains(e, "\"access\":\"read\"")) << e;
  // Creating a file there is what the tmpfs is for; a missing file the host lacks too is not
  // worth a record.
  clear_logs();
  Result r = run({"--trace-fs"}, {"sh", "-c",
                                  sh_probe("create /tmp/fresh") + "; " + sh_probe("read /tmp/fresh") + "; " +
                                      sh_probe("read /tmp/paddock-it-no-such-file")});
  EXPECT_EQ(r.out, "OK\nOK bytes=14\nERR ENOENT\n") << r;
  EXPECT_TRUE(fs_events().empty()) << all(fs_events());
}

// --trace-fs exists only with seccomp user notification: inside another paddock (whose filter
// is already in force) it is refused with 125 and a clear message, even where the profile lets
// seccomp-notify degrade.
TEST_F(TraceFs, RefusedWithoutSeccompNotification) {
  std::string inner = work_ + "/.bin/paddock";
  if (::link(g.paddock_copy.c_str(), inner.c_str()) != 0) copy_exe(g.paddock_copy, work_ + "/.bin", "paddock");
  std::string p = write_profile(
      "nested",
      "version = 1\nextends = [\"default\"]\n[sandbox]\nbest_effort = [\"namespaces\", \"seccomp-notify\"]\n");
  Result r = run({"--ro", g.profiles, "--env", "PADDOCK_SHIPPED_PROFILES=" + g.profiles},
                 {inner, "-q", "--audit", work_ + "/inner.jsonl", "-p", p, "--trace-fs", "--", "true"});
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_TRUE(contains(r.err, "--trace-fs: ")) << r;
  EXPECT_TRUE(contains(r.err, "seccomp user notification")) << r;
}

// ==========================================================================================
// Network mode "proxy": the egress proxy
//
// The far end of every test is a HostServer: an HTTP/1.0 server in threads of this process,
// listening on 127.0.0.1 (an ephemeral port) on the host. Inside the sandbox the command
// reaches it only through paddock's supervisor: the HTTP proxy (127.0.0.1:3128, absolute-form
// requests and CONNECT), SOCKS5 (127.0.0.1:1080), or the transparent listeners (every address,
// the allowed ports), with names resolved by paddock's resolver (127.0.0.1:53) to fake
// addresses in 198.18.0.0/15. Each test allows the server's address explicitly (a loopback
// address needs an address entry: a name that resolves to one is not enough).
//
// curl is the client where it is the natural tool; the probe does the raw things (a DNS
// message, a SOCKS5 handshake, a connection that sends half a request and stalls). curl gets
// `--noproxy ''`: paddock's NO_PROXY (localhost,127.0.0.1,::1) would otherwise send it
// straight to 127.0.0.1 -- the transparent path -- instead of through the proxy under test.

// The server's routes (origin-form or absolute-form request lines; the reply always closes):
//   GET /hello        "hello from host\n"
//   GET /bytes/N      N bytes of a deterministic pseudo-random stream (sha256 recorded)
//   PUT|POST /upload  reads the body (Content-Length, or to EOF), answers its sha256
//   GET /keep         "kept\n" in an HTTP/1.1 reply that keeps the connection open
//   GET /eof/N        reads until the client's EOF (a half-close), then sends /bytes/N
//   GET /stall        never reads another byte and never answers (a stalled upstream)
// A connection that sends no request line is recorded too (bytes_in, request "").
class HostServer {
 public:
  struct Conn {
    std::string request;                // the request line as received
    std::string headers;                // the whole header block
    std::vector<std::string> requests;  // every request line (GET /keep keeps the connection)
    std::uint64_t bytes_in = 0, bytes_out = 0;
    std::string sent_sha256, received_sha256;
    bool eof_before_reply = false;  // GET /eof/N: the client's EOF came before the answer
    bool done = false;
  };

  HostServer() {
    bool ok = false;
    fd_ = loopback_socket(SOCK_STREAM, 1024, port_, &ok);
    if (!ok) throw std::runtime_error("HostServer: bind/listen");
    accepter_ = std::thread([this] { accept_loop(); });
  }
  HostServer(const HostServer&) = delete;
  HostServer& operator=(const HostServer&) = delete;
  ~HostServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    accepter_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int c : open_) ::shutdown(c, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    ::close(fd_);
  }

  [[nodiscard]] std::string port() const { return std::to_string(port_); }
  [[nodiscard]] int port_num() const { return port_; }
  // 127.0.0.1:PORT
  [[nodiscard]] std::string addr() const { return "127.0.0.1:" + port(); }

  [[nodiscard]] int accepted() const { return accepted_.load(); }
  [[nodiscard]] int max_concurrent() const { return max_concurrent_.load(); }
  // Every connection so far (finished or not), in the order they were accepted.
  std::vector<Conn> conns() {
    std::lock_guard<std::mutex> lock(mu_);
    return conns_;
  }
  // Waits until every accepted connection is finished (the server closed or saw the end).
  bool settle(double timeout = 5) {
    return wait_for(
        [&] {
          std::lock_guard<std::mutex> lock(mu_);
          return std::all_of(conns_.begin(), conns_.end(), [](const Conn& c) { return c.done; });
        },
        timeout);
  }
  [[nodiscard]] std::string describe() {
    std::string s;
    for (const auto& c : conns()) {
      s += "  [" + c.request + "] in=" + std::to_string(c.bytes_in) + " out=" + std::to_string(c.bytes_out) +
           (c.done ? "" : " (open)") + "\n";
    }
    return s.empty() ? "  (no connections)\n" : s;
  }

  // The stream /bytes/N sends: the same for every request.
  static void fill(std::uint64_t& state, char* buf, size_t n) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      std::memcpy(buf + i, &state, 8);
    }
  }
  // FNV-1a (64 bits, hex) of the first n bytes of that stream, as `paddock-probe half-close`
  // reports what it received.
  static std::string stream_fnv(std::uint64_t n) {
    std::uint64_t h = 0xcbf29ce484222325ULL, state = 0x9e3779b97f4a7c15ULL;
    std::vector<char> chunk(1 << 16);
    for (std::uint64_t done = 0; done < n;) {
      fill(state, chunk.data(), chunk.size());
      size_t k = static_cast<size_t>(std::min<std::uint64_t>(chunk.size(), n - done));
      for (size_t i = 0; i < k; ++i) {
        h ^= static_cast<unsigned char>(chunk[i]);
        h *= 0x100000001b3ULL;
      }
      done += k;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }

 private:
  void accept_loop() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stopping_) return;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      struct timeval tv {
        20, 0
      };
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      size_t index;
      {
        std::lock_guard<std::mutex> lock(mu_);
        index = conns_.size();
        conns_.emplace_back();
        open_.insert(c);
      }
      ++accepted_;
      int now = ++active_;
      int seen = max_concurrent_.load();
      while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
      }
      workers_.emplace_back([this, c, index] { serve(c, index); });
    }
  }

  void update(size_t index, const std::function<void(Conn&)>& f) {
    std::lock_guard<std::mutex> lock(mu_);
    f(conns_[index]);
  }

  bool send_all(int c, size_t index, const char* data, size_t n) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = ::send(c, data + off, n - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
      update(index, [&](Conn& x) { x.bytes_out += static_cast<std::uint64_t>(w); });
    }
    return true;
  }

  void serve(int c, size_t index) {
    std::string head;
    char buf[65536];
    for (;;) {
      bool eof = false;
      while (!contains(head, "\r\n\r\n")) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          eof = true;
          break;
        }
        head.append(buf, static_cast<size_t>(n));
        update(index, [&](Conn& x) { x.bytes_in += static_cast<std::uint64_t>(n); });
        if (head.size() > (1 << 20)) break;
      }
      const size_t end = head.find("\r\n\r\n");
      std::string rest = end == std::string::npos ? "" : head.substr(end + 4);
      head = head.substr(0, end);
      std::string line = head.substr(0, head.find("\r\n"));
      update(index, [&](Conn& x) {
        if (x.requests.empty()) {
          x.request = line;
          x.headers = head;
        }
        if (!line.empty()) x.requests.push_back(line);
      });
      if (eof || end == std::string::npos) break;
      // GET /keep: an HTTP/1.1 answer that keeps the connection open for the next request.
      if (line.rfind("GET ", 0) == 0 && contains(line, "/keep ")) {
        std::string r = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nkept\n";
        if (!send_all(c, index, r.data(), r.size())) break;
        head = rest;
        continue;
      }
      respond(c, index, line, head, rest);
      break;
    }
    ::shutdown(c, SHUT_WR);
    // Drain what the client still sends until it closes (bounded by the receive timeout).
    for (int i = 0; i < 4096; ++i) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      update(index, [&](Conn& x) { x.bytes_in += static_cast<std::uint64_t>(n); });
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_.erase(c);
      conns_[index].done = true;
    }
    --active_;
    ::close(c);
  }

  void respond(int c, size_t index, const std::string& line, const std::string& head, const std::string& body_start) {
    std::istringstream ls(line);
    std::string method, target;
    ls >> method >> target;
    if (target.rfind("http://", 0) == 0) {  // absolute-form: keep the path
      size_t slash = target.find('/', 7);
      target = slash == std::string::npos ? "/" : target.substr(slash);
    }
    auto reply = [&](const std::string& body) {
      std::string r = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n\r\n" + body;
      send_all(c, index, r.data(), r.size());
    };
    if (method == "GET" && target == "/hello") {
      reply("hello from host\n");
    } else if (method == "GET" && target == "/stall") {
      // Never reads again, never answers: what the client pushes piles up in the buffers.
      auto until = Clock::now() + std::chrono::seconds(30);
      while (!stopping_ && Clock::now() < until) ::usleep(20000);
    } else if (method == "GET" && (target.rfind("/bytes/", 0) == 0 || target.rfind("/eof/", 0) == 0)) {
      if (target.rfind("/eof/", 0) == 0) {
        // Half-close: the whole request, then the client's EOF, and only then the answer.
        char buf[4096];
        for (;;) {
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return;  // no EOF within the receive timeout (or a reset): no answer
          if (n == 0) break;
          update(index, [&](Conn& x) { x.bytes_in += static_cast<std::uint64_t>(n); });
        }
        update(index, [&](Conn& x) { x.eof_before_reply = true; });
      }
      std::uint64_t total = std::strtoull(target.c_str() + target.find('/', 1) + 1, nullptr, 10);
      std::string h =
          "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + std::to_string(total) +
          "\r\nConnection: close\r\n\r\n";
      if (!send_all(c, index, h.data(), h.size())) return;
      Sha256 sha;
      std::uint64_t state = 0x9e3779b97f4a7c15ULL;
      std::vector<char> chunk(1 << 16);
      for (std::uint64_t sent = 0; sent < total;) {
        size_t n = static_cast<size_t>(std::min<std::uint64_t>(chunk.size(), total - sent));
        fill(state, chunk.data(), chunk.size());
        sha.update(chunk.data(), n);
        if (!send_all(c, index, chunk.data(), n)) return;
        sent += n;
      }
      std::string hex = Sha256::hex(sha.final());
      update(index, [&](Conn& x) { x.sent_sha256 = hex; });
    } else if ((method == "PUT" || method == "POST") && target == "/upload") {
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
      size_t cl = lower.find("\r\ncontent-length:");
      std::uint64_t want = cl == std::string::npos ? UINT64_MAX : std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
      Sha256 sha;
      std::uint64_t got = std::min<std::uint64_t>(body_start.size(), want);
      sha.update(body_start.data(), static_cast<size_t>(got));
      std::vector<char> buf(1 << 16);
      while (got < want) {
        ssize_t n = ::recv(c, buf.data(), static_cast<size_t>(std::min<std::uint64_t>(buf.size(), want - got)), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        update(index, [&](Conn& x) { x.bytes_in += static_cast<std::uint64_t>(n); });
        sha.update(buf.data(), static_cast<size_t>(n));
        got += static_cast<std::uint64_t>(n);
      }
      std::string hex = Sha256::hex(sha.final());
      update(index, [&](Conn& x) { x.received_sha256 = hex; });
      if (want != UINT64_MAX && got < want) return;  // cut off: no answer
      reply("received " + std::to_string(got) + " sha256 " + hex + "\n");
    } else {
      std::string r = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      send_all(c, index, r.data(), r.size());
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0}, active_{0}, max_concurrent_{0};
  std::thread accepter_;
  std::vector<std::thread> workers_;  // only the accept thread adds, only the destructor joins
  std::mutex mu_;
  std::vector<Conn> conns_;
  std::set<int> open_;
};

// A JSON string field of a compact one-line object ("key":"value"), unescaped; "" when absent.
std::string json_str(const std::string& line, const std::string& key) {
  std::string k = "\"" + key + "\":\"";
  size_t at = line.find(k);
  if (at == std::string::npos) return "";
  std::string out;
  for (size_t i = at + k.size(); i < line.size(); ++i) {
    if (line[i] == '"') return out;
    if (line[i] == '\\' && i + 1 < line.size()) {
      ++i;
      out += line[i] == 'n' ? '\n' : line[i];
      continue;
    }
    out += line[i];
  }
  return out;
}

// A JSON number field ("key":123), or a string holding one ("key":"123"); -1 when absent.
long long json_num(const std::string& line, const std::string& key) {
  std::string k = "\"" + key + "\":";
  size_t at = line.find(k);
  if (at == std::string::npos) return -1;
  at += k.size();
  if (at < line.size() && line[at] == '"') ++at;
  if (at >= line.size() || !std::isdigit(static_cast<unsigned char>(line[at]))) return -1;
  return std::strtoll(line.c_str() + at, nullptr, 10);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

class Proxy : public LimitsAndAudit {
 protected:
  // A profile: the default one with network mode "proxy", one allow (and deny) entry per line
  // (so that an entry's line is known: line_of), plus `extra` after the [network] table.
  std::string proxy_profile(const Args& allow, const Args& deny = {}, const std::string& extra = "",
                            const std::string& name = "proxy") {
    std::string t = "version = 1\nextends = [\"default\"]\n\n[network]\nmode = \"proxy\"\nallow = [\n";
    for (const auto& a : allow) t += "  \"" + a + "\",\n";
    t += "]\ndeny = [\n";
    for (const auto& d : deny) t += "  \"" + d + "\",\n";
    t += "]\n" + extra;
    profile_text_ = t;
    return write_profile(name, t);
  }
  // "PATH:LINE" of the line of the last proxy_profile() that holds `needle` (quoted entry).
  std::string rule_of(const std::string& path, const std::string& entry) const {
    auto lines = lines_of(profile_text_);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (contains(lines[i], "\"" + entry + "\"")) return path + ":" + std::to_string(i + 1);
    }
    return path + ":?";
  }

  // curl through paddock's HTTP proxy (absolute-form for http:// URLs; -p for CONNECT).
  static Args curl(const Args& args) {
    Args a = {"curl", "-sS", "--max-time", "20", "--noproxy", "", "-x", "http://127.0.0.1:3128"};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }
  static std::string curl_sh(const std::string& args) {
    return "curl -sS --max-time 20 --noproxy '' -x http://127.0.0.1:3128 " + args;
  }

  // The net (or dns) events of a log with this action, and subject when given.
  static std::vector<std::string> net_events(const SessionLog& l, const std::string& action,
                                             const std::string& subject = "", const std::string& layer = "net") {
    std::vector<std::string> out;
    for (size_t i : events(l, layer, action, subject)) out.push_back(l.lines[i]);
    return out;
  }
  static std::string all(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x.substr(0, 900) + "\n";
    return s;
  }

  // A transparent connection refused by paddock: reset or closed before any byte.
  static bool refused_without_data(const std::string& answer) {
    return answer == "ERR ECONNRESET" || answer == "ERR EPIPE" || answer == "OK bytes=0 first=";
  }
  // A port paddock does not listen on: Landlock refuses the connect (ABI >= 4), else nothing
  // listens there in the sandbox's namespace.
  static std::string kernel_refusal() { return g.landlock_abi >= 4 ? "ERR EACCES" : "ERR ECONNREFUSED"; }

  static bool in_pool(const std::string& addr) {
    in_addr a{};
    if (::inet_pton(AF_INET, addr.c_str(), &a) != 1) return false;
    return (ntohl(a.s_addr) & 0xfffe0000u) == 0xc6120000u;  // 198.18.0.0/15
  }

  std::string profile_text_;
};

// What `--dry-run` prints for mode "proxy": the endpoints inside the sandbox, the pool, the
// transparent ports, the rules and budgets, and the proxy environment.
TEST_F(Proxy, DryRunShowsTheEndpoints) {
  std::string p = proxy_profile({"127.0.0.1:8080", "*.example.com"}, {"bad.example.com"},
                                "max_bytes_out = \"10M\"\nmax_connections = 100\n");
  Result r = run({"-p", p, "--dry-run"}, {"true"});
  ASSERT_EQ(r.code, 0) << r;
  for (const char* s : {"127.0.0.1:3128", "127.0.0.1:1080", "127.0.0.1:53", "198.18.0.0/15", "8080", "443",
                        "*.example.com", "bad.example.com", "HTTP_PROXY", "http://127.0.0.1:3128", "ALL_PROXY",
                        "socks5h://127.0.0.1:1080", "NO_PROXY", "/etc/hosts"}) {
    EXPECT_TRUE(contains(r.out, s)) << "dry run lacks " << s << "\n" << r.out;
  }
  EXPECT_TRUE(contains(r.out, "network: proxy")) << r.out;
  // The CLI equivalent.
  r = run({"--dry-run", "--net", "proxy", "--allow-net", "127.0.0.1:8080"}, {"true"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "127.0.0.1:3128")) << r.out;
  EXPECT_TRUE(contains(r.out, "8080")) << r.out;
  // Mode "none" has no proxy.
  r = run({"--dry-run"}, {"true"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_FALSE(contains(r.out, "127.0.0.1:3128")) << r.out;
  EXPECT_FALSE(contains(r.out, "HTTP_PROXY")) << r.out;
}

// The command's environment names the proxies; /etc/resolv.conf and /etc/hosts are paddock's;
// the namespace still has only lo.
TEST_F(Proxy, EnvironmentResolverAndHostsFile) {
  std::string p = proxy_profile({"127.0.0.1:8080"});
  Result r = run({"-p", p}, {"sh", "-c",
                             "for v in HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy NO_PROXY "
                             "no_proxy; do eval echo $v=\\$$v; done; echo ---; cat /etc/resolv.conf; echo ---; "
                             "cat /etc/hosts; echo ---; cat /proc/net/dev"});
  ASSERT_EQ(r.code, 0) << r;
  for (const char* v : {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"}) {
    EXPECT_TRUE(contains(r.out, std::string(v) + "=http://127.0.0.1:3128\n")) << v << "\n" << r.out;
  }
  EXPECT_TRUE(contains(r.out, "ALL_PROXY=socks5h://127.0.0.1:1080\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "all_proxy=socks5h://127.0.0.1:1080\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "NO_PROXY=localhost,127.0.0.1,::1\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "no_proxy=localhost,127.0.0.1,::1\n")) << r.out;
  auto parts = r.out.substr(r.out.find("---\n") + 4);
  std::string resolv = parts.substr(0, parts.find("---\n"));
  std::vector<std::string> servers;
  for (const auto& l : lines_of(resolv)) {
    if (l.rfind("nameserver", 0) == 0) servers.push_back(l);
  }
  EXPECT_EQ(servers, std::vector<std::string>{"nameserver 127.0.0.1"}) << resolv;
  std::string rest = parts.substr(parts.find("---\n") + 4);
  std::string hosts = rest.substr(0, rest.find("---\n"));
  std::map<std::string, std::set<std::string>> names;  // name -> addresses
  for (const auto& l : lines_of(hosts)) {
    std::istringstream ls(l.substr(0, l.find('#')));
    std::string addr, name;
    ls >> addr;
    while (ls >> name) names[name].insert(addr);
  }
  EXPECT_EQ(names["localhost"], (std::set<std::string>{"127.0.0.1", "::1"})) << hosts;
  EXPECT_EQ(names["paddock"].size(), 1u) << hosts;
  if (!names["paddock"].empty()) {
    EXPECT_EQ(names["paddock"].begin()->rfind("127.", 0), 0u) << hosts;
  }
  std::string dev = rest.substr(rest.find("---\n") + 4);
  int interfaces = 0;
  for (const auto& l : lines_of(dev)) {
    if (!contains(l, ":")) continue;
    ++interfaces;
    EXPECT_TRUE(contains(l, "lo:")) << l;
  }
  EXPECT_EQ(interfaces, 1) << dev;
  // Mode "none": no proxy variables, nothing listens on the proxy's ports.
  EXPECT_EQ(probe({"getenv", "HTTP_PROXY"}), "ERR ENOENT");
  EXPECT_EQ(probe({"tcp-connect", "127.0.0.1", "3128"}), kernel_refusal());
  std::string dns = probe({"dns-query", "localhost", "A"});
  EXPECT_TRUE(dns == "ERR ECONNREFUSED" || dns == "ERR ETIMEDOUT") << dns;
}

// curl through the HTTP proxy: an absolute-form GET reaches the host's server, the attempt is
// audited (path "http", the deciding rule, the address dialled) and so is its result. A port
// no entry allows gets a 403 the server never sees.
TEST_F(Proxy, HttpProxyPlainGet) {
  HostServer server, other;
  std::string p = proxy_profile({server.addr()});
  Result r = run({"-p", p}, curl({"-i", "http://" + server.addr() + "/hello"}));
  ASSERT_EQ(r.code, 0) << r << "\nserver:\n" << server.describe();
  EXPECT_TRUE(contains(r.out, "HTTP/1.0 200 OK") || contains(r.out, "HTTP/1.1 200 OK")) << r;
  EXPECT_TRUE(contains(r.out, "\r\n\r\nhello from host\n")) << r;
  ASSERT_TRUE(server.settle());
  auto conns = server.conns();
  ASSERT_EQ(conns.size(), 1u) << server.describe();
  EXPECT_TRUE(contains(conns[0].request, "GET ") && contains(conns[0].request, "/hello")) << server.describe();
  EXPECT_TRUE(contains(conns[0].headers, "\r\nHost: " + server.addr())) << conns[0].headers;

  SessionLog log = the_log();
  auto allowed = net_events(log, "allow", server.addr());
  ASSERT_EQ(allowed.size(), 1u) << log.text();
  const std::string& e = allowed[0];
  EXPECT_EQ(json_str(e, "path"), "http") << e;
  EXPECT_EQ(json_str(e, "host"), "127.0.0.1") << e;
  EXPECT_EQ(json_num(e, "port"), server.port_num()) << e;
  EXPECT_EQ(json_str(e, "address"), "127.0.0.1") << e;
  EXPECT_EQ(json_str(e, "rule"), rule_of(p, server.addr())) << e;
  auto results = net_events(log, "result", server.addr());
  ASSERT_EQ(results.size(), 1u) << log.text();
  EXPECT_EQ(json_str(results[0], "path"), "http") << results[0];

  // Another port of the same address: refused with a 403, never dialled.
  clear_logs();
  r = run({"-p", p}, curl({"-i", "http://" + other.addr() + "/hello"}));
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "HTTP/1.1 403 Forbidden\r\n")) << r;
  EXPECT_TRUE(contains(r.out, "X-Paddock-Denied: {")) << r;
  EXPECT_FALSE(contains(r.out, "hello from host")) << r;
  EXPECT_EQ(other.accepted(), 0) << other.describe();
  log = the_log();
  auto denied = net_events(log, "deny", other.addr());
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_EQ(json_str(denied[0], "path"), "http") << denied[0];
  EXPECT_TRUE(contains(json_str(denied[0], "hint"), other.addr())) << denied[0];
  EXPECT_TRUE(net_events(log, "allow").empty()) << log.text();
}

// The command line alone: `--net proxy --allow-net HOST:PORT` (repeatable).
TEST_F(Proxy, CommandLineFlags) {
  HostServer server, other;
  Args flags = {"--net", "proxy", "--allow-net", server.addr(), "--allow-net", "localhost:" + server.port()};
  Result r = run(flags, {"sh", "-c",
                         curl_sh("http://localhost:" + server.port() + "/hello") + "; " +
                             curl_sh("-o /dev/null -w '%{http_code}\\n' http://" + other.addr() + "/hello")});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "hello from host\n403\n") << r;
  EXPECT_EQ(other.accepted(), 0);
  SessionLog log = the_log();
  EXPECT_EQ(net_events(log, "allow", "localhost:" + server.port()).size(), 1u) << log.text();
  EXPECT_EQ(net_events(log, "deny", other.addr()).size(), 1u) << log.text();
}

// CONNECT (curl -p): a tunnel to the host's server; a name that is not allowed is refused.
TEST_F(Proxy, HttpConnectTunnel) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  Result r = run({"-p", p}, curl({"-p", "http://" + server.addr() + "/hello"}));
  ASSERT_EQ(r.code, 0) << r << "\nserver:\n" << server.describe();
  EXPECT_EQ(r.out, "hello from host\n") << r;
  ASSERT_TRUE(server.settle());
  ASSERT_EQ(server.conns().size(), 1u) << server.describe();
  // Through a tunnel the server sees the origin-form request curl sent, untouched.
  EXPECT_EQ(server.conns()[0].request, "GET /hello HTTP/1.1") << server.describe();
  SessionLog log = the_log();
  auto allowed = net_events(log, "allow", server.addr());
  ASSERT_EQ(allowed.size(), 1u) << log.text();
  EXPECT_EQ(json_str(allowed[0], "path"), "connect") << allowed[0];
  EXPECT_EQ(json_str(allowed[0], "rule"), rule_of(p, server.addr())) << allowed[0];

  clear_logs();
  r = run({"-p", p}, curl({"-p", "-o", "/dev/null", "-w", "%{http_connect}\n", "http://denied.example.com:8080/"}));
  EXPECT_NE(r.code, 0) << r;
  EXPECT_EQ(trim(r.out), "403") << r;
  log = the_log();
  auto denied = net_events(log, "deny", "denied.example.com:8080");
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_EQ(json_str(denied[0], "path"), "connect") << denied[0];
  EXPECT_EQ(json_str(denied[0], "host"), "denied.example.com") << denied[0];
  EXPECT_EQ(json_num(denied[0], "port"), 8080) << denied[0];
  EXPECT_TRUE(contains(json_str(denied[0], "hint"), "denied.example.com:8080")) << denied[0];
  // The refusal of a CONNECT explains itself like any other.
  r = run({"-p", p}, P({"tcp-dump", "127.0.0.1", "3128",
                        "CONNECT denied.example.com:8080 HTTP/1.1\\r\\nHost: denied.example.com:8080\\r\\n\\r\\n"}));
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << r;
  EXPECT_TRUE(contains(r.out, "\r\nX-Paddock-Denied: {\"host\":\"denied.example.com\"")) << r;
  EXPECT_TRUE(contains(r.out, "network.allow = [\"denied.example.com:8080\"]")) << r;
}

// SOCKS5 with names resolved by paddock (curl --socks5-hostname); refusals are reply 0x02.
TEST_F(Proxy, Socks5Hostname) {
  HostServer server, other;
  std::string p = proxy_profile({"localhost:" + server.port(), server.addr()});
  Result r = run({"-p", p}, {"curl", "-sS", "--max-time", "20", "--noproxy", "", "--socks5-hostname", "127.0.0.1:1080",
                             "http://localhost:" + server.port() + "/hello"});
  ASSERT_EQ(r.code, 0) << r << "\nserver:\n" << server.describe();
  EXPECT_EQ(r.out, "hello from host\n") << r;
  SessionLog log = the_log();
  auto allowed = net_events(log, "allow", "localhost:" + server.port());
  ASSERT_EQ(allowed.size(), 1u) << log.text();
  EXPECT_EQ(json_str(allowed[0], "path"), "socks") << allowed[0];
  EXPECT_EQ(json_str(allowed[0], "host"), "localhost") << allowed[0];
  EXPECT_EQ(json_str(allowed[0], "address"), "127.0.0.1") << allowed[0];

  clear_logs();
  r = run({"-p", p}, {"sh", "-c",
                      sh_probe("socks-connect 127.0.0.1 " + server.port() + " 'GET /hello HTTP/1.0\\r\\n\\r\\n'") +
                          "; " + sh_probe("socks-connect denied.example.com 443") + "; " +
                          sh_probe("socks-connect 127.0.0.1 " + other.port())});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 3u) << r;
  EXPECT_TRUE(l[0].rfind("OK reply=0 bytes=", 0) == 0 && contains(l[0], "first=HTTP/1.0 200 OK")) << r;
  EXPECT_EQ(l[1], "OK reply=2") << r;
  EXPECT_EQ(l[2], "OK reply=2") << r;
  EXPECT_EQ(other.accepted(), 0) << other.describe();
  log = the_log();
  auto denied = net_events(log, "deny", "denied.example.com:443");
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_EQ(json_str(denied[0], "path"), "socks") << denied[0];
  EXPECT_EQ(net_events(log, "deny", other.addr()).size(), 1u) << log.text();
}

// A program that ignores the proxy settings: bash's /dev/tcp to 127.0.0.1:PORT reaches the
// HOST's 127.0.0.1:PORT through paddock's transparent listener. A port no entry names is
// refused by the kernel.
TEST_F(Proxy, TransparentDevTcp) {
  HostServer server, other;
  std::string p = proxy_profile({server.addr()});
  Result r = run({"-p", p}, {"bash", "-c",
                             "exec 3<>/dev/tcp/127.0.0.1/" + server.port() +
                                 " && printf 'GET /hello HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"});
  ASSERT_EQ(r.code, 0) << r << "\nserver:\n" << server.describe();
  EXPECT_TRUE(contains(r.out, "HTTP/1.0 200 OK\r\n")) << r;
  EXPECT_TRUE(contains(r.out, "\r\n\r\nhello from host\n")) << r;
  SessionLog log = the_log();
  auto allowed = net_events(log, "allow", server.addr());
  ASSERT_EQ(allowed.size(), 1u) << log.text();
  EXPECT_EQ(json_str(allowed[0], "path"), "transparent") << allowed[0];
  EXPECT_EQ(json_str(allowed[0], "address"), "127.0.0.1") << allowed[0];
  EXPECT_EQ(json_str(allowed[0], "rule"), rule_of(p, server.addr())) << allowed[0];

  clear_logs();
  EXPECT_EQ(probe({"-p", p}, {"tcp-connect", "127.0.0.1", other.port()}), kernel_refusal());
  clear_logs();
  r = run({"-p", p}, {"bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + other.port() + " && echo connected"});
  EXPECT_NE(r.code, 0) << r;
  EXPECT_FALSE(contains(r.out, "connected")) << r;
  EXPECT_EQ(other.accepted(), 0) << other.describe();
  // The kernel refused it; the supervisor recorded the attempt all the same.
  SessionLog refused_log = the_log();
  auto direct = net_events(refused_log, "deny", "127.0.0.1:" + other.port());
  ASSERT_FALSE(direct.empty()) << refused_log.text();
  EXPECT_EQ(json_str(direct[0], "path"), "direct") << direct[0];
}

// Nothing leaves but what paddock dials: IPv6 destinations are paddock's too (::1 and a global
// address on an allowed port are judged as those literals and refused), an unassigned pool
// address is refused, and UDP other than DNS reaches nobody.
TEST_F(Proxy, NoOtherWayOut) {
  HostServer server;
  Listener udp(SOCK_DGRAM);
  std::string p = proxy_profile({server.addr()});
  const std::string get = " 'GET /hello HTTP/1.0\\r\\n\\r\\n'";
  std::string script = sh_probe("tcp-connect 127.0.0.1 " + server.port() + get) + "; " +
                       sh_probe("tcp-connect ::1 " + server.port() + get) + "; " +
                       sh_probe("tcp-connect 2001:db8::1 " + server.port() + get) + "; " +
                       sh_probe("tcp-connect 198.19.255.254 " + server.port() + get) + "; " +
                       sh_probe("udp-send 127.0.0.1 " + udp.port() + " from-proxy-mode");
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 5u) << r;
  EXPECT_TRUE(contains(l[0], "first=HTTP/1.0 200 OK")) << r;
  EXPECT_TRUE(refused_without_data(l[1])) << r;
  EXPECT_TRUE(refused_without_data(l[2])) << r;
  EXPECT_TRUE(refused_without_data(l[3])) << r;
  EXPECT_EQ(l[4], "OK") << r;
  EXPECT_EQ(udp.receive(0.5), "");
  ASSERT_TRUE(server.settle());
  EXPECT_EQ(server.accepted(), 1) << server.describe();
  SessionLog log = the_log();
  auto denied = net_events(log, "deny");
  EXPECT_EQ(denied.size(), 3u) << log.text();
  for (const auto& e : denied) EXPECT_EQ(json_str(e, "path"), "transparent") << e;
  EXPECT_EQ(net_events(log, "allow").size(), 1u) << log.text();
}

// paddock's resolver: an allowed name gets a fake address from 198.18.0.0/15 (A, over UDP and
// TCP), AAAA gets no answer, and a connection to the fake address is a connection to the name
// (paddock resolves "localhost" on the host: 127.0.0.1, allowed by its address entry). A name
// not allowed is NXDOMAIN and a dns denial.
TEST_F(Proxy, DnsAnswersAllowedNamesFromThePool) {
  HostServer server;
  std::string p = proxy_profile({"localhost:" + server.port(), server.addr()});
  std::string script = sh_probe("dns-query localhost A") + "; " + sh_probe("dns-query localhost A tcp") + "; " +
                       sh_probe("dns-query localhost AAAA") + "; " +
                       sh_probe("dns-connect localhost " + server.port() + " 'GET /hello HTTP/1.0\\r\\n\\r\\n'") +
                       "; " + sh_probe("dns-query denied.example.com A") + "; " +
                       sh_probe("dns-query denied.example.com A tcp");
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 6u) << r;
  for (int i : {0, 1}) {
    ASSERT_EQ(l[i].rfind("OK rcode=NOERROR addrs=", 0), 0u) << r;
    std::string addrs = l[i].substr(std::strlen("OK rcode=NOERROR addrs="));
    EXPECT_FALSE(addrs.empty()) << r;
    for (const auto& a : split(addrs, ',')) {
      EXPECT_TRUE(in_pool(a)) << a << " is not in 198.18.0.0/15: " << r;
    }
  }
  EXPECT_EQ(l[2], "OK rcode=NOERROR addrs=") << r;
  EXPECT_EQ(l[3].rfind("OK addr=198.1", 0), 0u) << r << "\nserver:\n" << server.describe();
  EXPECT_TRUE(contains(l[3], "first=HTTP/1.0 200 OK")) << r;
  EXPECT_EQ(l[4], "OK rcode=NXDOMAIN addrs=") << r;
  EXPECT_EQ(l[5], "OK rcode=NXDOMAIN addrs=") << r;
  ASSERT_TRUE(server.settle());
  ASSERT_EQ(server.conns().size(), 1u) << server.describe();

  SessionLog log = the_log();
  auto dns_allowed = net_events(log, "allow", "localhost", "dns");
  ASSERT_GE(dns_allowed.size(), 3u) << log.text();
  EXPECT_EQ(json_str(dns_allowed[0], "type"), "A") << dns_allowed[0];
  bool aaaa = std::any_of(dns_allowed.begin(), dns_allowed.end(),
                          [](const std::string& e) { return json_str(e, "type") == "AAAA"; });
  EXPECT_TRUE(aaaa) << log.text();
  auto dns_denied = net_events(log, "deny", "denied.example.com", "dns");
  ASSERT_EQ(dns_denied.size(), 2u) << log.text();
  EXPECT_EQ(json_str(dns_denied[0], "type"), "A") << dns_denied[0];
  // The connection to the pool address was judged as one to the name.
  auto allowed = net_events(log, "allow", "localhost:" + server.port());
  ASSERT_EQ(allowed.size(), 1u) << log.text();
  EXPECT_EQ(json_str(allowed[0], "path"), "transparent") << allowed[0];
  EXPECT_EQ(json_str(allowed[0], "host"), "localhost") << allowed[0];
  EXPECT_EQ(json_str(allowed[0], "address"), "127.0.0.1") << allowed[0];
}

// A connection to a pool address is judged as one to the name it stands for: "localhost" is
// allowed on PORT only, so its pool address on OTHER (a port paddock listens on, because
// 127.0.0.1:OTHER is allowed) is refused, while 127.0.0.1:OTHER itself is allowed.
TEST_F(Proxy, PoolAddressIsJudgedAsItsName) {
  HostServer server, other;
  std::string p = proxy_profile({"localhost:" + server.port(), server.addr(), other.addr()});
  const std::string get = " 'GET /hello HTTP/1.0\\r\\n\\r\\n'";
  std::string script = sh_probe("dns-connect localhost " + server.port() + get) + "; " +
                       sh_probe("dns-connect localhost " + other.port() + get) + "; " +
                       sh_probe("tcp-connect 127.0.0.1 " + other.port() + get);
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 3u) << r;
  EXPECT_TRUE(l[0].rfind("OK addr=198.1", 0) == 0 && contains(l[0], "first=HTTP/1.0 200 OK")) << r;
  EXPECT_TRUE(refused_without_data(l[1]) || (l[1].rfind("OK addr=198.1", 0) == 0 && l[1].ends_with(" bytes=0 first=")))
      << r;
  EXPECT_TRUE(contains(l[2], "first=HTTP/1.0 200 OK")) << r;
  ASSERT_TRUE(other.settle());
  EXPECT_EQ(other.accepted(), 1) << other.describe();
  SessionLog log = the_log();
  auto denied = net_events(log, "deny", "localhost:" + other.port());
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_EQ(json_str(denied[0], "path"), "transparent") << denied[0];
  EXPECT_EQ(net_events(log, "allow", other.addr()).size(), 1u) << log.text();
}

// Ports: a range entry allows each port in it; an entry without a port means 80 and 443, and
// paddock listens there on every address (so a connection to port 80 of an address no entry
// allows is accepted, then refused by paddock), while a port no entry names is refused by the
// kernel.
TEST_F(Proxy, PortRangesAndDefaultPorts) {
  HostServer server;
  const int port = server.port_num();
  const std::string range = "127.0.0.1:" + std::to_string(port - 1) + "-" + std::to_string(port + 1);
  std::string p = proxy_profile({range, "*.example.com"});
  const std::string get = " 'GET /hello HTTP/1.0\\r\\n\\r\\n'";
  std::string script = curl_sh("http://" + server.addr() + "/hello") + "; " +
                       sh_probe("tcp-connect 127.0.0.1 " + server.port() + get) + "; " +
                       sh_probe("tcp-connect 10.9.9.9 80" + get) + "; " + sh_probe("tcp-connect 10.9.9.9 443" + get) +
                       "; " + sh_probe("tcp-connect 10.9.9.9 81" + get) + "; " +
                       sh_probe("tcp-connect 127.0.0.1 " + std::to_string(port + 2) + get);
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 6u) << r;
  EXPECT_EQ(l[0], "hello from host") << r;
  EXPECT_TRUE(contains(l[1], "first=HTTP/1.0 200 OK")) << r;
  EXPECT_TRUE(refused_without_data(l[2])) << r;
  EXPECT_TRUE(refused_without_data(l[3])) << r;
  EXPECT_EQ(l[4], kernel_refusal()) << r;
  EXPECT_EQ(l[5], kernel_refusal()) << r;
  SessionLog log = the_log();
  auto allowed = net_events(log, "allow", server.addr());
  ASSERT_EQ(allowed.size(), 2u) << log.text();
  EXPECT_EQ(json_str(allowed[0], "rule"), rule_of(p, range)) << allowed[0];
  EXPECT_EQ(net_events(log, "deny", "10.9.9.9:80").size(), 1u) << log.text();
  EXPECT_EQ(net_events(log, "deny", "10.9.9.9:443").size(), 1u) << log.text();
}

// Two requests pipelined on one connection to the HTTP proxy: the second names a destination
// that is not allowed. It must not reach that destination, and it must not be relayed, unjudged
// and unaudited, to the first request's server either: paddock judges each request, or stops
// relaying the client's bytes where the first request ends. (GET /keep answers and keeps
// reading, as a server that ignores the "Connection: close" paddock adds may.)
TEST_F(Proxy, KeepAliveCannotSmuggleARequest) {
  HostServer server, other;
  std::string p = proxy_profile({server.addr()});
  std::string two = "GET http://" + server.addr() + "/keep HTTP/1.1\\r\\nHost: " + server.addr() +
                    "\\r\\n\\r\\nGET http://" + other.addr() + "/hello HTTP/1.1\\r\\nHost: " + other.addr() +
                    "\\r\\n\\r\\n";
  Result r = run({"-p", p}, P({"tcp-dump", "127.0.0.1", "3128", two}), Opts{.timeout = 15});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "\r\n\r\nkept\n")) << r;
  EXPECT_EQ(other.accepted(), 0) << other.describe();
  ASSERT_TRUE(server.settle(10));
  for (const auto& c : server.conns()) {
    for (const auto& req : c.requests) {
      EXPECT_FALSE(contains(req, other.addr()))
          << "a request for " << other.addr() << " was sent to " << server.addr() << "\n"
          << server.describe() << "the first request as it arrived:\n"
          << c.headers;
    }
  }
  SessionLog log = the_log();
  EXPECT_TRUE(net_events(log, "allow", other.addr()).empty()) << log.text();
}

// A host no entry allows: the 403 says why in its body (for a model to read) and in the
// X-Paddock-Denied header (for a program), the denial is audited with the hint, and
// `paddock log --denials` shows net and dns denials with the profile line that would allow them.
TEST_F(Proxy, DeniedHostExplainsItself) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  Result r = run({"-p", p}, {"sh", "-c",
                             curl_sh("-i http://denied.example.com/some/path") + "; echo; " +
                                 curl_sh(server.addr() + "/hello") + "; " + sh_probe("dns-query other.example.com A")});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "hello from host\n")) << r;  // the allowed one in the same session
  EXPECT_TRUE(contains(r.out, "OK rcode=NXDOMAIN addrs=")) << r;
  ASSERT_TRUE(contains(r.out, "HTTP/1.1 403 Forbidden\r\n")) << r;
  std::string response = r.out.substr(r.out.find("HTTP/1.1 403"));
  std::string head = response.substr(0, response.find("\r\n\r\n"));
  std::string body = response.substr(response.find("\r\n\r\n") + 4);
  body = body.substr(0, body.find("hello from host"));
  EXPECT_TRUE(contains(head, "\r\nContent-Type: text/plain")) << head;
  EXPECT_TRUE(contains(body, "paddock")) << body;
  EXPECT_TRUE(contains(body, "denied.example.com:80")) << body;
  EXPECT_TRUE(contains(body, "network.allow = [\"denied.example.com:80\"]")) << body;
  EXPECT_TRUE(contains(body, "denied.example.com:80")) << body;
  // The header: compact JSON on one line.
  size_t h = head.find("\r\nX-Paddock-Denied: ");
  ASSERT_NE(h, std::string::npos) << head;
  std::string json = head.substr(h + 20);
  json = json.substr(0, json.find("\r\n"));
  EXPECT_EQ(json.front(), '{') << json;
  EXPECT_EQ(json.back(), '}') << json;
  EXPECT_FALSE(contains(json, ": ")) << "not compact: " << json;
  EXPECT_EQ(json_str(json, "host"), "denied.example.com") << json;
  EXPECT_EQ(json_num(json, "port"), 80) << json;
  EXPECT_FALSE(json_str(json, "reason").empty()) << json;
  EXPECT_TRUE(contains(json, "\"rule\":")) << json;
  EXPECT_EQ(json_str(json, "hint"), "network.allow = [\"denied.example.com:80\"]") << json;
  EXPECT_TRUE(contains(body, json_str(json, "reason"))) << "the body says why:\n" << body << "\n" << json;

  SessionLog log = the_log();
  auto denied = net_events(log, "deny", "denied.example.com:80");
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_EQ(json_str(denied[0], "path"), "http") << denied[0];
  EXPECT_EQ(json_str(denied[0], "hint"), "network.allow = [\"denied.example.com:80\"]") << denied[0];
  EXPECT_EQ(json_str(denied[0], "address"), "") << "a denied name is never resolved: " << denied[0];
  EXPECT_EQ(net_events(log, "allow", server.addr()).size(), 1u) << log.text();
  EXPECT_TRUE(contains(r.err, "paddock: denials: 2 ")) << r;
  EXPECT_TRUE(contains(r.err, "see: paddock log --denials " + log.session)) << r;

  Result shown = paddock_cmd({"log", "--denials", log.session});
  EXPECT_EQ(shown.code, 0) << shown;
  EXPECT_TRUE(contains(shown.out, "denied.example.com:80")) << shown;
  EXPECT_TRUE(contains(shown.out, "network.allow = [\"denied.example.com:80\"]")) << shown;
  EXPECT_TRUE(contains(shown.out, "other.example.com")) << shown;
}

// Allowing a name is not allowing the loopback address it resolves to: "localhost:PORT" alone
// is refused (the hint names the address entry to add); with "127.0.0.1:PORT" too it works.
TEST_F(Proxy, LoopbackBehindANameNeedsAnAddressEntry) {
  HostServer server;
  std::string name_only = proxy_profile({"localhost:" + server.port()}, {}, "", "name-only");
  Result r = run({"-p", name_only}, curl({"-i", "http://localhost:" + server.port() + "/hello"}));
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "HTTP/1.1 403 Forbidden\r\n")) << r;
  EXPECT_EQ(server.accepted(), 0) << server.describe();
  SessionLog log = the_log();
  auto denied = net_events(log, "deny", "localhost:" + server.port());
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_TRUE(contains(json_str(denied[0], "reason"), "loopback")) << denied[0];
  EXPECT_TRUE(contains(json_str(denied[0], "hint"), "127.0.0.1")) << denied[0];
  // The transparent path too: a pool address of the name, the same refusal.
  clear_logs();
  std::string a =
      probe({"-p", name_only}, {"dns-connect", "localhost", server.port(), "GET /hello HTTP/1.0\\r\\n\\r\\n"});
  EXPECT_TRUE(refused_without_data(a) || (a.rfind("OK addr=198.1", 0) == 0 && a.ends_with(" bytes=0 first="))) << a;
  EXPECT_EQ(server.accepted(), 0) << server.describe();
  EXPECT_EQ(net_events(the_log(), "deny", "localhost:" + server.port()).size(), 1u) << the_log().text();

  clear_logs();
  std::string both = proxy_profile({"localhost:" + server.port(), server.addr()}, {}, "", "both");
  r = run({"-p", both}, curl({"http://localhost:" + server.port() + "/hello"}));
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "hello from host\n") << r;
  log = the_log();
  auto allowed = net_events(log, "allow", "localhost:" + server.port());
  ASSERT_EQ(allowed.size(), 1u) << log.text();
  EXPECT_EQ(json_str(allowed[0], "address"), "127.0.0.1") << allowed[0];
}

// IP literal destinations need an address or CIDR entry: 127.0.0.1 inside 127.0.0.0/8 is
// allowed; 11.0.0.1 (outside every CIDR) and 192.168.1.1 are refused on every path, and
// paddock never dials them.
TEST_F(Proxy, IpLiteralOutsideAnyCidr) {
  HostServer server;
  std::string p = proxy_profile({"127.0.0.0/8:" + server.port(), "10.0.0.0/8:443"});
  std::string script = curl_sh("-p http://" + server.addr() + "/hello") + "; echo; " +
                       curl_sh("-o /dev/null -w '%{http_code}\\n' http://192.168.1.1:" + server.port() + "/") + "; " +
                       curl_sh("-p -o /dev/null -w '%{http_connect}\\n' https://11.0.0.1/") + "; " +
                       sh_probe("tcp-connect 11.0.0.1 443 'GET / HTTP/1.0\\r\\n\\r\\n'") + "; " +
                       sh_probe("socks-connect 11.0.0.1 443");
  Result r = run({"-p", p}, {"sh", "-c", script});
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 6u) << r;
  EXPECT_EQ(l[0], "hello from host") << r;
  EXPECT_EQ(l[2], "403") << r;
  EXPECT_EQ(l[3], "403") << r;
  EXPECT_TRUE(refused_without_data(l[4])) << r;
  EXPECT_EQ(l[5], "OK reply=2") << r;
  SessionLog log = the_log();
  auto allowed = net_events(log, "allow", server.addr());
  ASSERT_EQ(allowed.size(), 1u) << log.text();
  EXPECT_EQ(json_str(allowed[0], "rule"), rule_of(p, "127.0.0.0/8:" + server.port())) << allowed[0];
  auto d11 = net_events(log, "deny", "11.0.0.1:443");
  ASSERT_EQ(d11.size(), 3u) << log.text();
  std::set<std::string> paths;
  for (const auto& e : d11) {
    paths.insert(json_str(e, "path"));
    EXPECT_TRUE(contains(json_str(e, "hint"), "11.0.0.1")) << e;
  }
  EXPECT_EQ(paths, (std::set<std::string>{"connect", "transparent", "socks"})) << log.text();
  EXPECT_EQ(net_events(log, "deny", "192.168.1.1:" + server.port()).size(), 1u) << log.text();
}

// network.deny wins over network.allow: a denied name is NXDOMAIN though "*.example.com" is
// allowed, and "localhost" is refused though "localhost:PORT" is allowed -- citing the deny
// rule -- while the address entry still works.
TEST_F(Proxy, DenyWinsOverAllow) {
  HostServer server;
  std::string p =
      proxy_profile({"*.example.com", "localhost:" + server.port(), server.addr()}, {"bad.example.com", "localhost"});
  std::string script =
      sh_probe("dns-query good.example.com A") + "; " + sh_probe("dns-query bad.example.com A") + "; " +
      curl_sh("-o /dev/null -w '%{http_code}\\n' http://localhost:" + server.port() + "/hello") + "; " +
      curl_sh("http://" + server.addr() + "/hello") + "; " + curl_sh("http://localhost:" + server.port() + "/hello");
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_GE(l.size(), 5u) << r;
  // The 403's body cites the deny rule (file:line).
  std::string body = r.out.substr(r.out.find("hello from host\n") + 16);
  EXPECT_TRUE(contains(body, rule_of(p, "localhost"))) << body;
  ASSERT_EQ(l[0].rfind("OK rcode=NOERROR addrs=", 0), 0u) << r;
  EXPECT_TRUE(in_pool(l[0].substr(23, l[0].find(',') == std::string::npos ? std::string::npos : l[0].find(',') - 23)))
      << r;
  EXPECT_EQ(l[1], "OK rcode=NXDOMAIN addrs=") << r;
  EXPECT_EQ(l[2], "403") << r;
  EXPECT_EQ(l[3], "hello from host") << r;
  ASSERT_TRUE(server.settle());
  EXPECT_EQ(server.conns().size(), 1u) << server.describe();
  SessionLog log = the_log();
  auto denied = net_events(log, "deny", "localhost:" + server.port());
  ASSERT_EQ(denied.size(), 2u) << log.text();
  EXPECT_EQ(json_str(denied[0], "rule"), rule_of(p, "localhost")) << denied[0];
  EXPECT_EQ(net_events(log, "deny", "bad.example.com", "dns").size(), 1u) << log.text();
}

// 200 tunnels open at once (the probe opens all of them before closing any): every one is
// established, answered, and the server saw them all at the same time.
TEST_F(Proxy, TwoHundredConcurrentConnections) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  Result r = run({"-p", p}, P({"proxy-tunnels", "200", "127.0.0.1", server.port()}), Opts{.timeout = 30});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(trim(r.out), "OK tunnels=200 established=200") << r;
  EXPECT_EQ(server.accepted(), 200);
  EXPECT_EQ(server.max_concurrent(), 200);
  EXPECT_LT(r.seconds, 10) << r;
  ASSERT_TRUE(server.settle());
  SessionLog log = the_log();
  EXPECT_EQ(net_events(log, "allow", server.addr()).size(), 200u);
  EXPECT_EQ(net_events(log, "result", server.addr()).size(), 200u);
}

// 200 MB down a CONNECT tunnel and 50 MB up one: the sha256 of what one end sent is the sha256
// of what the other received, and the result events count the bytes.
TEST_F(Proxy, LargeTransferThroughConnect) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  const std::uint64_t down = 200ull << 20, up = 50ull << 20;
  std::string script = curl_sh("-p http://" + server.addr() + "/bytes/" + std::to_string(down)) +
                       " | sha256sum; head -c " + std::to_string(up) +
                       " /dev/urandom > /tmp/up && sha256sum /tmp/up && " +
                       curl_sh("-p -H 'Expect:' -T /tmp/up http://" + server.addr() + "/upload");
  Result r = run({"-p", p}, {"sh", "-c", script}, Opts{.timeout = 30});
  EXPECT_EQ(r.code, 0) << r;
  ASSERT_TRUE(server.settle());
  auto conns = server.conns();
  ASSERT_EQ(conns.size(), 2u) << server.describe();
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 3u) << r;
  EXPECT_EQ(l[0].substr(0, 64), conns[0].sent_sha256) << "the download differs";
  EXPECT_EQ("received " + std::to_string(up) + " sha256 " + l[1].substr(0, 64), l[2]) << "the upload differs";
  EXPECT_EQ(conns[1].received_sha256, l[1].substr(0, 64));
  EXPECT_LT(r.seconds, 10) << "250 MB through the proxy took " << r.seconds << " s";
  SessionLog log = the_log();
  auto results = net_events(log, "result", server.addr());
  ASSERT_EQ(results.size(), 2u) << log.text();
  EXPECT_EQ(json_num(results[0], "bytes_in"), static_cast<long long>(conns[0].bytes_out)) << results[0];
  EXPECT_EQ(json_num(results[1], "bytes_out"), static_cast<long long>(conns[1].bytes_in)) << results[1];
}

// Clients that connect and stall -- half an HTTP request, half a SOCKS handshake, half a DNS
// message over TCP -- do not stall another client's transfer.
TEST_F(Proxy, StalledClientsDoNotStallOthers) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  const std::uint64_t size = 20ull << 20;
  std::string script =
      "(" + sh_probe("tcp-hold 127.0.0.1 3128 'CONNECT 127.0.0.1:" + server.port() + " HTTP/1.1\\r\\nHo' 6") +
      " &); (" + sh_probe("tcp-hold 127.0.0.1 3128 'GET http://" + server.addr() + "/hel' 6") + " &); (" +
      sh_probe("tcp-hold 127.0.0.1 1080 '\\x05\\x01' 6") + " &); (" +
      sh_probe("tcp-hold 127.0.0.1 53 '\\x00\\x30\\x12' 6") + " &); sleep 0.5; " + "start=$(date +%s%N); " +
      curl_sh("-p http://" + server.addr() + "/bytes/" + std::to_string(size)) +
      " | sha256sum; echo ms=$(( ($(date +%s%N) - start) / 1000000 )); " +
      curl_sh("http://" + server.addr() + "/hello");
  Result r = run({"-p", p}, {"sh", "-c", script}, Opts{.timeout = 20});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  int held = 0;
  std::string sha, ms, hello;
  for (const auto& x : l) {
    if (x == "OK held") ++held;
    if (x.size() > 64 && x[64] == ' ') sha = x.substr(0, 64);
    if (x.rfind("ms=", 0) == 0) ms = x.substr(3);
    if (x == "hello from host") hello = x;
  }
  EXPECT_EQ(held, 4) << r;
  EXPECT_EQ(hello, "hello from host") << r;
  ASSERT_FALSE(ms.empty()) << r;
  EXPECT_LT(std::atol(ms.c_str()), 3000) << "the transfer took " << ms << " ms next to stalled clients\n" << r;
  bool matched = false;
  for (const auto& c : server.conns()) matched = matched || (!c.sent_sha256.empty() && c.sent_sha256 == sha);
  EXPECT_TRUE(matched) << "sha256 " << sha << "\n" << server.describe();
}

// max_bytes_out: an upload past the budget is cut off (the server never gets more than the
// budget), later connections are refused, and both are denials with "limit".
TEST_F(Proxy, BytesOutBudget) {
  HostServer server;
  std::string p = proxy_profile({server.addr()}, {}, "max_bytes_out = \"64K\"\n");
  std::string script =
      "head -c 10000 /dev/zero > /tmp/small; head -c 1000000 /dev/zero > /tmp/big; " +
      curl_sh("-p -H 'Expect:' -T /tmp/small http://" + server.addr() + "/upload") + "; echo small=$?; " +
      curl_sh("-p -H 'Expect:' -T /tmp/big http://" + server.addr() + "/upload") + " >/dev/null 2>&1; echo big=$?; " +
      curl_sh("-o /dev/null -w '%{http_code}\\n' http://" + server.addr() + "/hello") + "; " +
      sh_probe("tcp-connect 127.0.0.1 " + server.port() + " 'GET /hello HTTP/1.0\\r\\n\\r\\n'");
  Result r = run({"-p", p}, {"sh", "-c", script}, Opts{.timeout = 20});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 5u) << r;
  EXPECT_EQ(l[0].rfind("received 10000 sha256 ", 0), 0u) << r;
  EXPECT_EQ(l[1], "small=0") << r;
  EXPECT_NE(l[2], "big=0") << r;
  EXPECT_EQ(l[3], "403") << r;
  EXPECT_TRUE(refused_without_data(l[4])) << r;
  ASSERT_TRUE(server.settle());
  std::uint64_t total_in = 0;
  for (const auto& c : server.conns()) total_in += c.bytes_in;
  EXPECT_LE(total_in, 64u * 1024u) << "more than max_bytes_out left the sandbox:\n" << server.describe();
  EXPECT_EQ(server.conns().size(), 2u) << server.describe();
  SessionLog log = the_log();
  auto denied = net_events(log, "deny");
  ASSERT_GE(denied.size(), 3u) << log.text();
  for (const auto& e : denied) EXPECT_EQ(json_str(e, "limit"), "max_bytes_out") << e;
  EXPECT_EQ(net_events(log, "allow").size(), 2u) << log.text();
}

// max_connections (cumulative): the fourth connection is refused on every path.
TEST_F(Proxy, ConnectionBudget) {
  HostServer server;
  std::string p = proxy_profile({server.addr()}, {}, "max_connections = 3\n");
  std::string get = "'GET /hello HTTP/1.0\\r\\n\\r\\n'";
  std::string script = curl_sh("http://" + server.addr() + "/hello") + "; " +
                       curl_sh("-p http://" + server.addr() + "/hello") + "; " +
                       sh_probe("tcp-connect 127.0.0.1 " + server.port() + " " + get) + "; " +
                       curl_sh("-o /dev/null -w '%{http_code}\\n' http://" + server.addr() + "/hello") + "; " +
                       sh_probe("tcp-connect 127.0.0.1 " + server.port() + " " + get) + "; " +
                       sh_probe("socks-connect 127.0.0.1 " + server.port());
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 6u) << r;
  EXPECT_EQ(l[0], "hello from host") << r;
  EXPECT_EQ(l[1], "hello from host") << r;
  EXPECT_TRUE(contains(l[2], "first=HTTP/1.0 200 OK")) << r;
  EXPECT_EQ(l[3], "403") << r;
  EXPECT_TRUE(refused_without_data(l[4])) << r;
  EXPECT_EQ(l[5], "OK reply=2") << r;
  EXPECT_EQ(server.accepted(), 3) << server.describe();
  SessionLog log = the_log();
  auto denied = net_events(log, "deny", server.addr());
  ASSERT_EQ(denied.size(), 3u) << log.text();
  for (const auto& e : denied) EXPECT_EQ(json_str(e, "limit"), "max_connections") << e;
}

// network.per_host: the budget of one destination host does not spend another's. The host is
// the destination as named ("127.0.0.1" and "localhost" are two hosts, though one address).
TEST_F(Proxy, PerHostBudget) {
  HostServer server;
  std::string p =
      proxy_profile({"localhost:" + server.port(), server.addr()}, {}, "\n[network.per_host]\nmax_connections = 2\n");
  std::string code = "-o /dev/null -w '%{http_code}\\n' ";
  std::string script = curl_sh(code + "http://" + server.addr() + "/hello") + "; " +
                       curl_sh(code + "http://" + server.addr() + "/hello") + "; " +
                       curl_sh(code + "http://" + server.addr() + "/hello") + "; " +
                       curl_sh(code + "http://localhost:" + server.port() + "/hello");
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "200\n200\n403\n200\n") << r;
  SessionLog log = the_log();
  auto denied = net_events(log, "deny", server.addr());
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_EQ(json_str(denied[0], "limit"), "max_connections") << denied[0];

  // max_bytes_out per host: an upload past it is cut off; the other host still has its own.
  clear_logs();
  p = proxy_profile({"localhost:" + server.port(), server.addr()}, {}, "\n[network.per_host]\nmax_bytes_out = \"8K\"\n",
                    "bytes");
  script = "head -c 100000 /dev/zero > /tmp/big; " +
           curl_sh("-p -H 'Expect:' -T /tmp/big http://" + server.addr() + "/upload") +
           " >/dev/null 2>&1; echo big=$?; " + curl_sh(code + "http://localhost:" + server.port() + "/hello");
  r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 2u) << r;
  EXPECT_NE(l[0], "big=0") << r;
  EXPECT_EQ(l[1], "200") << r;
  log = the_log();
  denied = net_events(log, "deny", server.addr());
  ASSERT_EQ(denied.size(), 1u) << log.text();
  EXPECT_EQ(json_str(denied[0], "limit"), "max_bytes_out") << denied[0];
}

// Net denials count toward limits.max_denials: the second ends the session (137).
TEST_F(Proxy, NetDenialsCountTowardMaxDenials) {
  HostServer server;
  std::string p = proxy_profile({server.addr()}, {}, "\n[limits]\nmax_denials = 2\n");
  std::string deny = curl_sh("-o /dev/null -w '%{http_code}\\n' http://denied.example.com/");
  Result r = run({"-p", p}, {"sh", "-c",
                             curl_sh("http://" + server.addr() + "/hello") + "; " + deny + "; " + deny + "; sleep 1; " +
                                 deny + "; echo survived"});
  EXPECT_EQ(r.code, 137) << r;
  EXPECT_TRUE(contains(r.out, "hello from host")) << r;
  EXPECT_FALSE(contains(r.out, "survived")) << r;
  EXPECT_TRUE(contains(r.err, "max_denials")) << r;
  SessionLog log = the_log();
  EXPECT_EQ(net_events(log, "deny", "denied.example.com:80").size(), 2u) << log.text();
  EXPECT_EQ(events(log, "limit", "kill", "max_denials").size(), 1u) << log.text();
}

// The result event of a connection: bytes each way as the far end counted them, and how long.
TEST_F(Proxy, ResultEventsCountBytes) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  const std::string request = "GET /bytes/5000 HTTP/1.0\\r\\nX-Pad: 0123456789\\r\\n\\r\\n";
  std::string script = sh_probe("tcp-connect 127.0.0.1 " + server.port() + " '" + request + "'") + "; " +
                       sh_probe("socks-connect 127.0.0.1 " + server.port() + " '" + request + "'");
  Result r = run({"-p", p}, {"sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 2u) << r;
  EXPECT_TRUE(contains(l[0], "first=HTTP/1.0 200 OK")) << r;
  EXPECT_TRUE(contains(l[1], "first=HTTP/1.0 200 OK")) << r;
  ASSERT_TRUE(server.settle());
  auto conns = server.conns();
  ASSERT_EQ(conns.size(), 2u) << server.describe();
  SessionLog log = the_log();
  auto results = net_events(log, "result", server.addr());
  ASSERT_EQ(results.size(), 2u) << log.text();
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(json_str(results[i], "path"), i == 0 ? "transparent" : "socks") << results[i];
    EXPECT_EQ(json_num(results[i], "bytes_out"), static_cast<long long>(conns[i].bytes_in)) << results[i];
    EXPECT_EQ(json_num(results[i], "bytes_in"), static_cast<long long>(conns[i].bytes_out)) << results[i];
    EXPECT_GE(json_num(results[i], "duration_ms"), 0) << results[i];
    EXPECT_GT(conns[i].bytes_out, 5000u);
  }
}

// ------------------------------------------------------------------------------------------
// Robustness of the proxy: half-closes, resets, floods, idle and stalled connections, and
// running out of descriptors. Each test asserts what the far end or the client really saw.

// Half-close: the client sends its request, shuts its write side (shutdown(SHUT_WR)) and only
// then reads. The server (GET /eof/N answers only after the client's EOF) sees the EOF right
// after the request, still answers, and the client gets the whole answer, then EOF -- through
// a CONNECT tunnel, SOCKS5, the transparent path and an absolute-form request to the HTTP proxy.
TEST_F(Proxy, HalfCloseTravelsThroughEveryPath) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  const std::uint64_t size = 3u << 20;  // more than a pipe and a socket buffer hold
  const std::string n = std::to_string(size);
  const std::string origin = " 'GET /eof/" + n + " HTTP/1.0\\r\\nHost: " + server.addr() + "\\r\\n\\r\\n'";
  const std::string absolute =
      " 'GET http://" + server.addr() + "/eof/" + n + " HTTP/1.0\\r\\nHost: " + server.addr() + "\\r\\n\\r\\n'";
  std::string script = sh_probe("half-close connect 127.0.0.1 " + server.port() + origin) + "; " +
                       sh_probe("half-close socks 127.0.0.1 " + server.port() + origin) + "; " +
                       sh_probe("half-close direct 127.0.0.1 " + server.port() + origin) + "; " +
                       sh_probe("half-close direct 127.0.0.1 3128" + absolute);
  Result r = run({"-p", p}, {"sh", "-c", script}, Opts{.timeout = 30});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 4u) << r << "\nserver:\n" << server.describe();
  const std::string want = "OK body=" + n + " fnv=" + HostServer::stream_fnv(size) + " first=HTTP/1.0 200 OK";
  const char* paths[] = {"connect", "socks", "transparent", "http"};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(l[i], want) << "through " << paths[i] << "\n" << r;
  ASSERT_TRUE(server.settle());
  auto conns = server.conns();
  ASSERT_EQ(conns.size(), 4u) << server.describe();
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(conns[i].eof_before_reply) << "through " << paths[i] << " the server never saw the client's EOF\n"
                                           << server.describe();
    EXPECT_TRUE(contains(conns[i].request, "/eof/" + n)) << server.describe();
    EXPECT_GT(conns[i].bytes_out, size) << server.describe();
  }
  SessionLog log = the_log();
  auto results = net_events(log, "result", server.addr());
  ASSERT_EQ(results.size(), 4u) << log.text();
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(json_str(results[i], "path"), paths[i]) << results[i];
    EXPECT_EQ(json_num(results[i], "bytes_in"), static_cast<long long>(conns[i].bytes_out)) << results[i];
  }
}

// A client that resets its connection mid-transfer (SO_LINGER 0, close: a RST), through a
// CONNECT tunnel and through the transparent path, while another client's rate-limited
// download runs: the other download completes with the sha256 the server sent, and the
// upstream side of each reset connection is closed (the server's endless send fails) within
// a couple of seconds, while the session still runs.
TEST_F(Proxy, ResetMidTransferClosesItsUpstreamOnly) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  const std::uint64_t size = 20ull << 20;
  const std::string big = "'GET /bytes/1073741824 HTTP/1.0\\r\\n\\r\\n'";
  std::string script = "(" + curl_sh("-p --limit-rate 10M http://" + server.addr() + "/bytes/" + std::to_string(size)) +
                       " | sha256sum > /tmp/sha) & sleep 0.3; " +
                       sh_probe("tcp-reset connect 127.0.0.1 " + server.port() + " " + big + " 1048576") + "; " +
                       sh_probe("tcp-reset direct 127.0.0.1 " + server.port() + " " + big + " 1048576") +
                       "; echo resets-done; wait; cat /tmp/sha; sleep 3";
  Spawned s = spawn(argv({"-p", p}, {"sh", "-c", script}), env(), work_, false);
  const bool resets = read_until(s, "resets-done\n", 15);
  auto resets_seen = Clock::now();
  auto is_big = [](const HostServer::Conn& c) { return contains(c.request, "/bytes/1073741824"); };
  auto is_download = [&](const HostServer::Conn& c) { return contains(c.request, "/bytes/" + std::to_string(size)); };
  bool download_running = false;
  for (const auto& c : server.conns()) download_running = download_running || (is_download(c) && !c.done);
  // Both reset connections' upstream sides are closed while the session goes on.
  bool upstreams_closed = wait_for(
      [&] {
        auto conns = server.conns();
        return std::count_if(conns.begin(), conns.end(),
                             [&](const HostServer::Conn& c) { return is_big(c) && c.done; }) == 2;
      },
      2.5);
  double closed_after = std::chrono::duration<double>(Clock::now() - resets_seen).count();
  Result r = finish(s, "", 20);
  ASSERT_TRUE(resets) << r;
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(upstreams_closed) << "2.5 s after the clients' resets the server still sends into them:\n"
                                << server.describe();
  EXPECT_LT(closed_after, 2.5);
  EXPECT_TRUE(download_running) << "the download was over before the resets: they did not overlap\n"
                                << server.describe();
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 4u) << r;
  EXPECT_EQ(l[0].rfind("OK read=", 0), 0u) << r;
  EXPECT_EQ(l[1].rfind("OK read=", 0), 0u) << r;
  std::string sha = l[3].substr(0, 64);
  bool matched = false;
  for (const auto& c : server.conns()) matched = matched || (is_download(c) && c.sent_sha256 == sha);
  EXPECT_TRUE(matched) << "sha256 " << sha << "\n" << server.describe();
  for (const auto& c : server.conns()) {
    if (is_big(c)) {
      EXPECT_LT(c.bytes_out, 1ull << 30) << server.describe();
    }
  }
  SessionLog log = the_log();
  EXPECT_EQ(net_events(log, "result", server.addr()).size(), 3u) << log.text();
}

// 5000 DNS queries over UDP, for an allowed and a denied name, as fast as one socket sends
// them, while a download runs through a CONNECT tunnel: the download completes (its sha256 is
// the server's), the resolver still answers a fresh query afterwards, and the log has dns
// events of both kinds. (The default profile sets no limits.max_denials; this one sets a
// large one explicitly, so that 2500 DNS denials cannot end the session.)
TEST_F(Proxy, DnsFloodDoesNotStarveTheRelay) {
  HostServer server;
  std::string p =
      proxy_profile({"localhost:" + server.port(), server.addr()}, {}, "\n[limits]\nmax_denials = 1000000\n");
  const std::uint64_t size = 20ull << 20;
  std::string script = "(start=$(date +%s%N); " +
                       curl_sh("-p --limit-rate 20M http://" + server.addr() + "/bytes/" + std::to_string(size)) +
                       " | sha256sum > /tmp/sha; echo ms=$(( ($(date +%s%N) - start) / 1000000 )) >> /tmp/sha) & " +
                       sh_probe("dns-flood 5000 localhost denied.example.com") + "; wait; cat /tmp/sha; " +
                       sh_probe("dns-query localhost A") + "; " + sh_probe("dns-query denied.example.com A");
  Result r = run({"-p", p}, {"sh", "-c", script}, Opts{.timeout = 40});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 5u) << r;
  EXPECT_EQ(l[0].rfind("OK sent=5000 answers=", 0), 0u) << r;
  EXPECT_GT(std::atol(l[0].c_str() + l[0].find("answers=") + 8), 0) << r;
  std::string sha = l[1].substr(0, 64);
  bool matched = false;
  for (const auto& c : server.conns()) matched = matched || (!c.sent_sha256.empty() && c.sent_sha256 == sha);
  EXPECT_TRUE(matched) << "sha256 " << sha << "\n" << server.describe();
  ASSERT_EQ(l[2].rfind("ms=", 0), 0u) << r;
  EXPECT_LT(std::atol(l[2].c_str() + 3), 10000) << "the download took " << l[2] << " next to the flood";
  ASSERT_EQ(l[3].rfind("OK rcode=NOERROR addrs=", 0), 0u) << r;
  EXPECT_TRUE(in_pool(split(l[3].substr(23), ',')[0])) << r;
  EXPECT_EQ(l[4], "OK rcode=NXDOMAIN addrs=") << r;
  SessionLog log = the_log();
  auto allowed = net_events(log, "allow", "localhost", "dns");
  auto denied = net_events(log, "deny", "denied.example.com", "dns");
  EXPECT_GE(allowed.size(), 2u);
  EXPECT_GE(denied.size(), 2u);
  EXPECT_LE(allowed.size() + denied.size(), 5002u);
  EXPECT_TRUE(events(log, "limit", "kill").empty()) << log.text().substr(0, 4000);
}

// 2000 connections to the HTTP proxy's port that never send a byte: another client's requests
// (absolute-form and CONNECT) are still answered promptly.
TEST_F(Proxy, ThousandsOfIdleConnectionsDoNotBlockOthers) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  std::string script = "(" + sh_probe("tcp-idle 2000 127.0.0.1 3128 30") +
                       " > /tmp/idle &); for i in $(seq 400); do grep -q OK /tmp/idle && break; sleep 0.05; done; "
                       "cat /tmp/idle; start=$(date +%s%N); " +
                       curl_sh("http://" + server.addr() + "/hello") + "; " +
                       curl_sh("-p http://" + server.addr() + "/hello") +
                       "; echo ms=$(( ($(date +%s%N) - start) / 1000000 ))";
  Result r = run({"-p", p}, {"sh", "-c", script}, Opts{.timeout = 40});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 4u) << r;
  EXPECT_EQ(l[0], "OK idle=2000 failed=0") << r;
  EXPECT_EQ(l[1], "hello from host") << r;
  EXPECT_EQ(l[2], "hello from host") << r;
  ASSERT_EQ(l[3].rfind("ms=", 0), 0u) << r;
  EXPECT_LT(std::atol(l[3].c_str() + 3), 2000) << "two requests next to 2000 idle connections took " << l[3];
  ASSERT_TRUE(server.settle());
  EXPECT_EQ(server.accepted(), 2) << server.describe();
}

// paddock started with RLIMIT_NOFILE 128:128 (prlimit; the hard limit too, so that the proxy
// cannot raise it), and 100 CONNECT tunnels opened at once inside (each one costs the
// supervisor up to six descriptors): paddock neither crashes nor hangs; the tunnels it has no
// descriptors for are refused (reset, closed, or answered 502/503), none is left hanging; the
// log has a net warn event with subject "descriptors"; and once the tunnels are closed, new
// requests through the proxy succeed again. (paddock itself starts with as few as 20
// descriptors; the sandbox inherits the hard limit, so the profile's limits.nofile must fit
// under it, and the probe needs 100 for its tunnels.)
TEST_F(Proxy, RunningOutOfDescriptorsRefusesAndRecovers) {
  std::string prlimit;
  for (const char* c : {"/usr/bin/prlimit", "/bin/prlimit"}) {
    if (::access(c, X_OK) == 0) prlimit = c;
  }
  if (prlimit.empty()) GTEST_SKIP() << "prlimit (util-linux) not found";
  HostServer server;
  std::string p = proxy_profile({server.addr()}, {}, "\n[limits]\nnofile = 128\n");
  std::string script = sh_probe("tunnel-storm 100 127.0.0.1 " + server.port()) + "; sleep 1; " +
                       curl_sh("http://" + server.addr() + "/hello") + "; " +
                       curl_sh("-p http://" + server.addr() + "/hello");
  Args a = {prlimit, "--nofile=128:128"};
  Args rest = argv({"-p", p}, {"sh", "-c", script});
  a.insert(a.end(), rest.begin(), rest.end());
  Spawned s = spawn(a, env(), work_, false);
  Result r = finish(s, "", 40);
  EXPECT_FALSE(r.timed_out) << r;
  EXPECT_EQ(r.sig, 0) << r;
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 3u) << r;
  ASSERT_EQ(l[0].rfind("OK answered=", 0), 0u) << r;
  long answered = std::atol(l[0].c_str() + 12);
  long refused = std::atol(l[0].c_str() + l[0].find("refused=") + 8);
  long hung = std::atol(l[0].c_str() + l[0].find("hung=") + 5);
  EXPECT_EQ(hung, 0) << "connections left hanging: " << l[0];
  EXPECT_GT(refused, 0) << "128 descriptors cannot hold 100 tunnels: " << l[0];
  EXPECT_EQ(answered + refused, 100) << l[0];
  EXPECT_EQ(l[1], "hello from host") << "no recovery after the tunnels closed\n" << r;
  EXPECT_EQ(l[2], "hello from host") << "no recovery after the tunnels closed\n" << r;
  SessionLog log = the_log();
  auto warned = net_events(log, "warn", "descriptors");
  ASSERT_FALSE(warned.empty()) << log.text().substr(0, 6000);
  EXPECT_TRUE(contains(json_str(warned[0], "reason"), "descriptors")) << warned[0];
  EXPECT_GE(json_num(warned[0], "open_connections"), 1) << warned[0];
}

// A stalled upstream: the server takes the connection and the request head, then never reads
// or answers. A client pushing data into it (through a CONNECT tunnel, and on the transparent
// path) soon cannot push more -- paddock does not buffer without bound, backpressure reaches
// the client -- while another client's requests through the proxy complete promptly.
TEST_F(Proxy, StalledUpstreamPushesBackAndStallsNoOne) {
  HostServer server;
  std::string p = proxy_profile({server.addr()});
  const std::uint64_t size = 5ull << 20;
  const std::string stall = " 'GET /stall HTTP/1.0\\r\\n\\r\\n' 4";
  std::string script = "(" + sh_probe("tcp-push connect 127.0.0.1 " + server.port() + stall) + " > /tmp/push1 &); (" +
                       sh_probe("tcp-push direct 127.0.0.1 " + server.port() + stall) +
                       " > /tmp/push2 &); sleep 1.5; start=$(date +%s%N); " +
                       curl_sh("http://" + server.addr() + "/hello") + "; " +
                       curl_sh("-p http://" + server.addr() + "/bytes/" + std::to_string(size)) +
                       " | sha256sum; echo ms=$(( ($(date +%s%N) - start) / 1000000 )); sleep 3.5; "
                       "cat /tmp/push1 /tmp/push2";
  Result r = run({"-p", p}, {"sh", "-c", script}, Opts{.timeout = 30});
  EXPECT_EQ(r.code, 0) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 5u) << r;
  EXPECT_EQ(l[0], "hello from host") << r;
  std::string sha = l[1].substr(0, 64);
  ASSERT_EQ(l[2].rfind("ms=", 0), 0u) << r;
  EXPECT_LT(std::atol(l[2].c_str() + 3), 2000) << "requests next to stalled upstreams took " << l[2];
  bool matched = false;
  for (const auto& c : server.conns()) matched = matched || (!c.sent_sha256.empty() && c.sent_sha256 == sha);
  EXPECT_TRUE(matched) << "sha256 " << sha << "\n" << server.describe();
  for (size_t i : {3u, 4u}) {
    ASSERT_EQ(l[i].rfind("OK pushed=", 0), 0u) << r;
    long long pushed = std::atoll(l[i].c_str() + 10);
    long stalled = std::atol(l[i].c_str() + l[i].find("stalled_ms=") + 11);
    EXPECT_LT(pushed, 64ll << 20) << "paddock took " << pushed << " bytes for a peer that reads none: " << l[i];
    EXPECT_GE(stalled, 1000) << "the client could still push in the last second: " << l[i];
  }
  int stalled_conns = 0;
  for (const auto& c : server.conns()) stalled_conns += contains(c.request, "/stall") ? 1 : 0;
  EXPECT_EQ(stalled_conns, 2) << server.describe();
}

// ==========================================================================================
// Tools: `paddock tool list|call` and `paddock mcp`
//
// The launcher execs paddock-tools (found through PADDOCK_LIBEXEC: a folder of this process
// holding copies of paddock-tools and paddock-tool-worker), which runs each tool's script in a
// paddock-tool-worker (V8) inside a sandbox of its own. The test tools are ES modules under
// tests/integration/tools/, copied into each test's folder (dir_/tools/, mode 0644: scripts
// writable by others are refused) next to the test's profiles (dir_/NAME.toml, named
// explicitly with -p). Every refusal is paired with the grant that allows the same call.
//
//   hostcall.js  calls the host functions its input lists, reports each {ok, value|error}
//   echo.js      answers {"echo": input}; {"fail": "reason"} throws
//   checked.js   a strict schema; its first statement logs "checked-tool-ran" (to stderr)
//   runaway.js   misbehaves as asked (loop, promises, heap, array, buffer, recursion, eval, ...)

using json = nlohmann::json;

// The folder PADDOCK_LIBEXEC names: private copies of paddock-tools and paddock-tool-worker
// (readable by uid 65534 too), made on first use. Without PADDOCK_TOOLS_BIN/PADDOCK_WORKER_BIN
// they are taken from beside the paddock under test.
const std::string& tools_libexec() {
  if (!g.libexec.empty()) return g.libexec;
  const std::string next_to = g.paddock.substr(0, g.paddock.rfind('/'));
  const std::string tools = g.tools_bin.empty() ? next_to + "/paddock-tools" : g.tools_bin;
  const std::string worker = g.worker_bin.empty() ? next_to + "/paddock-tool-worker" : g.worker_bin;
  if (::access(tools.c_str(), R_OK) != 0 || ::access(worker.c_str(), R_OK) != 0) {
    ADD_FAILURE() << "paddock-tools or paddock-tool-worker not found (" << tools << ", " << worker
                  << "): set PADDOCK_TOOLS_BIN and PADDOCK_WORKER_BIN";
    return g.libexec;
  }
  const std::string dir = g.base + "/libexec";
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  copy_exe(tools, dir, "paddock-tools");
  copy_exe(worker, dir, "paddock-tool-worker");
  g.libexec = dir;
  return g.libexec;
}

// A SQLite file made with the C API: `sql` (several statements) run on a new database.
void make_db(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK) << path;
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  ::chmod(path.c_str(), 0644);
}

// One integer a query answers (the first column of the first row), or -1.
long long db_scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  long long v = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

// Answers every HTTP request with one fixed reply (a redirect, say), one connection at a time,
// on 127.0.0.1 and an ephemeral port.
class CannedServer {
 public:
  explicit CannedServer(std::string reply) : reply_(std::move(reply)) {
    bool ok = false;
    fd_ = loopback_socket(SOCK_STREAM, 16, port_, &ok);
    if (!ok) throw std::runtime_error("CannedServer: bind/listen");
    thread_ = std::thread([this] { loop(); });
  }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;
  ~CannedServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::string port() const { return std::to_string(port_); }
  [[nodiscard]] std::string addr() const { return "127.0.0.1:" + port(); }
  [[nodiscard]] int accepted() const { return accepted_.load(); }
  void set_reply(std::string reply) {
    std::lock_guard<std::mutex> lock(reply_mu_);
    reply_ = std::move(reply);
  }

 private:
  void loop() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stopping_) return;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      ++accepted_;
      struct timeval tv {
        5, 0
      };
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string head;
      char buf[4096];
      while (!contains(head, "\r\n\r\n") && head.size() < 65536) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      std::string reply;
      {
        std::lock_guard<std::mutex> lock(reply_mu_);
        reply = reply_;
      }
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::shutdown(c, SHUT_WR);
      ::close(c);
    }
  }

  std::mutex reply_mu_;
  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// `paddock mcp` spoken to line by line: requests are written to its stdin, responses read from
// its stdout (every byte kept, to check at the end that nothing but JSON-RPC came out).
class McpClient {
 public:
  McpClient(const Args& argv, const Args& env, const std::string& cwd) : s_(spawn(argv, env, cwd, true)) {}
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;
  ~McpClient() {
    if (!closed_) {
      ::kill(s_.pid, SIGKILL);
      (void)finish(s_, "", 5);
    }
  }

  void send_line(const std::string& line) {
    std::string data = line + "\n";
    size_t off = 0;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (off < data.size() && s_.in >= 0 && Clock::now() < deadline) {
      ssize_t n = ::write(s_.in, data.data() + off, data.size() - off);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        pump(10);
      } else {
        return;
      }
    }
  }
  void send(const json& message) { send_line(message.dump()); }
  // Sends a request; its id is returned.
  json send_request(const json& id, const std::string& method, const json& params) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
    return id;
  }
  void notify(const std::string& method, const json& params = json::object()) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
  }
  // The response to `id` (null when none came within `timeout` seconds).
  json await(const json& id, double timeout = 15) {
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    for (;;) {
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->contains("id") && (*it)["id"] == id && !it->contains("method")) {
          json r = *it;
          pending_.erase(it);
          return r;
        }
      }
      if (Clock::now() > deadline || s_.out < 0) return nullptr;
      pump(20);
    }
  }
  json request(const json& id, const std::string& method, const json& params, double timeout = 15) {
    send_request(id, method, params);
    return await(id, timeout);
  }
  json call(const json& id, const std::string& tool, const json& arguments, double timeout = 15) {
    return request(id, "tools/call", {{"name", tool}, {"arguments", arguments}}, timeout);
  }
  // The legacy opening: initialize (2025-11-25) and notifications/initialized.
  json initialize() {
    json r = request(0, "initialize",
                     {{"protocolVersion", "2025-11-25"},
                      {"capabilities", json::object()},
                      {"clientInfo", {{"name", "paddock-it"}, {"version", "1"}}}});
    notify("notifications/initialized");
    return r;
  }
  // Messages that arrived but were not asked for (nothing else should ever come).
  std::vector<json> unclaimed() {
    pump(50);
    return pending_;
  }
  // Closes stdin (end of file) and waits for paddock; the result holds all of stdout and stderr.
  Result close(double timeout = 15) {
    closed_ = true;
    return finish(s_, "", timeout);
  }
  [[nodiscard]] const std::string& err() const { return s_.err_buf; }

 private:
  void pump(int ms) {
    std::vector<struct pollfd> fds;
    if (s_.out >= 0) fds.push_back({s_.out, POLLIN, 0});
    if (s_.err >= 0) fds.push_back({s_.err, POLLIN, 0});
    if (fds.empty()) {
      ::usleep(ms * 1000);
      return;
    }
    if (::poll(fds.data(), fds.size(), ms) <= 0) return;
    for (auto& p : fds) {
      if (p.revents == 0) continue;
      char buf[65536];
      ssize_t n = ::read(p.fd, buf, sizeof buf);
      std::string& dst = p.fd == s_.out ? s_.out_buf : s_.err_buf;
      if (n > 0) {
        dst.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(p.fd);
        (p.fd == s_.out ? s_.out : s_.err) = -1;
      }
    }
    for (size_t nl; (nl = s_.out_buf.find('\n', consumed_)) != std::string::npos; consumed_ = nl + 1) {
      json m = json::parse(s_.out_buf.substr(consumed_, nl - consumed_), nullptr, false);
      if (!m.is_discarded()) pending_.push_back(std::move(m));
    }
  }

  Spawned s_;
  size_t consumed_ = 0;
  std::vector<json> pending_;
  bool closed_ = false;
};

class ToolTest : public LimitsAndAudit {
 protected:
  void SetUp() override {
    LimitsAndAudit::SetUp();
    libexec_ = tools_libexec();
    fs::create_directories(dir_ + "/tools");
  }

  // A profile of this test (dir_/NAME.toml, mode 0644) and the test tools it uses, copied to
  // dir_/tools/ (its scripts say "tools/NAME.js": relative to the profile's folder). Each
  // @KEY@ in `body` is replaced by vars[KEY].
  std::string tool_profile(const std::string& name, std::string body, const Args& scripts,
                           const std::map<std::string, std::string>& vars = {}) {
    for (const auto& [key, value] : vars) {
      for (size_t at; (at = body.find("@" + key + "@")) != std::string::npos;) body.replace(at, key.size() + 2, value);
    }
    for (const auto& sc : scripts) {
      std::string to = dir_ + "/tools/" + sc;
      fs::copy_file(g.it_tools + "/" + sc, to, fs::copy_options::overwrite_existing);
      ::chmod(to.c_str(), 0644);
    }
    std::string path = dir_ + "/" + name + ".toml";
    write_file(path, "version = 1\nextends = [\"default\"]\n\n" + body, 0644);
    return path;
  }

  [[nodiscard]] Args tool_env(const Args& extra = {}) const {
    Args e = {"PADDOCK_LIBEXEC=" + libexec_};
    e.insert(e.end(), extra.begin(), extra.end());
    return env(e);
  }

  // `paddock ARGS...` with the tools' environment; `input` on stdin when not empty.
  Result paddock_tool(const Args& args, const std::string& input = "", double timeout = 20,
                      const Args& extra_env = {}) {
    Args a = {g.paddock};
    a.insert(a.end(), args.begin(), args.end());
    Spawned s = spawn(a, tool_env(extra_env), work_, !input.empty());
    return finish(s, input, timeout);
  }

  // A fresh audit log for the next session (each session needs its own file).
  std::string next_audit() { return last_audit_ = dir_ + "/audit-" + std::to_string(++audits_) + ".jsonl"; }

  // `paddock tool call -p PROFILE NAME INPUT --audit LOG FLAGS...` (LOG: last_audit_).
  Result call(const std::string& profile, const std::string& name, const json& input, const Args& flags = {},
              const Args& extra_env = {}) {
    Args a = {"tool", "call", "-p", profile, name, input.dump(), "--audit", next_audit()};
    a.insert(a.end(), flags.begin(), flags.end());
    return paddock_tool(a, "", 20, extra_env);
  }

  // hostcall.js: runs the steps, returns its "results" array (null when the call failed).
  json steps(const std::string& profile, const std::string& name, const json& list, const Args& extra_env = {}) {
    Result r = call(profile, name, {{"steps", list}}, {}, extra_env);
    EXPECT_EQ(r.code, 0) << r;
    json out = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(out.is_object() && out.contains("results")) << r;
    if (!out.is_object() || !out.contains("results")) return nullptr;
    return out["results"];
  }

  // `paddock mcp -p PROFILE --audit LOG FLAGS...`
  std::unique_ptr<McpClient> mcp(const std::string& profile, const Args& flags = {}, const Args& extra_env = {}) {
    Args a = {g.paddock, "mcp", "-p", profile, "--audit", next_audit()};
    a.insert(a.end(), flags.begin(), flags.end());
    return std::make_unique<McpClient>(a, tool_env(extra_env), work_);
  }

  // The events of an audit log, parsed (a line that is not JSON is a failure).
  static std::vector<json> audit_events(const std::string& path) {
    std::vector<json> out;
    for (const auto& l : lines_of(read_file(path))) {
      json e = json::parse(l, nullptr, false);
      EXPECT_FALSE(e.is_discarded()) << path << ": not JSON: " << l;
      if (!e.is_discarded()) out.push_back(std::move(e));
    }
    return out;
  }
  static std::vector<json> pick(const std::vector<json>& ev, const std::string& layer, const std::string& action) {
    std::vector<json> out;
    for (const auto& e : ev) {
      if (e.value("layer", "") == layer && e.value("action", "") == action) out.push_back(e);
    }
    return out;
  }
  static std::string dump(const std::vector<json>& ev) {
    std::string s;
    for (const auto& e : ev) s += e.dump().substr(0, 700) + "\n";
    return s;
  }

  // A refused host call as hostcall.js reports it.
  static bool not_authorized(const json& step) {
    return step.is_object() && !step.value("ok", true) && contains(step.value("error", ""), "not authorized");
  }

  // The text of an MCP tools/call result (its first content block), "" when there is none.
  static std::string result_text(const json& response) {
    if (!response.contains("result") || !response["result"].contains("content")) return "";
    const json& c = response["result"]["content"];
    return c.is_array() && !c.empty() ? c[0].value("text", "") : "";
  }
  static bool is_tool_error(const json& response) {
    return response.contains("result") && response["result"].value("isError", false);
  }

  std::string libexec_, last_audit_;
  int audits_ = 0;
};

using Tools = ToolTest;
using Mcp = ToolTest;

// ------------------------------------------------------------------------------------------
// fs.read / fs.write / fs.list

TEST_F(Tools, FsGrantedPathsWorkOthersAreNotAuthorized) {
  const std::string ro = dir_ + "/ro", rw = dir_ + "/rw", outside = dir_ + "/outside";
  for (const auto& d : {ro, rw, outside, ro + "/sub"}) fs::create_directories(d);
  write_file(ro + "/a.txt", "alpha\n");
  write_file(ro + "/sub/b.txt", "beta");
  write_file(outside + "/secret.txt", "outside data");
  std::string p = tool_profile("fs", R"([[tool]]
name = "files"
script = "tools/hostcall.js"
grants = { read = ["@RO@"], write = ["@RW@"] }

[[tool]]
name = "nofs"
script = "tools/hostcall.js"
)",
                               {"hostcall.js"}, {{"RO", ro}, {"RW", rw}});
  json r = steps(p, "files",
                 {{{"fn", "fs.read"}, {"path", ro + "/a.txt"}},
                  {{"fn", "fs.list"}, {"path", ro}},
                  {{"fn", "fs.write"}, {"path", rw + "/new.txt"}, {"data", "written by a tool"}},
                  {{"fn", "fs.read"}, {"path", rw + "/new.txt"}},
                  {{"fn", "fs.read"}, {"path", ro + "/sub/b.txt"}},
                  {{"fn", "fs.read"}, {"path", outside + "/secret.txt"}},
                  {{"fn", "fs.list"}, {"path", outside}},
                  {{"fn", "fs.write"}, {"path", outside + "/planted.txt"}, {"data", "x"}},
                  {{"fn", "fs.read"}, {"path", "/etc/passwd"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 9) << r.dump();
  EXPECT_EQ(r[0], json({{"ok", true}, {"value", "alpha\n"}})) << r[0].dump();
  ASSERT_TRUE(r[1].value("ok", false)) << r[1].dump();
  std::set<std::string> names;
  for (const auto& e : r[1]["value"]) names.insert(e.value("name", "") + ":" + e.value("type", ""));
  EXPECT_EQ(names, (std::set<std::string>{"a.txt:file", "sub:dir"})) << r[1].dump();
  EXPECT_TRUE(r[2].value("ok", false)) << r[2].dump();
  EXPECT_EQ(read_file(rw + "/new.txt"), "written by a tool");
  EXPECT_EQ(r[3], json({{"ok", true}, {"value", "written by a tool"}})) << r[3].dump();
  EXPECT_EQ(r[4], json({{"ok", true}, {"value", "beta"}})) << r[4].dump();
  for (size_t i : {5u, 6u, 7u, 8u}) EXPECT_TRUE(not_authorized(r[i])) << i << ": " << r[i].dump();
  EXPECT_FALSE(fs::exists(outside + "/planted.txt"));

  // Each refusal is an audited denial; the result lists every host call with its decision.
  auto ev = audit_events(last_audit_);
  auto denies = pick(ev, "tool", "deny");
  EXPECT_EQ(denies.size(), 4u) << dump(ev);
  for (const auto& d : denies) {
    EXPECT_EQ(d.value("tool", ""), "files") << d.dump();
    EXPECT_TRUE(contains(d.value("reason", ""), "not authorized")) << d.dump();
  }
  auto results = pick(ev, "tool", "result");
  ASSERT_EQ(results.size(), 1u) << dump(ev);
  ASSERT_TRUE(results[0]["host_calls"].is_array());
  ASSERT_EQ(results[0]["host_calls"].size(), 9u) << results[0].dump();
  EXPECT_EQ(results[0]["host_calls"][0].value("fn", ""), "fs.read");
  EXPECT_TRUE(results[0]["host_calls"][0].value("ok", false));
  EXPECT_FALSE(results[0]["host_calls"][5].value("ok", true));

  // A tool granted no paths has no file system at all.
  r = steps(p, "nofs", {{{"fn", "fs.read"}, {"path", ro + "/a.txt"}}, {{"fn", "fs.list"}, {"path", ro}}});
  ASSERT_TRUE(r.is_array() && r.size() == 2) << r.dump();
  EXPECT_TRUE(not_authorized(r[0])) << r[0].dump();
  EXPECT_TRUE(not_authorized(r[1])) << r[1].dump();
  // Refused by the worker itself (no grant at all), yet audited denials all the same.
  auto ev2 = audit_events(last_audit_);
  EXPECT_EQ(pick(ev2, "tool", "deny").size(), 2u) << "ungranted host functions are not audited\n" << dump(ev2);
  auto res2 = pick(ev2, "tool", "result");
  ASSERT_EQ(res2.size(), 1u) << dump(ev2);
  EXPECT_EQ(res2[0]["host_calls"].size(), 2u) << "the result does not list the refused host calls\n" << res2[0].dump();
}

TEST_F(Tools, FsEscapesAreRefused) {
  const std::string ro = dir_ + "/ro", rw = dir_ + "/rw", outside = dir_ + "/outside";
  for (const auto& d : {ro, rw, outside}) fs::create_directories(d);
  write_file(ro + "/a.txt", "alpha");
  write_file(outside + "/secret.txt", "outside data");
  fs::create_symlink(outside + "/secret.txt", ro + "/link.txt");
  fs::create_symlink("../outside", ro + "/dirlink");
  fs::create_symlink(outside + "/target.txt", rw + "/evil.txt");
  fs::create_symlink(outside, rw + "/evildir");
  std::string p = tool_profile("fs", R"([[tool]]
name = "files"
script = "tools/hostcall.js"
grants = { read = ["@RO@"], write = ["@RW@"] }
)",
                               {"hostcall.js"}, {{"RO", ro}, {"RW", rw}});
  json r = steps(p, "files",
                 {{{"fn", "fs.read"}, {"path", ro + "/../outside/secret.txt"}},
                  {{"fn", "fs.read"}, {"path", ro + "/link.txt"}},
                  {{"fn", "fs.read"}, {"path", ro + "/dirlink/secret.txt"}},
                  {{"fn", "fs.list"}, {"path", ro + "/dirlink"}},
                  {{"fn", "fs.write"}, {"path", rw + "/evil.txt"}, {"data", "through a symlink"}},
                  {{"fn", "fs.write"}, {"path", rw + "/evildir/new.txt"}, {"data", "through a symlink"}},
                  {{"fn", "fs.write"}, {"path", rw + "/../outside/new.txt"}, {"data", "dot dot"}},
                  {{"fn", "fs.write"}, {"path", ro + "/a.txt"}, {"data", "overwritten"}},
                  {{"fn", "fs.write"}, {"path", ro + "/new.txt"}, {"data", "created"}},
                  {{"fn", "fs.read"}, {"path", "ro/a.txt"}},
                  {{"fn", "fs.read"}, {"path", ro + "/a.txt"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 11) << r.dump();
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_FALSE(r[i].value("ok", true)) << i << ": " << r[i].dump();
    EXPECT_FALSE(contains(r[i].dump(), "outside data")) << i << ": " << r[i].dump();
  }
  // The refusals that are about the grants say so ("not authorized"); a symlink component may
  // also be refused as a failed open, but never followed.
  for (size_t i : {0u, 6u, 7u, 8u}) EXPECT_TRUE(not_authorized(r[i])) << i << ": " << r[i].dump();
  EXPECT_EQ(r[10], json({{"ok", true}, {"value", "alpha"}})) << r[10].dump();
  EXPECT_EQ(read_file(ro + "/a.txt"), "alpha");
  EXPECT_FALSE(fs::exists(ro + "/new.txt"));
  EXPECT_FALSE(fs::exists(outside + "/target.txt"));
  EXPECT_FALSE(fs::exists(outside + "/new.txt"));
  EXPECT_EQ(read_file(outside + "/secret.txt"), "outside data");
}

// ------------------------------------------------------------------------------------------
// fetch

TEST_F(Tools, FetchGrantedHostWorksOthersAreRefused) {
  HostServer server, other;
  CannedServer to_other("HTTP/1.0 302 Found\r\nLocation: http://" + other.addr() +
                        "/hello\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  const std::map<std::string, std::string> vars = {
      {"SERVER", server.addr()}, {"REDIRECT", to_other.addr()}, {"OTHER", other.addr()}, {"PORT", server.port()}};
  std::string p = tool_profile("net", R"([[tool]]
name = "web"
script = "tools/hostcall.js"
grants = { net = ["@SERVER@", "@REDIRECT@"] }

[[tool]]
name = "web_and_other"
script = "tools/hostcall.js"
grants = { net = ["@REDIRECT@", "@OTHER@"] }

[[tool]]
name = "by_name"
script = "tools/hostcall.js"
grants = { net = ["localhost:@PORT@"] }

[[tool]]
name = "offline"
script = "tools/hostcall.js"
)",
                               {"hostcall.js"}, vars);
  json r = steps(p, "web",
                 {{{"fn", "fetch"}, {"url", "http://" + server.addr() + "/hello"}},
                  {{"fn", "fetch"}, {"url", "http://" + other.addr() + "/hello"}},
                  {{"fn", "fetch"}, {"url", "http://" + to_other.addr() + "/go"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 3) << r.dump();
  ASSERT_TRUE(r[0].value("ok", false)) << r[0].dump();
  EXPECT_EQ(r[0]["value"].value("status", 0), 200) << r[0].dump();
  EXPECT_EQ(r[0]["value"].value("body", ""), "hello from host\n") << r[0].dump();
  EXPECT_TRUE(contains(r[0]["value"].value("url", ""), server.addr() + "/hello")) << r[0].dump();
  EXPECT_TRUE(r[0]["value"]["headers"].is_object()) << r[0].dump();
  // An ungranted host (another port of the same address), and a redirect to it.
  EXPECT_TRUE(not_authorized(r[1])) << r[1].dump();
  EXPECT_TRUE(not_authorized(r[2])) << r[2].dump();
  EXPECT_EQ(to_other.accepted(), 1);
  EXPECT_EQ(other.accepted(), 0) << "an ungranted host was reached:\n" << other.describe();
  EXPECT_EQ(server.accepted(), 1) << server.describe();

  // The same redirect with its target granted is followed.
  r = steps(p, "web_and_other", {{{"fn", "fetch"}, {"url", "http://" + to_other.addr() + "/go"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 1) << r.dump();
  ASSERT_TRUE(r[0].value("ok", false)) << r[0].dump();
  EXPECT_EQ(r[0]["value"].value("status", 0), 200) << r[0].dump();
  EXPECT_EQ(r[0]["value"].value("body", ""), "hello from host\n") << r[0].dump();
  EXPECT_TRUE(contains(r[0]["value"].value("url", ""), other.addr() + "/hello")) << r[0].dump();
  EXPECT_EQ(other.accepted(), 1);

  // A name that resolves to loopback is not enough: a private address needs an address entry.
  r = steps(p, "by_name", {{{"fn", "fetch"}, {"url", "http://localhost:" + server.port() + "/hello"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 1) << r.dump();
  EXPECT_TRUE(not_authorized(r[0])) << r[0].dump();
  EXPECT_EQ(server.accepted(), 1) << "a loopback address behind a name was reached:\n" << server.describe();

  // No net grant: no fetch at all.
  r = steps(p, "offline", {{{"fn", "fetch"}, {"url", "http://" + server.addr() + "/hello"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 1) << r.dump();
  EXPECT_TRUE(not_authorized(r[0])) << r[0].dump();
  EXPECT_EQ(server.accepted(), 1);
  auto ev = audit_events(last_audit_);
  EXPECT_EQ(pick(ev, "tool", "deny").size(), 1u) << "a call of an ungranted host function is not audited\n" << dump(ev);
}

// ------------------------------------------------------------------------------------------
// secret

TEST_F(Tools, SecretGrantedIsReadableUngrantedRefusedValueNeverLogged) {
  const std::string value = "tok-" + unique_marker("secret-value"), other_value = "other-" + unique_marker("value");
  std::string p = tool_profile("secret", R"([secrets.IT_TOKEN]
from_env = "PADDOCK_IT_TOOL_TOKEN"
expose = "file"

[secrets.IT_OTHER]
from_env = "PADDOCK_IT_OTHER_TOKEN"
expose = "file"

[[tool]]
name = "withsecret"
script = "tools/hostcall.js"
grants = { secrets = ["IT_TOKEN"] }

[[tool]]
name = "nosecret"
script = "tools/hostcall.js"
)",
                               {"hostcall.js"});
  const Args secrets = {"PADDOCK_IT_TOOL_TOKEN=" + value, "PADDOCK_IT_OTHER_TOKEN=" + other_value};
  // Into the default place of session logs this time ($XDG_STATE_HOME/paddock/sessions/).
  const json input = {{"steps",
                       {{{"fn", "secret"}, {"name", "IT_TOKEN"}, {"expect", value}},
                        {{"fn", "secret"}, {"name", "IT_OTHER"}, {"expect", other_value}}}}};
  Args a = {"tool", "call", "-p", p, "withsecret", input.dump()};
  Result res = paddock_tool(a, "", 20, secrets);
  ASSERT_EQ(res.code, 0) << res;
  json r = json::parse(res.out, nullptr, false)["results"];
  ASSERT_TRUE(r.is_array() && r.size() == 2) << res;
  EXPECT_EQ(r[0], json({{"ok", true}, {"value", {{"matches", true}, {"length", value.size()}}}})) << r[0].dump();
  EXPECT_TRUE(not_authorized(r[1])) << r[1].dump();
  SessionLog log = the_log();
  auto ev = audit_events(log.path);
  auto reads = pick(ev, "credential", "allow");
  ASSERT_EQ(reads.size(), 1u) << log.text();
  EXPECT_EQ(reads[0].value("subject", ""), "IT_TOKEN") << reads[0].dump();
  EXPECT_EQ(reads[0].value("tool", ""), "withsecret") << reads[0].dump();
  EXPECT_EQ(pick(ev, "tool", "deny").size(), 1u) << log.text();
  const std::string text = read_file(log.path);
  EXPECT_FALSE(contains(text, value)) << "the secret's value is in the audit log";
  EXPECT_FALSE(contains(text, other_value)) << "a secret's value is in the audit log";
  EXPECT_FALSE(contains(res.out + res.err, value));

  // A tool granted no secret reads none.
  r = steps(p, "nosecret", {{{"fn", "secret"}, {"name", "IT_TOKEN"}, {"expect", value}}}, secrets);
  ASSERT_TRUE(r.is_array() && r.size() == 1) << r.dump();
  EXPECT_TRUE(not_authorized(r[0])) << r[0].dump();
  ev = audit_events(last_audit_);
  EXPECT_TRUE(pick(ev, "credential", "allow").empty()) << dump(ev);
  EXPECT_FALSE(contains(read_file(last_audit_), value));
}

// ------------------------------------------------------------------------------------------
// db.query

TEST_F(Tools, DbQueryWithinTheGrant) {
  const std::string db = dir_ + "/app.sqlite";
  std::string sql =
      "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
      "CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER, total REAL);"
      "CREATE TABLE secrets(k TEXT, v TEXT);"
      "INSERT INTO secrets VALUES('root', 'hunter2');";
  for (int i = 1; i <= 10; ++i) {
    sql += "INSERT INTO users VALUES(" + std::to_string(i) + ", 'user" + std::to_string(i) + "');";
    sql += "INSERT INTO orders VALUES(" + std::to_string(i) + ", " + std::to_string(i) + ", " + std::to_string(i * 10) +
           ".5);";
  }
  make_db(db, sql);
  std::string p = tool_profile("db", R"([[tool]]
name = "reader"
script = "tools/hostcall.js"
grants = { db = { path = "@DB@", read_only = true, tables = ["users", "orders"], max_rows = 5 } }

[[tool]]
name = "writer"
script = "tools/hostcall.js"
grants = { db = { path = "@DB@", read_only = false, tables = ["users"] } }

[[tool]]
name = "nodb"
script = "tools/hostcall.js"
)",
                               {"hostcall.js"}, {{"DB", db}});
  json r = steps(p, "reader",
                 {{{"fn", "db.query"}, {"sql", "SELECT id, name FROM users ORDER BY id LIMIT 3"}},
                  {{"fn", "db.query"}, {"sql", "SELECT name FROM users WHERE id = ?"}, {"params", {7}}},
                  {{"fn", "db.query"},
                   {"sql", "SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 2"}},
                  {{"fn", "db.query"}, {"sql", "SELECT id FROM users ORDER BY id"}},
                  {{"fn", "db.query"}, {"sql", "SELECT * FROM secrets"}},
                  {{"fn", "db.query"}, {"sql", "SELECT name, sql FROM sqlite_master"}},
                  {{"fn", "db.query"}, {"sql", "INSERT INTO users VALUES(100, 'intruder')"}},
                  {{"fn", "db.query"}, {"sql", "DELETE FROM users"}},
                  {{"fn", "db.query"}, {"sql", "ATTACH DATABASE '" + dir_ + "/x.sqlite' AS x"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 9) << r.dump();
  ASSERT_TRUE(r[0].value("ok", false)) << r[0].dump();
  EXPECT_EQ(r[0]["value"]["columns"], json({"id", "name"})) << r[0].dump();
  EXPECT_EQ(r[0]["value"]["rows"], json({{1, "user1"}, {2, "user2"}, {3, "user3"}})) << r[0].dump();
  EXPECT_EQ(r[0]["value"]["truncated"], false) << r[0].dump();
  ASSERT_TRUE(r[1].value("ok", false)) << r[1].dump();
  EXPECT_EQ(r[1]["value"]["rows"], json({{"user7"}})) << r[1].dump();
  ASSERT_TRUE(r[2].value("ok", false)) << r[2].dump();
  EXPECT_EQ(r[2]["value"]["rows"], json::array({json::array({"user2", 20.5})})) << r[2].dump();
  // max_rows: 5 of 10 rows, and the cut is said.
  ASSERT_TRUE(r[3].value("ok", false)) << r[3].dump();
  EXPECT_EQ(r[3]["value"]["rows"], json({{1}, {2}, {3}, {4}, {5}})) << r[3].dump();
  EXPECT_EQ(r[3]["value"]["truncated"], true) << r[3].dump();
  for (size_t i = 4; i < 9; ++i) EXPECT_TRUE(not_authorized(r[i])) << i << ": " << r[i].dump();
  EXPECT_FALSE(contains(r.dump(), "hunter2"));
  EXPECT_EQ(db_scalar(db, "SELECT count(*) FROM users"), 10);
  EXPECT_EQ(pick(audit_events(last_audit_), "tool", "deny").size(), 5u) << read_file(last_audit_);

  // A writable grant lets the same INSERT through -- into its tables only.
  r = steps(p, "writer",
            {{{"fn", "db.query"}, {"sql", "INSERT INTO users VALUES(100, 'added')"}},
             {{"fn", "db.query"}, {"sql", "INSERT INTO orders VALUES(100, 100, 1.0)"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 2) << r.dump();
  EXPECT_TRUE(r[0].value("ok", false)) << r[0].dump();
  EXPECT_TRUE(not_authorized(r[1])) << r[1].dump();
  EXPECT_EQ(db_scalar(db, "SELECT count(*) FROM users"), 11);
  EXPECT_EQ(db_scalar(db, "SELECT count(*) FROM orders"), 10);

  r = steps(p, "nodb", {{{"fn", "db.query"}, {"sql", "SELECT 1"}}});
  ASSERT_TRUE(r.is_array() && r.size() == 1) << r.dump();
  EXPECT_TRUE(not_authorized(r[0])) << r[0].dump();
}

// ------------------------------------------------------------------------------------------
// Calls: not found, schema, tool errors, the audit trail

TEST_F(Tools, UndeclaredToolIsExit2AndAudited) {
  std::string p = tool_profile("t", "[[tool]]\nname = \"echo\"\nscript = \"tools/echo.js\"\n", {"echo.js"});
  Result r = call(p, "no_such_tool", json::object());
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_TRUE(contains(r.err, "paddock: tool no_such_tool: ")) << r;
  EXPECT_TRUE(contains(r.err, "not found")) << r;
  auto ev = audit_events(last_audit_);
  auto denies = pick(ev, "tool", "deny");
  ASSERT_EQ(denies.size(), 1u) << dump(ev);
  EXPECT_EQ(denies[0].value("subject", ""), "no_such_tool") << denies[0].dump();
  EXPECT_EQ(denies[0].value("kind", ""), "not_found") << denies[0].dump();
  EXPECT_TRUE(pick(ev, "tool", "call").empty()) << dump(ev);

  // The declared one answers.
  r = call(p, "echo", {{"text", "hi"}});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(json::parse(r.out, nullptr, false), json({{"echo", {{"text", "hi"}}}})) << r;
}

TEST_F(Tools, InvalidInputIsRefusedBeforeTheScriptRuns) {
  std::string p = tool_profile("t", "[[tool]]\nname = \"add\"\nscript = \"tools/checked.js\"\n", {"checked.js"});
  for (const json& bad : {json({{"a", "one"}, {"b", 2}}), json({{"a", 1}}), json({{"a", 1}, {"b", 2}, {"c", 3}}),
                          json({{"a", 1}, {"b", 101}})}) {
    Result r = call(p, "add", bad);
    EXPECT_EQ(r.code, 1) << bad.dump() << "\n" << r;
    EXPECT_TRUE(contains(r.err, "paddock: tool add: ")) << r;
    EXPECT_TRUE(contains(r.err, "schema")) << r;
    EXPECT_FALSE(contains(r.err, "checked-tool-ran")) << "the script ran on invalid input " << bad.dump() << "\n" << r;
    auto ev = audit_events(last_audit_);
    auto denies = pick(ev, "tool", "deny");
    ASSERT_EQ(denies.size(), 1u) << dump(ev);
    EXPECT_EQ(denies[0].value("kind", ""), "invalid_input") << denies[0].dump();
    EXPECT_EQ(denies[0].value("input_sha256", ""), sha256_hex(bad.dump())) << denies[0].dump();
    EXPECT_TRUE(pick(ev, "tool", "call").empty()) << dump(ev);
    EXPECT_TRUE(pick(ev, "tool", "result").empty()) << dump(ev);
  }
  // Valid input (here from stdin) runs it.
  std::string audit = next_audit();
  Result r = paddock_tool({"tool", "call", "-p", p, "add", "-", "--audit", audit}, R"({"a": 2, "b": 40})");
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(json::parse(r.out, nullptr, false), json({{"sum", 42}})) << r;
  EXPECT_TRUE(contains(r.err, "checked-tool-ran")) << r;
  // Input that is not JSON at all is paddock's own error.
  r = paddock_tool({"tool", "call", "-p", p, "add", "{not json", "--audit", next_audit()});
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_FALSE(contains(r.err, "checked-tool-ran")) << r;
}

TEST_F(Tools, CallAndResultAreAudited) {
  std::string p = tool_profile("t", R"([[tool]]
name = "echo"
script = "tools/echo.js"

[[tool]]
name = "echo_full"
script = "tools/echo.js"
audit = "full"
)",
                               {"echo.js"});
  const json input = {{"text", "audited"}};
  Result r = call(p, "echo", input);
  ASSERT_EQ(r.code, 0) << r;
  auto ev = audit_events(last_audit_);
  ASSERT_GE(ev.size(), 4u) << dump(ev);
  EXPECT_EQ(ev.front().value("layer", ""), "session");
  EXPECT_EQ(ev.front().value("action", ""), "start");
  EXPECT_EQ(ev.back().value("action", ""), "exit");
  auto calls = pick(ev, "tool", "call"), results = pick(ev, "tool", "result");
  ASSERT_EQ(calls.size(), 1u) << dump(ev);
  ASSERT_EQ(results.size(), 1u) << dump(ev);
  const json &c = calls[0], &res = results[0];
  EXPECT_EQ(c.value("tool", ""), "echo");
  EXPECT_FALSE(c.value("call", "").empty()) << c.dump();
  EXPECT_EQ(res.value("call", ""), c.value("call", "")) << res.dump();
  EXPECT_EQ(c.value("input_sha256", ""), sha256_hex(input.dump())) << c.dump();
  EXPECT_FALSE(c.contains("input")) << "metadata audit holds the input: " << c.dump();
  EXPECT_TRUE(res.value("ok", false)) << res.dump();
  EXPECT_TRUE(res.contains("duration_ms")) << res.dump();
  EXPECT_TRUE(res["host_calls"].is_array()) << res.dump();
  EXPECT_EQ(res.value("output_sha256", ""), sha256_hex(json({{"echo", input}}).dump())) << res.dump();
  EXPECT_FALSE(res.contains("output")) << res.dump();
  EXPECT_FALSE(contains(read_file(last_audit_), "audited")) << "metadata audit holds the input or output";
  Result v = paddock_tool({"log", "--verify", last_audit_});
  EXPECT_EQ(v.code, 0) << v;

  // audit = "full": the input and the output themselves.
  r = call(p, "echo_full", input);
  ASSERT_EQ(r.code, 0) << r;
  ev = audit_events(last_audit_);
  calls = pick(ev, "tool", "call");
  results = pick(ev, "tool", "result");
  ASSERT_EQ(calls.size(), 1u) << dump(ev);
  ASSERT_EQ(results.size(), 1u) << dump(ev);
  EXPECT_EQ(calls[0]["input"], input) << calls[0].dump();
  EXPECT_EQ(results[0]["output"], json({{"echo", input}})) << results[0].dump();

  // A tool that throws: exit 1, its one-line reason, a failed result.
  r = call(p, "echo", {{"fail", "boom-from-the-tool"}});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_TRUE(contains(r.err, "paddock: tool echo: ")) << r;
  EXPECT_TRUE(contains(r.err, "boom-from-the-tool")) << r;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r;
  results = pick(audit_events(last_audit_), "tool", "result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].value("ok", true)) << results[0].dump();
  EXPECT_EQ(results[0].value("kind", ""), "exception") << results[0].dump();
  EXPECT_TRUE(contains(results[0].value("error", ""), "boom-from-the-tool")) << results[0].dump();
}

// ------------------------------------------------------------------------------------------
// Rate limits and approval

// rate_limit = "3/minute", two `paddock mcp` processes at once, three calls each: three
// succeed in all, three are refused, whichever process asks.
TEST_F(Tools, RateLimitHoldsAcrossConcurrentProcesses) {
  std::string p = tool_profile("rate", R"([[tool]]
name = "echo"
script = "tools/echo.js"
rate_limit = "3/minute"
)",
                               {"echo.js"});
  auto a = mcp(p);
  std::string audit_a = last_audit_;
  auto b = mcp(p);
  std::string audit_b = last_audit_;
  for (auto* c : {a.get(), b.get()}) ASSERT_TRUE(c->initialize().contains("result"));
  for (int i = 1; i <= 3; ++i) {
    for (auto* c : {a.get(), b.get()}) {
      c->send_request(i, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "n" + std::to_string(i)}}}});
    }
  }
  int ok = 0, limited = 0;
  std::string seen;
  for (auto* c : {a.get(), b.get()}) {
    for (int i = 1; i <= 3; ++i) {
      json r = c->await(i, 20);
      seen += r.dump() + "\n";
      if (r.contains("result") && !is_tool_error(r)) ++ok;
      if (is_tool_error(r) && contains(result_text(r), "rate limit")) ++limited;
    }
  }
  EXPECT_EQ(ok, 3) << seen;
  EXPECT_EQ(limited, 3) << seen;
  for (auto* c : {a.get(), b.get()}) EXPECT_EQ(c->close().code, 0);
  size_t denied = 0, results = 0;
  for (const auto& log : {audit_a, audit_b}) {
    auto ev = audit_events(log);
    for (const auto& d : pick(ev, "tool", "deny")) {
      EXPECT_EQ(d.value("kind", ""), "rate_limited") << d.dump();
      ++denied;
    }
    results += pick(ev, "tool", "result").size();
  }
  EXPECT_EQ(denied, 3u);
  EXPECT_EQ(results, 3u);
  // Still used up for a third process.
  Result r = call(p, "echo", {{"text", "again"}});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.err, "rate limit")) << r;
}

TEST_F(Tools, ApprovalNeverRefuses) {
  std::string p = tool_profile("gate", R"([[tool]]
name = "gated"
script = "tools/echo.js"
requires = ["approval"]

[[tool]]
name = "open"
script = "tools/echo.js"
)",
                               {"echo.js"});
  Result r = call(p, "gated", {{"text", "please"}}, {"--approve", "never"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_TRUE(contains(r.err, "paddock: tool gated: ")) << r;
  EXPECT_TRUE(contains(r.err, "not approved")) << r;
  auto ev = audit_events(last_audit_);
  auto rejects = pick(ev, "tool", "reject");
  ASSERT_EQ(rejects.size(), 1u) << dump(ev);
  EXPECT_EQ(rejects[0].value("by", ""), "--approve=never") << rejects[0].dump();
  EXPECT_EQ(rejects[0].value("tool", ""), "gated") << rejects[0].dump();
  EXPECT_TRUE(pick(ev, "tool", "call").empty()) << dump(ev);
  EXPECT_TRUE(pick(ev, "tool", "approve").empty()) << dump(ev);
  // A tool without the requirement runs under --approve=never.
  r = call(p, "open", {{"text", "free"}}, {"--approve", "never"});
  EXPECT_EQ(r.code, 0) << r;
  // No terminal to ask on (a new session without a controlling terminal): refused too.
  if (::access("/usr/bin/setsid", X_OK) == 0) {
    Spawned s = spawn({"/usr/bin/setsid", "-w", g.paddock, "tool", "call", "-p", p, "gated", R"({"text":"x"})",
                       "--audit", next_audit()},
                      tool_env(), work_, false);
    r = finish(s, "", 20);
    EXPECT_EQ(r.code, 1) << r;
    auto rej = pick(audit_events(last_audit_), "tool", "reject");
    ASSERT_EQ(rej.size(), 1u) << read_file(last_audit_);
    EXPECT_EQ(rej[0].value("by", ""), "no terminal to ask on") << rej[0].dump();
  }
}

// The approval prompt on the controlling terminal (a pseudo-terminal here): "n" refuses, "y"
// lets the call run. Both decisions, and who made them, are audited.
TEST_F(Tools, ApprovalPromptOnTheTerminal) {
  std::string p = tool_profile("gate", R"([[tool]]
name = "gated"
script = "tools/echo.js"
requires = ["approval"]
)",
                               {"echo.js"});
  for (const std::string& answer : {std::string("n"), std::string("y")}) {
    const std::string audit = next_audit();
    PtyRun t({g.paddock, "tool", "call", "-p", p, "gated", R"({"text":"approve-me"})", "--audit", audit}, tool_env(),
             work_, 24, 80);
    ASSERT_TRUE(t.read_until("[y/N]", 15)) << "no prompt on the terminal (answer " << answer << ")";
    t.write(answer + "\n");
    Result r = t.finish(20);
    EXPECT_TRUE(contains(r.out, "\"gated\"")) << r;
    EXPECT_TRUE(contains(r.out, "approve-me")) << "the prompt does not show the input\n" << r;
    EXPECT_TRUE(contains(r.out, "grants: log")) << "the prompt does not show the grants\n" << r;
    auto ev = audit_events(audit);
    if (answer == "n") {
      EXPECT_EQ(r.code, 1) << r;
      EXPECT_TRUE(contains(r.out, "not approved")) << r;
      auto rejects = pick(ev, "tool", "reject");
      ASSERT_EQ(rejects.size(), 1u) << dump(ev);
      EXPECT_TRUE(contains(rejects[0].value("by", ""), "on the terminal")) << rejects[0].dump();
      EXPECT_TRUE(pick(ev, "tool", "call").empty()) << dump(ev);
    } else {
      EXPECT_EQ(r.code, 0) << r;
      EXPECT_TRUE(contains(r.out, R"({"echo":{"text":"approve-me"}})")) << r;
      auto approves = pick(ev, "tool", "approve");
      ASSERT_EQ(approves.size(), 1u) << dump(ev);
      EXPECT_TRUE(contains(approves[0].value("by", ""), "on the terminal")) << approves[0].dump();
      EXPECT_EQ(pick(ev, "tool", "call").size(), 1u) << dump(ev);
      auto results = pick(ev, "tool", "result");
      ASSERT_EQ(results.size(), 1u) << dump(ev);
      EXPECT_TRUE(results[0].value("ok", false)) << results[0].dump();
    }
  }
}

// ------------------------------------------------------------------------------------------
// The example profiles (profiles/examples/), copied into the test's folder

TEST_F(Tools, ExampleProfilesListAndRun) {
  const std::string ex = dir_ + "/examples";
  fs::copy(g.examples, ex, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(ex)) ::chmod(e.path().c_str(), e.is_directory() ? 0755 : 0644);

  Result r = paddock_tool({"tool", "list", "-p", ex + "/tools.toml"});
  ASSERT_EQ(r.code, 0) << r;
  for (const char* name : {"summarise_file", "fetch_url", "query_shop"}) {
    EXPECT_TRUE(contains(r.out, std::string(name) + "\n")) << name << "\n" << r;
  }
  r = paddock_tool({"tool", "list", "-p", ex + "/ops.toml", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  json tools = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(tools.is_array()) << r;
  std::map<std::string, json> by_name;
  for (const auto& t : tools) by_name[t.value("name", "")] = t;
  ASSERT_EQ(by_name.size(), 3u) << r;
  for (const char* name : {"send_email", "query_database", "write_to_crm"}) {
    ASSERT_TRUE(by_name.count(name)) << name << "\n" << r;
    EXPECT_FALSE(by_name[name].value("description", "").empty()) << by_name[name].dump();
    EXPECT_EQ(by_name[name]["input_schema"].value("type", ""), "object") << by_name[name].dump();
  }
  EXPECT_TRUE(by_name["write_to_crm"]["limits"].value("requires_approval", false)) << by_name["write_to_crm"].dump();
  EXPECT_TRUE(by_name["send_email"]["limits"].contains("rate_limit")) << by_name["send_email"].dump();
  EXPECT_EQ(by_name["query_database"]["grants"], json({"db.query", "log"})) << by_name["query_database"].dump();
  EXPECT_EQ(by_name["send_email"]["grants"], json({"fetch", "secret", "log"})) << by_name["send_email"].dump();

  // summarise_file reads under the working directory only.
  write_file(work_ + "/notes.txt", "one two\nthree\n");
  r = call(ex + "/tools.toml", "summarise_file", {{"path", work_ + "/notes.txt"}});
  ASSERT_EQ(r.code, 0) << r;
  json out = json::parse(r.out, nullptr, false);
  EXPECT_EQ(out.value("words", 0), 3) << r;
  EXPECT_EQ(out["head"][0], "one two") << r;
  write_file(dir_ + "/elsewhere.txt", "not yours");
  r = call(ex + "/tools.toml", "summarise_file", {{"path", dir_ + "/elsewhere.txt"}});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.err, "not authorized")) << r;

  // query_database (ops.toml): users/orders/products only, read-only.
  make_db(work_ + "/app.sqlite",
          "CREATE TABLE users(id INTEGER, name TEXT); CREATE TABLE orders(id INTEGER); CREATE TABLE products(id "
          "INTEGER); CREATE TABLE payroll(name TEXT, salary INTEGER); INSERT INTO users VALUES(1, 'ada');"
          "INSERT INTO payroll VALUES('ada', 100);");
  r = call(ex + "/ops.toml", "query_database", {{"sql", "SELECT name FROM users"}});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(json::parse(r.out, nullptr, false)["rows"], json({{"ada"}})) << r;
  r = call(ex + "/ops.toml", "query_database", {{"sql", "SELECT * FROM payroll"}});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.err, "not authorized")) << r;
  r = call(ex + "/ops.toml", "query_database", {{"sql", "UPDATE users SET name = 'eve'"}});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(db_scalar(work_ + "/app.sqlite", "SELECT count(*) FROM users WHERE name = 'ada'"), 1);
  // write_to_crm waits for a person: refused without one.
  r = call(ex + "/ops.toml", "write_to_crm", {{"contact_id", "c1"}, {"note", "hello"}}, {"--approve", "never"},
           {"CRM_TOKEN=crm-token-value"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(pick(audit_events(last_audit_), "tool", "reject").size(), 1u) << read_file(last_audit_);
}

// ==========================================================================================
// Mcp: raw JSON-RPC over the stdio of `paddock mcp`

// Every stdout line of a finished `paddock mcp` is one JSON-RPC 2.0 message.
void expect_only_jsonrpc(const std::string& out) {
  for (const auto& l : lines_of(out)) {
    json m = json::parse(l, nullptr, false);
    EXPECT_TRUE(m.is_object() && m.value("jsonrpc", "") == "2.0") << "not a JSON-RPC message on stdout: " << l;
  }
  EXPECT_TRUE(out.empty() || out.back() == '\n') << "stdout ends in a partial line";
}

TEST_F(Mcp, LegacyConversation) {
  std::string p = tool_profile("mcp", R"toml([[tool]]
name = "echo"
script = "tools/echo.js"

[[tool]]
name = "add"
script = "tools/checked.js"
description = "Adds (from the profile)"
)toml",
                               {"echo.js", "checked.js"});
  auto c = mcp(p);
  const std::string audit = last_audit_;
  json init = c->initialize();
  ASSERT_TRUE(init.contains("result")) << init.dump();
  EXPECT_EQ(init["result"].value("protocolVersion", ""), "2025-11-25") << init.dump();
  EXPECT_EQ(init["result"]["serverInfo"].value("name", ""), "paddock") << init.dump();
  EXPECT_TRUE(init["result"]["capabilities"].contains("tools")) << init.dump();

  json list = c->request(1, "tools/list", json::object());
  ASSERT_TRUE(list.contains("result")) << list.dump();
  std::map<std::string, json> tools;
  for (const auto& t : list["result"]["tools"]) tools[t.value("name", "")] = t;
  ASSERT_EQ(tools.size(), 2u) << list.dump();
  EXPECT_EQ(tools["echo"].value("description", ""), "Echo the input back") << list.dump();
  EXPECT_EQ(tools["add"].value("description", ""), "Adds (from the profile)") << list.dump();
  // The input schema is the script's `export const input`.
  EXPECT_EQ(tools["echo"]["inputSchema"],
            json::parse(R"({"type":"object","properties":{"text":{"type":"string"},"fail":{"type":"string"}},
                            "additionalProperties":false})"))
      << list.dump();
  EXPECT_EQ(tools["add"]["inputSchema"]["required"], json({"a", "b"})) << list.dump();

  json ok = c->call(2, "echo", {{"text", "over mcp"}});
  ASSERT_TRUE(ok.contains("result")) << ok.dump();
  EXPECT_FALSE(is_tool_error(ok)) << ok.dump();
  EXPECT_EQ(ok["result"]["structuredContent"], json({{"echo", {{"text", "over mcp"}}}})) << ok.dump();
  EXPECT_EQ(json::parse(result_text(ok), nullptr, false), json({{"echo", {{"text", "over mcp"}}}})) << ok.dump();

  json failed = c->call(3, "echo", {{"fail", "mcp-boom"}});
  EXPECT_TRUE(is_tool_error(failed)) << failed.dump();
  EXPECT_TRUE(contains(result_text(failed), "mcp-boom")) << failed.dump();

  // Invalid input is a tool error too, and the script never ran (its log line goes to stderr).
  json invalid = c->call(4, "add", {{"a", "x"}, {"b", 1}});
  EXPECT_TRUE(is_tool_error(invalid)) << invalid.dump();
  json sum = c->call(5, "add", {{"a", 1}, {"b", 2}});
  EXPECT_EQ(sum["result"]["structuredContent"], json({{"sum", 3}})) << sum.dump();

  json unknown = c->call(6, "no_such_tool", json::object());
  ASSERT_TRUE(unknown.contains("error")) << unknown.dump();
  EXPECT_EQ(unknown["error"].value("code", 0), -32602) << unknown.dump();
  EXPECT_TRUE(contains(unknown["error"].value("message", ""), "no_such_tool")) << unknown.dump();

  c->send_line("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":");
  json parse_error = c->await(nullptr);
  ASSERT_TRUE(parse_error.contains("error")) << parse_error.dump();
  EXPECT_EQ(parse_error["error"].value("code", 0), -32700) << parse_error.dump();
  c->send_line("[1, 2");
  parse_error = c->await(nullptr);
  EXPECT_EQ(parse_error["error"].value("code", 0), -32700) << parse_error.dump();
  json bad_request = c->request(8, "tools/call", json::array());
  EXPECT_TRUE(bad_request.contains("error")) << bad_request.dump();

  // Still serving after all that.
  json ping = c->request(9, "ping", json::object());
  EXPECT_EQ(ping["result"], json::object()) << ping.dump();
  json again = c->call(10, "echo", {{"text", "still here"}});
  EXPECT_EQ(again["result"]["structuredContent"], json({{"echo", {{"text", "still here"}}}})) << again.dump();
  EXPECT_TRUE(c->unclaimed().empty()) << "unexpected messages (a response to the notification?)";

  Result r = c->close();
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_FALSE(r.timed_out) << r;
  expect_only_jsonrpc(r.out);
  EXPECT_TRUE(contains(r.err, "checked-tool-ran")) << "host.log goes to stderr\n" << r;
  size_t ran = 0;
  for (size_t at = r.err.find("checked-tool-ran"); at != std::string::npos; at = r.err.find("checked-tool-ran", at + 1))
    ++ran;
  EXPECT_EQ(ran, 1u) << "the script ran on invalid input\n" << r;

  auto ev = audit_events(audit);
  auto denies = pick(ev, "tool", "deny");
  std::set<std::string> kinds;
  for (const auto& d : denies) kinds.insert(d.value("kind", ""));
  EXPECT_EQ(kinds, (std::set<std::string>{"invalid_input", "not_found"})) << dump(ev);
  EXPECT_EQ(pick(ev, "tool", "result").size(), 4u) << dump(ev);
}

TEST_F(Mcp, ModernDiscoverAndCallWithMeta) {
  std::string p = tool_profile("mcp", "[[tool]]\nname = \"echo\"\nscript = \"tools/echo.js\"\n", {"echo.js"});
  auto c = mcp(p);
  const json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                     {"io.modelcontextprotocol/clientCapabilities", json::object()}};
  json d = c->request(1, "server/discover", {{"_meta", meta}});
  ASSERT_TRUE(d.contains("result")) << d.dump();
  const json& supported = d["result"]["supportedVersions"];
  EXPECT_TRUE(std::find(supported.begin(), supported.end(), "2026-07-28") != supported.end()) << d.dump();
  EXPECT_TRUE(d["result"]["capabilities"].contains("tools")) << d.dump();

  json list = c->request(2, "tools/list", {{"_meta", meta}});
  ASSERT_TRUE(list.contains("result")) << list.dump();
  ASSERT_EQ(list["result"]["tools"].size(), 1u) << list.dump();
  EXPECT_EQ(list["result"]["tools"][0].value("name", ""), "echo") << list.dump();

  json ok = c->request(3, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "modern"}}}, {"_meta", meta}});
  ASSERT_TRUE(ok.contains("result")) << ok.dump();
  EXPECT_EQ(ok["result"]["structuredContent"], json({{"echo", {{"text", "modern"}}}})) << ok.dump();
  EXPECT_FALSE(is_tool_error(ok)) << ok.dump();
  json failed =
      c->request(4, "tools/call", {{"name", "echo"}, {"arguments", {{"fail", "modern-boom"}}}, {"_meta", meta}});
  EXPECT_TRUE(is_tool_error(failed)) << failed.dump();

  // A version the server does not speak, and server/discover without _meta.
  json old = meta;
  old["io.modelcontextprotocol/protocolVersion"] = "1999-01-01";
  json unsupported = c->request(5, "tools/list", {{"_meta", old}});
  EXPECT_EQ(unsupported["error"].value("code", 0), -32022) << unsupported.dump();
  json bare = c->request(6, "server/discover", json::object());
  EXPECT_EQ(bare["error"].value("code", 0), -32602) << bare.dump();

  Result r = c->close();
  EXPECT_EQ(r.code, 0) << r;
  expect_only_jsonrpc(r.out);
}

// Misbehaving scripts through one `paddock mcp` session: each ends as a tool error within its
// limit (timeout 1 s, memory 32M, plus a margin), and the next call in the same session works.
TEST_F(Mcp, RunawayScriptsEndCleanlyAndTheNextCallWorks) {
  std::string p = tool_profile("runaway", R"([[tool]]
name = "runaway"
script = "tools/runaway.js"
timeout = "1s"
memory = "32M"

[[tool]]
name = "wasm_granted"
script = "tools/runaway.js"
grants = { wasm = true }
)",
                               {"runaway.js"});
  auto c = mcp(p);
  const std::string audit = last_audit_;
  ASSERT_TRUE(c->initialize().contains("result"));
  struct Case {
    const char* what;
    double limit;  // seconds the call may take, margin included
  };
  // Array(2e8) fills 1.6 GB: the worker's fatal out-of-memory (or, past timeout + 2 s of grace,
  // the client's kill) ends it; the worker is replaced for the next call.
  const Case cases[] = {
      {"loop", 3.0},      {"promises", 3.0}, {"heap", 3.0},     {"array", 5.5}, {"buffer", 1.5},
      {"recursion", 1.5}, {"eval", 1.5},     {"function", 1.5}, {"wasm", 1.5},
  };
  int id = 1;
  for (const auto& k : cases) {
    auto t0 = Clock::now();
    json r = c->call(id++, "runaway", {{"what", k.what}}, 20);
    double took = std::chrono::duration<double>(Clock::now() - t0).count();
    EXPECT_TRUE(is_tool_error(r)) << k.what << ": " << r.dump();
    EXPECT_LT(took, k.limit) << k.what << " took " << took << " s: " << r.dump();
    json next = c->call(id, "runaway", {{"what", "ok"}, {"n", id}}, 10);  // never the same input twice
    ++id;
    EXPECT_EQ(next["result"]["structuredContent"], json({{"fine", true}})) << "after " << k.what << ": " << next.dump();
  }
  // WebAssembly when granted.
  json w = c->call(id++, "wasm_granted", {{"what", "wasm"}});
  EXPECT_FALSE(is_tool_error(w)) << w.dump();
  Result r = c->close(20);
  EXPECT_EQ(r.code, 0) << r;
  expect_only_jsonrpc(r.out);

  // What ended each call.
  std::vector<std::string> kinds;
  for (const auto& e : pick(audit_events(audit), "tool", "result")) {
    if (!e.value("ok", true)) kinds.push_back(e.value("kind", ""));
  }
  ASSERT_EQ(kinds.size(), 9u) << read_file(audit);
  EXPECT_EQ(kinds[0], "timeout");
  EXPECT_TRUE(kinds[1] == "timeout" || kinds[1] == "memory") << kinds[1];
  EXPECT_EQ(kinds[2], "memory");
  EXPECT_TRUE(kinds[3] == "memory" || kinds[3] == "timeout") << kinds[3];
  for (size_t i = 4; i < 9; ++i) EXPECT_EQ(kinds[i], "exception") << cases[i].what;
}

// A client may send several calls and close its stdin at once: the calls still run and are
// answered, each in its own right (a worker started on behalf of one call must survive it).
TEST_F(Mcp, QueuedCallsAreAnsweredAfterEndOfInput) {
  std::string p = tool_profile("runaway", R"([[tool]]
name = "runaway"
script = "tools/runaway.js"
timeout = "1s"
memory = "32M"
)",
                               {"runaway.js"});
  auto c = mcp(p);
  ASSERT_TRUE(c->initialize().contains("result"));
  // The fatal out-of-memory of "array" replaces the worker; the calls after it use the new one.
  c->send_request(1, "tools/call", {{"name", "runaway"}, {"arguments", {{"what", "array"}}}});
  ::usleep(300 * 1000);  // "array" is running: the others queue behind it
  for (int i = 2; i <= 7; ++i) {
    c->send_request(i, "tools/call", {{"name", "runaway"}, {"arguments", {{"what", "ok"}, {"n", i}}}});
  }
  Result r = c->close(30);
  EXPECT_EQ(r.code, 0) << r;
  expect_only_jsonrpc(r.out);
  std::map<int, json> answers;
  for (const auto& l : lines_of(r.out)) {
    json m = json::parse(l, nullptr, false);
    if (m.is_object() && m.contains("id") && m["id"].is_number_integer()) answers[m["id"].get<int>()] = m;
  }
  ASSERT_EQ(answers.size(), 8u) << r;  // initialize, 1..7
  EXPECT_TRUE(is_tool_error(answers[1])) << answers[1].dump();
  for (int i = 2; i <= 7; ++i) {
    EXPECT_EQ(answers[i]["result"]["structuredContent"], json({{"fine", true}})) << i << ": " << answers[i].dump();
  }
}

// ==========================================================================================
// main: the unprivileged re-run

int run_unprivileged(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "integration-unprivileged: not root, cannot switch to uid 65534; skipped\n");
    return 77;
  }
  std::string setpriv;
  for (const char* p : {"/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"}) {
    if (::access(p, X_OK) == 0) {
      setpriv = p;
      break;
    }
  }
  if (setpriv.empty()) {
    std::fprintf(stderr, "integration-unprivileged: setpriv not found; skipped\n");
    return 77;
  }
  const uid_t nobody = 65534;
  char tmpl[] = "/tmp/paddock-it-unpriv-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  std::string root = tmpl;
  ::chmod(root.c_str(), 0755);
  fs::create_directories(root + "/bin");
  fs::create_directories(root + "/profiles");
  ::chmod((root + "/bin").c_str(), 0755);
  ::chmod((root + "/profiles").c_str(), 0755);
  std::string paddock = copy_exe(env_or("PADDOCK_BIN", ""), root + "/bin", "paddock");
  std::string probe = copy_exe(env_or("PADDOCK_PROBE", ""), root + "/bin", "paddock-probe");
  std::string self = copy_exe("/proc/self/exe", root + "/bin", "integration-tests");
  // paddock-tools and its worker (the Tools and Mcp suites), the test tools and the examples.
  std::string tools_bin, worker_bin;
  if (!env_or("PADDOCK_TOOLS_BIN", "").empty() && !env_or("PADDOCK_WORKER_BIN", "").empty()) {
    tools_bin = copy_exe(env_or("PADDOCK_TOOLS_BIN", ""), root + "/bin", "paddock-tools");
    worker_bin = copy_exe(env_or("PADDOCK_WORKER_BIN", ""), root + "/bin", "paddock-tool-worker");
  }
  auto copy_tree = [](const std::string& from, const std::string& to) {
    std::error_code ec;
    if (!fs::is_directory(from, ec)) return;
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    for (const auto& e : fs::recursive_directory_iterator(to, ec)) {
      ::chmod(e.path().c_str(), e.is_directory() ? 0755 : 0644);
    }
    ::chmod(to.c_str(), 0755);
  };
  const std::string source_root = env_or("PADDOCK_SOURCE_ROOT", ".");
  copy_tree(env_or("PADDOCK_IT_TOOLS", source_root + "/tests/integration/tools"), root + "/it-tools");
  std::string profiles_src = env_or("PADDOCK_SHIPPED_PROFILES", env_or("PADDOCK_SOURCE_ROOT", ".") + "/profiles");
  for (const auto& e : fs::directory_iterator(profiles_src)) {
    if (e.path().extension() != ".toml") continue;
    std::string to = root + "/profiles/" + e.path().filename().string();
    fs::copy_file(e.path(), to, fs::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0644);  // root-owned and not writable by others: trusted by paddock
  }
  copy_tree(profiles_src + "/examples", root + "/profiles/examples");
  std::string home = root + "/home";
  fs::create_directories(home);
  ::chown(home.c_str(), nobody, nobody);
  ::chmod(home.c_str(), 0700);

  Args env = {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "HOME=" + home,
      "USER=nobody",
      "LOGNAME=nobody",
      "XDG_STATE_HOME=" + home + "/.local/state",
      "XDG_CONFIG_HOME=" + home + "/.config",
      "TMPDIR=/tmp",
      "PADDOCK_BIN=" + paddock,
      "PADDOCK_PROBE=" + probe,
      "PADDOCK_SHIPPED_PROFILES=" + root + "/profiles",
      "PADDOCK_IT_VARIANT=unprivileged",
      "PADDOCK_IT_TOOLS=" + root + "/it-tools",
  };
  if (!tools_bin.empty()) {
    env.push_back("PADDOCK_TOOLS_BIN=" + tools_bin);
    env.push_back("PADDOCK_WORKER_BIN=" + worker_bin);
  }
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "GTEST_", 6) == 0 || std::strncmp(*e, "PADDOCK_IT_KEEP=", 16) == 0) env.push_back(*e);
  }
  Args args = {setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--", self};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--gtest_output", 0) == 0) continue;  // the build folder is not writable by 65534
    args.push_back(a);
  }
  std::fprintf(stderr, "integration-unprivileged: re-running as uid 65534 from %s\n", root.c_str());
  std::fflush(stderr);
  CStrings a(args), e(env);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(home.c_str()) != 0) ::_exit(121);
    ::execve(a.get()[0], a.get(), e.get());
    ::_exit(120);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::error_code ec;
  if (std::getenv("PADDOCK_IT_KEEP") == nullptr) fs::remove_all(root, ec);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("PADDOCK_IT_UNPRIVILEGED") != nullptr) return run_unprivileged(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  g.paddock = env_or("PADDOCK_BIN", "");
  std::string probe = env_or("PADDOCK_PROBE", "");
  if (::testing::GTEST_FLAG(list_tests)) return RUN_ALL_TESTS();
  if (g.paddock.empty() || probe.empty()) {
    std::fprintf(stderr, "integration-tests: PADDOCK_BIN and PADDOCK_PROBE must be set\n");
    return 2;
  }
  g.profiles = env_or("PADDOCK_SHIPPED_PROFILES", env_or("PADDOCK_SOURCE_ROOT", "") + "/profiles");
  g.tools_bin = env_or("PADDOCK_TOOLS_BIN", "");
  g.worker_bin = env_or("PADDOCK_WORKER_BIN", "");
  g.it_tools = env_or("PADDOCK_IT_TOOLS", env_or("PADDOCK_SOURCE_ROOT", ".") + "/tests/integration/tools");
  g.examples = g.profiles + "/examples";
  g.uid = ::getuid();
  g.gid = ::getgid();
  g.landlock_abi = landlock_abi();
  char tmpl[] = "/tmp/paddock-it-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 2;
  g.base = tmpl;
  ::chmod(g.base.c_str(), 0755);
  fs::create_directories(g.base + "/bin");
  write_file(g.base + "/.host-only", "");
  g.probe = copy_exe(probe, g.base + "/bin", "paddock-probe");
  g.paddock_copy = copy_exe(g.paddock, g.base + "/bin", "paddock");
  std::fprintf(stderr, "integration-tests: %s, uid %u, Landlock ABI %d, paddock %s\n",
               env_or("PADDOCK_IT_VARIANT", g.uid == 0 ? "root" : "user").c_str(), g.uid, g.landlock_abi,
               g.paddock.c_str());
  int rc = RUN_ALL_TESTS();
  std::error_code ec;
  if (std::getenv("PADDOCK_IT_KEEP") == nullptr) fs::remove_all(g.base, ec);
  return rc;
}

// ------------------------------------------------------------------------------------------
// ToolsInRun: the profile's tools served inside `paddock run` (issue 7) as MCP on
// /run/paddock/mcp.sock and http://127.0.0.1:PORT/mcp, with an agent stand-in (bash, curl and
// the probe) inside the sandbox.

namespace {

class ToolsInRunTest : public ToolTest {
 protected:
  static constexpr const char* kSecret = "tool-only-s3cr3t-7f1c9a";

  std::string profile(const std::string& extra = "") {
    write_file(dir_ + "/secret.txt", std::string(kSecret) + "-file", 0644);
    return tool_profile("inrun",
                        "[secrets.TOOL_TOKEN]\nfrom_env = \"PADDOCK_IT_TOOL_TOKEN\"\n\n"
                        "[secrets.TOOL_FILE]\nfrom_file = \"@DIR@/secret.txt\"\nexpose = \"file\"\n\n"
                        "[[tool]]\nname = \"echo\"\nscript = \"tools/echo.js\"\n\n"
                        "[[tool]]\nname = \"hostcall\"\nscript = \"tools/hostcall.js\"\n"
                        "grants = { secrets = [\"TOOL_TOKEN\", \"TOOL_FILE\"] }\n" +
                            extra,
                        {"echo.js", "hostcall.js"}, {{"DIR", dir_}});
  }

  // `paddock run -p PROFILE FLAGS... -- bash -c SCRIPT` with the tool's secret in paddock's env.
  Result agent(const std::string& prof, const std::string& script, const Args& flags = {}) {
    Args a = {"run", "-p", prof, "--audit", next_audit()};
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {"--", "bash", "-c", script});
    return paddock_tool(a, "", 60, {std::string("PADDOCK_IT_TOOL_TOKEN=") + kSecret});
  }

  static bool have_curl() { return ::access("/usr/bin/curl", X_OK) == 0; }

  static std::string init_json() {
    return R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
           R"("capabilities":{},"clientInfo":{"name":"it","version":"1"}}})";
  }
  static std::string call_json(int id, const std::string& name, const json& args) {
    return json({{"jsonrpc", "2.0"},
                 {"id", id},
                 {"method", "tools/call"},
                 {"params", {{"name", name}, {"arguments", args}}}})
        .dump();
  }
  static std::string q(const std::string& s) {  // single-quoted for bash
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
};

using ToolsInRun = ToolsInRunTest;

TEST_F(ToolsInRun, AgentListsAndCallsOverHttpAndSocket) {
  if (!have_curl()) GTEST_SKIP() << "no /usr/bin/curl";
  const std::string prof = profile();
  const json secret_step = {{"steps", {{{"fn", "secret"}, {"name", "TOOL_TOKEN"}, {"expect", kSecret}}}}};
  const std::string script =
      "set -e\n"
      "H='Content-Type: application/json'\n"
      "echo \"url=$PADDOCK_MCP_URL sock=$PADDOCK_MCP_SOCKET\"\n"
      "SID=$(curl -sS -D - -o /dev/null -H \"$H\" --data " +
      q(init_json()) +
      " \"$PADDOCK_MCP_URL\" | tr -d '\\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')\n"
      "echo \"sid=$SID\"\n"
      "echo http-notify=$(curl -sS -o /dev/null -w '%{http_code}' -H \"$H\" -H \"Mcp-Session-Id: $SID\" --data "
      "'{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}' \"$PADDOCK_MCP_URL\")\n"
      "echo http-list=$(curl -sS -H \"$H\" -H \"Mcp-Session-Id: $SID\" --data "
      "'{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}' \"$PADDOCK_MCP_URL\")\n"
      "echo http-call=$(curl -sS -H \"$H\" -H \"Mcp-Session-Id: $SID\" --data " +
      q(call_json(3, "echo", {{"text", "over-http"}})) +
      " \"$PADDOCK_MCP_URL\")\n"
      "echo http-secret=$(curl -sS -H \"$H\" -H \"Mcp-Session-Id: $SID\" --data " +
      q(call_json(4, "hostcall", secret_step)) +
      " \"$PADDOCK_MCP_URL\")\n"
      "echo http-get=$(curl -sS -o /dev/null -w '%{http_code}' \"$PADDOCK_MCP_URL\")\n"
      "echo http-origin=$(curl -sS -o /dev/null -w '%{http_code}' -H \"$H\" -H 'Origin: http://evil.example' "
      "--data '{}' \"$PADDOCK_MCP_URL\")\n"
      "echo unix-http=$(curl -sS --unix-socket \"$PADDOCK_MCP_SOCKET\" -H \"$H\" --data " +
      q(init_json()) +
      " http://localhost/mcp)\n"
      "echo socket:\n" +
      probe_ + " unix-lines \"$PADDOCK_MCP_SOCKET\" " + q(init_json()) +
      " '{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}' "
      "'{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}' " +
      q(call_json(3, "echo", {{"text", "over-socket"}})) + "\n";
  Result r = agent(prof, script);
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "url=http://127.0.0.1:8765/mcp sock=/run/paddock/mcp.sock")) << r;
  EXPECT_FALSE(contains(r.out, "sid=\n")) << r;
  EXPECT_TRUE(contains(r.out, "http-notify=202")) << r;
  EXPECT_TRUE(contains(r.out, "\"name\":\"echo\"")) << r;
  EXPECT_TRUE(contains(r.out, "\"name\":\"hostcall\"")) << r;
  EXPECT_TRUE(contains(r.out, "over-http")) << r;
  EXPECT_TRUE(contains(r.out, "\"matches\":true")) << r;  // the tool reads its secret
  EXPECT_TRUE(contains(r.out, "http-get=405")) << r;
  EXPECT_TRUE(contains(r.out, "http-origin=403")) << r;
  EXPECT_TRUE(contains(r.out, "unix-http={\"id\":1,\"jsonrpc\":\"2.0\",\"result\"")) << r;

  // The socket speaks one JSON-RPC message per line.
  std::string sock = r.out.substr(r.out.find("socket:\n") + 8);
  std::vector<std::string> lines = lines_of(sock);
  ASSERT_EQ(lines.size(), 3u) << r;
  for (const auto& l : lines) EXPECT_TRUE(json::accept(l)) << l;
  EXPECT_TRUE(contains(lines[1], "\"name\":\"hostcall\"")) << r;
  EXPECT_TRUE(contains(lines[2], "over-socket")) << r;

  // Every call is in the run's one log, in one intact hash chain (the secret's value is in it
  // only because this test's own command line and tool input carry it).
  std::vector<json> ev = audit_events(last_audit_);
  EXPECT_EQ(pick(ev, "tool", "call").size(), 3u) << dump(ev);
  EXPECT_EQ(pick(ev, "tool", "result").size(), 3u) << dump(ev);
  EXPECT_EQ(pick(ev, "session", "start").size(), 1u) << dump(ev);
  EXPECT_EQ(pick(ev, "session", "exit").size(), 1u) << dump(ev);
  EXPECT_EQ(pick(ev, "credential", "allow").size(), 1u) << dump(ev);
  Result v = paddock_tool({"log", "--verify", last_audit_});
  EXPECT_EQ(v.code, 0) << v;
}

TEST_F(ToolsInRun, ToolSecretsAreNowhereInTheAgentsSandbox) {
  const std::string prof = profile();
  const std::string script =
      "env; echo ENV-END\n"
      "ls -la /run/secrets 2>&1; ls -la /run 2>&1\n"
      "for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do cat \"$f\" 2>/dev/null | tr '\\0' '\\n'; done\n"
      // The pattern arrives reversed through a pipe: no command line holds the value itself.
      "grep -rlF -f <(echo " +
      std::string(std::string_view(kSecret).rbegin(), std::string_view(kSecret).rend()) +
      " | rev) /run /tmp /proc/[0-9]*/environ /proc/[0-9]*/cmdline " + work_ + " 2>/dev/null; echo GREP-END\n";
  Result r = agent(prof, script);
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "GREP-END")) << r;
  EXPECT_FALSE(contains(r.out, kSecret)) << r;
  EXPECT_FALSE(contains(r.out, "TOOL_TOKEN")) << r;
  EXPECT_FALSE(contains(r.out, "PADDOCK_IT_TOOL_TOKEN")) << r;
  EXPECT_FALSE(contains(r.out, "TOOL_FILE")) << r;
  // The dry run says why.
  Result d = paddock_tool({"run", "-p", prof, "--dry-run", "--", "true"});
  ASSERT_EQ(d.code, 0) << d;
  EXPECT_TRUE(contains(d.out, "secret TOOL_TOKEN")) << d;
  EXPECT_TRUE(contains(d.out, "kept out of the sandbox")) << d;
  EXPECT_TRUE(contains(d.out, "[tools endpoint]")) << d;
  EXPECT_TRUE(contains(d.out, "PADDOCK_MCP_URL = \"http://127.0.0.1:8765/mcp\"")) << d;
}

TEST_F(ToolsInRun, ProfilesWithoutToolsGetNoEndpoint) {
  Result r = run({}, {"bash", "-c",
                      "env | grep PADDOCK_MCP; ls /run/paddock 2>&1; " + probe_ +
                          " tcp-connect 127.0.0.1 8765 2>&1 || true; echo DONE"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_FALSE(contains(r.out, "PADDOCK_MCP")) << r;
  EXPECT_TRUE(contains(r.out, "No such file or directory")) << r;
  Result d = run({"--dry-run"}, {"true"});
  EXPECT_FALSE(contains(d.out, "tools endpoint")) << d;
  EXPECT_FALSE(contains(d.out, "/run/paddock")) << d;
  // --mcp-config has nothing to point at.
  Result c = run({"--mcp-config", dir_ + "/x.json"}, {"true"});
  EXPECT_EQ(c.code, 125) << c;
  EXPECT_TRUE(contains(c.err, "declares no tools")) << c;
}

TEST_F(ToolsInRun, HostNetworkServesTheSocketOnly) {
  const std::string prof = profile();
  Result r = agent(prof,
                   "echo \"url=${PADDOCK_MCP_URL:-unset}\"; " + probe_ + " unix-lines \"$PADDOCK_MCP_SOCKET\" " +
                       q(call_json(1, "echo", {{"text", "host-mode"}})) + " 2>&1 | head -c 300; echo",
                   {"--net", "host"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "url=unset")) << r;
  // A call without initialize is refused by the server, which still answers on the socket.
  EXPECT_TRUE(contains(r.out, "\"jsonrpc\":\"2.0\"")) << r;
}

TEST_F(ToolsInRun, McpConfigFilesForClaudeCodeAndCodex) {
  const std::string prof = profile();
  const std::string jf = work_ + "/.mcp.json", tf = work_ + "/config.toml";
  Result r = agent(prof, "cat .mcp.json", {"--mcp-config", jf});
  ASSERT_EQ(r.code, 0) << r;
  json j = json::parse(read_file(jf), nullptr, false);
  EXPECT_EQ(j["mcpServers"]["paddock"]["type"], "http") << read_file(jf);
  EXPECT_EQ(j["mcpServers"]["paddock"]["url"], "http://127.0.0.1:8765/mcp") << read_file(jf);
  EXPECT_TRUE(contains(r.out, "mcpServers")) << r;  // the agent reads it in its working directory
  r = agent(prof, "true", {"--mcp-config", tf});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(read_file(tf), "[mcp_servers.paddock]\nurl = \"http://127.0.0.1:8765/mcp\"\n")) << read_file(tf);
}

}  // namespace

// ==========================================================================================
// KillSwitches: the session's tool kill switches (issue 7)
//
// `[limits] max_tool_calls` (calls that ran in one session), a tool's `max_calls`, and loop
// detection (`tool_loop`, default 5: the N-th identical call in a row -- same tool, same input --
// is refused). A refusal is a tool error (isError) naming the setting and its profile line, and
// an audit event of layer "limit" (action "deny", extra "limit"); `on_exceed = "kill"` ends the
// session instead: a "limit"/"kill" event, a session exit event with status 137, exit 137.
// Calls go one at a time (each response awaited before the next request): `paddock mcp` runs
// tools/call requests on several threads, so requests sent back to back may run in any order.

namespace {

class KillSwitchTest : public ToolTest {
 protected:
  // Line (1-based) of the first line of `path` holding `needle`, or 0.
  static int line_in(const std::string& path, const std::string& needle) {
    int n = 0;
    for (const auto& l : lines_of(read_file(path))) {
      ++n;
      if (contains(l, needle)) return n;
    }
    return 0;
  }

  // A profile with `limits` as its [limits] table and the tools "echo" and "other" (echo.js);
  // `echo_extra` is added to the echo tool's table.
  std::string limits_profile(const std::string& limits, const std::string& echo_extra = "") {
    std::string body = limits.empty() ? "" : "[limits]\n" + limits + "\n\n";
    body += "[[tool]]\nname = \"echo\"\nscript = \"tools/echo.js\"\n" + echo_extra +
            "\n[[tool]]\nname = \"other\"\nscript = \"tools/echo.js\"\n";
    return tool_profile("limits", body, {"echo.js"});
  }

  // One tools/call, awaited: the call's answer is expected to be a result, not a protocol error.
  json call_one(McpClient& c, int id, const std::string& tool, const std::string& text) {
    json r = c.call(id, tool, {{"text", text}}, 20);
    EXPECT_TRUE(r.contains("result")) << tool << " " << text << ": " << r.dump();
    return r;
  }
  static bool answered(const json& r, const std::string& text) {
    return r.contains("result") && !is_tool_error(r) &&
           r["result"]["structuredContent"] == json({{"echo", {{"text", text}}}});
  }
};

using KillSwitches = KillSwitchTest;

TEST_F(KillSwitches, MaxToolCallsRefusesTheFourthCall) {
  const std::string p = limits_profile("max_tool_calls = 3");
  const int line = line_in(p, "max_tool_calls");
  ASSERT_GT(line, 0);
  auto c = mcp(p);
  const std::string audit = last_audit_;
  ASSERT_TRUE(c->initialize().contains("result"));
  // Input the schema refuses never runs, and does not count.
  json invalid = c->call(1, "echo", {{"nope", 1}});
  EXPECT_TRUE(is_tool_error(invalid)) << invalid.dump();
  for (int i = 2; i <= 4; ++i) {
    const std::string text = "call-" + std::to_string(i);
    json r = call_one(*c, i, i == 3 ? "other" : "echo", text);
    EXPECT_TRUE(answered(r, text)) << i << ": " << r.dump();
  }
  // The fourth call that would run is refused, whichever tool, and so is every one after it.
  for (int i = 5; i <= 6; ++i) {
    json r = call_one(*c, i, i == 5 ? "echo" : "other", "call-" + std::to_string(i));
    EXPECT_TRUE(is_tool_error(r)) << r.dump();
    EXPECT_TRUE(contains(result_text(r), "limits.max_tool_calls = 3")) << r.dump();
    EXPECT_TRUE(contains(result_text(r), p + ":" + std::to_string(line))) << "no profile line: " << r.dump();
  }
  // The session goes on: other requests are still answered.
  json ping = c->request(7, "ping", json::object());
  EXPECT_EQ(ping["result"], json::object()) << ping.dump();
  Result r = c->close();
  EXPECT_EQ(r.code, 0) << r;

  auto ev = audit_events(audit);
  auto denies = pick(ev, "limit", "deny");
  ASSERT_EQ(denies.size(), 2u) << dump(ev);
  EXPECT_EQ(denies[0].value("limit", ""), "max_tool_calls") << denies[0].dump();
  EXPECT_EQ(denies[0].value("tool", ""), "echo") << denies[0].dump();
  EXPECT_EQ(denies[0].value("subject", ""), "echo") << denies[0].dump();
  EXPECT_FALSE(denies[0].value("call", "").empty()) << denies[0].dump();
  EXPECT_EQ(denies[0].value("input_sha256", ""), sha256_hex(json({{"text", "call-5"}}).dump())) << denies[0].dump();
  EXPECT_TRUE(contains(denies[0].value("reason", ""), p + ":" + std::to_string(line))) << denies[0].dump();
  EXPECT_EQ(denies[1].value("tool", ""), "other") << denies[1].dump();
  EXPECT_EQ(pick(ev, "tool", "call").size(), 3u) << dump(ev);
  EXPECT_EQ(pick(ev, "tool", "result").size(), 3u) << dump(ev);
  EXPECT_TRUE(pick(ev, "limit", "kill").empty()) << dump(ev);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().value("action", ""), "exit") << dump(ev);
  EXPECT_EQ(ev.back().value("status", -1), 0) << ev.back().dump();
  Result v = paddock_tool({"log", "--verify", audit});
  EXPECT_EQ(v.code, 0) << v;
}

TEST_F(KillSwitches, PerToolMaxCalls) {
  const std::string p = limits_profile("", "max_calls = 2\n");
  const int line = line_in(p, "max_calls");
  ASSERT_GT(line, 0);
  auto c = mcp(p);
  const std::string audit = last_audit_;
  ASSERT_TRUE(c->initialize().contains("result"));
  EXPECT_TRUE(answered(call_one(*c, 1, "echo", "a"), "a"));
  EXPECT_TRUE(answered(call_one(*c, 2, "echo", "b"), "b"));
  json refused = call_one(*c, 3, "echo", "c");
  EXPECT_TRUE(is_tool_error(refused)) << refused.dump();
  EXPECT_TRUE(contains(result_text(refused), "max_calls = 2")) << refused.dump();
  EXPECT_TRUE(contains(result_text(refused), "echo")) << refused.dump();
  EXPECT_TRUE(contains(result_text(refused), p + ":" + std::to_string(line))) << refused.dump();
  // Another tool has its own count (none).
  for (int i = 4; i <= 6; ++i) {
    const std::string text = "o" + std::to_string(i);
    EXPECT_TRUE(answered(call_one(*c, i, "other", text), text)) << i;
  }
  EXPECT_TRUE(is_tool_error(call_one(*c, 7, "echo", "d")));
  EXPECT_EQ(c->close().code, 0);

  auto ev = audit_events(audit);
  auto denies = pick(ev, "limit", "deny");
  ASSERT_EQ(denies.size(), 2u) << dump(ev);
  for (const auto& d : denies) {
    EXPECT_EQ(d.value("limit", ""), "max_calls") << d.dump();
    EXPECT_EQ(d.value("tool", ""), "echo") << d.dump();
  }
  EXPECT_EQ(pick(ev, "tool", "result").size(), 5u) << dump(ev);
}

TEST_F(KillSwitches, ToolLoopRefusesTheThirdIdenticalCall) {
  const std::string p = limits_profile("tool_loop = 3");
  const int line = line_in(p, "tool_loop");
  ASSERT_GT(line, 0);
  auto c = mcp(p);
  const std::string audit = last_audit_;
  ASSERT_TRUE(c->initialize().contains("result"));
  int id = 1;
  auto expect_ok = [&](const std::string& tool, const std::string& text) {
    json r = call_one(*c, id++, tool, text);
    EXPECT_TRUE(answered(r, text)) << "call " << id - 1 << " " << tool << " " << text << ": " << r.dump();
  };
  auto expect_loop = [&](const std::string& tool, const std::string& text) {
    json r = call_one(*c, id++, tool, text);
    EXPECT_TRUE(is_tool_error(r)) << "call " << id - 1 << " " << tool << " " << text << ": " << r.dump();
    EXPECT_TRUE(contains(result_text(r), "limits.tool_loop = 3")) << r.dump();
    EXPECT_TRUE(contains(result_text(r), p + ":" + std::to_string(line))) << r.dump();
  };
  expect_ok("echo", "same");
  expect_ok("echo", "same");
  expect_loop("echo", "same");     // the third in a row
  expect_loop("echo", "same");     // still the same run
  expect_ok("echo", "different");  // another input ends the run
  expect_ok("echo", "same");
  expect_ok("echo", "same");
  expect_loop("echo", "same");
  // The same input to another tool in between is not "in a row".
  expect_ok("other", "same");
  expect_ok("echo", "same");
  expect_ok("other", "same");
  expect_ok("echo", "same");
  EXPECT_EQ(c->close().code, 0);

  auto ev = audit_events(audit);
  auto denies = pick(ev, "limit", "deny");
  ASSERT_EQ(denies.size(), 3u) << dump(ev);
  for (const auto& d : denies) {
    EXPECT_EQ(d.value("limit", ""), "tool_loop") << d.dump();
    EXPECT_EQ(d.value("input_sha256", ""), sha256_hex(json({{"text", "same"}}).dump())) << d.dump();
  }
  EXPECT_EQ(pick(ev, "tool", "result").size(), 9u) << dump(ev);
}

TEST_F(KillSwitches, DefaultLoopLimitIsFive) {
  const std::string p = limits_profile("");
  auto c = mcp(p);
  const std::string audit = last_audit_;
  ASSERT_TRUE(c->initialize().contains("result"));
  for (int i = 1; i <= 4; ++i) EXPECT_TRUE(answered(call_one(*c, i, "echo", "again"), "again")) << i;
  json fifth = call_one(*c, 5, "echo", "again");
  EXPECT_TRUE(is_tool_error(fifth)) << fifth.dump();
  EXPECT_TRUE(contains(result_text(fifth), "limits.tool_loop = 5")) << fifth.dump();
  EXPECT_TRUE(contains(result_text(fifth), "5 times in a row")) << fifth.dump();
  EXPECT_TRUE(answered(call_one(*c, 6, "echo", "new"), "new"));
  EXPECT_EQ(c->close().code, 0);
  auto denies = pick(audit_events(audit), "limit", "deny");
  ASSERT_EQ(denies.size(), 1u) << read_file(audit);
  EXPECT_EQ(denies[0].value("limit", ""), "tool_loop") << denies[0].dump();
}

// on_exceed = "kill", for each kill switch: the call that trips it gets no answer, `paddock mcp`
// exits 137, and the log ends with a limit/kill event and the session's exit (status 137).
TEST_F(KillSwitches, OnExceedKillEndsTheMcpSession) {
  struct Case {
    std::string limits, echo_extra, limit;
    std::vector<std::string> texts;  // echo calls; the last one trips the switch
  };
  const Case cases[] = {
      {"max_tool_calls = 2\non_exceed = \"kill\"", "", "max_tool_calls", {"a", "b", "c"}},
      {"on_exceed = \"kill\"", "max_calls = 1\n", "max_calls", {"a", "b"}},
      {"tool_loop = 2\non_exceed = \"kill\"", "", "tool_loop", {"a", "b", "b"}},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.limit);
    const std::string p = limits_profile(k.limits, k.echo_extra);
    auto c = mcp(p);
    const std::string audit = last_audit_;
    ASSERT_TRUE(c->initialize().contains("result"));
    int id = 1;
    for (size_t i = 0; i + 1 < k.texts.size(); ++i) {
      EXPECT_TRUE(answered(call_one(*c, id, "echo", k.texts[i]), k.texts[i])) << id;
      ++id;
    }
    json last = c->call(id, "echo", {{"text", k.texts.back()}}, 20);
    EXPECT_TRUE(last.is_null()) << "the call that ended the session was answered: " << last.dump();
    Result r = c->close(20);
    EXPECT_EQ(r.code, 137) << r;
    EXPECT_FALSE(r.timed_out) << r;
    EXPECT_TRUE(contains(r.err, "kill switch")) << r;
    expect_only_jsonrpc(r.out);

    auto ev = audit_events(audit);
    auto kills = pick(ev, "limit", "kill");
    ASSERT_EQ(kills.size(), 1u) << dump(ev);
    EXPECT_EQ(kills[0].value("limit", ""), k.limit) << kills[0].dump();
    EXPECT_EQ(kills[0].value("tool", ""), "echo") << kills[0].dump();
    EXPECT_TRUE(contains(kills[0].value("reason", ""), "on_exceed")) << kills[0].dump();
    EXPECT_TRUE(pick(ev, "limit", "deny").empty()) << dump(ev);
    EXPECT_EQ(pick(ev, "tool", "result").size(), k.texts.size() - 1) << dump(ev);
    auto exits = pick(ev, "session", "exit");
    ASSERT_EQ(exits.size(), 1u) << dump(ev);
    EXPECT_EQ(exits[0].value("status", -1), 137) << exits[0].dump();
    EXPECT_EQ(ev.back(), exits[0]) << "the session's exit is not the last event\n" << dump(ev);
    Result v = paddock_tool({"log", "--verify", audit});
    EXPECT_EQ(v.code, 0) << v;
  }
}

// `paddock tool call` is a session of one call: with the smallest settings (max_tool_calls = 1,
// max_calls = 1, tool_loop = 2) and on_exceed = "kill", the one call still runs (exit 0), and
// no limit event is written.
TEST_F(KillSwitches, ToolCallIsASessionOfOneCall) {
  const std::string p = limits_profile("max_tool_calls = 1\ntool_loop = 2\non_exceed = \"kill\"", "max_calls = 1\n");
  for (int i = 0; i < 2; ++i) {  // and again: nothing is counted across sessions
    Result r = call(p, "echo", {{"text", "once"}});
    EXPECT_EQ(r.code, 0) << r;
    EXPECT_EQ(json::parse(r.out, nullptr, false), json({{"echo", {{"text", "once"}}}})) << r;
    auto ev = audit_events(last_audit_);
    EXPECT_TRUE(pick(ev, "limit", "deny").empty()) << dump(ev);
    EXPECT_TRUE(pick(ev, "limit", "kill").empty()) << dump(ev);
    auto exits = pick(ev, "session", "exit");
    ASSERT_EQ(exits.size(), 1u) << dump(ev);
    EXPECT_EQ(exits[0].value("status", -1), 0) << exits[0].dump();
  }
}

// Inside `paddock run`: the agent's calls over /run/paddock/mcp.sock trip the switch, and the
// whole run ends with 137 (the command does not get to finish).
TEST_F(KillSwitches, OnExceedKillEndsAPaddockRun) {
  const std::string p = limits_profile("max_tool_calls = 1\non_exceed = \"kill\"");
  auto rpc = [](int id, const std::string& method, const json& params) {
    return json({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}).dump();
  };
  auto q = [](const std::string& s) {
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
  };
  const std::string init = rpc(0, "initialize",
                               {{"protocolVersion", "2025-11-25"},
                                {"capabilities", json::object()},
                                {"clientInfo", {{"name", "it"}, {"version", "1"}}}});
  auto call_line = [&](int id, const std::string& text) {
    return rpc(id, "tools/call", {{"name", "echo"}, {"arguments", {{"text", text}}}});
  };
  // One connection per call: the first is answered before the second is sent.
  const std::string script = probe_ + " unix-lines \"$PADDOCK_MCP_SOCKET\" " + q(init) + " " +
                             q(call_line(1, "first")) + "; echo; " + probe_ + " unix-lines \"$PADDOCK_MCP_SOCKET\" " +
                             q(init) + " " + q(call_line(2, "second")) + "; echo; sleep 5; echo command-finished";
  const std::string audit = next_audit();
  Result r = paddock_tool({"run", "-p", p, "--audit", audit, "--", "bash", "-c", script}, "", 40);
  EXPECT_EQ(r.code, 137) << r;
  EXPECT_TRUE(contains(r.out, R"({"echo":{"text":"first"}})")) << r;
  EXPECT_FALSE(contains(r.out, "command-finished")) << r;
  EXPECT_LT(r.seconds, 5.0) << r;
  auto ev = audit_events(audit);
  auto kills = pick(ev, "limit", "kill");
  ASSERT_EQ(kills.size(), 1u) << dump(ev);
  EXPECT_EQ(kills[0].value("limit", ""), "max_tool_calls") << kills[0].dump();
  auto exits = pick(ev, "session", "exit");
  ASSERT_EQ(exits.size(), 1u) << dump(ev);
  EXPECT_EQ(exits[0].value("status", -1), 137) << exits[0].dump();
  Result v = paddock_tool({"log", "--verify", audit});
  EXPECT_EQ(v.code, 0) << v;
}

// ==========================================================================================
// Replay: `paddock replay SESSION [--call ID] [--tool NAME] [--live] [-p PROFILE]` (issue 7)
//
// tools/world.js (audit = "full") reads a file (host.fs.read), a URL (host.fetch: a
// ChangingServer on 127.0.0.1, granted by address and port), a SQLite file (host.db.query) and
// optionally a secret, and returns them with Date.now() and Math.random(). The record (input,
// seed, clock, and each host answer as `<log without .jsonl>.blobs/<sha256>.json`) is enough to
// run the call again after the world changed: identical. Editing the script shows the
// difference; --live sees the changed world.

// Answers every HTTP request with 200 and the body set last (one connection at a time).
std::string plain_ok(const std::string& body) {
  return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

class ChangingServer : public CannedServer {
 public:
  explicit ChangingServer(const std::string& body) : CannedServer(plain_ok(body)) {}
  void set(const std::string& body) { set_reply(plain_ok(body)); }
};

class ReplayTest : public ToolTest {
 protected:
  static constexpr const char* kSecretEnv = "PADDOCK_IT_REPLAY_TOKEN";

  void SetUp() override {
    ToolTest::SetUp();
    data_ = dir_ + "/data.txt";
    db_ = dir_ + "/shop.sqlite";
    write_file(data_, "file before\n");
    make_db(db_,
            "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price INTEGER);"
            "INSERT INTO items VALUES(1, 'apple', 3); INSERT INTO items VALUES(2, 'pear', 4);");
    server_ = std::make_unique<ChangingServer>("server before\n");
    profile_ = tool_profile("replay", R"([secrets.IT_REPLAY_TOKEN]
from_env = "PADDOCK_IT_REPLAY_TOKEN"

[[tool]]
name = "world"
script = "tools/world.js"
audit = "full"
grants = { read = ["@DATA@"], net = ["@SERVER@"], db = { path = "@DB@", read_only = true, tables = ["items"] } }

[[tool]]
name = "world_meta"
script = "tools/world.js"
grants = { read = ["@DATA@"] }

[[tool]]
name = "echo_full"
script = "tools/echo.js"
audit = "full"

[[tool]]
name = "secretive"
script = "tools/world.js"
audit = "full"
grants = { secrets = ["IT_REPLAY_TOKEN"] }
)",
                            {"world.js", "echo.js"}, {{"DATA", data_}, {"SERVER", server_->addr()}, {"DB", db_}});
  }

  [[nodiscard]] json world_input() const {
    return {{"file", data_},
            {"url", "http://" + server_->addr() + "/answer"},
            {"sql", "SELECT id, name, price FROM items ORDER BY id"}};
  }

  // Changes everything world.js reads.
  void change_the_world() {
    write_file(data_, "file after\n");
    server_->set("server after\n");
    make_db(db_, "UPDATE items SET price = 99 WHERE id = 1; INSERT OR REPLACE INTO items VALUES(3, 'plum', 5);");
  }

  // Replaces `from` with `to` in the test's copy of a tool script.
  void edit_script(const std::string& script, const std::string& from, const std::string& to) {
    const std::string path = dir_ + "/tools/" + script;
    std::string text = read_file(path);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in " << path;
    text.replace(at, from.size(), to);
    write_file(path, text, 0644);
  }

  // `paddock replay ARGS...`
  Result replay(const Args& args, const Args& extra_env = {}) {
    Args a = {"replay"};
    a.insert(a.end(), args.begin(), args.end());
    return paddock_tool(a, "", 60, extra_env);
  }

  static std::string blobs_of(const std::string& log) { return log.substr(0, log.size() - 6) + ".blobs"; }

  // The call ids of a log's result events, in order, with their tools.
  static std::vector<std::pair<std::string, std::string>> recorded_calls(const std::string& log) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : pick(audit_events(log), "tool", "result"))
      out.emplace_back(e.value("call", ""), e.value("tool", ""));
    return out;
  }

  // Every file of a folder, concatenated.
  static std::string folder_text(const std::string& dir) {
    std::string all;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) all += read_file(e.path().string());
    return all;
  }

  std::string data_, db_, profile_;
  std::unique_ptr<ChangingServer> server_;
};

using Replay = ReplayTest;

TEST_F(Replay, RecordedWorldReplaysIdentically) {
  Result first = call(profile_, "world", world_input());
  ASSERT_EQ(first.code, 0) << first;
  const std::string log = last_audit_;
  json out = json::parse(first.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << first;
  EXPECT_EQ(out["file"], "file before\n") << first;
  EXPECT_EQ(out["fetched"], json({{"status", 200}, {"body", "server before\n"}})) << first;
  EXPECT_EQ(out["rows"], json({{1, "apple", 3}, {2, "pear", 4}})) << first;
  EXPECT_EQ(server_->accepted(), 1);

  // The record: input, output, seed, clock, and one stored answer per host call.
  auto results = pick(audit_events(log), "tool", "result");
  ASSERT_EQ(results.size(), 1u) << read_file(log);
  const json& res = results[0];
  EXPECT_EQ(res["input"], world_input()) << res.dump();
  EXPECT_EQ(res["output"], out) << res.dump();
  ASSERT_TRUE(res.contains("seed") && res["seed"].is_number_unsigned()) << res.dump();
  ASSERT_TRUE(res.contains("time_ms") && res["time_ms"].is_number_integer()) << res.dump();
  // Date.now() is the call's recorded clock (plus elapsed time, in steps of 100 ms).
  const long long drift = out["now"].get<long long>() - res["time_ms"].get<long long>();
  EXPECT_TRUE(drift >= 0 && drift < 5000 && drift % 100 == 0)
      << "Date.now() " << out["now"] << ", time_ms " << res["time_ms"];
  ASSERT_EQ(res["host_calls"].size(), 3u) << res.dump();
  std::vector<std::string> fns;
  for (const auto& h : res["host_calls"]) {
    fns.push_back(h.value("fn", ""));
    const std::string sha = h.value("answer", "");
    ASSERT_EQ(sha.size(), 64u) << h.dump();
    const std::string blob = read_file(blobs_of(log) + "/" + sha + ".json");
    EXPECT_EQ(sha256_hex(blob), sha) << "a blob's name is not its content's sha256: " << h.dump();
  }
  EXPECT_EQ(fns, (std::vector<std::string>{"fs.read", "fetch", "db.query"}));
  EXPECT_TRUE(contains(folder_text(blobs_of(log)), "server before")) << "the fetch response is not recorded";

  // The same input again gets other random numbers (a seed per call).
  Result second = call(profile_, "world", world_input());
  ASSERT_EQ(second.code, 0) << second;
  json out2 = json::parse(second.out, nullptr, false);
  EXPECT_NE(out2["random"], out["random"]) << "Math.random() is not seeded per call";

  // The world changes; the replay is answered from the record: identical, bit for bit.
  change_the_world();
  const int reached = server_->accepted();
  Result r = replay({log});
  EXPECT_EQ(r.code, 0) << r;
  const std::string id = res.value("call", "");
  EXPECT_TRUE(contains(r.out, "call " + id + "  tool world: identical\n")) << r;
  EXPECT_TRUE(contains(r.out, "1 replayed: 1 identical, 0 different, 0 failed; 0 skipped")) << r;
  EXPECT_EQ(server_->accepted(), reached) << "the replay fetched for real";

  // The session id (not the file) names the session too: a log in the default place.
  Result third = paddock_tool({"tool", "call", "-p", profile_, "world", world_input().dump()});
  ASSERT_EQ(third.code, 0) << third;
  std::string session;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(sessions_dir(), ec)) {
    if (e.path().extension() == ".jsonl") session = e.path().stem().string();
  }
  ASSERT_FALSE(session.empty()) << "no session log in " << sessions_dir();
  ASSERT_TRUE(fs::is_directory(sessions_dir() + "/" + session + ".blobs"));
  change_the_world();
  server_->set("server changed again\n");
  r = replay({session});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "1 replayed: 1 identical")) << r;
}

TEST_F(Replay, EditedScriptIsDifferentWithADiff) {
  Result first = call(profile_, "world", world_input());
  ASSERT_EQ(first.code, 0) << first;
  const std::string log = last_audit_;
  change_the_world();
  edit_script("world.js", R"(version: "v1")", R"(version: "v2")");
  Result r = replay({log});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.out, "tool world: different\n")) << r;
  EXPECT_TRUE(contains(r.out, "-   \"version\": \"v1\"")) << r;
  EXPECT_TRUE(contains(r.out, "+   \"version\": \"v2\"")) << r;
  // Only the version differs: the file, the fetch, the rows, the clock and the dice are the same.
  for (const auto& l : lines_of(r.out)) {
    if (l.rfind("- ", 0) == 0 || l.rfind("+ ", 0) == 0) {
      EXPECT_TRUE(contains(l, "\"version\"")) << l << "\n" << r;
    }
  }
  EXPECT_TRUE(contains(r.out, "1 replayed: 0 identical, 1 different, 0 failed; 0 skipped")) << r;

  // A script that no longer makes the recorded host calls diverges: failed.
  edit_script("world.js", "if (input.url !== undefined) {", "if (false) {");
  r = replay({log});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.out, "tool world: failed: ")) << r;
  EXPECT_TRUE(contains(r.out, "0 different, 1 failed")) << r;
}

TEST_F(Replay, LiveSeesTheChangedWorld) {
  Result first = call(profile_, "world", world_input());
  ASSERT_EQ(first.code, 0) << first;
  const std::string log = last_audit_;
  // The world as it was: the same answers for real (and the same clock and dice).
  Result r = replay({log, "--live"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "tool world: identical")) << r;
  EXPECT_EQ(server_->accepted(), 2);
  change_the_world();
  r = replay({log, "--live"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.out, "tool world: different\n")) << r;
  EXPECT_TRUE(contains(r.out, "-   \"file\": \"file before\\n\"")) << r;
  EXPECT_TRUE(contains(r.out, "+   \"file\": \"file after\\n\"")) << r;
  EXPECT_TRUE(contains(r.out, "server after")) << r;
  EXPECT_TRUE(contains(r.out, "plum")) << r;
  EXPECT_EQ(server_->accepted(), 3);
  // From the record again: identical.
  r = replay({log});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(server_->accepted(), 3);
}

// A secret's value is never stored (the blob holds its name); the replay reads the current value
// again, or -- without it -- gives the script the placeholder "<secret NAME>".
TEST_F(Replay, SecretValueIsNeverStored) {
  const std::string value = "replay-" + unique_marker("secret");
  const Args with_secret = {std::string(kSecretEnv) + "=" + value};
  Result first = call(profile_, "secretive", {{"secret", "IT_REPLAY_TOKEN"}}, {}, with_secret);
  ASSERT_EQ(first.code, 0) << first;
  const std::string log = last_audit_;
  json out = json::parse(first.out, nullptr, false);
  EXPECT_EQ(out["secret"]["length"], value.size()) << first;
  EXPECT_EQ(out["secret"]["placeholder"], false) << first;
  auto results = pick(audit_events(log), "tool", "result");
  ASSERT_EQ(results.size(), 1u) << read_file(log);
  ASSERT_EQ(results[0]["host_calls"].size(), 1u) << results[0].dump();
  const std::string sha = results[0]["host_calls"][0].value("answer", "");
  ASSERT_FALSE(sha.empty()) << results[0].dump();
  const std::string blob = read_file(blobs_of(log) + "/" + sha + ".json");
  EXPECT_TRUE(contains(blob, "IT_REPLAY_TOKEN")) << blob;
  auto nowhere = [&](const std::string& when) {
    EXPECT_FALSE(contains(read_file(log), value)) << when << ": the secret's value is in the log";
    EXPECT_FALSE(contains(folder_text(blobs_of(log)), value)) << when << ": the secret's value is in a blob";
  };
  nowhere("after the call");

  // With the secret's source set, the replay reads it again: identical.
  Result r = replay({log}, with_secret);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "tool secretive: identical")) << "the replay did not get the secret's current value\n"
                                                            << r;
  EXPECT_FALSE(contains(r.out + r.err, value)) << r;
  // Without it: the placeholder, so the output differs (and says so).
  r = replay({log});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.out, "tool secretive: different")) << r;
  EXPECT_TRUE(contains(r.out, "+     \"placeholder\": true")) << r;
  nowhere("after the replays");
}

TEST_F(Replay, MetadataAuditIsSkipped) {
  auto c = mcp(profile_);
  const std::string log = last_audit_;
  ASSERT_TRUE(c->initialize().contains("result"));
  json a = c->call(1, "world_meta", {{"file", data_}}, 20);
  EXPECT_FALSE(is_tool_error(a)) << a.dump();
  json b = c->call(2, "world", world_input(), 20);
  EXPECT_FALSE(is_tool_error(b)) << b.dump();
  ASSERT_EQ(c->close().code, 0);
  auto calls = recorded_calls(log);
  ASSERT_EQ(calls.size(), 2u) << read_file(log);
  change_the_world();
  Result r = replay({log});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "call " + calls[0].first + "  tool world_meta: skipped (")) << r;
  EXPECT_TRUE(contains(r.out, "call " + calls[1].first + "  tool world: identical")) << r;
  EXPECT_TRUE(contains(r.out, "1 replayed: 1 identical, 0 different, 0 failed; 1 skipped")) << r;
}

TEST_F(Replay, ToolAndCallFilters) {
  auto c = mcp(profile_);
  const std::string log = last_audit_;
  ASSERT_TRUE(c->initialize().contains("result"));
  EXPECT_FALSE(is_tool_error(c->call(1, "world", world_input(), 20)));
  EXPECT_FALSE(is_tool_error(c->call(2, "echo_full", {{"text", "one"}}, 20)));
  EXPECT_FALSE(is_tool_error(c->call(3, "world", {{"file", data_}}, 20)));
  EXPECT_FALSE(is_tool_error(c->call(4, "echo_full", {{"text", "two"}}, 20)));
  ASSERT_EQ(c->close().code, 0);
  auto calls = recorded_calls(log);
  ASSERT_EQ(calls.size(), 4u) << read_file(log);
  change_the_world();
  // Make the world calls differ, the echo calls not.
  edit_script("world.js", R"(version: "v1")", R"(version: "v2")");

  Result r = replay({log, "--tool", "echo_full"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "call " + calls[1].first + "  tool echo_full: identical")) << r;
  EXPECT_TRUE(contains(r.out, "call " + calls[3].first + "  tool echo_full: identical")) << r;
  EXPECT_FALSE(contains(r.out, "tool world")) << r;
  EXPECT_TRUE(contains(r.out, "2 replayed: 2 identical, 0 different")) << r;

  r = replay({log, "--tool", "world"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_FALSE(contains(r.out, "echo_full")) << r;
  EXPECT_TRUE(contains(r.out, "2 replayed: 0 identical, 2 different")) << r;

  r = replay({log, "--call", calls[2].first});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.out, "call " + calls[2].first + "  tool world: different")) << r;
  EXPECT_FALSE(contains(r.out, calls[0].first)) << r;
  EXPECT_TRUE(contains(r.out, "1 replayed: 0 identical, 1 different")) << r;

  r = replay({log, "--call", calls[3].first});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(contains(r.out, "call " + calls[3].first + "  tool echo_full: identical")) << r;
  EXPECT_TRUE(contains(r.out, "1 replayed: 1 identical")) << r;

  // Both filters: the call must match each.
  r = replay({log, "--call", calls[3].first, "--tool", "world"});
  EXPECT_TRUE(contains(r.out, "0 replayed")) << r;
}

TEST_F(Replay, DamagedBlobIsReportedFailed) {
  Result first = call(profile_, "world", world_input());
  ASSERT_EQ(first.code, 0) << first;
  const std::string log = last_audit_;
  auto results = pick(audit_events(log), "tool", "result");
  ASSERT_EQ(results.size(), 1u) << read_file(log);
  ASSERT_EQ(results[0]["host_calls"].size(), 3u) << results[0].dump();
  // The fetch answer: one byte of its body flipped (still valid JSON: only the digest tells).
  const std::string fetch_blob = blobs_of(log) + "/" + results[0]["host_calls"][1].value("answer", "") + ".json";
  std::string text = read_file(fetch_blob);
  size_t at = text.find("server before");
  ASSERT_NE(at, std::string::npos) << text;
  text[at] = 'S';
  ::chmod(fetch_blob.c_str(), 0600);
  write_file(fetch_blob, text, 0600);
  Result r = replay({log});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(r.sig, 0) << r;
  EXPECT_TRUE(contains(r.out, "tool world: failed: ")) << r;
  EXPECT_TRUE(contains(r.out, "fetch")) << r;
  EXPECT_TRUE(contains(r.out, "damaged")) << r;
  EXPECT_TRUE(contains(r.out, "1 replayed: 0 identical, 0 different, 1 failed")) << r;

  // Not JSON any more (a flipped bracket), and a blob gone: failed too, never a crash.
  text = read_file(fetch_blob);
  text[0] = static_cast<char>(text[0] ^ 0x01);
  write_file(fetch_blob, text, 0600);
  r = replay({log});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.out, "tool world: failed: ")) << r;
  fs::remove(fetch_blob);
  r = replay({log});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(contains(r.out, "tool world: failed: ")) << r;
  EXPECT_TRUE(contains(r.out, "not recorded")) << r;
}

}  // namespace
