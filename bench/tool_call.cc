// What a tool call costs: a trivial JavaScript tool (`export default async (input) => input`)
// run by paddock-tool-worker (V8, in the sandbox), called
//   1. warm, through one `paddock mcp` process (MCP over stdio, newline-delimited JSON-RPC):
//      each request -> response round trip timed on the client side, p50 and p99
//      (targets of issue 6: p50 <= 1 ms, p99 <= 5 ms);
//   2. as fast as possible, sequentially through one `paddock mcp` and with two `paddock mcp`
//      processes in parallel (one client thread each): calls per second;
//   3. cold, `paddock tool call` from exec to the result on stdout (and to exit), against
//      `node -e 'console.log(JSON.stringify({a:1}))'` (/usr/bin/node, if present) and a bare
//      /bin/true, alternating;
//   4. memory, with the MCP server idle after the calls: VmRSS and RssAnon of the
//      paddock-tools process, of the sandbox processes between it and the worker, and of the
//      worker (paddock-tool-worker, with its descendants).
// Rounds alternate the contenders; every figure is a median of rounds.
//
//   paddock-bench-tool PADDOCK [ROUNDS] [CALLS] [COLD_RUNS]
//
// The profile and the script are written to a temporary folder that is also XDG_CONFIG_HOME
// and XDG_STATE_HOME of every paddock started here; the profile sits in the user's profile
// folder ($XDG_CONFIG_HOME/paddock/profiles/), so it needs no trust step.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "stats.h"

extern char** environ;

namespace {

using paddock::bench::median;
using Clock = std::chrono::steady_clock;

constexpr int kWarmup = 50;
const char* const kProfile = "paddock-bench-tool";

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// The value at fraction q (0..1) of the sorted values (nearest rank); 0 for none.
double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

// The temporary folder (profile, XDG folders, the children's stderr); removed on the way out.
std::filesystem::path g_dir;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  if (!g_dir.empty()) {
    for (const char* name : {"cold.stderr", "mcp.stderr"}) {
      std::string text = read_text(g_dir / name);
      if (!text.empty()) std::fprintf(stderr, "bench: %s:\n%s", name, text.c_str());
    }
    std::error_code ec;
    std::filesystem::remove_all(g_dir, ec);
  }
  std::exit(2);
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  if (!f) die("cannot write " + p.string());
}

// ------------------------------------------------------------------------------------------
// Processes

struct Child {
  pid_t pid = -1;
  int in = -1;   // its stdin (we write), or -1
  int out = -1;  // its stdout (we read), or -1
};

// Starts argv with stdin and stdout on pipes (when asked) and stderr on the file g_dir/ERR
// (truncated first when asked: the last cold run's, or every MCP server's).
Child spawn(const std::vector<std::string>& args, bool pipe_in, bool pipe_out, const char* err, bool truncate) {
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  if (pipe_in && ::pipe2(in, O_CLOEXEC) != 0) die("pipe");
  if (pipe_out && ::pipe2(out, O_CLOEXEC) != 0) die("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (pipe_in) {
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  if (pipe_out) {
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  const std::string err_path = g_dir / err;
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND),
                                   0600);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  Child c;
  int rc = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) die("cannot start " + args[0] + ": " + std::strerror(rc));
  if (pipe_in) {
    ::close(in[0]);
    c.in = in[1];
  }
  if (pipe_out) {
    ::close(out[1]);
    c.out = out[0];
  }
  return c;
}

// Waits for pid; after timeout_ms, SIGKILL. The exit status as waitpid reports it.
int reap(pid_t pid, int timeout_ms) {
  int status = 0;
  auto t0 = Clock::now();
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (us_since(t0) > timeout_ms * 1000.0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return status;
    }
    ::usleep(1000);
  }
}

// ------------------------------------------------------------------------------------------
// The MCP client

class Mcp {
 public:
  explicit Mcp(const std::string& paddock) {
    c_ = spawn({paddock, "mcp", "-p", kProfile}, true, true, "mcp.stderr", false);
    std::string r = request(R"("method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},)"
                            R"("clientInfo":{"name":"paddock-bench-tool","version":"1"}})");
    if (r.find("\"protocolVersion\"") == std::string::npos) die("initialize failed: " + r);
    send_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }
  ~Mcp() {
    if (c_.in >= 0) ::close(c_.in);  // end of input: the server exits
    if (reap(c_.pid, 5000) != 0) std::fprintf(stderr, "bench: paddock mcp did not exit cleanly\n");
    ::close(c_.out);
  }
  Mcp(const Mcp&) = delete;
  Mcp& operator=(const Mcp&) = delete;

  [[nodiscard]] pid_t pid() const { return c_.pid; }

  // One tools/call of the trivial tool; its round trip in microseconds. Dies on a wrong answer.
  double call() {
    auto t0 = Clock::now();
    std::string r = request(R"("method":"tools/call","params":{"name":"echo","arguments":{"a":1}})");
    double us = us_since(t0);
    if (r.find(R"("structuredContent":{"a":1})") == std::string::npos ||
        r.find("\"isError\":true") != std::string::npos)
      die("unexpected answer: " + r);
    return us;
  }

 private:
  // Sends {"jsonrpc":"2.0","id":N,<body>} and returns the response line with that id.
  std::string request(const std::string& body) {
    int id = ++last_id_;
    send_line(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + "," + body + "}");
    const std::string tag = "\"id\":" + std::to_string(id) + ",";
    for (;;) {
      std::string line = read_line();
      if (line.find(tag) != std::string::npos) return line;
    }
  }

  void send_line(std::string line) {
    line += '\n';
    const char* p = line.data();
    std::size_t n = line.size();
    while (n > 0) {
      ssize_t w = ::write(c_.in, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) die("paddock mcp closed its input");
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  std::string read_line() {
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      char chunk[65536];
      ssize_t r = ::read(c_.out, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) die("paddock mcp closed its output");
      buf_.append(chunk, static_cast<std::size_t>(r));
    }
  }

  Child c_;
  std::string buf_;
  int last_id_ = 0;
};

// ------------------------------------------------------------------------------------------
// Memory, from /proc

// From /proc/PID/status (readable even for the sandbox's non-dumpable processes, unlike smaps).
struct Mem {
  long rss_kib = 0;   // VmRSS: resident, shared library pages included
  long anon_kib = 0;  // RssAnon: resident anonymous memory (heaps, V8's heap), the process's own
};

long proc_field(const std::string& file, const char* key) {
  std::ifstream f(file);
  std::string line;
  std::size_t k = std::strlen(key);
  while (std::getline(f, line)) {
    if (line.compare(0, k, key) == 0) return std::atol(line.c_str() + k);
  }
  return -1;
}

Mem mem_of(pid_t pid) {
  std::string d = "/proc/" + std::to_string(pid);
  return {std::max(0L, proc_field(d + "/status", "VmRSS:")), std::max(0L, proc_field(d + "/status", "RssAnon:"))};
}

Mem operator+(Mem a, Mem b) {
  return {a.rss_kib + b.rss_kib, a.anon_kib + b.anon_kib};
}

std::string comm_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(f, s);
  return s;
}

// Parent of every process on the host (from /proc/PID/stat).
std::map<pid_t, pid_t> parents() {
  std::map<pid_t, pid_t> m;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "stat");
    std::string stat;
    std::getline(f, stat);
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2) m[std::stoi(name)] = ppid;
  }
  return m;
}

std::vector<pid_t> descendants(pid_t root, const std::map<pid_t, pid_t>& parent) {
  std::vector<pid_t> out{root};
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (const auto& [p, pp] : parent) {
      if (pp == out[i]) out.push_back(p);
    }
  }
  return out;
}

struct TreeMem {
  std::string server_comm;
  Mem server;   // the paddock-tools process (what `paddock mcp` became)
  Mem between;  // sandbox processes between it and the worker (supervisor, init)
  Mem worker;   // paddock-tool-worker and its descendants
  int between_n = 0;
  int worker_n = 0;
};

TreeMem tree_mem(pid_t server) {
  TreeMem t;
  t.server_comm = comm_of(server);
  t.server = mem_of(server);
  auto parent = parents();
  auto all = descendants(server, parent);
  pid_t worker = -1;
  for (pid_t p : all) {
    if (comm_of(p).rfind("paddock-tool-w", 0) == 0) {
      worker = p;
      break;
    }
  }
  std::vector<pid_t> in_worker;
  if (worker > 0) in_worker = descendants(worker, parent);
  for (pid_t p : all) {
    if (p == server) continue;
    if (std::find(in_worker.begin(), in_worker.end(), p) != in_worker.end()) {
      t.worker = t.worker + mem_of(p);
      ++t.worker_n;
    } else {
      t.between = t.between + mem_of(p);
      ++t.between_n;
    }
  }
  return t;
}

// ------------------------------------------------------------------------------------------
// The measurements

struct Warm {
  double p50 = 0, p99 = 0, max = 0, calls_per_s = 0;
  TreeMem mem;
};

Warm warm_one(const std::string& paddock, int calls) {
  Mcp m(paddock);
  for (int i = 0; i < kWarmup; ++i) m.call();
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(calls));
  auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) us.push_back(m.call());
  double total = us_since(t0);
  Warm w;
  w.p50 = percentile(us, 0.5);
  w.p99 = percentile(us, 0.99);
  w.max = *std::max_element(us.begin(), us.end());
  w.calls_per_s = calls / (total / 1e6);
  ::usleep(500 * 1000);  // idle
  w.mem = tree_mem(m.pid());
  return w;
}

// Two paddock mcp processes, one client thread each, started together: total calls per second.
double warm_two(const std::string& paddock, int calls) {
  Mcp a(paddock), b(paddock);
  for (int i = 0; i < kWarmup; ++i) {
    a.call();
    b.call();
  }
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  auto run = [&](Mcp& m) {
    ready.fetch_add(1);
    while (!go.load()) {
    }
    for (int i = 0; i < calls; ++i) m.call();
  };
  std::thread ta(run, std::ref(a));
  std::thread tb(run, std::ref(b));
  while (ready.load() < 2) {
  }
  auto t0 = Clock::now();
  go.store(true);
  ta.join();
  tb.join();
  return 2.0 * calls / (us_since(t0) / 1e6);
}

struct Cold {
  double to_output_us = 0;  // exec to the first line on stdout (-1 when it writes nothing)
  double to_exit_us = 0;
  std::string output;
};

Cold cold_one(const std::vector<std::string>& args) {
  Cold c;
  auto t0 = Clock::now();
  Child ch = spawn(args, false, true, "cold.stderr", true);
  char buf[4096];
  bool got_line = false;
  for (;;) {
    ssize_t r = ::read(ch.out, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    c.output.append(buf, static_cast<std::size_t>(r));
    if (!got_line && c.output.find('\n') != std::string::npos) {
      got_line = true;
      c.to_output_us = us_since(t0);
    }
  }
  int status = 0;
  while (::waitpid(ch.pid, &status, 0) < 0 && errno == EINTR) {
  }
  c.to_exit_us = us_since(t0);
  ::close(ch.out);
  if (!got_line) c.to_output_us = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    die(args[0] + (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                     : " was killed by signal " + std::to_string(WTERMSIG(status))));
  }
  return c;
}

std::string kib(long k) {
  char b[64];
  if (k < 0) return "n/a";
  std::snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(k) / 1024.0);
  return b;
}

long median_kib(const std::vector<long>& v) {
  std::vector<double> d(v.begin(), v.end());
  if (std::any_of(v.begin(), v.end(), [](long x) { return x < 0; })) return -1;
  return std::lround(median(d));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PADDOCK [ROUNDS] [CALLS] [COLD_RUNS]\n", argv[0]);
    return 2;
  }
  std::string paddock = std::filesystem::absolute(argv[1]);
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  int calls = argc > 3 ? std::atoi(argv[3]) : 2000;
  int cold_runs = argc > 4 ? std::atoi(argv[4]) : 30;
  if (rounds < 1 || calls < 1 || cold_runs < 1) die("ROUNDS, CALLS and COLD_RUNS must be positive");

  // The test profile, in a fresh XDG_CONFIG_HOME (so it is a user profile: no trust step).
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/paddock-bench-tool.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) die("mkdtemp");
  g_dir = templ;
  const std::filesystem::path dir = g_dir;
  const auto profiles = dir / "config" / "paddock" / "profiles";
  std::filesystem::create_directories(profiles / "tools");
  std::filesystem::create_directories(dir / "state");
  write_file(profiles / (std::string(kProfile) + ".toml"),
             "version = 1\n"
             "description = \"paddock-bench-tool: one trivial tool\"\n"
             "extends = [\"default\"]\n\n"
             "[[tool]]\n"
             "name = \"echo\"\n"
             "script = \"tools/echo.js\"\n");
  write_file(profiles / "tools" / "echo.js",
             "export const description = \"Answer the input back\";\n"
             "export const input = { type: \"object\" };\n"
             "export default async (input) => input;\n");
  ::setenv("XDG_CONFIG_HOME", (dir / "config").c_str(), 1);
  ::setenv("XDG_STATE_HOME", (dir / "state").c_str(), 1);

  const std::vector<std::string> cold_paddock = {paddock, "tool", "call", "-p", kProfile, "echo", R"({"a":1})"};
  const std::vector<std::string> cold_node = {"/usr/bin/node", "-e", "console.log(JSON.stringify({a:1}))"};
  const std::vector<std::string> cold_true = {"/bin/true"};
  const bool have_node = ::access("/usr/bin/node", X_OK) == 0;

  // Check once, so a broken setup fails before the timing starts.
  Cold check = cold_one(cold_paddock);
  if (check.output.find(R"("a":1)") == std::string::npos) die("paddock tool call answered: " + check.output);

  std::vector<double> p50, p99, pmax, cps1, cps2, cold_pad_out, cold_pad_exit, cold_node_out, cold_node_exit,
      cold_true_exit;
  std::vector<long> rss_server, rss_between, rss_worker, anon_server, anon_between, anon_worker;
  int between_n = 0, worker_n = 0;
  std::string server_comm;

  std::printf("paddock-bench-tool: %d rounds, %d warm calls per round (after %d warm-up), %d cold runs per round\n",
              rounds, calls, kWarmup, cold_runs);
  std::fflush(stdout);
  for (int r = 0; r < rounds; ++r) {
    std::vector<double> po, pe, no, ne, te;
    for (int i = 0; i < cold_runs; ++i) {
      Cold c = cold_one(cold_paddock);
      po.push_back(c.to_output_us);
      pe.push_back(c.to_exit_us);
      if (have_node) {
        Cold n = cold_one(cold_node);
        no.push_back(n.to_output_us);
        ne.push_back(n.to_exit_us);
      }
      te.push_back(cold_one(cold_true).to_exit_us);
    }
    cold_pad_out.push_back(median(po));
    cold_pad_exit.push_back(median(pe));
    if (have_node) {
      cold_node_out.push_back(median(no));
      cold_node_exit.push_back(median(ne));
    }
    cold_true_exit.push_back(median(te));

    Warm w = warm_one(paddock, calls);
    p50.push_back(w.p50);
    p99.push_back(w.p99);
    pmax.push_back(w.max);
    cps1.push_back(w.calls_per_s);
    rss_server.push_back(w.mem.server.rss_kib);
    anon_server.push_back(w.mem.server.anon_kib);
    rss_between.push_back(w.mem.between.rss_kib);
    anon_between.push_back(w.mem.between.anon_kib);
    rss_worker.push_back(w.mem.worker.rss_kib);
    anon_worker.push_back(w.mem.worker.anon_kib);
    between_n = w.mem.between_n;
    worker_n = w.mem.worker_n;
    server_comm = w.mem.server_comm;

    cps2.push_back(warm_two(paddock, calls));

    std::printf(
        "  round %d: warm p50 %.0f us, p99 %.0f us, max %.0f us; %.0f calls/s (1), %.0f calls/s (2); "
        "cold paddock %.1f ms; RSS server %ld KiB, between %ld KiB, worker %ld KiB\n",
        r + 1, w.p50, w.p99, w.max, w.calls_per_s, cps2.back(), median(pe) / 1000, w.mem.server.rss_kib,
        w.mem.between.rss_kib, w.mem.worker.rss_kib);
    std::fflush(stdout);
  }

  std::printf("\nwarm tools/call through one paddock mcp (client-side round trip, %d calls):\n", calls);
  std::printf("  p50 %8.0f us   (target <= 1000 us: %s)\n", median(p50), median(p50) <= 1000 ? "met" : "NOT met");
  std::printf("  p99 %8.0f us   (target <= 5000 us: %s)\n", median(p99), median(p99) <= 5000 ? "met" : "NOT met");
  std::printf("  max %8.0f us\n", median(pmax));
  std::printf("throughput (calls per second, sequential per client):\n");
  std::printf("  one paddock mcp          %8.0f\n", median(cps1));
  std::printf("  two paddock mcp at once  %8.0f   (x%.2f)\n", median(cps2), median(cps2) / median(cps1));
  std::printf("cold, from exec (median of %d runs per round):\n", cold_runs);
  std::printf("  paddock tool call        %7.1f ms to the result, %7.1f ms to exit\n", median(cold_pad_out) / 1000,
              median(cold_pad_exit) / 1000);
  if (have_node) {
    std::printf("  node -e (console.log)    %7.1f ms to the output, %7.1f ms to exit\n", median(cold_node_out) / 1000,
                median(cold_node_exit) / 1000);
  } else {
    std::printf("  node -e                  (no /usr/bin/node)\n");
  }
  std::printf("  /bin/true                %7.1f ms to exit\n", median(cold_true_exit) / 1000);
  std::printf("memory, paddock mcp idle after the calls (VmRSS / RssAnon):\n");
  std::printf("  %-26s %10s / %s\n", ("server (" + server_comm + ")").c_str(), kib(median_kib(rss_server)).c_str(),
              kib(median_kib(anon_server)).c_str());
  std::printf("  %-26s %10s / %s\n", ("sandbox, " + std::to_string(between_n) + " process(es)").c_str(),
              kib(median_kib(rss_between)).c_str(), kib(median_kib(anon_between)).c_str());
  std::printf("  %-26s %10s / %s\n", ("worker tree, " + std::to_string(worker_n) + " process(es)").c_str(),
              kib(median_kib(rss_worker)).c_str(), kib(median_kib(anon_worker)).c_str());
  std::vector<long> total, total_anon;
  for (std::size_t i = 0; i < rss_server.size(); ++i) {
    total.push_back(rss_server[i] + rss_between[i] + rss_worker[i]);
    total_anon.push_back(anon_server[i] + anon_between[i] + anon_worker[i]);
  }
  std::printf("  %-26s %10s / %s\n", "all (summed)", kib(median_kib(total)).c_str(),
              kib(median_kib(total_anon)).c_str());

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
