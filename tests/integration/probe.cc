// paddock-probe: runs inside a sandbox, attempts exactly one thing and reports what the
// kernel said. Every "attempt" subcommand prints exactly one line: `OK` (optionally followed
// by a detail, e.g. `OK bytes=0`) or `ERR <ERRNONAME>` (e.g. `ERR EPERM`), and exits 0 --
// or is killed by the kernel (SIGSYS for a killed system call). A few informational
// subcommands (caps, env, ls, fds, cat) print data instead.
//
// Raw system calls are used wherever libc could hide, emulate or retry what happens.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

extern char** environ;

namespace {

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

int ok(const std::string& detail = "") {
  if (detail.empty())
    std::printf("OK\n");
  else
    std::printf("OK %s\n", detail.c_str());
  return 0;
}

int err(int e) {
  const char* n = strerrorname_np(e);
  if (n != nullptr)
    std::printf("ERR %s\n", n);
  else
    std::printf("ERR %d\n", e);
  return 0;
}

// A raw syscall result: OK when >= 0, ERR errno otherwise.
int report(long rc) {
  return rc >= 0 ? ok() : err(errno);
}

long num(const char* s) {
  return std::strtol(s, nullptr, 0);
}

int usage() {
  std::fprintf(stderr, "paddock-probe: bad arguments\n");
  return 2;
}

std::string read_all(int fd, bool* failed) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *failed = true;
      return out;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  *failed = false;
  return out;
}

// read FILE: OK bytes=N, or the error of open/read.
int cmd_read(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err(errno);
  bool failed = false;
  std::string s = read_all(fd, &failed);
  int e = errno;
  ::close(fd);
  if (failed) return err(e);
  return ok("bytes=" + std::to_string(s.size()));
}

// cat FILE: the content, raw (or ERR on failure).
int cmd_cat(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err(errno);
  bool failed = false;
  std::string s = read_all(fd, &failed);
  int e = errno;
  ::close(fd);
  if (failed) return err(e);
  std::fwrite(s.data(), 1, s.size(), stdout);
  return 0;
}

int cmd_write(const char* path, int flags) {
  int fd = ::open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0) return err(errno);
  ssize_t n = ::write(fd, "paddock-probe\n", 14);
  int e = errno;
  ::close(fd);
  if (n < 0) return err(e);
  return ok();
}

int cmd_ls(const char* path) {
  DIR* d = ::opendir(path);
  if (d == nullptr) return err(errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  int e = errno;
  ::closedir(d);
  if (e != 0) return err(e);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return ok(out);
}

int cmd_stat(const char* path) {
  struct stat st {};
  if (::lstat(path, &st) != 0) return err(errno);
  char buf[128];
  std::snprintf(buf, sizeof buf, "mode=%04o type=%s size=%lld", static_cast<unsigned>(st.st_mode & 07777),
                S_ISDIR(st.st_mode)   ? "dir"
                : S_ISREG(st.st_mode) ? "file"
                : S_ISLNK(st.st_mode) ? "symlink"
                : S_ISCHR(st.st_mode) ? "chr"
                                      : "other",
                static_cast<long long>(st.st_size));
  return ok(buf);
}

// fds: the descriptors above stderr that this process holds (not counting the one used to
// list them), as OK fds=3,4 (or OK fds= when there are none).
int cmd_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return err(errno);
  int own = ::dirfd(d);
  std::vector<int> fds;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd > 2 && fd != own) fds.push_back(fd);
  }
  ::closedir(d);
  std::sort(fds.begin(), fds.end());
  std::string out = "fds=";
  for (size_t i = 0; i < fds.size(); ++i) out += (i ? "," : "") + std::to_string(fds[i]);
  return ok(out);
}

int cmd_caps() {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return err(errno);
  char line[512];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    for (const char* k :
         {"Uid:", "Gid:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"}) {
      if (std::strncmp(line, k, std::strlen(k)) == 0) std::fputs(line, stdout);
    }
  }
  std::fclose(f);
  return 0;
}

std::string status_field(pid_t pid, const char* key) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return "?";
  char line[512];
  std::string out = "?";
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, std::strlen(key)) == 0) {
      out = line + std::strlen(key);
      out.erase(0, out.find_first_not_of(" \t"));
      while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
      for (char& c : out) {
        if (c == '\t') c = ' ';
      }
    }
  }
  std::fclose(f);
  return out;
}

// setuid-exec PATH [ARG...]: exec PATH (a setuid binary) with stdin on a pipe nobody
// writes, then report the credentials the new program runs with: OK uid=R E S F capeff=X.
int cmd_setuid_exec(int argc, char** argv) {
  int in[2], sync[2];
  if (::pipe(in) != 0 || ::pipe2(sync, O_CLOEXEC) != 0) return err(errno);
  pid_t pid = ::fork();
  if (pid < 0) return err(errno);
  if (pid == 0) {
    ::dup2(in[0], 0);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    ::execv(argv[0], argv);
    int e = errno;
    ssize_t ignored = ::write(sync[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  ::close(sync[1]);
  ::close(in[0]);
  int e = 0;
  ssize_t n = ::read(sync[0], &e, sizeof e);
  if (n == sizeof e) {
    ::waitpid(pid, nullptr, 0);
    return err(e);
  }
  // The exec happened; credentials are committed a moment later. A zombie keeps them, so
  // read before reaping.
  ::usleep(300 * 1000);
  std::string uid = status_field(pid, "Uid:");
  std::string cap = status_field(pid, "CapEff:");
  std::string prm = status_field(pid, "CapPrm:");
  ::kill(pid, SIGKILL);
  ::close(in[1]);
  ::waitpid(pid, nullptr, 0);
  (void)argc;
  return ok("uid=" + uid + " capeff=" + cap + " capprm=" + prm);
}

int cmd_tiocsti(int fd, unsigned long hi) {
  char c = 'x';
  unsigned long req = hi | TIOCSTI;
  return report(::syscall(SYS_ioctl, fd, req, &c));
}

int cmd_socket(int family, int type, int proto) {
  long fd = ::syscall(SYS_socket, family, type, proto);
  if (fd < 0) return err(errno);
  ::close(static_cast<int>(fd));
  return ok();
}

bool make_addr(const char* host, const char* port, sockaddr_in* a) {
  std::memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
  return ::inet_pton(AF_INET, host, &a->sin_addr) == 1;
}

int cmd_connect(const char* host, const char* port) {
  sockaddr_in a;
  if (!make_addr(host, port, &a)) return usage();
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return err(errno);
  struct timeval tv {
    2, 0
  };
  ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int e = errno;
  ::close(s);
  return rc == 0 ? ok() : err(e);
}

int cmd_bind_tcp(const char* host, const char* port) {
  sockaddr_in a;
  if (!make_addr(host, port, &a)) return usage();
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return err(errno);
  int rc = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int e = errno;
  ::close(s);
  return rc == 0 ? ok() : err(e);
}

int cmd_udp_send(const char* host, const char* port, const char* payload) {
  sockaddr_in a;
  if (!make_addr(host, port, &a)) return usage();
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return err(errno);
  ssize_t n = ::sendto(s, payload, std::strlen(payload), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int e = errno;
  ::close(s);
  return n >= 0 ? ok() : err(e);
}

int cmd_unix_connect(const char* name, bool abstract) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return err(errno);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  size_t len = std::strlen(name);
  if (len + 2 > sizeof a.sun_path) return usage();
  socklen_t alen;
  if (abstract) {
    a.sun_path[0] = '\0';
    std::memcpy(a.sun_path + 1, name, len);
    alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + len);
  } else {
    std::memcpy(a.sun_path, name, len);
    alen = static_cast<socklen_t>(sizeof a);
  }
  int rc = ::connect(s, reinterpret_cast<sockaddr*>(&a), alen);
  int e = errno;
  ::close(s);
  return rc == 0 ? ok() : err(e);
}

// x32 getpid: the x86_64 syscall instruction with the x32 bit set in the number.
int cmd_x32_getpid() {
#if defined(__x86_64__)
  long ret;
  long nr = 0x40000000L | 39;
  asm volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  if (ret < 0 && ret > -4096) return err(static_cast<int>(-ret));
  return ok("pid=" + std::to_string(ret));
#else
  return err(ENOSYS);
#endif
}

// i386 getpid (20) through int $0x80 on x86_64.
int cmd_int80_getpid() {
#if defined(__x86_64__)
  long ret;
  long nr = 20;
  asm volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
  if (ret < 0 && ret > -4096) return err(static_cast<int>(-ret));
  return ok("pid=" + std::to_string(ret));
#else
  return err(ENOSYS);
#endif
}

int cmd_bpf() {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  long fd = ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
  if (fd >= 0) ::close(static_cast<int>(fd));
  return report(fd);
}

int cmd_perf_event_open() {
  struct perf_event_attr pe;
  std::memset(&pe, 0, sizeof pe);
  pe.type = PERF_TYPE_SOFTWARE;
  pe.size = sizeof pe;
  pe.config = PERF_COUNT_SW_TASK_CLOCK;
  pe.disabled = 1;
  pe.exclude_kernel = 1;
  pe.exclude_hv = 1;
  long fd = ::syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
  if (fd >= 0) ::close(static_cast<int>(fd));
  return report(fd);
}

int cmd_clone3(unsigned long long flags) {
  struct clone_args ca;
  std::memset(&ca, 0, sizeof ca);
  ca.flags = flags;
  ca.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) ::_exit(0);
  if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return report(pid);
}

int cmd_clone(unsigned long flags) {
  long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) ::_exit(0);
  if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return report(pid);
}

int cmd_open_by_handle_at(const char* path) {
  // Try the real thing first (name_to_handle_at), then a forged handle (the "shocker" way).
  struct {
    struct file_handle fh;
    unsigned char data[128];
  } h;
  std::memset(&h, 0, sizeof h);
  h.fh.handle_bytes = sizeof h.data;
  int mount_id = 0;
  long rc = ::syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h.fh, &mount_id, 0);
  if (rc != 0) {
    // forged: inode 2 (a file system's root) on ext4 style handle
    h.fh.handle_bytes = 8;
    h.fh.handle_type = 1;
    uint32_t ino = 2;
    std::memcpy(h.fh.f_handle, &ino, sizeof ino);
  }
  long fd = ::syscall(SYS_open_by_handle_at, AT_FDCWD, &h.fh, O_RDONLY);
  if (fd >= 0) ::close(static_cast<int>(fd));
  return report(fd);
}

int cmd_name_to_handle_at(const char* path) {
  struct {
    struct file_handle fh;
    unsigned char data[128];
  } h;
  std::memset(&h, 0, sizeof h);
  h.fh.handle_bytes = sizeof h.data;
  int mount_id = 0;
  return report(::syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h.fh, &mount_id, 0));
}

// symlink-escape DIR: plant DIR/paddock-escape -> / and read DIR/paddock-escape/etc/shadow.
int cmd_symlink_escape(const std::string& dir) {
  std::string link = dir + "/paddock-escape";
  ::unlink(link.c_str());
  if (::symlink("/", link.c_str()) != 0) return err(errno);
  return cmd_read((link + "/etc/shadow").c_str());
}

// hang MARKER...: sleep until killed (the marker makes the process easy to find from the host).
[[noreturn]] void cmd_hang() {
  for (;;) ::pause();
}

// daemonize PROBE MARKER: double fork; the grandchild leaves the session and becomes
// `PROBE hang MARKER`, re-parented to the sandbox's init. Prints OK pid=<inner pid>.
int cmd_daemonize(const char* self, const char* marker) {
  int p[2];
  if (::pipe(p) != 0) return err(errno);
  pid_t a = ::fork();
  if (a < 0) return err(errno);
  if (a == 0) {
    ::setsid();
    pid_t b = ::fork();
    if (b != 0) ::_exit(0);
    ::close(p[0]);
    pid_t me = ::getpid();
    ssize_t ignored = ::write(p[1], &me, sizeof me);
    (void)ignored;
    ::close(p[1]);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(self, self, "hang", marker, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(p[1]);
  ::waitpid(a, nullptr, 0);
  pid_t child = 0;
  ssize_t n = ::read(p[0], &child, sizeof child);
  ::close(p[0]);
  if (n != sizeof child) return err(EIO);
  return ok("pid=" + std::to_string(child));
}

// --- resource bounds and kill switches ---

double seconds_since(const struct timespec& start) {
  struct timespec now {};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec - start.tv_sec) + static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9;
}

// forkbomb SECONDS MAXFAIL: a fork bomb, bounded. One child becomes the leader of a new
// process group; it and every process it starts fork as fast as they can (each child forks
// too) and nobody exits. Counters live in shared memory. When MAXFAIL forks have failed, or
// SECONDS have passed, this process SIGKILLs the whole group and prints
//   OK forks=N failed=F errnos=EAGAIN[,...] stopped=failures|clock
// forks counts successful forks (this process's one included); errnos lists the distinct
// errors of the failed ones.
int cmd_forkbomb(double seconds, long maxfail) {
  struct Shared {
    std::atomic<long> forks;
    std::atomic<long> failed;
    std::atomic<unsigned long long> errnos;  // bit e set: errno e was seen (e < 64)
    std::atomic<int> other;                  // an errno >= 64 was seen
  };
  void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return err(errno);
  auto* sh = new (mem) Shared{};
  struct timespec start {};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t leader = ::fork();
  if (leader < 0) return err(errno);
  if (leader == 0) {
    ::setpgid(0, 0);
    for (;;) {
      if (sh->failed.load() >= maxfail || seconds_since(start) > seconds) {
        ::pause();  // wait for the SIGKILL, holding the slot
        continue;
      }
      pid_t k = ::fork();
      if (k > 0) {
        sh->forks.fetch_add(1);
      } else if (k < 0) {
        int e = errno;
        sh->failed.fetch_add(1);
        if (e < 64)
          sh->errnos.fetch_or(1ULL << e);
        else
          sh->other.store(e);
      }
      // k == 0: the child joins the bomb.
    }
  }
  sh->forks.fetch_add(1);
  ::setpgid(leader, leader);  // whichever of the two runs first
  bool by_failures = false;
  for (;;) {
    if (sh->failed.load() >= maxfail) {
      by_failures = true;
      break;
    }
    if (seconds_since(start) > seconds) break;
    ::usleep(5000);
  }
  ::kill(-leader, SIGKILL);
  ::waitpid(leader, nullptr, 0);
  std::string names;
  for (int e = 1; e < 64; ++e) {
    if ((sh->errnos.load() & (1ULL << e)) == 0) continue;
    const char* n = strerrorname_np(e);
    names += (names.empty() ? "" : ",") + std::string(n != nullptr ? n : std::to_string(e).c_str());
  }
  if (sh->other.load() != 0) names += (names.empty() ? "" : ",") + std::to_string(sh->other.load());
  return ok("forks=" + std::to_string(sh->forks.load()) + " failed=" + std::to_string(sh->failed.load()) +
            " errnos=" + names + " stopped=" + (by_failures ? "failures" : "clock"));
}

// fill PATH MB: write MB mebibytes to a new PATH in 1 MiB writes. OK bytes=N, or the error
// of open/write (the bytes written so far go to stderr).
int cmd_fill(const char* path, long mb) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return err(errno);
  std::vector<char> buf(1 << 20, 'x');
  long long total = 0;
  for (long i = 0; i < mb; ++i) {
    size_t off = 0;
    while (off < buf.size()) {
      ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int e = errno;
        std::fprintf(stderr, "paddock-probe: fill: %lld bytes written\n", total);
        ::close(fd);
        return err(e);
      }
      off += static_cast<size_t>(n);
      total += n;
    }
  }
  if (::close(fd) != 0) return err(errno);
  return ok("bytes=" + std::to_string(total));
}

// deny-loop N: ptrace(PTRACE_TRACEME) N times in a tight loop (a system call the baseline
// denies with EPERM). OK denied=N when every call failed with EPERM; otherwise the first
// other outcome (ERR <name>, or OK succeeded=I).
int cmd_deny_loop(long n) {
  for (long i = 0; i < n; ++i) {
    long rc = ::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
    if (rc >= 0) return ok("succeeded=" + std::to_string(i));
    if (errno != EPERM) return err(errno);
  }
  return ok("denied=" + std::to_string(n));
}

// --- network mode "proxy" (paddock's HTTP proxy, SOCKS5 and resolver inside the sandbox) ---

// "\r", "\n", "\t", "\\" and "\xNN" in a command-line argument, so that tests can pass a raw
// request as one argument.
std::string unescape(const char* s) {
  std::string out;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p != '\\' || p[1] == '\0') {
      out += *p;
      continue;
    }
    ++p;
    switch (*p) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case 'x':
        if (std::isxdigit(static_cast<unsigned char>(p[1])) && std::isxdigit(static_cast<unsigned char>(p[2]))) {
          out += static_cast<char>(std::strtol(std::string(p + 1, 2).c_str(), nullptr, 16));
          p += 2;
        } else {
          out += 'x';
        }
        break;
      default: out += *p;
    }
  }
  return out;
}

// The first line of `data` (without its end), printable, at most 120 characters.
std::string first_line(const std::string& data) {
  std::string out;
  for (char c : data.substr(0, data.find_first_of("\r\n"))) {
    if (out.size() >= 120) break;
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

void set_timeouts(int s, long seconds) {
  struct timeval tv {
    seconds, 0
  };
  ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// A TCP connection to host:port (an IPv4 or IPv6 literal), with 5 s send/receive timeouts; -1
// and errno.
int tcp_open(const char* host, const char* port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  sockaddr_in* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  sockaddr_in6* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (make_addr(host, port, a4)) {
    len = sizeof *a4;
  } else if (::inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(std::atoi(port)));
    len = sizeof *a6;
  } else {
    errno = EINVAL;
    return -1;
  }
  int s = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  set_timeouts(s, 5);
  if (::connect(s, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    ::close(s);
    errno = e;
    return -1;
  }
  return s;
}

bool send_all(int s, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(s, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until EOF, an error or the receive timeout. `how`: "" at EOF, else the errno's name.
std::string recv_all(int s, std::string* how) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(s, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const char* name = strerrorname_np(errno == EAGAIN ? ETIMEDOUT : errno);
      *how = name != nullptr ? name : "EIO";
      return out;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  how->clear();
  return out;
}

// Reads up to and including the blank line that ends an HTTP header block.
bool recv_headers(int s, std::string* out) {
  char c;
  while (out->find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(s, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    *out += c;
    if (out->size() > 65536) return false;
  }
  return true;
}

// What came back on a connection, as one line: `OK bytes=N first=LINE` at EOF (plus
// ` then=ERRNO` when it ended with an error instead), `ERR ERRNO` when it ended with an error
// before any byte.
int report_reply(int s, const std::string& prefix) {
  std::string how;
  std::string got = recv_all(s, &how);
  ::close(s);
  if (got.empty() && !how.empty()) {
    std::printf("ERR %s\n", how.c_str());
    return 0;
  }
  std::string detail = prefix + "bytes=" + std::to_string(got.size());
  if (!how.empty()) detail += " then=" + how;
  detail += " first=" + first_line(got);
  return ok(detail);
}

// tcp-connect ADDR PORT [SEND]: connect, send SEND (escapes decoded), read to EOF.
int cmd_tcp_connect(const char* host, const char* port, const char* send) {
  int s = tcp_open(host, port);
  if (s < 0) return err(errno);
  if (send != nullptr && !send_all(s, unescape(send))) {
    int e = errno;
    ::close(s);
    return err(e);
  }
  return report_reply(s, "");
}

// tcp-dump ADDR PORT SEND: informational, prints the raw reply (or ERR on failure).
int cmd_tcp_dump(const char* host, const char* port, const char* send) {
  int s = tcp_open(host, port);
  if (s < 0) return err(errno);
  if (!send_all(s, unescape(send))) {
    int e = errno;
    ::close(s);
    return err(e);
  }
  std::string how;
  std::string got = recv_all(s, &how);
  ::close(s);
  if (got.empty() && !how.empty()) return err(ECONNRESET);
  std::fwrite(got.data(), 1, got.size(), stdout);
  return 0;
}

// tcp-hold ADDR PORT SEND SECONDS: connect, send SEND, print `OK held`, then hold the
// connection without reading or sending anything for SECONDS (a stalled client).
int cmd_tcp_hold(const char* host, const char* port, const char* send, long seconds) {
  int s = tcp_open(host, port);
  if (s < 0) return err(errno);
  if (!send_all(s, unescape(send))) return err(errno);
  ok("held");
  std::fflush(stdout);
  struct timespec t {
    seconds, 0
  };
  ::nanosleep(&t, nullptr);
  ::close(s);
  return 0;
}

// socks-connect HOST PORT [SEND]: a SOCKS5 CONNECT (no authentication) through
// 127.0.0.1:1080 to HOST (an IPv4 literal is sent as an address, anything else as a name),
// then SEND and read to EOF. `OK reply=N` when the server refused (N: SOCKS5 reply code),
// `OK reply=0 bytes=N first=LINE` when connected.
int cmd_socks_connect(const char* host, const char* port, const char* send) {
  int s = tcp_open("127.0.0.1", "1080");
  if (s < 0) return err(errno);
  auto fail = [&](int e) {
    ::close(s);
    return err(e);
  };
  if (!send_all(s, std::string("\x05\x01\x00", 3))) return fail(errno);
  unsigned char hello[2];
  if (::recv(s, hello, 2, MSG_WAITALL) != 2) return fail(errno != 0 ? errno : ECONNRESET);
  if (hello[0] != 5 || hello[1] != 0) return fail(EPROTO);
  std::string req("\x05\x01\x00", 3);
  in_addr v4{};
  if (::inet_pton(AF_INET, host, &v4) == 1) {
    req += '\x01';
    req.append(reinterpret_cast<const char*>(&v4), 4);
  } else {
    req += '\x03';
    req += static_cast<char>(std::strlen(host));
    req += host;
  }
  uint16_t p = htons(static_cast<uint16_t>(std::atoi(port)));
  req.append(reinterpret_cast<const char*>(&p), 2);
  errno = 0;
  if (!send_all(s, req)) return fail(errno);
  unsigned char head[4];
  ssize_t n = ::recv(s, head, 4, MSG_WAITALL);
  if (n != 4) return fail(n < 0 ? errno : ECONNRESET);
  if (head[0] != 5) return fail(EPROTO);
  if (head[1] != 0) {
    ::close(s);
    return ok("reply=" + std::to_string(head[1]));
  }
  // The bound address: skip it.
  size_t rest = head[3] == 1 ? 4 + 2 : head[3] == 4 ? 16 + 2 : 0;
  if (head[3] == 3) {
    unsigned char len = 0;
    if (::recv(s, &len, 1, MSG_WAITALL) != 1) return fail(ECONNRESET);
    rest = len + 2u;
  }
  std::string skip(rest, '\0');
  if (rest > 0 && ::recv(s, skip.data(), rest, MSG_WAITALL) != static_cast<ssize_t>(rest)) return fail(ECONNRESET);
  if (send != nullptr && !send_all(s, unescape(send))) return fail(errno);
  return report_reply(s, "reply=0 ");
}

// A DNS query for NAME of TYPE (A, AAAA, MX, TXT, ANY or a number), sent to 127.0.0.1:53 over
// UDP or TCP. Fills rcode and the A/AAAA addresses of the answer; false and errno on failure.
struct DnsAnswer {
  int rcode = -1;
  std::vector<std::string> addrs;
};

bool dns_query(const std::string& name, const std::string& type, bool tcp, DnsAnswer* answer) {
  static const std::map<std::string, int> types = {{"A", 1},    {"NS", 2},    {"CNAME", 5}, {"MX", 15},
                                                   {"TXT", 16}, {"AAAA", 28}, {"ANY", 255}};
  int qtype = types.count(type) != 0 ? types.at(type) : std::atoi(type.c_str());
  uint16_t id = static_cast<uint16_t>(::getpid() ^ ::time(nullptr));
  std::string q;
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xff);
  q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);  // RD, one question
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q += static_cast<char>(dot - start);
    q += name.substr(start, dot - start);
    start = dot + 1;
  }
  q += '\0';
  q += static_cast<char>(qtype >> 8);
  q += static_cast<char>(qtype & 0xff);
  q += std::string("\x00\x01", 2);  // IN

  sockaddr_in a;
  make_addr("127.0.0.1", "53", &a);
  int s = ::socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  set_timeouts(s, 3);
  std::string reply;
  bool sent = false;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    if (tcp) {
      std::string framed;
      framed += static_cast<char>(q.size() >> 8);
      framed += static_cast<char>(q.size() & 0xff);
      sent = send_all(s, framed + q);
    } else {
      sent = ::send(s, q.data(), q.size(), 0) == static_cast<ssize_t>(q.size());
    }
  }
  if (sent) {
    if (tcp) {
      unsigned char len[2];
      ssize_t n = ::recv(s, len, 2, MSG_WAITALL);
      if (n == 2) {
        reply.resize(static_cast<size_t>(len[0] << 8 | len[1]));
        n = ::recv(s, reply.data(), reply.size(), MSG_WAITALL);
        if (n != static_cast<ssize_t>(reply.size())) reply.clear();
      } else if (n == 0) {
        errno = ECONNRESET;
      }
    } else {
      char buf[4096];
      ssize_t n = ::recv(s, buf, sizeof buf, 0);
      if (n > 0) reply.assign(buf, static_cast<size_t>(n));
    }
  }
  int e = errno == EAGAIN ? ETIMEDOUT : errno;
  ::close(s);
  if (reply.empty()) {
    errno = e != 0 ? e : EIO;
    return false;
  }
  auto u8 = [&](size_t i) { return i < reply.size() ? static_cast<unsigned char>(reply[i]) : 0u; };
  auto u16 = [&](size_t i) { return u8(i) << 8 | u8(i + 1); };
  if (reply.size() < 12 || u16(0) != id || (u8(2) & 0x80) == 0) {
    errno = EBADMSG;
    return false;
  }
  answer->rcode = static_cast<int>(u8(3) & 0x0f);
  unsigned qd = u16(4), an = u16(6);
  size_t pos = 12;
  auto skip_name = [&]() {
    while (pos < reply.size()) {
      unsigned len = u8(pos);
      if ((len & 0xc0) == 0xc0) {
        pos += 2;
        return;
      }
      pos += 1 + len;
      if (len == 0) return;
    }
  };
  for (unsigned i = 0; i < qd; ++i) {
    skip_name();
    pos += 4;
  }
  for (unsigned i = 0; i < an && pos < reply.size(); ++i) {
    skip_name();
    unsigned rtype = u16(pos), rdlen = u16(pos + 8);
    pos += 10;
    if (pos + rdlen > reply.size()) {
      errno = EBADMSG;
      return false;
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (rtype == 1 && rdlen == 4) ::inet_ntop(AF_INET, reply.data() + pos, text, sizeof text);
    if (rtype == 28 && rdlen == 16) ::inet_ntop(AF_INET6, reply.data() + pos, text, sizeof text);
    if (text[0] != '\0') answer->addrs.emplace_back(text);
    pos += rdlen;
  }
  return true;
}

std::string rcode_name(int rcode) {
  switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return std::to_string(rcode);
  }
}

// dns-query NAME TYPE [tcp]: `OK rcode=NOERROR addrs=198.18.0.1,...` (addrs= empty when the
// answer has no A/AAAA records).
int cmd_dns_query(const char* name, const char* type, bool tcp) {
  DnsAnswer a;
  if (!dns_query(name, type, tcp, &a)) return err(errno);
  std::string list;
  for (const auto& x : a.addrs) list += (list.empty() ? "" : ",") + x;
  return ok("rcode=" + rcode_name(a.rcode) + " addrs=" + list);
}

// dns-connect NAME PORT [SEND]: resolve NAME (A, over UDP, through paddock's resolver), connect
// to the first address, send SEND, read to EOF: `OK addr=A bytes=N first=LINE`, or
// `OK rcode=NXDOMAIN` when the name has no address.
int cmd_dns_connect(const char* name, const char* port, const char* send) {
  DnsAnswer a;
  if (!dns_query(name, "A", false, &a)) return err(errno);
  if (a.rcode != 0 || a.addrs.empty()) return ok("rcode=" + rcode_name(a.rcode) + " addrs=");
  int s = tcp_open(a.addrs[0].c_str(), port);
  if (s < 0) return err(errno);
  if (send != nullptr && !send_all(s, unescape(send))) {
    int e = errno;
    ::close(s);
    return err(e);
  }
  return report_reply(s, "addr=" + a.addrs[0] + " ");
}

// proxy-tunnels N HOST PORT: N HTTP CONNECT tunnels through 127.0.0.1:3128 to HOST:PORT, all
// open at once: connect all, request all, read every "200", then `GET /hello` through each
// and read each reply to its end. `OK tunnels=K established=E` (K answered, E got their "200"),
// plus ` first-failure=I:STEP:ERRNO` when some did not.
int cmd_proxy_tunnels(long n, const char* host, const char* port) {
  std::vector<int> socks;
  std::string target = std::string(host) + ":" + port;
  std::string connect = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
  long established = 0, answered = 0;
  std::string first_failure;
  auto failed = [&](long i, const std::string& step) {
    if (first_failure.empty()) {
      const char* e = strerrorname_np(errno);
      first_failure = " first-failure=" + std::to_string(i) + ":" + step + ":" + (e != nullptr ? e : "?");
    }
  };
  for (long i = 0; i < n; ++i) {
    int s = tcp_open("127.0.0.1", "3128");
    if (s < 0) failed(i, "connect");
    socks.push_back(s);
  }
  for (long i = 0; i < n; ++i) {
    if (socks[i] >= 0 && !send_all(socks[i], connect)) failed(i, "send");
  }
  std::vector<bool> up(static_cast<size_t>(n), false);
  for (long i = 0; i < n; ++i) {
    std::string h;
    if (socks[i] < 0) continue;
    if (!recv_headers(socks[i], &h)) {
      failed(i, "reply");
    } else if (h.compare(0, 12, "HTTP/1.1 200") == 0 || h.compare(0, 12, "HTTP/1.0 200") == 0) {
      up[i] = true;
      ++established;
    } else {
      errno = EACCES;
      failed(i, first_line(h));
    }
  }
  for (long i = 0; i < n; ++i) {
    if (up[i] && !send_all(socks[i], "GET /hello HTTP/1.0\r\nHost: " + target + "\r\n\r\n")) failed(i, "get");
  }
  for (long i = 0; i < n; ++i) {
    if (!up[i]) continue;
    std::string how;
    std::string got = recv_all(socks[i], &how);
    if (how.empty() && got.compare(0, 12, "HTTP/1.0 200") == 0 && got.find("hello from host") != std::string::npos)
      ++answered;
    else
      failed(i, "response");
  }
  for (int s : socks) {
    if (s >= 0) ::close(s);
  }
  return ok("tunnels=" + std::to_string(answered) + " established=" + std::to_string(established) + first_failure);
}

// --- robustness of the proxy: half-close, resets, floods, idle and stalled connections ---

double now_seconds() {
  struct timespec t {};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// A connection to HOST:PORT by way of VIA: "direct" (a plain TCP connection: the transparent
// path, or one of paddock's own ports), "connect" (an HTTP CONNECT tunnel through
// 127.0.0.1:3128) or "socks" (SOCKS5 through 127.0.0.1:1080). Returns the socket once the
// tunnel is up (nothing of the far end's bytes read yet), or -1 and errno (EACCES: the proxy
// refused the tunnel).
int open_via(const std::string& via, const char* host, const char* port) {
  if (via == "direct") return tcp_open(host, port);
  if (via == "connect") {
    int s = tcp_open("127.0.0.1", "3128");
    if (s < 0) return -1;
    std::string target = std::string(host) + ":" + port;
    std::string h;
    if (!send_all(s, "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n") || !recv_headers(s, &h)) {
      int e = errno != 0 ? errno : ECONNRESET;
      ::close(s);
      errno = e;
      return -1;
    }
    if (h.compare(0, 12, "HTTP/1.1 200") != 0 && h.compare(0, 12, "HTTP/1.0 200") != 0) {
      ::close(s);
      errno = EACCES;
      return -1;
    }
    return s;
  }
  if (via == "socks") {
    int s = tcp_open("127.0.0.1", "1080");
    if (s < 0) return -1;
    auto fail = [&](int e) {
      ::close(s);
      errno = e;
      return -1;
    };
    unsigned char hello[2];
    if (!send_all(s, std::string("\x05\x01\x00", 3)) || ::recv(s, hello, 2, MSG_WAITALL) != 2) return fail(ECONNRESET);
    std::string req("\x05\x01\x00\x01", 4);
    in_addr v4{};
    if (::inet_pton(AF_INET, host, &v4) != 1) return fail(EINVAL);
    req.append(reinterpret_cast<const char*>(&v4), 4);
    uint16_t p = htons(static_cast<uint16_t>(std::atoi(port)));
    req.append(reinterpret_cast<const char*>(&p), 2);
    unsigned char reply[10];
    if (!send_all(s, req) || ::recv(s, reply, 10, MSG_WAITALL) != 10) return fail(ECONNRESET);
    if (reply[1] != 0) return fail(EACCES);
    return s;
  }
  errno = EINVAL;
  return -1;
}

// FNV-1a (64 bits) of a byte string, as the test computes it of what its server sent.
std::string fnv1a(const std::string& data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// half-close VIA HOST PORT SEND: send SEND, shut the write side (shutdown(SHUT_WR)), then read
// to EOF (TCP_CORK until the shutdown: SEND and the FIN leave in one segment, so the far end
// always finds the end of the stream right behind the request, as from a fast client): `OK body=N fnv=HEX first=LINE`
// (the body: what came after the header block; ` then=ERRNO` when the reading ended in an error instead of EOF), or
// `ERR ERRNO`.
int cmd_half_close(const char* via, const char* host, const char* port, const char* send) {
  int s = open_via(via, host, port);
  if (s < 0) return err(errno);
  set_timeouts(s, 10);
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
  if (!send_all(s, unescape(send)) || ::shutdown(s, SHUT_WR) != 0) {
    int e = errno;
    ::close(s);
    return err(e);
  }
  std::string how;
  std::string got = recv_all(s, &how);
  ::close(s);
  if (got.empty() && !how.empty()) {
    std::printf("ERR %s\n", how.c_str());
    return 0;
  }
  size_t end = got.find("\r\n\r\n");
  std::string body = end == std::string::npos ? "" : got.substr(end + 4);
  std::string detail = "body=" + std::to_string(body.size()) + " fnv=" + fnv1a(body);
  if (!how.empty()) detail += " then=" + how;
  return ok(detail + " first=" + first_line(got));
}

// tcp-reset VIA HOST PORT SEND BYTES: send SEND, read BYTES bytes of the answer, then reset the
// connection (SO_LINGER 0 and close: a RST, not a FIN): `OK read=N` (N >= BYTES), or `ERR ERRNO`.
int cmd_tcp_reset(const char* via, const char* host, const char* port, const char* send, long bytes) {
  int s = open_via(via, host, port);
  if (s < 0) return err(errno);
  if (!send_all(s, unescape(send))) {
    int e = errno;
    ::close(s);
    return err(e);
  }
  long got = 0;
  char buf[65536];
  while (got < bytes) {
    ssize_t n = ::recv(s, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n == 0 ? EPIPE : errno == EAGAIN ? ETIMEDOUT : errno;
      ::close(s);
      return err(e);
    }
    got += n;
  }
  struct linger l {
    1, 0
  };
  ::setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(s);
  return ok("read=" + std::to_string(got));
}

// dns-flood N NAME...: N DNS queries (A, over UDP, ids 0..N-1, the names in turn) to
// 127.0.0.1:53 from one socket, as fast as the socket takes them, never waiting for an answer;
// answers are read when they come, and for half a second after the last query:
// `OK sent=N answers=M`.
int cmd_dns_flood(long n, int names, char** name) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return err(errno);
  sockaddr_in a;
  make_addr("127.0.0.1", "53", &a);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return err(errno);
  long sent = 0, answers = 0;
  char buf[4096];
  auto drain = [&] {
    while (::recv(s, buf, sizeof buf, 0) > 0) ++answers;
  };
  for (long i = 0; i < n; ++i) {
    std::string q;
    q += static_cast<char>((i >> 8) & 0xff);
    q += static_cast<char>(i & 0xff);
    q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
    std::string nm = name[i % names];
    size_t start = 0;
    while (start < nm.size()) {
      size_t dot = nm.find('.', start);
      if (dot == std::string::npos) dot = nm.size();
      q += static_cast<char>(dot - start);
      q += nm.substr(start, dot - start);
      start = dot + 1;
    }
    q += std::string("\x00\x00\x01\x00\x01", 5);
    for (;;) {
      ssize_t w = ::send(s, q.data(), q.size(), 0);
      if (w == static_cast<ssize_t>(q.size())) {
        ++sent;
        break;
      }
      if (w < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)) {
        drain();
        continue;
      }
      if (w < 0 && errno == ECONNREFUSED) break;  // a previous datagram bounced: this one is lost
      ::close(s);
      return err(errno);
    }
    drain();
  }
  double until = now_seconds() + 0.5;
  while (now_seconds() < until) {
    struct pollfd p {
      s, POLLIN, 0
    };
    if (::poll(&p, 1, 50) > 0) drain();
  }
  ::close(s);
  return ok("sent=" + std::to_string(sent) + " answers=" + std::to_string(answers));
}

// tcp-idle N HOST PORT SECONDS: N connections to HOST:PORT, all open at once, that never send
// anything: `OK idle=K failed=F` once they are open (K connected), then holds them for
// SECONDS and closes them.
int cmd_tcp_idle(long n, const char* host, const char* port, long seconds) {
  std::vector<int> socks;
  long failed = 0;
  for (long i = 0; i < n; ++i) {
    int s = tcp_open(host, port);
    if (s < 0) {
      ++failed;
      continue;
    }
    socks.push_back(s);
  }
  ok("idle=" + std::to_string(socks.size()) + " failed=" + std::to_string(failed));
  std::fflush(stdout);
  struct timespec t {
    seconds, 0
  };
  ::nanosleep(&t, nullptr);
  for (int s : socks) ::close(s);
  return 0;
}

// tunnel-storm N HOST PORT: N HTTP CONNECT tunnels through 127.0.0.1:3128 to HOST:PORT opened
// at once, each followed by `GET /hello` through it; every connection is watched (poll) until
// it is answered, refused or 10 seconds pass, and closed as soon as its fate is known:
// `OK answered=A refused=R hung=H` (refused: connect() failed, the connection was reset or
// closed, or the proxy answered other than 200; hung: nothing happened within the deadline),
// plus ` first-refusal=HOW`.
int cmd_tunnel_storm(long n, const char* host, const char* port) {
  struct Tunnel {
    int fd = -1;
    bool up = false;  // got its "200", sent the GET
    std::string in;
  };
  std::vector<Tunnel> t(static_cast<size_t>(n));
  std::string target = std::string(host) + ":" + port;
  std::string connect = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
  long answered = 0, refused = 0;
  std::string first_refusal;
  auto refuse = [&](Tunnel& x, const std::string& how) {
    ++refused;
    if (first_refusal.empty()) first_refusal = how;
    if (x.fd >= 0) ::close(x.fd);
    x.fd = -1;
  };
  auto errname = [](int e) {
    const char* name = strerrorname_np(e);
    return std::string(name != nullptr ? name : "?");
  };
  for (auto& x : t) {
    x.fd = tcp_open("127.0.0.1", "3128");
    if (x.fd < 0) {
      refuse(x, "connect:" + errname(errno));
      continue;
    }
    if (!send_all(x.fd, connect)) refuse(x, "send:" + errname(errno));
  }
  double deadline = now_seconds() + 10;
  for (;;) {
    std::vector<struct pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i].fd < 0) continue;
      fds.push_back({t[i].fd, POLLIN, 0});
      which.push_back(i);
    }
    if (fds.empty() || now_seconds() > deadline) break;
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      Tunnel& x = t[which[k]];
      char buf[4096];
      ssize_t r = ::recv(x.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r < 0) {
        refuse(x, (x.up ? "response:" : "reply:") + errname(errno));
        continue;
      }
      if (r > 0) x.in.append(buf, static_cast<size_t>(r));
      if (!x.up) {
        size_t end = x.in.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (r == 0) refuse(x, "reply:EOF");
          continue;
        }
        if (x.in.compare(0, 12, "HTTP/1.1 200") != 0 && x.in.compare(0, 12, "HTTP/1.0 200") != 0) {
          refuse(x, "reply:" + first_line(x.in));
          continue;
        }
        x.up = true;
        x.in.erase(0, end + 4);
        if (!send_all(x.fd, "GET /hello HTTP/1.0\r\nHost: " + target + "\r\n\r\n")) refuse(x, "get:" + errname(errno));
        continue;
      }
      if (r == 0) {
        if (x.in.compare(0, 12, "HTTP/1.0 200") == 0 && x.in.find("hello from host") != std::string::npos) {
          ++answered;
          ::close(x.fd);
          x.fd = -1;
        } else {
          refuse(x, "response:" + first_line(x.in));
        }
      }
    }
  }
  long hung = 0;
  for (auto& x : t) {
    if (x.fd < 0) continue;
    ++hung;
    ::close(x.fd);
  }
  return ok("answered=" + std::to_string(answered) + " refused=" + std::to_string(refused) +
            " hung=" + std::to_string(hung) + (first_refusal.empty() ? "" : " first-refusal=" + first_refusal));
}

// tcp-push VIA HOST PORT SEND SECONDS: send SEND, then push zeros into the connection as fast as
// it takes them (non-blocking) for SECONDS: `OK pushed=N stalled_ms=M` (N: bytes taken after
// SEND; M: how long before the end the last byte was taken -- a peer that does not read
// stops taking them), or `ERR ERRNO`.
int cmd_tcp_push(const char* via, const char* host, const char* port, const char* send, double seconds) {
  int s = open_via(via, host, port);
  if (s < 0) return err(errno);
  if (!send_all(s, unescape(send))) {
    int e = errno;
    ::close(s);
    return err(e);
  }
  std::vector<char> zeros(1 << 16, '\0');
  long long pushed = 0;
  double start = now_seconds(), last = start, end = start + seconds;
  while (now_seconds() < end) {
    struct pollfd p {
      s, POLLOUT, 0
    };
    ::poll(&p, 1, 20);
    ssize_t w = ::send(s, zeros.data(), zeros.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0) {
      pushed += w;
      last = now_seconds();
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
      int e = errno;
      ::close(s);
      return err(e);
    }
  }
  ::close(s);
  return ok("pushed=" + std::to_string(pushed) +
            " stalled_ms=" + std::to_string(static_cast<long>((now_seconds() - last) * 1000)));
}

// unix-lines PATH LINE...: connects to the UNIX socket PATH, sends each LINE with a newline, ends
// its side and prints everything the peer answers until it closes (informational; ERR on failure).
int cmd_unix_lines(int argc, char** argv) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return err(errno);
  struct sockaddr_un a {};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[2]);
  if (::connect(s, reinterpret_cast<struct sockaddr*>(&a), sizeof a) != 0) return err(errno);
  std::string out;
  for (int i = 3; i < argc; ++i) out += std::string(argv[i]) + "\n";
  for (std::size_t off = 0; off < out.size();) {
    ssize_t n = ::send(s, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return err(errno);
    off += static_cast<std::size_t>(n);
  }
  ::shutdown(s, SHUT_WR);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(s, buf, sizeof buf)) > 0) std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout);
  ::close(s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) return usage();
  std::string c = argv[1];
  auto need = [&](int n) { return argc >= 2 + n; };

  if (c == "unix-lines" && need(1)) return cmd_unix_lines(argc, argv);

  // --- terminal ---
  if (c == "tiocsti") return cmd_tiocsti(need(1) ? static_cast<int>(num(argv[2])) : 0, 0);
  if (c == "tiocsti-hi") return cmd_tiocsti(need(1) ? static_cast<int>(num(argv[2])) : 0, 0xdead00000000UL);
  if (c == "tiocsti-tty") {
    int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) return err(errno);
    return cmd_tiocsti(fd, 0);
  }
  if (c == "tiocsti-str" && need(1)) {  // inject TEXT and a newline into stdin's terminal
    std::string text = std::string(argv[2]) + "\n";
    for (char ch : text) {
      if (::syscall(SYS_ioctl, 0, TIOCSTI, &ch) != 0) return err(errno);
    }
    return ok();
  }
  if (c == "tioclinux") {
    char sub[2] = {12, 0};  // TIOCL_GETSHIFTSTATE-style harmless subcode; seccomp must refuse first
    int fd = need(1) ? static_cast<int>(num(argv[2])) : 0;
    return report(::syscall(SYS_ioctl, fd, TIOCLINUX, sub));
  }
  if (c == "isatty") {
    for (int fd = 0; fd < 3; ++fd) {
      if (::isatty(fd) != 1) return err(errno);
    }
    char name[128] = {};
    if (::ttyname_r(0, name, sizeof name) != 0) return err(errno);
    return ok(name);
  }
  if (c == "winsize") {
    struct winsize ws {};
    if (::ioctl(0, TIOCGWINSZ, &ws) != 0) return err(errno);
    return ok(std::to_string(ws.ws_row) + "x" + std::to_string(ws.ws_col));
  }

  // --- other processes ---
  if (c == "ptrace-attach" && need(1)) return report(::syscall(SYS_ptrace, PTRACE_ATTACH, num(argv[2]), 0, 0));
  if (c == "ptrace-traceme") return report(::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0));
  if (c == "process-vm-read" && need(1)) {
    char buf[16];
    struct iovec local {
      buf, sizeof buf
    };
    struct iovec remote {
      reinterpret_cast<void*>(0x400000), sizeof buf
    };
    return report(::syscall(SYS_process_vm_readv, num(argv[2]), &local, 1, &remote, 1, 0));
  }
  if (c == "read-proc-environ" && need(1)) return cmd_read(("/proc/" + std::string(argv[2]) + "/environ").c_str());
  if (c == "kill" && need(2)) return report(::syscall(SYS_kill, num(argv[2]), num(argv[3])));
  if (c == "pidfd-open" && need(1)) {
    long fd = ::syscall(SYS_pidfd_open, num(argv[2]), 0);
    return report(fd);
  }

  // --- mounts and the root ---
  if (c == "mount") return report(::syscall(SYS_mount, "none", need(1) ? argv[2] : "/tmp", "tmpfs", 0, nullptr));
  if (c == "bind-mount" && need(2)) return report(::syscall(SYS_mount, argv[2], argv[3], nullptr, MS_BIND, nullptr));
  if (c == "umount" && need(1)) return report(::syscall(SYS_umount2, argv[2], MNT_DETACH));
  if (c == "pivot-root")
    return report(::syscall(SYS_pivot_root, need(1) ? argv[2] : "/tmp", need(2) ? argv[3] : "/tmp"));
  if (c == "chroot") return report(::syscall(SYS_chroot, need(1) ? argv[2] : "/tmp"));
  if (c == "open-tree") return report(::syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE));
  if (c == "fsopen") return report(::syscall(SYS_fsopen, "tmpfs", 0));
  if (c == "open-by-handle-at") return cmd_open_by_handle_at(need(1) ? argv[2] : "/etc/passwd");
  if (c == "name-to-handle-at") return cmd_name_to_handle_at(need(1) ? argv[2] : "/etc/passwd");

  // --- namespaces ---
  if (c == "unshare-user") return report(::syscall(SYS_unshare, CLONE_NEWUSER));
  if (c == "unshare" && need(1)) return report(::syscall(SYS_unshare, num(argv[2])));
  if (c == "clone-newns") return cmd_clone(CLONE_NEWNS);
  if (c == "clone-newuser") return cmd_clone(CLONE_NEWUSER);
  if (c == "clone") return cmd_clone(need(1) ? static_cast<unsigned long>(num(argv[2])) : 0);
  if (c == "clone3") return cmd_clone3(need(1) ? static_cast<unsigned long long>(num(argv[2])) : CLONE_NEWUSER);
  if (c == "setns") return report(::syscall(SYS_setns, 0, 0));

  // --- foreign ABIs ---
  if (c == "x32-getpid") return cmd_x32_getpid();
  if (c == "int80-getpid") return cmd_int80_getpid();

  // --- kernel attack surface ---
  if (c == "keyctl") return report(::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  if (c == "add-key") return report(::syscall(SYS_add_key, "user", "paddock-probe", "x", 1, KEY_SPEC_SESSION_KEYRING));
  if (c == "bpf") return cmd_bpf();
  if (c == "perf-event-open") return cmd_perf_event_open();
  if (c == "userfaultfd") return report(::syscall(SYS_userfaultfd, O_CLOEXEC));
  if (c == "io-uring-setup") {
    unsigned char params[120] = {};  // struct io_uring_params
    long fd = ::syscall(SYS_io_uring_setup, 1, params);
    if (fd >= 0) ::close(static_cast<int>(fd));
    return report(fd);
  }
  if (c == "seccomp-listener") {  // install a filter with a user-space listener (a supervisor of one's own)
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {1, allow};
    long fd = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd >= 0) ::close(static_cast<int>(fd));
    return report(fd);
  }
  if (c == "personality" && need(1)) {
    long r = ::syscall(SYS_personality, static_cast<unsigned long>(num(argv[2])));
    return report(r);
  }
  if (c == "syscall" && need(1)) {  // syscall NR: a raw call with zero arguments
    return report(::syscall(num(argv[2]), 0, 0, 0, 0, 0, 0));
  }

  // --- System V IPC ---
  if (c == "shmget" && need(1)) return report(::shmget(static_cast<key_t>(num(argv[2])), 0, 0));

  // --- sockets ---
  if (c == "socket" && need(3)) {
    return cmd_socket(static_cast<int>(num(argv[2])), static_cast<int>(num(argv[3])), static_cast<int>(num(argv[4])));
  }
  if (c == "connect" && need(2)) return cmd_connect(argv[2], argv[3]);
  if (c == "bind-tcp" && need(2)) return cmd_bind_tcp(argv[2], argv[3]);
  if (c == "udp-send" && need(3)) return cmd_udp_send(argv[2], argv[3], argv[4]);
  if (c == "unix-connect-abstract" && need(1)) return cmd_unix_connect(argv[2], true);
  if (c == "unix-connect" && need(1)) return cmd_unix_connect(argv[2], false);

  // --- files ---
  if (c == "read" && need(1)) return cmd_read(argv[2]);
  if (c == "cat" && need(1)) return cmd_cat(argv[2]);
  if (c == "write" && need(1)) return cmd_write(argv[2], O_WRONLY | O_APPEND);
  if (c == "truncate" && need(1)) return cmd_write(argv[2], O_WRONLY | O_TRUNC);
  if (c == "create" && need(1)) return cmd_write(argv[2], O_WRONLY | O_CREAT | O_EXCL);
  if (c == "mkdir" && need(1)) return report(::mkdir(argv[2], 0755));
  if (c == "unlink" && need(1)) return report(::unlink(argv[2]));
  if (c == "ls" && need(1)) return cmd_ls(argv[2]);
  if (c == "stat" && need(1)) return cmd_stat(argv[2]);
  if (c == "exists" && need(1)) return report(::access(argv[2], F_OK));
  if (c == "symlink" && need(2)) return report(::symlink(argv[2], argv[3]));
  if (c == "symlink-escape" && need(1)) return cmd_symlink_escape(argv[2]);
  if (c == "link" && need(2)) return report(::link(argv[2], argv[3]));
  if (c == "rename" && need(2)) return report(::rename(argv[2], argv[3]));
  if (c == "mknod" && need(1)) return report(::mknod(argv[2], S_IFCHR | 0600, makedev(1, 3)));
  if (c == "mkfifo" && need(1)) return report(::mknod(argv[2], S_IFIFO | 0600, 0));
  if (c == "create-mode" && need(2)) {  // create FILE with MODE (e.g. 04755) through open(2)
    int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(num(argv[3])));
    if (fd < 0) return err(errno);
    ::close(fd);
    return ok();
  }
  if (c == "chmod" && need(2)) return report(::chmod(argv[2], static_cast<mode_t>(num(argv[3]))));
  if (c == "write-proc-sys") {
    return cmd_write(need(1) ? argv[2] : "/proc/sys/kernel/hostname", O_WRONLY | O_TRUNC);
  }
  if (c == "write-cgroup") return cmd_write(need(1) ? argv[2] : "/sys/fs/cgroup/cgroup.procs", O_WRONLY);
  if (c == "fds") return cmd_fds();
  if (c == "fd-read" && need(1)) {  // read from an inherited descriptor
    char b[64];
    ssize_t n = ::read(static_cast<int>(num(argv[2])), b, sizeof b);
    return n >= 0 ? ok("bytes=" + std::to_string(n)) : err(errno);
  }

  // --- identity, environment ---
  if (c == "caps") return cmd_caps();
  if (c == "setuid-exec" && need(1)) return cmd_setuid_exec(argc - 2, argv + 2);
  if (c == "env") {
    for (char** e = environ; *e != nullptr; ++e) std::printf("%s\n", *e);
    return 0;
  }
  if (c == "getenv" && need(1)) {
    const char* v = std::getenv(argv[2]);
    if (v == nullptr) return err(ENOENT);
    return ok(v);
  }
  if (c == "hostname") {
    char h[256] = {};
    if (::gethostname(h, sizeof h - 1) != 0) return err(errno);
    return ok(h);
  }
  if (c == "pid") return ok(std::to_string(::syscall(SYS_getpid)));

  // --- resources ---
  if (c == "forks" && need(1)) {  // forks N: start N children that wait; OK forked=K (K <= N)
    long n = num(argv[2]);
    int p[2];
    if (::pipe(p) != 0) return err(errno);
    std::vector<pid_t> kids;
    int first_err = 0;
    for (long i = 0; i < n; ++i) {
      pid_t k = ::fork();
      if (k < 0) {
        first_err = errno;
        break;
      }
      if (k == 0) {
        ::close(p[1]);
        char b;
        ssize_t ignored = ::read(p[0], &b, 1);  // until the parent closes the pipe
        (void)ignored;
        ::_exit(0);
      }
      kids.push_back(k);
    }
    ::close(p[1]);
    for (pid_t k : kids) ::waitpid(k, nullptr, 0);
    std::string d = "forked=" + std::to_string(kids.size());
    if (first_err != 0) d += std::string(" then ") + strerrorname_np(first_err);
    return ok(d);
  }
  if (c == "alloc" && need(1)) {  // alloc MB: allocate and touch MB mebibytes
    size_t mb = static_cast<size_t>(num(argv[2]));
    std::vector<char*> blocks;
    for (size_t i = 0; i < mb; ++i) {
      char* b = static_cast<char*>(std::malloc(1 << 20));
      if (b == nullptr) return err(ENOMEM);
      std::memset(b, 1, 1 << 20);
      blocks.push_back(b);
    }
    return ok("allocated=" + std::to_string(mb) + "M");
  }
  if (c == "spin" && need(1)) {  // spin SECONDS: burn CPU time
    struct timespec start {
    }, now{};
    ::clock_gettime(CLOCK_MONOTONIC, &start);
    volatile unsigned long x = 0;
    do {
      for (int i = 0; i < 1000000; ++i) x = x + 1;
      ::clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < static_cast<double>(num(argv[2])));
    return ok();
  }

  // --- process trees ---
  if (c == "hang") cmd_hang();
  if (c == "daemonize" && need(1)) return cmd_daemonize(argv[0][0] == '/' ? argv[0] : "/proc/self/exe", argv[2]);

  // --- resource bounds and kill switches ---
  if (c == "forkbomb" && need(2)) return cmd_forkbomb(std::strtod(argv[2], nullptr), num(argv[3]));
  if (c == "fill" && need(2)) return cmd_fill(argv[2], num(argv[3]));
  if (c == "deny-loop" && need(1)) return cmd_deny_loop(num(argv[2]));

  // --- network mode "proxy" ---
  if (c == "tcp-connect" && need(2)) return cmd_tcp_connect(argv[2], argv[3], need(3) ? argv[4] : nullptr);
  if (c == "tcp-dump" && need(3)) return cmd_tcp_dump(argv[2], argv[3], argv[4]);
  if (c == "tcp-hold" && need(4)) return cmd_tcp_hold(argv[2], argv[3], argv[4], num(argv[5]));
  if (c == "socks-connect" && need(2)) return cmd_socks_connect(argv[2], argv[3], need(3) ? argv[4] : nullptr);
  if (c == "dns-query" && need(2)) return cmd_dns_query(argv[2], argv[3], need(3) && std::string(argv[4]) == "tcp");
  if (c == "dns-connect" && need(2)) return cmd_dns_connect(argv[2], argv[3], need(3) ? argv[4] : nullptr);
  if (c == "proxy-tunnels" && need(3)) return cmd_proxy_tunnels(num(argv[2]), argv[3], argv[4]);
  if (c == "half-close" && need(4)) return cmd_half_close(argv[2], argv[3], argv[4], argv[5]);
  if (c == "tcp-reset" && need(5)) return cmd_tcp_reset(argv[2], argv[3], argv[4], argv[5], num(argv[6]));
  if (c == "dns-flood" && need(2)) return cmd_dns_flood(num(argv[2]), argc - 3, argv + 3);
  if (c == "tcp-idle" && need(4)) return cmd_tcp_idle(num(argv[2]), argv[3], argv[4], num(argv[5]));
  if (c == "tunnel-storm" && need(3)) return cmd_tunnel_storm(num(argv[2]), argv[3], argv[4]);
  if (c == "tcp-push" && need(5))
    return cmd_tcp_push(argv[2], argv[3], argv[4], argv[5], std::strtod(argv[6], nullptr));

  return usage();
}
