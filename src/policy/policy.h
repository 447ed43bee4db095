// The resolved, immutable policy: every profile in the `extends` chain and every command-line
// override merged, variables expanded, paths normalised. Each grant keeps the Origin of the
// rule that made it so a later denial can cite "file:line".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/host_pattern.h"
#include "util/error.h"
#include "util/units.h"

namespace paddock {

template <typename T>
struct Setting {
  T value{};
  Origin origin;
};

struct PathGrant {
  std::string path;  // absolute, lexically normalised
  Origin origin;
};

struct HostGrant {
  HostPattern pattern;
  Origin origin;
};

enum class NetMode { None, Proxy, Host };
const char* to_string(NetMode m);

struct EnvPass {
  std::string name;  // a variable name, or a prefix ending in '*' ("LC_*")
  Origin origin;
};

struct EnvSet {
  std::string name;
  std::string value;
  Origin origin;
};

struct Secret {
  enum class Source { Env, File };
  enum class Expose { Env, File };
  std::string name;
  Source source = Source::Env;
  std::string from;  // variable name or absolute file path
  Expose expose = Expose::Env;
  Origin origin;
};

struct DbGrant {
  std::string path;
  bool read_only = true;
  std::vector<std::string> tables;  // empty: every table
  std::optional<std::uint64_t> max_rows;
  Origin origin;
};

struct ToolDecl {
  std::string name;
  std::string script;  // absolute
  std::string description;
  std::vector<PathGrant> read;
  std::vector<PathGrant> write;
  std::vector<HostGrant> net;
  std::vector<std::string> secrets;
  std::optional<DbGrant> db;
  bool wasm = false;
  std::optional<Rate> rate_limit;
  bool requires_approval = false;
  bool audit_full = false;  // "full" | "metadata"
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::uint64_t> memory;
  std::optional<std::uint64_t> max_output;
  std::optional<Setting<std::uint64_t>> max_calls;  // per session
  Origin origin;
};

// Egress budgets of network mode "proxy": bytes sent out and outbound connections opened
// (cumulative). Unset: unlimited.
struct EgressBudget {
  std::optional<Setting<std::uint64_t>> max_bytes_out;
  std::optional<Setting<std::uint64_t>> max_connections;
  [[nodiscard]] bool any() const { return max_bytes_out || max_connections; }
};

struct Limits {
  std::optional<Setting<std::uint64_t>> memory;  // bytes
  std::optional<Setting<std::uint64_t>> pids;
  std::optional<Setting<double>> cpu;  // cores
  std::optional<Setting<std::chrono::milliseconds>> wall;
  std::optional<Setting<std::chrono::milliseconds>> cpu_time;
  std::optional<Setting<std::uint64_t>> nofile;
  std::optional<Setting<std::uint64_t>> max_denials;
  // Tool kill switches (issue 7): calls per session, and the same tool with the same input this
  // many times in a row (loop detection; kDefaultToolLoop when unset). Exceeding one refuses the
  // call, or with on_exceed = "kill" ends the session (exit 137).
  std::optional<Setting<std::uint64_t>> max_tool_calls;
  std::optional<Setting<std::uint64_t>> tool_loop;
  std::optional<Setting<bool>> on_exceed_kill;
};

inline constexpr std::uint64_t kDefaultToolLoop = 5;

struct SyscallRule {
  std::string name;
  Origin origin;
};

// A layer the profile explicitly lets degrade when the kernel refuses it (printed and audited).
struct BestEffort {
  std::string layer;  // "namespaces" | "landlock" | "cgroup" | "seccomp-notify"
  Origin origin;
};

struct ProfileRef {
  std::string name;  // as referenced ("default", or a path)
  std::string path;  // the file it was loaded from
  std::string description;
};

struct Policy {
  std::vector<ProfileRef> profiles;  // in merge order: most basic first
  std::string description;

  std::vector<PathGrant> read;
  std::vector<PathGrant> write;
  std::vector<PathGrant> deny;
  std::vector<PathGrant> tmpfs;
  // Grants removed because a deny rule covers them ("deny always wins"), kept for display.
  std::vector<std::pair<PathGrant, Origin>> overridden;

  Setting<NetMode> net_mode{NetMode::None, {}};
  std::vector<HostGrant> net_allow;
  std::vector<HostGrant> net_deny;
  EgressBudget net_budget;           // the whole session
  EgressBudget net_budget_per_host;  // each destination host on its own

  std::vector<EnvPass> env_pass;
  std::vector<EnvSet> env_set;
  std::vector<Secret> secrets;

  Limits limits;
  std::vector<SyscallRule> syscalls_deny;
  std::vector<SyscallRule> syscalls_allow;
  std::vector<BestEffort> best_effort;
  std::vector<ToolDecl> tools;

  [[nodiscard]] bool allows_best_effort(std::string_view layer) const;
  [[nodiscard]] const ToolDecl* find_tool(std::string_view name) const;
};

}  // namespace paddock
