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

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) return usage();
  std::string c = argv[1];
  auto need = [&](int n) { return argc >= 2 + n; };

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

  return usage();
}
