// What recording a denied system call costs: the same refused call (ptrace) answered
//   - by the kernel directly (SCMP_ACT_ERRNO: what paddock would do without records),
//   - through seccomp user notification by paddock's SyscallNotifier (no log),
//   - the same, writing each denial to a hash-chained audit log (what `paddock run` does).
// Medians of per-call time over alternating rounds.
//   paddock-bench-denial [ROUNDS] [CALLS]
#include <poll.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "audit/writer.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_baseline.h"
#include "stats.h"
#include "supervisor/syscall_notify.h"
#include "util/fd_passing.h"

namespace {

using paddock::bench::median;

enum class Mode { Errno, Notify, NotifyAudit };

// ns per refused ptrace() call in a child, with the given way of refusing it.
double measure(Mode mode, long calls, const std::string& log_dir) {
  int sp[2], res[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) != 0 || pipe(res) != 0) return -1;
  paddock::SeccompPlan plan;
  plan.rules = paddock::baseline_seccomp_rules();
  plan.notify = mode != Mode::Errno;
  paddock::SeccompPrograms progs = paddock::compile_seccomp(plan);
  pid_t pid = fork();
  if (pid == 0) {
    close(sp[0]);
    close(res[0]);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int listener = -1;
    paddock::load_seccomp(progs, plan.notify, &listener);
    if (listener >= 0) {
      paddock::send_fd(sp[1], listener, 'n');
      close(listener);
    }
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; ++i) syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
    auto t1 = std::chrono::steady_clock::now();
    double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(calls);
    ssize_t w = write(res[1], &ns, sizeof ns);
    _exit(w == sizeof ns ? 0 : 1);
  }
  close(sp[1]);
  close(res[1]);
  std::unique_ptr<paddock::AuditWriter> audit;
  if (mode == Mode::NotifyAudit) {
    std::string id = paddock::AuditWriter::new_session_id();
    audit = std::make_unique<paddock::AuditWriter>(id, log_dir + "/" + id + ".jsonl");
  }
  std::unique_ptr<paddock::SyscallNotifier> notifier;
  if (mode != Mode::Errno) {
    notifier =
        std::make_unique<paddock::SyscallNotifier>(paddock::recv_fd(sp[0], nullptr), plan, audit.get(), false, nullptr);
  }
  double ns = -1;
  for (;;) {
    struct pollfd pf[2] = {{res[0], POLLIN, 0}, {notifier ? notifier->fd() : -1, POLLIN, 0}};
    if (poll(pf, notifier ? 2 : 1, -1) < 0) break;
    if (notifier && (pf[1].revents & POLLIN)) notifier->on_readable();
    if (pf[0].revents & POLLIN) {
      if (read(res[0], &ns, sizeof ns) != sizeof ns) ns = -1;
      break;
    }
  }
  close(sp[0]);
  close(res[0]);
  waitpid(pid, nullptr, 0);
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
  long calls = argc > 2 ? std::atol(argv[2]) : 20000;
  char tmpl[] = "/tmp/paddock-bench-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir == nullptr) return 1;
  std::vector<double> e, n, a;
  for (int r = 0; r < rounds; ++r) {
    e.push_back(measure(Mode::Errno, calls, dir));
    n.push_back(measure(Mode::Notify, calls, dir));
    a.push_back(measure(Mode::NotifyAudit, calls, dir));
  }
  std::printf("cost of one denied system call, %d alternating rounds of %ld calls, median:\n", rounds, calls);
  std::printf("  kernel errno, no record            %9.0f ns\n", median(e));
  std::printf("  supervisor answers (notification)  %9.0f ns\n", median(n));
  std::printf("  supervisor answers and logs it     %9.0f ns   (what paddock run does)\n", median(a));
  std::string cmd = std::string("rm -rf ") + dir;
  return std::system(cmd.c_str()) == 0 ? 0 : 1;
}
