// seccomp's cost on syscall-heavy loops, with no filter, with an allow-everything filter (the
// floor: any seccomp filter moves system calls off the kernel's fast path) and with paddock's
// baseline filter (exactly what `paddock run` loads); alternating in one run, medians of
// per-iteration time. Two loops: getppid() (the cheapest call, the worst case for relative
// overhead) and open/read/close of a small file (what agents' tools mostly do).
// Target: < 5 % over no filter.
//
//   paddock-bench-syscall [ROUNDS] [CALLS]
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sandbox/seccomp.h"
#include "sandbox/seccomp_baseline.h"
#include "stats.h"

namespace {

using paddock::bench::median;

enum class Filter { None, AllowAll, Paddock };
enum class Loop { Getppid, FileIo };

void loop_once(Loop l) {
  if (l == Loop::Getppid) {
    syscall(SYS_getppid);
    return;
  }
  int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  char buf[64];
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf);
    (void)n;
    close(fd);
  }
}

// Runs `calls` iterations in a fresh child with the given filter; returns ns/iteration.
double measure(Filter filter, Loop loop, long calls) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (filter == Filter::Paddock) {
      paddock::SeccompPlan plan;
      plan.rules = paddock::baseline_seccomp_rules();
      paddock::apply_seccomp(plan);
    } else if (filter == Filter::AllowAll) {
      struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
      struct sock_fprog prog = {1, &insn};
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    }
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; ++i) loop_once(loop);
    auto t1 = std::chrono::steady_clock::now();
    double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(calls);
    ssize_t w = write(fds[1], &ns, sizeof ns);
    _exit(w == sizeof ns ? 0 : 1);
  }
  close(fds[1]);
  double ns = -1;
  if (read(fds[0], &ns, sizeof ns) != sizeof ns) ns = -1;
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  long calls = argc > 2 ? std::atol(argv[2]) : 2'000'000;
  std::printf("seccomp overhead, %d alternating rounds, median ns per iteration:\n", rounds);
  for (Loop loop : {Loop::Getppid, Loop::FileIo}) {
    long n = loop == Loop::Getppid ? calls : calls / 8;
    std::vector<double> none, allow, pad;
    for (int r = 0; r < rounds; ++r) {
      none.push_back(measure(Filter::None, loop, n));
      allow.push_back(measure(Filter::AllowAll, loop, n));
      pad.push_back(measure(Filter::Paddock, loop, n));
    }
    double b = median(none), a = median(allow), p = median(pad);
    std::printf("  %s (%ld iterations)\n", loop == Loop::Getppid ? "getppid()" : "open+read+close", n);
    std::printf("    no filter              %8.1f ns\n", b);
    std::printf("    allow-all filter       %8.1f ns   (+%.1f %%: the floor of any seccomp sandbox)\n", a,
                (a / b - 1) * 100);
    std::printf(
        "    paddock baseline       %8.1f ns   (+%.1f %% over none, %+.1f %% over allow-all)   target <5 %%: %s\n", p,
        (p / b - 1) * 100, (p / a - 1) * 100, p / b - 1 < 0.05 ? "met" : "NOT met");
  }
  return 0;
}
