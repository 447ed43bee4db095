#include "tools/worker_sandbox.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "policy/profile_loader.h"
#include "sandbox/host_facts.h"
#include "sandbox/plan.h"
#include "supervisor/session.h"
#include "util/error.h"

namespace paddock {
namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

Policy worker_policy(const ToolDecl& tool, const Policy& profile, const std::string& worker_path) {
  Policy p;
  p.profiles = {{"tool " + tool.name, tool.script, "the worker of tool " + tool.name}};
  const Origin o = tool.origin;
  for (const std::string& path : {worker_path, std::string("/usr/lib"), std::string("/lib"), std::string("/lib64"),
                                  std::string("/usr/lib64"), std::string("/etc/ld.so.cache")}) {
    // /lib and friends are symlinks into /usr on merged-/usr systems: the plan recreates them.
    if (exists(path)) p.read.push_back({path, o});
  }
  p.net_mode = {NetMode::None, o};
  // Bounds of the worker process itself, beside V8's own heap limit (which ends a call, not the
  // worker): memory a broken heap limit cannot exceed, few descriptors, few threads.
  const std::uint64_t heap = tool.memory.value_or(64u << 20);
  p.limits.memory = Setting<std::uint64_t>{heap * 4 + (512u << 20), o};
  p.limits.nofile = Setting<std::uint64_t>{64, o};
  // A worker that cannot be confined as the profile asks is refused the same way a session is,
  // unless the profile lets the same layers degrade.
  p.best_effort = profile.best_effort;
  finalize_policy(p);
  return p;
}

}  // namespace

std::unique_ptr<tools::WorkerClient> start_sandboxed_worker(const ToolDecl& tool, const Policy& profile,
                                                            const std::string& worker_path) {
  Policy wp = worker_policy(tool, profile, worker_path);
  HostFacts facts = gather_host_facts(wp, "/", false, {});
  SandboxPlan plan = make_plan(wp, facts, {worker_path});
  // No session cgroup per worker: its bounds are rlimits (RLIMIT_DATA for memory).
  plan.rlimits.insert(plan.rlimits.end(), plan.resources.fallback.begin(), plan.resources.fallback.end());
  plan.resources = {};
  plan.tmpfs_size.reset();
  // Intl reads the time zone; the worker's view of the host has no /etc/localtime anyway.
  plan.env.push_back({"TZ", "UTC", false, "set", tool.origin});

  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) throw_errno("tool worker: socketpair");
  UniqueFd ours(sp[0]), theirs(sp[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("tool worker: fork");
  if (pid == 0) {
    // The worker's sandbox supervisor; keeps away from our terminal and stdout (for `paddock
    // mcp`, stdout is the protocol). No PR_SET_PDEATHSIG: it fires when the forking *thread*
    // ends (an MCP call thread), not the process. If this process dies, the worker reads end of
    // file on its channel and exits, which ends its sandbox and this supervisor with it.
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
      ::dup2(null, STDOUT_FILENO);
    }
    ours.reset();
    try {
      SessionOptions so;
      so.quiet = true;
      so.pass_fd = theirs.release();
      SessionResult r = run_session(plan, {}, so);
      if (r.setup_failed)
        std::fprintf(stderr, "paddock: tool %s: worker sandbox: %s\n", tool.name.c_str(), r.setup_error.c_str());
      ::_exit(r.exit_code);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "paddock: tool %s: worker sandbox: %s\n", tool.name.c_str(), e.what());
      ::_exit(125);
    }
  }
  theirs.reset();
  auto client = std::make_unique<tools::WorkerClient>(std::move(ours), pid);
  client->start();
  return client;
}

}  // namespace paddock
