// SandboxPlan: everything the sandbox will do, computed from a Policy by a pure function
// (make_plan) with no system calls, so it can be printed (--dry-run) and unit-tested.
// Executing the plan (launcher.cc) only follows it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace paddock {

// What make_plan needs to know about the host, gathered once by the caller (host_facts.cc)
// or faked by tests.
struct PathInfo {
  enum class Type { Missing, Dir, File, Symlink, Other };
  Type type = Type::Missing;
  std::string symlink_target;  // for Symlink
};

struct HostFacts {
  std::uint32_t uid = 0, gid = 0;
  std::string cwd;
  std::map<std::string, std::string> env;  // the supervisor's environment
  int landlock_abi = 0;
  bool userns = true;
  bool seccomp_notify = true;
  std::string userns_detail, landlock_detail;
  // paddock's own configuration and state (profiles, trust store, audit logs): never writable
  // from inside, even when a grant contains them.
  std::vector<std::string> protected_paths;
  // lstat-like answers for absolute host paths; the plan asks only about paths in the policy
  // and their parents.
  std::map<std::string, PathInfo> paths;
  [[nodiscard]] PathInfo info(const std::string& p) const {
    auto it = paths.find(p);
    return it == paths.end() ? PathInfo{} : it->second;
  }
};

struct MountOp {
  enum class Kind {
    Tmpfs,     // fresh tmpfs at target (filesystem.tmpfs, /dev, /dev/shm)
    BindRo,    // read-only recursive bind of source at target
    BindRw,    // read-write recursive bind
    BindDev,   // one host device node (null, zero, ...) bound at target
    MaskDir,   // empty read-only tmpfs over a denied folder
    MaskFile,  // an empty read-only file over a denied file
    Proc,      // fresh procfs for the pid namespace
    Devpts,    // new devpts instance at /dev/pts
    Symlink,   // symlink at target pointing to source
    Secrets,   // tmpfs at /run/secrets holding the file-exposed secrets
    ReadOnly,  // bind target over itself read-only (e.g. /proc/sys, paddock's own state)
    Pin,       // bind target over itself: a mount point cannot be renamed or removed
    File,      // a read-only file whose contents are `source` (paddock's /etc/resolv.conf, /etc/hosts)
  };
  Kind kind;
  std::string source;  // host path (binds), link text (Symlink), contents (File)
  std::string target;  // path inside the sandbox
  Origin origin;
  std::string note;  // why, for display
};

// Landlock access rights, as in <linux/landlock.h>.
struct LandlockRule {
  std::string path;  // inside the sandbox
  std::uint64_t access = 0;
  Origin origin;
};

struct LandlockPlan {
  int abi = 0;  // 0: not applied
  std::uint64_t handled_fs = 0;
  std::uint64_t handled_net = 0;             // ABI >= 4 when network mode is not host
  std::vector<std::uint16_t> connect_ports;  // paddock's own endpoints (TCP connect allowed)
  std::uint64_t scoped = 0;                  // ABI >= 6
  std::vector<LandlockRule> rules;
};

struct SeccompRule {
  enum class Action { Errno, Kill };
  std::string syscall;
  Action action = Action::Errno;
  int err = 1;  // EPERM
  // Conditions (ANDed): argument index, operation, mask/value. Empty: unconditional.
  struct Cond {
    enum class Op { Eq, MaskedEq, Gt, Ge, Lt, Ne };
    unsigned arg = 0;
    Op op = Op::Eq;
    std::uint64_t a = 0;  // value, or mask for MaskedEq
    std::uint64_t b = 0;  // value for MaskedEq
    bool operator==(const Cond&) const = default;
  };
  std::vector<Cond> conds;
  std::string why;  // group / reason, for display and audit
  Origin origin;
  // A --trace-fs rule: the call goes to the supervisor (only when the plan notifies), which
  // records its path when that lies outside the grants and lets it continue
  // (SECCOMP_USER_NOTIF_FLAG_CONTINUE). It never changes what the kernel decides; a deny rule on
  // the same call still decides first. `action` and `err` are unused.
  bool trace = false;
  bool operator==(const SeccompRule&) const = default;
};

struct SeccompPlan {
  bool enabled = true;
  std::vector<SeccompRule> rules;
  bool unknown_enosys = true;     // syscall numbers libseccomp does not know -> ENOSYS
  bool kill_foreign_arch = true;  // x32, i386 int 0x80
  // Denials go to paddock's supervisor (seccomp user notification), which records them and
  // answers with the rule's errno; kills are recorded and the process is SIGKILLed. ENOSYS
  // answers (libc fallbacks: clone3, io_uring...) stay silent in the kernel.
  bool notify = false;
  std::vector<SyscallRule> removed;  // syscalls.allow entries that removed baseline rules
  // --trace-fs: `rules` holds trace rules for the file-opening system calls (plan_fs_trace).
  bool trace_fs = false;
};

struct EnvVar {
  std::string name;
  std::string value;  // empty for secrets in displays
  bool secret = false;
  std::string from;  // "pass", "set", "secret"
  Origin origin;
};

struct SecretFile {
  std::string name;  // file name under /run/secrets
  Origin origin;
};

struct RlimitPlan {
  int resource;
  std::uint64_t soft, hard;
  std::string name;
  Origin origin;
};

// Resource bounds: enforced by a session cgroup when one can be had (see cgroup.h), else by
// the rlimits in `fallback` (printed and audited as a degradation).
struct ResourcePlan {
  std::optional<Setting<std::uint64_t>> memory;  // memory.max; memory.high is 90 % of it
  std::optional<Setting<std::uint64_t>> pids;
  std::optional<Setting<double>> cpus;
  std::optional<Setting<std::chrono::milliseconds>> cpu_time;  // whole session, checked by the supervisor
  std::vector<RlimitPlan> fallback;
  std::vector<std::string> fallback_gaps;  // what rlimits cannot express
  [[nodiscard]] bool wants_cgroup() const { return memory || pids || cpus || cpu_time; }
  [[nodiscard]] std::uint64_t memory_high() const { return memory ? memory->value / 10 * 9 : 0; }
};

// Network mode "proxy" (issue 5): the sandbox's network namespace has only lo, on which every
// IPv4 and IPv6 address is local; paddock's supervisor owns listening sockets in it (created by
// the sandbox during setup and passed out) and dials out from the host side only to allowed
// destinations.
struct ProxyPlan {
  bool enabled = false;
  // paddock's services on 127.0.0.1 (and ::1) inside the sandbox.
  std::uint16_t http_port = 3128;
  std::uint16_t socks_port = 1080;
  std::uint16_t dns_port = 53;  // UDP and TCP
  // Ports some allow entry names (80 and 443 for entries without one): paddock listens on them on
  // every address, so programs that ignore proxy settings still reach allowed destinations.
  std::vector<std::uint16_t> transparent_ports;
  // The fake addresses paddock's resolver answers allowed names with, mapped back on connect.
  std::array<std::uint8_t, 4> pool_base = {198, 18, 0, 0};
  int pool_prefix = 15;
  std::vector<HostGrant> allow, deny;
  EgressBudget budget, per_host;
  // Every TCP port paddock listens on inside (services and transparent), sorted, unique.
  [[nodiscard]] std::vector<std::uint16_t> listen_ports() const;
};

inline constexpr std::size_t kMaxTransparentPorts = 1024;

// Tools served inside the sandbox (issue 7): when the profile declares tools, paddock serves them
// to the command as an MCP endpoint that exists only in the sandbox. The sandbox's init creates
// the listening sockets during setup and hands them to the supervisor, which passes them to one
// paddock-tools process for the session; tools still run in their own sandboxed workers.
inline constexpr const char* kMcpSocketDir = "/run/paddock";
inline constexpr const char* kMcpSocketPath = "/run/paddock/mcp.sock";
inline constexpr std::uint16_t kMcpDefaultPort = 8765;

struct McpEndpointPlan {
  bool enabled = false;
  std::string socket_path = kMcpSocketPath;  // newline-delimited JSON-RPC (MCP stdio framing)
  // MCP Streamable HTTP on 127.0.0.1 of the sandbox's own network namespace; 0 in network mode
  // "host", where 127.0.0.1 is the host's and any local process could reach it.
  std::uint16_t tcp_port = 0;
  [[nodiscard]] std::string url() const;  // "" without a TCP listener
};

// A secret some tool's grants.secrets names stays with paddock's tool runtime: it is neither an
// environment variable nor a file in the sandbox (the agent never sees a tool's secret).
[[nodiscard]] bool secret_for_tools(const Policy& p, std::string_view name);

struct SandboxPlan {
  // Namespaces (CLONE_* flags) and whether a user namespace is used at all.
  bool namespaces = true;
  std::uint64_t clone_flags = 0;
  std::uint32_t uid = 0, gid = 0;  // the same inside and outside
  std::string hostname = "paddock";
  NetMode net = NetMode::None;
  ProxyPlan proxy;
  McpEndpointPlan mcp;

  std::vector<MountOp> mounts;  // in execution order
  std::string cwd;              // inside the sandbox
  LandlockPlan landlock;
  SeccompPlan seccomp;
  std::vector<EnvVar> env;
  std::vector<SecretFile> secret_files;
  std::vector<RlimitPlan> rlimits;
  ResourcePlan resources;
  std::optional<std::uint64_t> tmpfs_size;  // bytes; tmpfs contents count against memory
  std::optional<Setting<std::chrono::milliseconds>> wall;
  std::vector<std::string> command;

  std::vector<std::string> notes;         // shown by --dry-run and -v (e.g. grants that do not exist)
  std::vector<std::string> warnings;      // printed before running
  std::vector<std::string> degradations;  // layers weakened by best_effort (printed + audited)
};

// Network mode "proxy": the ProxyPlan, paddock's /etc/resolv.conf and /etc/hosts, the proxy
// environment variables, Landlock's TCP connect ports. Pure. Part of make_plan.
void plan_proxy(const Policy& policy, const HostFacts& host, SandboxPlan& plan);

// Tools declared: the MCP endpoint (McpEndpointPlan), a tmpfs at /run/paddock, PADDOCK_MCP_SOCKET
// and PADDOCK_MCP_URL, Landlock's TCP connect port. Pure. Part of make_plan, after plan_proxy.
void plan_mcp(const Policy& policy, SandboxPlan& plan);

// Pure: no system calls. Throws Error when the policy cannot be honoured on this host and
// no best_effort allows degrading (the caller exits 125).
SandboxPlan make_plan(const Policy& policy, const HostFacts& host, const std::vector<std::string>& command);

// --trace-fs: adds a trace rule (SeccompRule::trace) for each file-opening system call this
// architecture has (fs_trace_syscalls()). Pure. Throws Error when the plan does not notify
// (seccomp user notification unavailable): without a supervisor there is nobody to record.
void plan_fs_trace(SandboxPlan& plan);
// open, openat, creat, execve, execveat, mkdir, mkdirat, rmdir, unlink, unlinkat, rename,
// renameat, renameat2, link, linkat, symlink, symlinkat, truncate: the x86_64 names, less
// those the native architecture lacks (aarch64 has no open, creat, mkdir...).
const std::vector<std::string>& fs_trace_syscalls();

// Human-readable rendering for --dry-run.
void print_plan(std::ostream& out, const SandboxPlan& plan);

// Names for display.
std::string landlock_access_names(std::uint64_t access, bool net = false);

}  // namespace paddock
