// The plan of network mode "proxy": what the sandbox's network namespace looks like and what the
// supervisor will serve in it. Pure, like the rest of make_plan.
#include <sched.h>

#include <algorithm>
#include <set>

#include "policy/variables.h"
#include "sandbox/plan.h"
#include "util/error.h"

namespace paddock {
namespace {

Origin proxy_origin() {
  return Origin{"built-in network proxy", 0, 0};
}

std::string resolv_conf() {
  // One nameserver, no search list: a short name is not sent anywhere else, and a resolver that
  // retries other servers has none to try.
  return "# paddock: names are answered by paddock's resolver (network.mode = \"proxy\")\n"
         "nameserver 127.0.0.1\n"
         "options edns0\n";
}

std::string hosts_file(const std::string& hostname) {
  return "127.0.0.1\tlocalhost\n"
         "::1\tlocalhost ip6-localhost ip6-loopback\n"
         "127.0.1.1\t" +
         hostname + "\n";
}

// Where a file paddock provides must be mounted: the host's path, or, when that is a symlink
// (systemd-resolved's /etc/resolv.conf), the file it points to (a mount cannot sit on a link).
std::string file_target(const HostFacts& h, const std::string& path) {
  PathInfo i = h.info(path);
  if (i.type != PathInfo::Type::Symlink || i.symlink_target.empty()) return path;
  std::string t = i.symlink_target;
  if (t[0] != '/') t = path.substr(0, path.rfind('/') + 1) + t;
  return normalize_path(t);
}

}  // namespace

std::vector<std::uint16_t> ProxyPlan::listen_ports() const {
  std::set<std::uint16_t> s(transparent_ports.begin(), transparent_ports.end());
  s.insert(http_port);
  s.insert(socks_port);
  s.insert(dns_port);
  return {s.begin(), s.end()};
}

void plan_proxy(const Policy& p, const HostFacts& h, SandboxPlan& plan) {
  if (p.net_mode.value != NetMode::Proxy) return;
  if (!plan.namespaces) {
    throw Error(p.net_mode.origin,
                "network: mode \"proxy\" needs a network namespace of its own, and namespaces are unavailable; "
                "refusing to run (without one the sandbox would share the host's network)");
  }
  ProxyPlan& pp = plan.proxy;
  pp.enabled = true;
  pp.allow = p.net_allow;
  pp.deny = p.net_deny;
  pp.budget = p.net_budget;
  pp.per_host = p.net_budget_per_host;

  std::set<std::uint16_t> ports;
  bool truncated = false;
  for (const auto& g : p.net_allow) {
    const HostPattern& hp = g.pattern;
    if (hp.default_ports) {
      ports.insert(80);
      ports.insert(443);
      continue;
    }
    for (unsigned port = hp.port_lo; port <= hp.port_hi; ++port) {
      if (ports.size() >= kMaxTransparentPorts) {
        truncated = true;
        break;
      }
      ports.insert(static_cast<std::uint16_t>(port));
    }
  }
  pp.transparent_ports.assign(ports.begin(), ports.end());
  if (truncated) {
    plan.notes.push_back("network: more than " + std::to_string(kMaxTransparentPorts) +
                         " allowed ports; programs that ignore the proxy settings reach only the first " +
                         std::to_string(kMaxTransparentPorts) + " (the HTTP proxy and SOCKS serve every allowed port)");
  }
  if (p.net_allow.empty()) {
    plan.notes.push_back("network: mode \"proxy\" with an empty network.allow: every destination is refused");
  }

  const Origin o = proxy_origin();
  const std::string http = "http://127.0.0.1:" + std::to_string(pp.http_port);
  const std::string socks = "socks5h://127.0.0.1:" + std::to_string(pp.socks_port);
  const std::pair<const char*, std::string> vars[] = {
      {"HTTP_PROXY", http}, {"HTTPS_PROXY", http}, {"ALL_PROXY", socks}, {"NO_PROXY", "localhost,127.0.0.1,::1"},
      {"http_proxy", http}, {"https_proxy", http}, {"all_proxy", socks}, {"no_proxy", "localhost,127.0.0.1,::1"},
  };
  for (const auto& [name, value] : vars) {
    // A profile's own env.set wins (e.g. an agent that wants NO_PROXY extended).
    bool set_by_profile = std::any_of(plan.env.begin(), plan.env.end(),
                                      [&](const EnvVar& e) { return e.name == name && e.from == "set"; });
    if (set_by_profile) continue;
    std::erase_if(plan.env, [&](const EnvVar& e) { return e.name == name; });
    plan.env.push_back({name, value, false, "set", o});
  }

  plan.mounts.push_back(
      {MountOp::Kind::File, resolv_conf(), file_target(h, "/etc/resolv.conf"), o, "paddock's resolver (127.0.0.1)"});
  plan.mounts.push_back(
      {MountOp::Kind::File, hosts_file(plan.hostname), file_target(h, "/etc/hosts"), o, "paddock's hosts file"});

  // Direct connections to any other port fail in the kernel; the supervisor records them.
  if (plan.seccomp.enabled && plan.seccomp.notify) {
    SeccompRule r;
    r.syscall = "connect";
    r.trace = true;
    r.why = "network proxy: records direct connections to ports paddock does not serve";
    r.origin = o;
    plan.seccomp.rules.push_back(r);
  }

  // Only paddock's own listeners can be connected to (Landlock ABI >= 4); nothing else is
  // listening in the namespace anyway, this makes the refusal explicit.
  plan.landlock.connect_ports = pp.listen_ports();
}

std::string McpEndpointPlan::url() const {
  return tcp_port == 0 ? std::string() : "http://127.0.0.1:" + std::to_string(tcp_port) + "/mcp";
}

void plan_mcp(const Policy& p, SandboxPlan& plan) {
  if (p.tools.empty()) return;
  if (!plan.namespaces) {
    // Without a private root there is no /run/paddock of the sandbox's own, and without a network
    // namespace 127.0.0.1 is the host's: serving tools there would serve every local process.
    plan.notes.push_back(
        "tools: not served inside the sandbox (no namespaces: no private /run/paddock, no network of its own); "
        "use `paddock mcp` instead");
    return;
  }
  const Origin o{"built-in tools endpoint", 0, 0};
  McpEndpointPlan& m = plan.mcp;
  m.enabled = true;
  if (plan.clone_flags & CLONE_NEWNET) {
    // The first port from kMcpDefaultPort that no proxy listener uses (an allow entry may name it).
    std::vector<std::uint16_t> taken = plan.proxy.enabled ? plan.proxy.listen_ports() : std::vector<std::uint16_t>{};
    std::uint16_t port = kMcpDefaultPort;
    while (std::find(taken.begin(), taken.end(), port) != taken.end()) ++port;
    m.tcp_port = port;
  } else {
    plan.notes.push_back("tools: network mode \"host\": served on " + m.socket_path +
                         " only (a TCP listener on the host's 127.0.0.1 would be reachable by every local process)");
  }
  plan.mounts.push_back({MountOp::Kind::Tmpfs, "", kMcpSocketDir, o,
                         "paddock's runtime folder (the tools socket; read-only once it is bound)"});
  auto set = [&](const char* name, const std::string& value) {
    std::erase_if(plan.env, [&](const EnvVar& e) { return e.name == name; });
    plan.env.push_back({name, value, false, "set", o});
  };
  set("PADDOCK_MCP_SOCKET", m.socket_path);
  if (m.tcp_port != 0) {
    set("PADDOCK_MCP_URL", m.url());
    if (plan.landlock.handled_net != 0) {
      auto& ports = plan.landlock.connect_ports;
      ports.push_back(m.tcp_port);
      std::sort(ports.begin(), ports.end());
      ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    }
  }
}

}  // namespace paddock
