// --dry-run output: the SandboxPlan in the order it will be executed. Secret values never
// appear; environment values do only for variables that are not secrets.
#include <cstdio>
#include <ostream>

#include "policy/policy_printer.h"
#include "sandbox/plan.h"
#include "sandbox/seccomp.h"
#include "util/units.h"

namespace paddock {
namespace {

const char* mount_kind(MountOp::Kind k) {
  switch (k) {
    case MountOp::Kind::Tmpfs: return "tmpfs";
    case MountOp::Kind::BindRo: return "bind-ro";
    case MountOp::Kind::BindRw: return "bind-rw";
    case MountOp::Kind::BindDev: return "dev";
    case MountOp::Kind::MaskDir: return "mask-dir";
    case MountOp::Kind::MaskFile: return "mask-file";
    case MountOp::Kind::Proc: return "proc";
    case MountOp::Kind::Devpts: return "devpts";
    case MountOp::Kind::Symlink: return "symlink";
    case MountOp::Kind::Secrets: return "secrets";
    case MountOp::Kind::ReadOnly: return "rebind-ro";
    case MountOp::Kind::Pin: return "pin";
    case MountOp::Kind::File: return "file";
  }
  return "?";
}

}  // namespace

void print_plan(std::ostream& out, const SandboxPlan& plan) {
  out << "# paddock sandbox plan (nothing has been run)\n";
  out << "command: ";
  for (const auto& a : plan.command) out << toml_quote(a) << " ";
  out << "\n";
  out << "identity: uid " << plan.uid << ", gid " << plan.gid << " (mapped to themselves inside)\n";
  out << "working directory: " << plan.cwd << "\n";
  out << "network: " << to_string(plan.net) << (plan.net == NetMode::None ? " (own namespace, only lo)" : "") << "\n";

  if (plan.proxy.enabled) {
    const ProxyPlan& pp = plan.proxy;
    out << "\n[network proxy] (served by paddock's supervisor, dialled from the host side)\n";
    out << "  HTTP proxy 127.0.0.1:" << pp.http_port << ", SOCKS5 127.0.0.1:" << pp.socks_port
        << ", DNS 127.0.0.1:" << pp.dns_port << " (UDP, TCP)\n";
    out << "  names allowed are answered from " << int(pp.pool_base[0]) << "." << int(pp.pool_base[1]) << "."
        << int(pp.pool_base[2]) << "." << int(pp.pool_base[3]) << "/" << pp.pool_prefix << "\n";
    out << "  transparent ports (every address):";
    if (pp.transparent_ports.empty()) out << " none";
    for (auto port : pp.transparent_ports) out << " " << port;
    out << "\n";
    for (const auto& g : pp.allow) out << "  allow " << g.pattern.str() << "   # " << g.origin.short_str() << "\n";
    for (const auto& g : pp.deny) out << "  deny  " << g.pattern.str() << "   # " << g.origin.short_str() << "\n";
    auto budget = [&](const char* scope, const EgressBudget& b) {
      if (b.max_bytes_out) {
        out << "  " << scope << " max_bytes_out " << format_size(b.max_bytes_out->value) << "   # "
            << b.max_bytes_out->origin.short_str() << "\n";
      }
      if (b.max_connections) {
        out << "  " << scope << " max_connections " << b.max_connections->value << "   # "
            << b.max_connections->origin.short_str() << "\n";
      }
    };
    budget("session", pp.budget);
    budget("per host", pp.per_host);
  }

  if (plan.mcp.enabled) {
    out << "\n[tools endpoint] (MCP, served by paddock-tools outside; tools run in their own workers)\n";
    out << "  UNIX socket " << plan.mcp.socket_path << " (one JSON-RPC message per line)\n";
    if (plan.mcp.tcp_port != 0)
      out << "  Streamable HTTP " << plan.mcp.url() << " (the sandbox's own 127.0.0.1)\n";
    else
      out << "  no HTTP endpoint (network mode host: 127.0.0.1 is the host's)\n";
  }

  out << "\n[namespaces]\n";
  if (!plan.namespaces) {
    out << "  none (degraded)\n";
  } else {
    out << "  user mount pid ipc uts cgroup" << ((plan.clone_flags & CLONE_NEWNET) ? " net" : "") << "; hostname "
        << plan.hostname << "; pid 1 is paddock's init\n";
    out << "\n[mounts] (new tmpfs root, in this order, then pivot_root; the old root is detached)\n";
    for (const auto& m : plan.mounts) {
      out << "  " << mount_kind(m.kind);
      out << std::string(11 - std::min<size_t>(10, std::string(mount_kind(m.kind)).size()), ' ') << m.target;
      if (m.kind == MountOp::Kind::Symlink)
        out << " -> " << m.source;
      else if (m.kind == MountOp::Kind::File)
        out << " (" << m.note << ")";
      else if (!m.source.empty() && m.source != m.target)
        out << " <- " << m.source;
      if (m.origin.known()) out << "   # " << m.origin.short_str();
      out << "\n";
    }
  }

  out << "\n[landlock]\n";
  if (plan.landlock.abi <= 0) {
    out << "  not applied (degraded)\n";
  } else {
    const auto& ll = plan.landlock;
    out << "  ABI " << ll.abi << "; handled fs: " << landlock_access_names(ll.handled_fs) << "\n";
    if (ll.handled_net != 0) {
      out << "  TCP bind/connect: denied";
      if (!ll.connect_ports.empty()) {
        out << " except connect to ports";
        for (auto port : ll.connect_ports) out << " " << port;
      }
      out << "\n";
    } else {
      out << "  TCP: not restricted" << (ll.abi < 4 ? " (needs ABI 4)" : " (network mode host)") << "\n";
    }
    out << "  scoped: "
        << (ll.scoped != 0 ? "abstract UNIX sockets, signals"
            : ll.abi < 6   ? "none (needs ABI 6)"
                           : "none")
        << "\n";
    for (const auto& r : ll.rules) {
      out << "  allow " << r.path << ": " << landlock_access_names(r.access);
      if (r.origin.known()) out << "   # " << r.origin.short_str();
      out << "\n";
    }
  }

  out << "\n[seccomp] (applied last; default allow)\n";
  out << "  non-native ABIs (x32, i386): kill process\n";
  out << "  syscall numbers libseccomp does not know: ENOSYS\n";
  for (const auto& r : plan.seccomp.rules) out << "  " << describe_rule(r) << "\n";
  for (const auto& r : plan.seccomp.removed) out << "  (removed) " << r.name << "   # " << r.origin.short_str() << "\n";

  out << "\n[capabilities]\n  all sets emptied, bounding set cleared, securebits locked, no_new_privs\n";

  out << "\n[rlimits]\n";
  for (const auto& r : plan.rlimits) {
    out << "  " << r.name << " = " << r.soft << "   # " << r.origin.str() << "\n";
  }
  const ResourcePlan& rp = plan.resources;
  if (rp.wants_cgroup()) {
    out << "\n[resources] (a session cgroup: v2 delegated, else v1; else the rlimits below)\n";
    if (rp.memory) {
      out << "  memory.max = " << format_size(rp.memory->value) << ", memory.high = " << format_size(rp.memory_high())
          << ", tmpfs size = " << format_size(rp.memory->value / 2) << "   # " << rp.memory->origin.short_str() << "\n";
    }
    if (rp.pids) out << "  pids.max = " << rp.pids->value << "   # " << rp.pids->origin.short_str() << "\n";
    if (rp.cpus) out << "  cpu.max = " << rp.cpus->value << " cores   # " << rp.cpus->origin.short_str() << "\n";
    if (rp.cpu_time)
      out << "  session CPU time = " << format_duration(rp.cpu_time->value) << "   # "
          << rp.cpu_time->origin.short_str() << "\n";
    for (const auto& r : rp.fallback) out << "  fallback rlimit " << r.name << " = " << r.soft << "\n";
    for (const auto& g : rp.fallback_gaps) out << "  without cgroups: " << g << "\n";
  }
  if (plan.wall)
    out << "  wall clock: " << format_duration(plan.wall->value) << "   # " << plan.wall->origin.short_str() << "\n";

  out << "\n[environment] (everything else is cleared)\n";
  for (const auto& e : plan.env) {
    out << "  " << e.name << (e.secret ? " = <secret>" : e.from == "set" ? " = " + toml_quote(e.value) : " (passed)");
    out << "   # " << e.origin.short_str() << "\n";
  }
  for (const auto& s : plan.secret_files) {
    out << "  file /run/secrets/" << s.name << " (0400) = <secret>   # " << s.origin.short_str() << "\n";
  }

  if (!plan.notes.empty()) out << "\n[notes]\n";
  for (const auto& n : plan.notes) out << "  " << n << "\n";
  if (!plan.warnings.empty() || !plan.degradations.empty()) out << "\n[warnings]\n";
  for (const auto& w : plan.warnings) out << "  " << w << "\n";
  for (const auto& d : plan.degradations) out << "  DEGRADED " << d << "\n";
}

}  // namespace paddock
