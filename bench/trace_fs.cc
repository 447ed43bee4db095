// What --trace-fs costs: a loop of open()+close() of a granted file, timed inside the loop,
//   - bare (no sandbox),
//   - in `paddock run` (default profile: every layer on; opens never leave the kernel),
//   - in `paddock run --trace-fs` (every open stops in the supervisor, which reads the path,
//     resolves it in the sandbox's view, checks it against the grants and lets it continue),
//   - the same, opening a file outside the grants (each call also written to the audit log).
// Alternating rounds, medians of ns per open+close; the ratios are what bench/README.md and
// paddock(1) quote.
//
//   paddock-bench-trace-fs PADDOCK [ROUNDS] [OPENS]
//   paddock-bench-trace-fs --loop N FILE      (the loop itself; run inside the sandbox)
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "stats.h"

namespace {

using paddock::bench::median;

int loop(long n, const char* file) {
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    int fd = ::open(file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
  }
  auto t1 = std::chrono::steady_clock::now();
  std::printf("%.1f\n", std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n));
  return 0;
}

// Runs argv, returns the number it prints on stdout (ns per iteration), or -1.
double run(const std::vector<std::string>& args) {
  int out[2];
  if (::pipe(out) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[256];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) {
    std::fprintf(stderr, "bench: %s ... failed (status %d): %s\n", args[0].c_str(), status, text.c_str());
    return -1;
  }
  return std::strtod(text.c_str(), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--loop") == 0) return loop(std::atol(argv[2]), argv[3]);
  if (argc < 2) {
    std::fprintf(stderr, "usage: paddock-bench-trace-fs PADDOCK [ROUNDS] [OPENS]\n");
    return 2;
  }
  std::string paddock = argv[1];
  int rounds = argc > 2 ? std::atoi(argv[2]) : 11;
  long opens = argc > 3 ? std::atol(argv[3]) : 20000;
  char self_buf[PATH_MAX];
  ssize_t len = ::readlink("/proc/self/exe", self_buf, sizeof self_buf - 1);
  if (len <= 0) return 2;
  std::string self(self_buf, static_cast<size_t>(len));
  std::string self_dir = std::filesystem::path(self).parent_path().string();

  char tmpl[] = "/tmp/paddock-bench-trace-fs-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 2;
  std::string tmp = tmpl;
  // Granted: the base profile's /etc. Outside the grants: a file in paddock's own temporary
  // folder (the sandbox has a fresh /tmp, so it looks for it in vain, and each look is recorded).
  const std::string granted = "/etc/passwd";
  const std::string outside = tmp + "/outside";
  {
    FILE* f = std::fopen(outside.c_str(), "w");
    if (f != nullptr) std::fclose(f);
  }
  int log_n = 0;
  auto sandboxed = [&](bool trace, const std::string& file, long n) {
    std::vector<std::string> a = {paddock, "-q",    "--audit", tmp + "/log-" + std::to_string(++log_n) + ".jsonl",
                                  "--ro",  self_dir};
    if (trace) a.push_back("--trace-fs");
    for (const auto& s : {std::string("--"), self, std::string("--loop"), std::to_string(n), file}) a.push_back(s);
    return run(a);
  };
  const long outside_opens = std::max(1L, opens / 10);
  std::vector<double> bare, plain, traced, recorded;
  for (int r = 0; r < rounds; ++r) {
    bare.push_back(run({self, "--loop", std::to_string(opens), granted}));
    plain.push_back(sandboxed(false, granted, opens));
    traced.push_back(sandboxed(true, granted, opens));
    recorded.push_back(sandboxed(true, outside, outside_opens));
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);

  double b = median(bare), p = median(plain), t = median(traced), o = median(recorded);
  std::printf("open+close of a file, %d alternating rounds, median ns per call:\n", rounds);
  std::printf("  bare (no sandbox)                        %9.1f ns\n", b);
  std::printf("  paddock run                              %9.1f ns   (x%.2f bare)\n", p, p / b);
  std::printf(
      "  paddock run --trace-fs, granted file     %9.1f ns   (x%.2f bare, x%.2f paddock run, +%.1f us per call)\n", t,
      t / b, t / p, (t - p) / 1000);
  std::printf(
      "  paddock run --trace-fs, outside (logged) %9.1f ns   (x%.2f paddock run; %ld calls, each an audit event)\n", o,
      o / p, outside_opens);
  return 0;
}
