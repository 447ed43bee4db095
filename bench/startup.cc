// Startup benchmark: `paddock run -- /bin/true` under the default profile (every layer on,
// network none) against bubblewrap and firejail doing the same, alternating in one run so
// machine noise hits all of them alike. Reports medians, ratios and paddock's peak RSS.
//
//   paddock-bench-startup PADDOCK [ROUNDS]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "stats.h"

extern char** environ;

namespace {

using paddock::bench::median;

struct Candidate {
  std::string name;
  std::vector<std::string> argv;
  std::vector<double> ms;
  long max_rss_kib = 0;
  int failures = 0;
};

bool available(const std::string& prog) {
  if (prog.find('/') != std::string::npos) return access(prog.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    std::string dir = p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (access((dir + "/" + prog).c_str(), X_OK) == 0) return true;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return false;
}

// One run: wall time from spawn to reaping, and the child's own peak RSS.
bool run_once(Candidate& c) {
  std::vector<char*> argv;
  for (auto& a : c.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  auto t1 = std::chrono::steady_clock::now();
  c.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  c.max_rss_kib = std::max(c.max_rss_kib, ru.ru_maxrss);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++c.failures;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PADDOCK [ROUNDS]\n", argv[0]);
    return 2;
  }
  int rounds = argc > 2 ? std::atoi(argv[2]) : 100;
  std::vector<Candidate> cs;
  cs.push_back({"bare /bin/true", {"/bin/true"}, {}, 0, 0});
  cs.push_back({"paddock (default profile)", {argv[1], "-q", "--", "/bin/true"}, {}, 0, 0});
  if (available("bwrap")) {
    cs.push_back({"bubblewrap",
                  {"bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"},
                  {},
                  0,
                  0});
  }
  if (available("firejail")) {
    cs.push_back({"firejail", {"firejail", "--quiet", "--noprofile", "--net=none", "/bin/true"}, {}, 0, 0});
  }
  for (auto& c : cs) {  // warm-up: page cache, dentries
    for (int i = 0; i < 3; ++i) run_once(c);
    c.ms.clear();
  }
  // Rotate the order every round: the kernel finishes tearing down a network namespace
  // asynchronously, so whoever runs right after a contender pays for its cleanup; rotating
  // spreads that cost over all of them.
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < cs.size(); ++i) run_once(cs[(i + static_cast<size_t>(r)) % cs.size()]);
  }
  double paddock = median(cs[1].ms);
  std::printf("startup, %d alternating rounds, median wall time:\n", rounds);
  for (auto& c : cs) {
    double m = median(c.ms);
    std::printf("  %-28s %7.2f ms   paddock/this = %5.2f   peak RSS %ld KiB%s\n", c.name.c_str(), m,
                m > 0 ? paddock / m : 0.0, c.max_rss_kib, c.failures ? "   (FAILED runs!)" : "");
  }
  for (auto& c : cs) {
    if (c.name == "bubblewrap") {
      double ratio = paddock / median(c.ms);
      std::printf("target: paddock <= 0.5 x bubblewrap: %s (%.2f)\n", ratio <= 0.5 ? "met" : "NOT met", ratio);
    }
  }
  return 0;
}
