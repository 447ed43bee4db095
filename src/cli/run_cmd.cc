// `paddock run`: flags -> overrides -> Policy -> (plan) -> sandbox.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "audit/writer.h"
#include "cli/cli.h"
#include "cli/tool_cli.h"
#include "policy/policy_printer.h"
#include "policy/profile_loader.h"
#include "policy/variables.h"
#include "sandbox/cgroup.h"
#include "sandbox/host_facts.h"
#include "sandbox/plan.h"
#include "supervisor/session.h"
#include "supervisor/session_audit.h"
#include "util/fd_passing.h"

namespace paddock {
namespace {

Origin flag_origin(const char* flag) {
  return Origin{std::string("command line ") + flag, 0, 0};
}

std::vector<PathGrant> flag_paths(const std::vector<std::string>& raw, const char* flag, const Variables& vars) {
  std::vector<PathGrant> out;
  for (const auto& r : raw) {
    std::string s;
    try {
      s = vars.expand(r, vars.cwd);
    } catch (const ValueError& e) {
      throw Error(std::string(flag) + ": " + e.what());
    }
    if (s.empty()) throw Error(std::string(flag) + ": empty path");
    // On the command line a relative path means relative to the working directory, as in bwrap.
    if (s[0] != '/') s = vars.cwd + "/" + s;
    out.push_back({normalize_path(s), flag_origin(flag)});
  }
  return out;
}

// paddock-tools for a run whose profile declares tools (plan.mcp): started before the sandbox, so
// its scripts load meanwhile; handed the endpoint's listening sockets once the sandbox made them;
// its audit events (one JSON line each, on a pipe) written into this run's one log by the
// supervisor, the log's only writer. It ends when its channel closes at the end of the session;
// exit status 137 means a tool kill switch (limits.on_exceed = "kill") ended the session.
class ToolsHost {
 public:
  ToolsHost(const std::vector<std::string>& profiles, const std::string& record_dir) {
    int ch[2], ap[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch) != 0) throw_errno("tools: socketpair");
    channel_ = UniqueFd(ch[0]);
    UniqueFd theirs(ch[1]);
    if (::pipe2(ap, O_CLOEXEC) != 0) throw_errno("tools: pipe");
    audit_ = UniqueFd(ap[0]);
    UniqueFd audit_w(ap[1]);
    const std::string path = paddock_helper_path("paddock-tools");
    std::vector<std::string> args{"paddock", "serve"};
    for (const auto& p : profiles) {
      args.push_back("-p");
      args.push_back(p);
    }
    args.insert(args.end(), {"--channel-fd", "3", "--audit-fd", "4"});
    if (!record_dir.empty()) args.insert(args.end(), {"--record-dir", record_dir});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int parent = static_cast<int>(::getpid());
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("tools: fork");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (::getppid() != parent) ::_exit(125);
      // Not in the terminal's foreground group: ^C belongs to the command, paddock forwards it.
      ::setpgid(0, 0);
      int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      int c = ::fcntl(theirs.get(), F_DUPFD, 10), w = ::fcntl(audit_w.get(), F_DUPFD, 10);
      if (null < 0 || c < 0 || w < 0 || ::dup2(null, 0) < 0 || ::dup2(c, 3) < 0 || ::dup2(w, 4) < 0) ::_exit(125);
      ::syscall(SYS_close_range, 5U, ~0U, 0U);
      ::execv(path.c_str(), argv.data());
      std::fprintf(stderr, "paddock: cannot start %s: %s\n", path.c_str(), std::strerror(errno));
      ::_exit(125);
    }
    pid_ = pid;
    pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd_) throw_errno("tools: pidfd_open");
  }
  ToolsHost(const ToolsHost&) = delete;
  ToolsHost& operator=(const ToolsHost&) = delete;
  ~ToolsHost() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void pass(std::vector<std::pair<char, UniqueFd>> listeners) {
    try {
      for (const auto& [tag, fd] : listeners) send_fd(channel_.get(), fd.get(), tag);
    } catch (const Error&) {
      throw Error("tools: paddock-tools ended before it could serve the profile's tools (see its message above)");
    }
  }
  [[nodiscard]] int audit_fd() const { return audit_.get(); }
  [[nodiscard]] int pid_fd() const { return pidfd_.get(); }

  SessionOptions::Watch on_audit(AuditWriter& log) {
    char buf[64 * 1024];
    ssize_t n = ::read(audit_.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return SessionOptions::Watch::kKeep;
    if (n <= 0) return SessionOptions::Watch::kStop;
    pending_.append(buf, static_cast<std::size_t>(n));
    relay(log);
    return SessionOptions::Watch::kKeep;
  }

  SessionOptions::Watch on_exit() {
    siginfo_t si{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
      return SessionOptions::Watch::kKeep;
    const bool killed = si.si_code == CLD_EXITED && si.si_status == 137;
    if (!killed) std::fprintf(stderr, "paddock: the tools endpoint stopped; tools are no longer served\n");
    return killed ? SessionOptions::Watch::kKill : SessionOptions::Watch::kStop;
  }

  // After the session: the channel closes, paddock-tools ends; its last events go to the log.
  void finish(AuditWriter& log) {
    channel_.reset();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{audit_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      if (on_audit(log) == SessionOptions::Watch::kStop) break;
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  void relay(AuditWriter& log) {
    std::size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("layer") || !j["layer"].is_string() || j["layer"] == "session") continue;
      AuditEvent e;
      e.layer = j["layer"].get<std::string>();
      e.action = j.value("action", "");
      e.subject = j.value("subject", "");
      e.reason = j.value("reason", "");
      if (j.contains("pid") && j["pid"].is_number_integer()) e.pid = j["pid"].get<int>();
      nlohmann::json extra = nlohmann::json::object();
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (std::find(kAuditReservedKeys.begin(), kAuditReservedKeys.end(), it.key()) == kAuditReservedKeys.end())
          extra[it.key()] = it.value();
      }
      if (!extra.empty()) e.extra = std::move(extra);
      try {
        log.write(e);
      } catch (const Error& err) {
        std::fprintf(stderr, "paddock: tools: audit event not recorded: %s\n", err.what());
      }
    }
  }

  UniqueFd channel_, audit_, pidfd_;
  pid_t pid_ = -1;
  std::string pending_;
};

// --mcp-config FILE: the MCP client configuration for the endpoint inside the sandbox. A .toml
// file gets Codex CLI's form ([mcp_servers.paddock]), anything else the JSON "mcpServers" form of
// Claude Code's .mcp.json (read by many other agents too).
void write_mcp_config(const std::string& file, const SandboxPlan& plan) {
  if (!plan.mcp.enabled)
    throw Error("--mcp-config: the profile declares no tools ([[tool]]), so there is no endpoint to point at");
  if (plan.mcp.tcp_port == 0)
    throw Error("--mcp-config: network mode \"host\" has no HTTP endpoint (only " + plan.mcp.socket_path +
                "); use network mode none or proxy");
  std::string text;
  if (file.size() > 5 && file.substr(file.size() - 5) == ".toml") {
    text =
        "# Written by paddock run --mcp-config: the profile's tools, served inside the sandbox.\n"
        "[mcp_servers.paddock]\nurl = \"" +
        plan.mcp.url() + "\"\n";
  } else {
    nlohmann::json j = {{"mcpServers", {{"paddock", {{"type", "http"}, {"url", plan.mcp.url()}}}}}};
    text = j.dump(2) + "\n";
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("--mcp-config: cannot write " + file + ": " + std::strerror(errno));
  out << text;
  out.close();
  if (!out) throw Error("--mcp-config: cannot write " + file);
}

}  // namespace

Policy overrides_from_flags(const RunOptions& o, const Variables& vars) {
  Policy p;
  p.read = flag_paths(o.ro, "--ro", vars);
  p.write = flag_paths(o.rw, "--rw", vars);
  p.deny = flag_paths(o.deny, "--deny", vars);
  p.tmpfs = flag_paths(o.tmpfs, "--tmpfs", vars);
  if (!o.net.empty()) {
    NetMode m = o.net == "host" ? NetMode::Host : o.net == "proxy" ? NetMode::Proxy : NetMode::None;
    p.net_mode = {m, flag_origin("--net")};
  }
  for (const auto& a : o.allow_net) {
    try {
      p.net_allow.push_back({parse_host_pattern(a), flag_origin("--allow-net")});
    } catch (const ValueError& e) {
      throw Error(std::string("--allow-net: ") + e.what());
    }
  }
  for (const auto& e : o.env) {
    auto eq = e.find('=');
    std::string name = e.substr(0, eq);
    // NAME, a prefix pattern NAME* (passed through only), or NAME=VALUE.
    std::string bare =
        (eq == std::string::npos && !name.empty() && name.back() == '*') ? name.substr(0, name.size() - 1) : name;
    bool ok = !bare.empty() && !std::isdigit(static_cast<unsigned char>(bare[0])) &&
              std::all_of(bare.begin(), bare.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!ok) throw Error("--env: \"" + name + "\" is not a variable name");
    if (eq == std::string::npos)
      p.env_pass.push_back({name, flag_origin("--env")});
    else
      p.env_set.push_back({name, e.substr(eq + 1), flag_origin("--env")});
  }
  if (!o.memory.empty()) {
    try {
      std::uint64_t m = parse_size(o.memory);
      if (m < 4 * 1024 * 1024) throw ValueError("must be at least 4M");
      p.limits.memory = Setting<std::uint64_t>{m, flag_origin("--memory")};
    } catch (const ValueError& e) {
      throw Error(std::string("--memory: ") + e.what());
    }
  }
  if (!o.timeout.empty()) {
    try {
      auto d = parse_duration(o.timeout);
      if (d.count() <= 0) throw ValueError("must be greater than 0");
      p.limits.wall = Setting<std::chrono::milliseconds>{d, flag_origin("--timeout")};
    } catch (const ValueError& e) {
      throw Error(std::string("--timeout: ") + e.what());
    }
  }
  if (o.pids) {
    if (*o.pids < 1) throw Error("--pids must be at least 1");
    p.limits.pids = Setting<std::uint64_t>{static_cast<std::uint64_t>(*o.pids), flag_origin("--pids")};
  }
  if (o.cpus) {
    if (!(*o.cpus >= 0.01 && *o.cpus <= 4096)) throw Error("--cpus must be between 0.01 and 4096");
    p.limits.cpu = Setting<double>{*o.cpus, flag_origin("--cpus")};
  }
  return p;
}

int run_command(const RunOptions& o) {
  Variables vars = Variables::from_environment();
  ProfileLoader loader(vars, SearchPath::standard(vars));
  Policy overrides = overrides_from_flags(o, vars);
  std::vector<std::string> refs = o.profiles.empty() ? std::vector<std::string>{"default"} : o.profiles;
  Policy policy = loader.load(refs, &overrides);
  if (o.command.empty() && !o.dry_run) {
    throw Error("no command given (usage: paddock [run] [OPTIONS] -- COMMAND [ARG]...)");
  }
  // paddock's own folders exist before the sandbox does, so they can be guarded inside it.
  std::string config_dir = vars.xdg_config_home + "/paddock";
  std::string state_dir = vars.xdg_state_home + "/paddock";
  std::string session_id = AuditWriter::new_session_id();
  std::unique_ptr<AuditWriter> audit_ptr;
  std::vector<std::string> protected_paths{config_dir, state_dir};
  if (!o.dry_run) {
    for (const auto& d : {config_dir, state_dir}) {
      std::error_code ec;
      std::filesystem::create_directories(d, ec);
      if (!ec) ::chmod(d.c_str(), 0700);
    }
    audit_ptr =
        std::make_unique<AuditWriter>(session_id, o.audit.empty() ? AuditWriter::default_path(session_id) : o.audit);
    if (!o.audit.empty() && o.audit != "-")
      protected_paths.push_back(normalize_path(o.audit[0] == '/' ? o.audit : vars.cwd + "/" + o.audit));
  }
  // A session that never started (a refused plan, a missing secret) leaves no empty log behind.
  struct EmptyLogRemover {
    const std::unique_ptr<AuditWriter>& w;
    ~EmptyLogRemover() {
      if (w && w->next_seq() == 0 && w->path() != "-") ::unlink(w->path().c_str());
    }
  } empty_log_remover{audit_ptr};
  // --dry-run asks the kernel whether user namespaces work; a real run learns it from clone().
  HostFacts facts = gather_host_facts(policy, vars.cwd, o.dry_run, protected_paths);
  auto plan_for = [&](const HostFacts& f) {
    SandboxPlan pl = make_plan(policy, f, o.command);
    if (o.trace_fs) plan_fs_trace(pl);
    return pl;
  };
  SandboxPlan plan = plan_for(facts);
  if (o.dry_run) {
    print_plan(std::cout, plan);
    return 0;
  }
  if (!o.mcp_config.empty()) write_mcp_config(o.mcp_config, plan);
  std::vector<SecretValue> secrets = read_secrets(policy, facts);
  AuditWriter& audit = *audit_ptr;
  auto started = std::chrono::steady_clock::now();
  SessionOptions sopts;
  sopts.quiet = o.verbosity < 0;
  sopts.verbose = o.verbosity > 0;
  sopts.audit = &audit;
  sopts.max_denials = policy.limits.max_denials;
  auto say = [&](const std::string& what, const std::string& text) {
    if (o.verbosity >= 0) std::fprintf(stderr, "paddock: %s: %s\n", what.c_str(), text.c_str());
  };
  // Resource limits: a session cgroup when one can be had, else rlimits (a degradation).
  std::unique_ptr<SessionCgroup> cgroup;
  std::string cgroup_why;
  // Every run removes session cgroups a killed paddock left behind (about 0.15 ms).
  CgroupRoots roots = CgroupRoots::detect();
  cleanup_stale_cgroups(roots);
  if (plan.resources.wants_cgroup()) {
    CgroupLimits lim;
    const ResourcePlan& rp = plan.resources;
    if (rp.memory) {
      lim.memory_max = rp.memory->value;
      lim.memory_high = rp.memory_high();
    }
    if (rp.pids) lim.pids_max = rp.pids->value;
    if (rp.cpus) lim.cpus = rp.cpus->value;
    cgroup = SessionCgroup::create(lim, session_id, roots, cgroup_why);
  }
  // Applied to every plan (the first, and one re-made without namespaces).
  auto settle_resources = [&](SandboxPlan& pl) {
    if (!pl.resources.wants_cgroup() || cgroup) return;
    const ResourcePlan& rp = pl.resources;
    if (!rp.fallback_gaps.empty() && !policy.allows_best_effort("cgroup")) {
      std::string gaps;
      for (const auto& g : rp.fallback_gaps) gaps += "; " + g;
      throw Error("resources: no usable cgroup (" + cgroup_why + ")" + gaps +
                  "; refusing to run. A profile may set sandbox.best_effort = [\"cgroup\"]");
    }
    std::string d = "resources: no usable cgroup (" + cgroup_why + "); enforced with rlimits instead:";
    for (const auto& r : rp.fallback) d += " " + r.name + "=" + std::to_string(r.soft);
    for (const auto& g : rp.fallback_gaps) d += "; " + g;
    pl.rlimits.insert(pl.rlimits.end(), rp.fallback.begin(), rp.fallback.end());
    pl.degradations.push_back(d);
  };
  settle_resources(plan);
  sopts.cgroup = cgroup.get();
  // Tools served inside: one paddock-tools for the session, started now so its scripts load
  // while the sandbox is built.
  std::unique_ptr<ToolsHost> tools_host;
  if (plan.mcp.enabled) {
    std::string record_dir;
    if (audit.path() != "-") {
      const std::string& lp = audit.path();
      record_dir =
          (lp.size() > 6 && lp.substr(lp.size() - 6) == ".jsonl" ? lp.substr(0, lp.size() - 6) : lp) + ".blobs";
    }
    tools_host = std::make_unique<ToolsHost>(refs, record_dir);
    sopts.on_tool_listeners = [&](std::vector<std::pair<char, UniqueFd>> l) { tools_host->pass(std::move(l)); };
    sopts.watch_fds.emplace_back(tools_host->audit_fd(), [&] { return tools_host->on_audit(audit); });
    sopts.watch_fds.emplace_back(tools_host->pid_fd(), [&] { return tools_host->on_exit(); });
  }

  SessionResult r;
  for (;;) {
    if (o.verbosity > 0) {
      for (const auto& n : plan.notes) say("note", n);
    }
    for (const auto& w : plan.warnings) say("warning", w);
    // Degradations are printed even with -q: the sandbox is weaker than the profile asked.
    for (const auto& d : plan.degradations) std::fprintf(stderr, "paddock: DEGRADED: %s\n", d.c_str());
    try {
      sopts.on_started = [&] { audit.write(session_start_event(policy, plan)); };
      r = run_session(plan, std::move(secrets), sopts);
      break;
    } catch (const NamespacesUnavailable& e) {
      // Only now do we know; re-plan without namespaces if the profile allows that.
      facts.userns = false;
      facts.userns_detail = e.what();
      plan = plan_for(facts);
      settle_resources(plan);
      secrets = read_secrets(policy, facts);
    }
  }
  if (tools_host) tools_host->finish(audit);
  if (r.watch_killed) r.exit_code = 137;
  struct rusage ru {};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  audit.write(session_exit_event(r, plan, std::chrono::steady_clock::now() - started, ru, audit));
  audit.sync();
  if (r.setup_failed) throw Error("cannot start the sandbox: " + r.setup_error);
  if (r.oom_killed && r.exit_code == 137) {
    say("killed", r.memory_limit + " reached: the kernel's OOM killer ended the command");
  }
  if (r.cpu_time_exceeded) {
    say("killed", "limits.cpu_time = " + format_duration(plan.resources.cpu_time->value) + " (" +
                      plan.resources.cpu_time->origin.short_str() + ") used up; the session was ended");
  }
  if (r.watch_killed) say("killed", "a tool kill switch (limits.on_exceed = \"kill\") ended the session");
  if (r.denials_exceeded) {
    say("killed", "limits.max_denials = " + std::to_string(policy.limits.max_denials->value) + " (" +
                      policy.limits.max_denials->origin.short_str() + ") reached; the session was ended");
  }
  if (audit.denial_count() > 0 && o.verbosity >= 0) {
    std::string per;
    for (const auto& [layer, n] : audit.denials()) per += (per.empty() ? "" : ", ") + layer + " " + std::to_string(n);
    say("denials", std::to_string(audit.denial_count()) + " (" + per + "); see: paddock log --denials " + session_id);
  }
  if (r.timed_out) {
    say("timeout", "wall-clock limit " + format_duration(plan.wall->value) + " (" + plan.wall->origin.short_str() +
                       ") reached; the sandbox was killed");
  }
  return r.exit_code;
}

}  // namespace paddock
