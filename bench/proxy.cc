// What network mode "proxy" costs: a client inside `paddock run --net proxy` reaching a server
// in this process (127.0.0.1, an ephemeral port) through paddock's supervisor, against the
// same client outside any sandbox connecting to the server directly over loopback.
//   - throughput: one large download (default 1 GiB) through an HTTP CONNECT tunnel, and
//     through the transparent path (a plain connect to 127.0.0.1:PORT inside the sandbox),
//     against a direct loopback download; MiB/s and the ratio (target >= 80 %).
//   - latency: a new connection and a one-byte round trip on it, repeated; median per
//     connection, through CONNECT and transparent, against direct (target: < 0.3 ms added).
//   - memory: the paddock process's VmRSS with 0 and with N (default 1000) idle CONNECT tunnels
//     open, per tunnel.
// Rounds alternate the contenders; every figure is a median of rounds.
//
//   paddock-bench-proxy PADDOCK [ROUNDS] [MIB] [TUNNELS]
//   paddock-bench-proxy --client throughput|latency|hold direct|connect|transparent PORT N
//       (the client itself; paddock runs it inside the sandbox)
//
// Wire protocol of the server (not HTTP: the proxy only sees a tunnel): the client sends one
// byte, 'T' followed by an 8-byte little-endian count (the server sends that many bytes, then
// closes), or 'E' (the server echoes every byte until the client closes).
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "stats.h"

namespace {

using paddock::bench::median;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool send_all(int s, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::send(s, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool recv_exact(int s, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::recv(s, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// ------------------------------------------------------------------------------------------
// The server (in the bench process, on the host)

class Server {
 public:
  Server() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 4096) != 0) {
      std::perror("bench: server");
      std::exit(2);
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    std::thread([this] { accept_loop(); }).detach();
  }
  [[nodiscard]] int port() const { return port_; }

 private:
  void accept_loop() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
        return;
      }
      std::thread([c] { serve(c); }).detach();
    }
  }
  static void serve(int c) {
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char kind = 0;
    if (recv_exact(c, &kind, 1) && kind == 'T') {
      std::uint64_t n = 0;
      if (recv_exact(c, &n, sizeof n)) {
        static const std::vector<char> chunk(1 << 18, 'x');
        while (n > 0) {
          size_t k = static_cast<size_t>(std::min<std::uint64_t>(n, chunk.size()));
          if (!send_all(c, chunk.data(), k)) break;
          n -= k;
        }
      }
    } else if (kind == 'E') {
      char buf[4096];
      for (;;) {
        ssize_t r = ::recv(c, buf, sizeof buf, 0);
        if (r <= 0 || !send_all(c, buf, static_cast<size_t>(r))) break;
      }
    }
    ::close(c);
  }
  int fd_ = -1;
  int port_ = 0;
};

// ------------------------------------------------------------------------------------------
// The client (run bare, or inside paddock)

// A connection to the server: directly or transparently (a plain connect to 127.0.0.1:PORT),
// or through a CONNECT tunnel of paddock's HTTP proxy. -1 on failure.
int open_to(const std::string& how, int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(how == "connect" ? 3128 : port));
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(s);
    return -1;
  }
  if (how == "connect") {
    std::string target = "127.0.0.1:" + std::to_string(port);
    std::string req = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
    std::string head;
    char c;
    if (!send_all(s, req.data(), req.size())) {
      ::close(s);
      return -1;
    }
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
      if (::recv(s, &c, 1, 0) != 1) break;
      head += c;
    }
    if (head.compare(0, 12, "HTTP/1.1 200") != 0 && head.compare(0, 12, "HTTP/1.0 200") != 0) {
      std::fprintf(stderr, "bench client: CONNECT refused: %s\n", head.substr(0, head.find('\r')).c_str());
      ::close(s);
      return -1;
    }
  }
  return s;
}

// Downloads n bytes; prints MiB/s.
int client_throughput(const std::string& how, int port, std::uint64_t n) {
  auto t0 = Clock::now();
  int s = open_to(how, port);
  if (s < 0) return 1;
  char kind = 'T';
  if (!send_all(s, &kind, 1) || !send_all(s, &n, sizeof n)) return 1;
  std::vector<char> buf(1 << 18);
  std::uint64_t got = 0;
  for (;;) {
    ssize_t r = ::recv(s, buf.data(), buf.size(), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::uint64_t>(r);
  }
  double secs = since(t0);
  ::close(s);
  if (got != n) {
    std::fprintf(stderr, "bench client: got %llu of %llu bytes\n", static_cast<unsigned long long>(got),
                 static_cast<unsigned long long>(n));
    return 1;
  }
  std::printf("%.3f\n", static_cast<double>(n) / (1 << 20) / secs);
  return 0;
}

// n new connections, each: open, one-byte round trip, close. Prints the median in microseconds.
int client_latency(const std::string& how, int port, long n) {
  std::vector<double> us;
  for (long i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    int s = open_to(how, port);
    if (s < 0) return 1;
    const char msg[2] = {'E', 'x'};
    char back = 0;
    if (!send_all(s, msg, 2) || !recv_exact(s, &back, 1)) return 1;
    us.push_back(since(t0) * 1e6);
    ::close(s);
  }
  std::printf("%.2f\n", median(us));
  return 0;
}

// Prints "ready 0", waits for a line on stdin, opens n tunnels (each proven by an echo), prints
// "ready n", and holds them until stdin closes.
int client_hold(const std::string& how, int port, long n) {
  std::printf("ready 0\n");
  std::fflush(stdout);
  char line[64];
  if (std::fgets(line, sizeof line, stdin) == nullptr) return 1;
  std::vector<int> held;
  for (long i = 0; i < n; ++i) {
    int s = open_to(how, port);
    const char msg[2] = {'E', 'x'};
    char back = 0;
    if (s < 0 || !send_all(s, msg, 2) || !recv_exact(s, &back, 1)) {
      std::printf("failed at %ld (%s)\n", i, std::strerror(errno));
      std::fflush(stdout);
      return 1;
    }
    held.push_back(s);
  }
  std::printf("ready %ld\n", n);
  std::fflush(stdout);
  while (std::fgets(line, sizeof line, stdin) != nullptr) {
  }
  for (int s : held) ::close(s);
  return 0;
}

// ------------------------------------------------------------------------------------------
// The driver

struct Bench {
  std::string paddock, self, self_dir, tmp;
  int port = 0;
  rlim_t nofile_soft = 0;  // the invoking shell's, restored for paddock
  int log_n = 0;

  std::vector<std::string> sandboxed(const std::vector<std::string>& client) {
    std::vector<std::string> a = {paddock,       "-q",
                                  "--audit",     tmp + "/log-" + std::to_string(++log_n) + ".jsonl",
                                  "--ro",        self_dir,
                                  "--net",       "proxy",
                                  "--allow-net", "127.0.0.1:" + std::to_string(port),
                                  "--",          self,
                                  "--client"};
    a.insert(a.end(), client.begin(), client.end());
    return a;
  }

  // Starts argv with stdin and stdout as pipes.
  pid_t start(const std::vector<std::string>& args, int* in, int* out) const {
    int i[2], o[2];
    if (::pipe2(i, O_CLOEXEC) != 0 || ::pipe2(o, O_CLOEXEC) != 0) return -1;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(i[0], 0);
      ::dup2(o[1], 1);
      struct rlimit rl {};
      ::getrlimit(RLIMIT_NOFILE, &rl);
      rl.rlim_cur = nofile_soft;
      ::setrlimit(RLIMIT_NOFILE, &rl);
      std::vector<char*> argv;
      for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(i[0]);
    ::close(o[1]);
    *in = i[1];
    *out = o[0];
    return pid;
  }

  // Runs argv to its end and returns the number it prints, or -1.
  double run(const std::vector<std::string>& args) const {
    int in = -1, out = -1;
    pid_t pid = start(args, &in, &out);
    if (pid < 0) return -1;
    ::close(in);
    std::string text;
    char buf[256];
    ssize_t n;
    while ((n = ::read(out, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    ::close(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) {
      std::string cmd;
      for (const auto& a : args) cmd += a + " ";
      std::fprintf(stderr, "bench: %sfailed (status %d): %s\n", cmd.c_str(), status, text.c_str());
      return -1;
    }
    return std::strtod(text.c_str(), nullptr);
  }

  static long vm_rss_kib(pid_t pid) {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
    if (f == nullptr) return -1;
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::atol(line + 6);
    }
    std::fclose(f);
    return kib;
  }

  static long open_fds(pid_t pid) {
    long n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    return n;
  }

  static bool read_line(int fd, std::string* line, double timeout) {
    line->clear();
    auto t0 = Clock::now();
    char c;
    while (since(t0) < timeout) {
      struct pollfd p {
        fd, POLLIN, 0
      };
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(fd, &c, 1) != 1) return false;
      if (c == '\n') return true;
      *line += c;
    }
    return false;
  }

  // paddock's VmRSS with 0 and with n idle tunnels: KiB per tunnel, or -1.
  double memory_per_tunnel(long n) {
    int in = -1, out = -1;
    pid_t pid = start(sandboxed({"hold", "connect", std::to_string(port), std::to_string(n)}), &in, &out);
    std::string line;
    double per = -1;
    if (read_line(out, &line, 10) && line == "ready 0") {
      ::usleep(200000);
      long before = vm_rss_kib(pid), fds_before = open_fds(pid);
      if (::write(in, "go\n", 3) == 3 && read_line(out, &line, 60) && line == "ready " + std::to_string(n)) {
        ::usleep(200000);
        long after = vm_rss_kib(pid), fds_after = open_fds(pid);
        per = static_cast<double>(after - before) / static_cast<double>(n);
        // Two descriptors per tunnel (the sandbox's side and the host's) prove that this process
        // is the one serving them.
        std::fprintf(stderr, "  memory round: VmRSS %ld KiB -> %ld KiB, descriptors %ld -> %ld, with %ld tunnels\n",
                     before, after, fds_before, fds_after, n);
      } else {
        std::fprintf(stderr, "bench: holding %ld tunnels failed: %s\n", n, line.c_str());
      }
    } else {
      std::fprintf(stderr, "bench: the holding client did not start: %s\n", line.c_str());
    }
    ::close(in);
    ::close(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return per;
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc == 6 && std::strcmp(argv[1], "--client") == 0) {
    std::string what = argv[2], how = argv[3];
    int port = std::atoi(argv[4]);
    if (what == "throughput") return client_throughput(how, port, std::strtoull(argv[5], nullptr, 10));
    if (what == "latency") return client_latency(how, port, std::atol(argv[5]));
    if (what == "hold") return client_hold(how, port, std::atol(argv[5]));
    return 2;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: paddock-bench-proxy PADDOCK [ROUNDS] [MIB] [TUNNELS]\n");
    return 2;
  }
  Bench b;
  b.paddock = argv[1];
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::uint64_t mib = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1024;
  long tunnels = argc > 4 ? std::atol(argv[4]) : 1000;
  const long connections = 200;  // per latency round
  char self_buf[PATH_MAX];
  ssize_t len = ::readlink("/proc/self/exe", self_buf, sizeof self_buf - 1);
  if (len <= 0) return 2;
  b.self.assign(self_buf, static_cast<size_t>(len));
  b.self_dir = std::filesystem::path(b.self).parent_path().string();
  // The server holds one descriptor per tunnel: raise this process's limit, and give paddock
  // the limit the invoking shell had (what a user's paddock would get).
  struct rlimit rl {};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  b.nofile_soft = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  char tmpl[] = "/tmp/paddock-bench-proxy-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 2;
  b.tmp = tmpl;
  Server server;
  b.port = server.port();
  const std::string port = std::to_string(b.port);
  const std::string bytes = std::to_string(mib << 20);

  std::vector<double> tp_direct, tp_connect, tp_transparent, lat_direct, lat_connect, lat_transparent, mem;
  for (int r = 0; r < rounds; ++r) {
    tp_direct.push_back(b.run({b.self, "--client", "throughput", "direct", port, bytes}));
    tp_connect.push_back(b.run(b.sandboxed({"throughput", "connect", port, bytes})));
    tp_transparent.push_back(b.run(b.sandboxed({"throughput", "transparent", port, bytes})));
    lat_direct.push_back(b.run({b.self, "--client", "latency", "direct", port, std::to_string(connections)}));
    lat_connect.push_back(b.run(b.sandboxed({"latency", "connect", port, std::to_string(connections)})));
    lat_transparent.push_back(b.run(b.sandboxed({"latency", "transparent", port, std::to_string(connections)})));
    if (r < 3) mem.push_back(b.memory_per_tunnel(tunnels));
  }
  std::error_code ec;
  std::filesystem::remove_all(b.tmp, ec);

  double d = median(tp_direct), c = median(tp_connect), t = median(tp_transparent);
  double ld = median(lat_direct), lc = median(lat_connect), lt = median(lat_transparent);
  std::printf("network mode \"proxy\", %d alternating rounds, medians:\n", rounds);
  std::printf("  throughput, %llu MiB download:\n", static_cast<unsigned long long>(mib));
  std::printf("    direct loopback (no sandbox)   %8.0f MiB/s\n", d);
  std::printf("    through CONNECT                %8.0f MiB/s   (%.0f %% of direct; target >= 80 %%)\n", c,
              100 * c / d);
  std::printf("    transparent (plain connect)    %8.0f MiB/s   (%.0f %% of direct)\n", t, 100 * t / d);
  std::printf("  new connection + 1-byte round trip (%ld per round, median of each round):\n", connections);
  std::printf("    direct loopback (no sandbox)   %8.1f us\n", ld);
  std::printf("    through CONNECT                %8.1f us   (+%.1f us; target < 300 us added)\n", lc, lc - ld);
  std::printf("    transparent (plain connect)    %8.1f us   (+%.1f us)\n", lt, lt - ld);
  std::printf("  paddock's VmRSS per idle CONNECT tunnel (%ld open): %.1f KiB\n", tunnels, median(mem));
  bool failed = std::any_of(tp_connect.begin(), tp_connect.end(), [](double v) { return v < 0; }) ||
                std::any_of(lat_connect.begin(), lat_connect.end(), [](double v) { return v < 0; }) ||
                std::any_of(mem.begin(), mem.end(), [](double v) { return v < 0; });
  if (failed) std::printf("  (some rounds FAILED; see the messages above)\n");
  return failed ? 1 : 0;
}
