#include "sandbox/plan.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <algorithm>
#include <ostream>
#include <set>

#include "policy/variables.h"
#include "sandbox/landlock_abi.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_baseline.h"

namespace paddock {
namespace {

// Landlock file-system rights per ABI (each ABI adds to the previous one).
std::uint64_t fs_rights_for_abi(int abi) {
  std::uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                    LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return r;
}

constexpr std::uint64_t kIoctlDev = LANDLOCK_ACCESS_FS_IOCTL_DEV;
constexpr std::uint64_t kReadDir =
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE;
constexpr std::uint64_t kReadFile = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_EXECUTE;
// Rights that make sense on a single file (the kernel refuses directory rights on files).
constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | kIoctlDev;

bool is_dir(const HostFacts& h, const std::string& p) {
  return h.info(p).type == PathInfo::Type::Dir;
}

Origin builtin(const char* what) {
  return Origin{std::string("built-in ") + what, 0, 0};
}

struct Grant {
  enum class Kind { Ro, Rw, Tmpfs } kind;
  PathGrant g;
};

bool env_name_matches(const std::string& pattern, const std::string& name) {
  if (!pattern.empty() && pattern.back() == '*') return name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  return pattern == name;
}

void plan_mounts(const Policy& p, const HostFacts& h, SandboxPlan& plan) {
  std::vector<Grant> grants;
  for (const auto& g : p.read) grants.push_back({Grant::Kind::Ro, g});
  for (const auto& g : p.write) grants.push_back({Grant::Kind::Rw, g});
  for (const auto& g : p.tmpfs) grants.push_back({Grant::Kind::Tmpfs, g});
  // Parents before children: a nested grant is mounted inside the one that contains it.
  std::stable_sort(grants.begin(), grants.end(), [](const Grant& a, const Grant& b) { return a.g.path < b.g.path; });

  auto covered_by_earlier = [&](size_t i) {
    for (size_t j = 0; j < i; ++j) {
      if (grants[j].g.path != grants[i].g.path && path_within(grants[i].g.path, grants[j].g.path)) return true;
    }
    return false;
  };

  for (size_t i = 0; i < grants.size(); ++i) {
    const Grant& gr = grants[i];
    const std::string& path = gr.g.path;
    if (gr.kind == Grant::Kind::Tmpfs) {
      plan.mounts.push_back({MountOp::Kind::Tmpfs, "", path, gr.g.origin, "filesystem.tmpfs"});
      continue;
    }
    PathInfo info = h.info(path);
    switch (info.type) {
      case PathInfo::Type::Missing:
        plan.notes.push_back("grant " + path + " (" + gr.g.origin.short_str() + ") does not exist; skipped");
        break;
      case PathInfo::Type::Symlink:
        if (covered_by_earlier(i)) {
          plan.warnings.push_back("grant " + path + " is a symlink inside another grant; it is not recreated");
        } else {
          // Recreated as the same symlink: what it points to is reachable only if granted too.
          plan.mounts.push_back(
              {MountOp::Kind::Symlink, info.symlink_target, path, gr.g.origin, "symlink, as on the host"});
        }
        break;
      default:
        plan.mounts.push_back({gr.kind == Grant::Kind::Rw ? MountOp::Kind::BindRw : MountOp::Kind::BindRo, path, path,
                               gr.g.origin, gr.kind == Grant::Kind::Rw ? "filesystem.write" : "filesystem.read"});
    }
  }

  // Standard pseudo file systems. A grant of "/" (or of /proc, /dev) is replaced here: the
  // sandbox always gets its own.
  Origin b = builtin("/proc");
  plan.mounts.push_back({MountOp::Kind::Proc, "", "/proc", b, "fresh procfs for the pid namespace"});
  for (const char* ro : {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"}) {
    plan.mounts.push_back({MountOp::Kind::ReadOnly, "", ro, b, "kernel tunables stay read-only"});
  }
  Origin d = builtin("/dev");
  plan.mounts.push_back({MountOp::Kind::Tmpfs, "", "/dev", d, "minimal /dev"});
  for (const char* dev : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string t = std::string("/dev/") + dev;
    plan.mounts.push_back({MountOp::Kind::BindDev, t, t, d, "device"});
  }
  plan.mounts.push_back({MountOp::Kind::Devpts, "", "/dev/pts", d, "private pseudo-terminals"});
  plan.mounts.push_back({MountOp::Kind::Symlink, "pts/ptmx", "/dev/ptmx", d, ""});
  plan.mounts.push_back({MountOp::Kind::Tmpfs, "", "/dev/shm", d, "private shared memory"});
  plan.mounts.push_back({MountOp::Kind::Symlink, "/proc/self/fd", "/dev/fd", d, ""});
  plan.mounts.push_back({MountOp::Kind::Symlink, "/proc/self/fd/0", "/dev/stdin", d, ""});
  plan.mounts.push_back({MountOp::Kind::Symlink, "/proc/self/fd/1", "/dev/stdout", d, ""});
  plan.mounts.push_back({MountOp::Kind::Symlink, "/proc/self/fd/2", "/dev/stderr", d, ""});

  // Masks last, so they cover grants that contain them. The innermost grant containing a
  // path decides (the last one in mount order when several have the same path): only a host
  // bind shows what lies below, and only a writable one lets the sandbox rename folders.
  auto innermost = [&](const std::string& path) {
    const Grant* in = nullptr;
    for (const auto& g : grants) {
      if (path_within(path, g.g.path) && (in == nullptr || g.g.path.size() >= in->g.path.size())) in = &g;
    }
    return in;
  };
  std::vector<MountOp> guards;
  std::set<std::string> pins;
  // In a writable grant every folder between the grant and a guarded path becomes a mount
  // point, so the sandbox cannot move the guarded path aside (rename or rmdir: EBUSY) and have
  // it unguarded in the next session.
  auto pin_ancestors = [&](const std::string& path, const Grant& g) {
    if (g.kind != Grant::Kind::Rw) return;
    for (std::string a = path.substr(0, path.rfind('/')); a.size() > g.g.path.size() && path_within(a, g.g.path);
         a = a.substr(0, a.rfind('/'))) {
      pins.insert(a);
    }
  };
  std::vector<PathGrant> denies = p.deny;
  std::sort(denies.begin(), denies.end(), [](const PathGrant& a, const PathGrant& b2) { return a.path < b2.path; });
  for (const auto& dn : denies) {
    const Grant* in = innermost(dn.path);
    if (in == nullptr || in->kind == Grant::Kind::Tmpfs) continue;  // not visible at all, or inside a fresh tmpfs
    PathInfo info = h.info(dn.path);
    switch (info.type) {
      case PathInfo::Type::Missing: continue;  // nothing to hide
      case PathInfo::Type::Dir:
        guards.push_back({MountOp::Kind::MaskDir, "", dn.path, dn.origin, "filesystem.deny"});
        break;
      case PathInfo::Type::Symlink:
        plan.warnings.push_back("deny " + dn.path + " (" + dn.origin.short_str() +
                                ") is a symlink; it is not followed, deny its target instead");
        continue;
      default: guards.push_back({MountOp::Kind::MaskFile, "", dn.path, dn.origin, "filesystem.deny"});
    }
    pin_ancestors(dn.path, *in);
  }
  for (const auto& path : h.protected_paths) {
    const Grant* in = innermost(path);
    if (in == nullptr || in->kind != Grant::Kind::Rw) continue;  // read-only or invisible already
    auto type = h.info(path).type;
    if (type == PathInfo::Type::Missing || type == PathInfo::Type::Symlink) continue;
    guards.push_back({MountOp::Kind::ReadOnly, "", path, builtin("paddock's own state"),
                      "profiles, trust store and audit logs stay out of the sandbox's reach"});
    pin_ancestors(path, *in);
  }
  for (const auto& a : pins) {
    if (h.info(a).type != PathInfo::Type::Dir) continue;
    plan.mounts.push_back({MountOp::Kind::Pin, "", a, builtin("guard"), "holds a masked path in place"});
  }
  std::stable_sort(guards.begin(), guards.end(),
                   [](const MountOp& a, const MountOp& b2) { return a.target < b2.target; });
  plan.mounts.insert(plan.mounts.end(), guards.begin(), guards.end());

  bool file_secrets = std::any_of(p.secrets.begin(), p.secrets.end(), [&](const Secret& s) {
    return s.expose == Secret::Expose::File && !secret_for_tools(p, s.name);
  });
  if (file_secrets) {
    plan.mounts.push_back(
        {MountOp::Kind::Secrets, "", "/run/secrets", builtin("secrets"), "secrets exposed as files (0400)"});
  }
}

void plan_landlock(const Policy& p, const HostFacts& h, SandboxPlan& plan) {
  LandlockPlan& ll = plan.landlock;
  ll.abi = std::min(h.landlock_abi, 6);
  if (ll.abi <= 0) return;
  const std::uint64_t all = fs_rights_for_abi(ll.abi);
  ll.handled_fs = all;
  const std::uint64_t file_all = kFileRights & all;
  if (ll.abi >= 4 && p.net_mode.value != NetMode::Host) {
    ll.handled_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
  }
  if (ll.abi >= 6) ll.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
  // With the mount view in place, listing "/" reveals only what was granted.
  if (plan.namespaces) ll.rules.push_back({"/", LANDLOCK_ACCESS_FS_READ_DIR, builtin("root view")});
  // A symlink grant gets no rule: opening it would put the rule on whatever it points to.
  auto skip = [&](const std::string& path) {
    auto t = h.info(path).type;
    return t == PathInfo::Type::Missing || t == PathInfo::Type::Symlink;
  };
  for (const auto& g : p.read) {
    if (skip(g.path)) continue;
    ll.rules.push_back({g.path, is_dir(h, g.path) ? kReadDir : kReadFile, g.origin});
  }
  for (const auto& g : p.write) {
    if (skip(g.path)) continue;
    ll.rules.push_back({g.path, is_dir(h, g.path) ? all : file_all, g.origin});
  }
  // Without a private mount view a "tmpfs" path would be the host's real folder: no rule.
  if (plan.namespaces) {
    for (const auto& g : p.tmpfs) ll.rules.push_back({g.path, all, g.origin});
  }
  // Every command needs /proc and the harmless devices, with or without a private root
  // (without one, /proc is the host's: that is part of what "degraded" means).
  Origin b = builtin("/proc");
  ll.rules.push_back(
      {"/proc", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_WRITE_FILE, b});
  Origin d = builtin("/dev");
  const std::uint64_t dev_rw = (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | kIoctlDev) & all;
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}) {
    ll.rules.push_back({dev, dev_rw, d});
  }
  if (plan.namespaces) {
    ll.rules.push_back({"/dev/pts", dev_rw | LANDLOCK_ACCESS_FS_READ_DIR, d});
    ll.rules.push_back({"/dev/shm", all, d});
    ll.rules.push_back({"/dev", LANDLOCK_ACCESS_FS_READ_DIR, d});
    if (std::any_of(p.secrets.begin(), p.secrets.end(), [&](const Secret& s) {
          return s.expose == Secret::Expose::File && !secret_for_tools(p, s.name);
        })) {
      ll.rules.push_back(
          {"/run/secrets", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, builtin("secrets")});
    }
  }
}

void plan_seccomp(const Policy& p, SandboxPlan& plan) {
  SeccompPlan& sc = plan.seccomp;
  sc.rules = baseline_seccomp_rules();
  for (const auto& a : p.syscalls_allow) {
    auto before = sc.rules.size();
    std::erase_if(sc.rules, [&](const SeccompRule& r) { return r.syscall == a.name; });
    if (sc.rules.size() != before) {
      sc.removed.push_back(a);
      plan.warnings.push_back("syscalls.allow (" + a.origin.short_str() + ") removes \"" + a.name +
                              "\" from the baseline seccomp denylist");
    }
  }
  for (const auto& d : p.syscalls_deny) {
    // An explicit deny is unconditional: it replaces any narrower baseline rule.
    std::erase_if(sc.rules, [&](const SeccompRule& r) { return r.syscall == d.name; });
    SeccompRule r;
    r.syscall = d.name;
    r.err = 1;
    r.why = "syscalls.deny";
    r.origin = d.origin;
    sc.rules.push_back(std::move(r));
  }
}

void plan_env(const Policy& p, const HostFacts& h, SandboxPlan& plan) {
  std::set<std::string> seen;
  std::set<std::string> secret_sources;
  for (const auto& s : p.secrets) {
    if (s.source == Secret::Source::Env) secret_sources.insert(s.from);
  }
  for (const auto& [name, value] : h.env) {
    if (secret_sources.count(name) != 0) continue;
    for (const auto& pass : p.env_pass) {
      if (env_name_matches(pass.name, name)) {
        plan.env.push_back({name, value, false, "pass", pass.origin});
        seen.insert(name);
        break;
      }
    }
  }
  for (const auto& s : p.env_set) {
    std::erase_if(plan.env, [&](const EnvVar& e) { return e.name == s.name; });
    plan.env.push_back({s.name, s.value, false, "set", s.origin});
  }
  for (const auto& s : p.secrets) {
    if (secret_for_tools(p, s.name)) {
      plan.notes.push_back("secret " + s.name + " (" + s.origin.short_str() +
                           "): granted to a tool, so kept out of the sandbox (only the tool reads it)");
      continue;
    }
    if (s.expose == Secret::Expose::Env) {
      std::erase_if(plan.env, [&](const EnvVar& e) { return e.name == s.name; });
      plan.env.push_back({s.name, "", true, "secret", s.origin});
    } else {
      plan.secret_files.push_back({s.name, s.origin});
    }
  }
}

}  // namespace

bool secret_for_tools(const Policy& p, std::string_view name) {
  return std::any_of(p.tools.begin(), p.tools.end(), [&](const ToolDecl& t) {
    return std::find(t.secrets.begin(), t.secrets.end(), name) != t.secrets.end();
  });
}

SandboxPlan make_plan(const Policy& p, const HostFacts& h, const std::vector<std::string>& command) {
  SandboxPlan plan;
  plan.uid = h.uid;
  plan.gid = h.gid;
  plan.command = command;
  plan.net = p.net_mode.value;

  if (p.net_mode.value == NetMode::Host) {
    plan.warnings.push_back("network mode \"host\" (" + p.net_mode.origin.short_str() +
                            "): the sandbox shares the host's network, nothing limits egress");
  }

  if (!h.userns) {
    if (!p.allows_best_effort("namespaces")) {
      throw Error("namespaces: user namespaces are unavailable (" + h.userns_detail +
                  "); refusing to run. A profile may set sandbox.best_effort = [\"namespaces\"] to run with "
                  "Landlock and seccomp only");
    }
    plan.namespaces = false;
    std::string d = "namespaces: unavailable (" + h.userns_detail +
                    "); running without a private root, pid or network namespace (Landlock and seccomp only)";
    for (const auto& dn : p.deny) d += "; deny " + dn.path + " is not enforced inside grants";
    for (const auto& t : p.tmpfs) d += "; tmpfs " + t.path + " is not available (not even the host's folder)";
    plan.degradations.push_back(d);
  }
  if (plan.namespaces) {
    plan.clone_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
    if (p.net_mode.value != NetMode::Host) plan.clone_flags |= CLONE_NEWNET;
    plan_mounts(p, h, plan);
  }
  if (h.landlock_abi <= 0) {
    if (!p.allows_best_effort("landlock")) {
      throw Error("landlock: not available (" + h.landlock_detail +
                  "); refusing to run. A profile may set sandbox.best_effort = [\"landlock\"] to run without it");
    }
    plan.degradations.push_back("landlock: unavailable (" + h.landlock_detail +
                                "); file access is confined by the mount view only");
  }
  if (!plan.namespaces && h.landlock_abi <= 0) {
    throw Error("namespaces and landlock are both unavailable: nothing would confine file access; refusing to run");
  }
  plan_landlock(p, h, plan);
  plan_seccomp(p, plan);
  if (h.seccomp_notify) {
    plan.seccomp.notify = true;
  } else if (p.allows_best_effort("seccomp-notify")) {
    plan.degradations.push_back("seccomp-notify: unavailable; denied system calls are refused but not recorded");
  } else {
    throw Error(
        "seccomp: a user-notification listener cannot be installed (an older kernel, or a seccomp filter "
        "already in force, as inside another sandbox), so denied system calls could not be recorded; refusing "
        "to run. A profile may set sandbox.best_effort = [\"seccomp-notify\"]");
  }
  plan_env(p, h, plan);
  plan_proxy(p, h, plan);
  plan_mcp(p, plan);

  plan.rlimits.push_back({RLIMIT_CORE, 0, 0, "core", builtin("no core dumps")});
  if (p.limits.nofile) {
    auto n = p.limits.nofile->value;
    plan.rlimits.push_back({RLIMIT_NOFILE, n, n, "nofile", p.limits.nofile->origin});
  }
  plan.wall = p.limits.wall;

  ResourcePlan& rp = plan.resources;
  rp.memory = p.limits.memory;
  rp.pids = p.limits.pids;
  rp.cpus = p.limits.cpu;
  rp.cpu_time = p.limits.cpu_time;
  if (rp.memory) {
    // RLIMIT_DATA rather than RLIMIT_AS: runtimes that reserve address space (Go, JVM, V8)
    // keep working, and it still bounds what a process can actually allocate.
    rp.fallback.push_back({RLIMIT_DATA, rp.memory->value, rp.memory->value, "data", rp.memory->origin});
    // Half the limit: tmpfs pages are charged to the session's memory too, so a full tmpfs
    // must answer ENOSPC before the OOM killer would have to step in.
    plan.tmpfs_size = rp.memory->value / 2;
  }
  if (rp.pids) {
    // Counted per user in the sandbox's own user namespace.
    rp.fallback.push_back({RLIMIT_NPROC, rp.pids->value, rp.pids->value, "nproc", rp.pids->origin});
  }
  if (rp.cpu_time) {
    auto secs = static_cast<std::uint64_t>((rp.cpu_time->value.count() + 999) / 1000);
    rp.fallback.push_back({RLIMIT_CPU, secs, secs + 1, "cpu", rp.cpu_time->origin});
    rp.fallback_gaps.push_back("limits.cpu_time (" + rp.cpu_time->origin.short_str() +
                               ") applies per process, not to the whole session");
  }
  if (rp.cpus) rp.fallback_gaps.push_back("limits.cpu (" + rp.cpus->origin.short_str() + ") cannot be enforced");

  // Start where the user is, when that folder is visible inside.
  plan.cwd = "/";
  auto visible = [&](const std::string& path) {
    auto in = [&](const std::vector<PathGrant>& v) {
      return std::any_of(v.begin(), v.end(), [&](const PathGrant& g) { return path_within(path, g.path); });
    };
    if (in(p.deny)) return false;
    std::string best;
    bool best_tmpfs = false;
    auto consider = [&](const std::vector<PathGrant>& v, bool tmpfs) {
      for (const auto& g : v) {
        if (path_within(path, g.path) && (best.empty() || g.path.size() >= best.size())) {
          best = g.path;
          best_tmpfs = tmpfs;
        }
      }
    };
    consider(p.read, false);
    consider(p.write, false);
    consider(p.tmpfs, true);
    if (best.empty()) return false;
    return !best_tmpfs || path == best;
  };
  if (!plan.namespaces || visible(h.cwd)) {
    plan.cwd = h.cwd;
  } else {
    plan.warnings.push_back(
        "the working directory " + h.cwd +
        " is not visible in the sandbox (not granted, denied, or inside a fresh tmpfs); the command starts in /");
  }
  return plan;
}

const std::vector<std::string>& fs_trace_syscalls() {
  // SYS_* macros say which names the native ABI has, without asking libseccomp (pure).
  static const std::vector<std::string> names = {
#ifdef SYS_open
      "open",
#endif
      "openat",
#ifdef SYS_creat
      "creat",
#endif
      "execve",    "execveat",
#ifdef SYS_mkdir
      "mkdir",
#endif
      "mkdirat",
#ifdef SYS_rmdir
      "rmdir",
#endif
#ifdef SYS_unlink
      "unlink",
#endif
      "unlinkat",
#ifdef SYS_rename
      "rename",
#endif
#ifdef SYS_renameat
      "renameat",
#endif
      "renameat2",
#ifdef SYS_link
      "link",
#endif
      "linkat",
#ifdef SYS_symlink
      "symlink",
#endif
      "symlinkat", "truncate",
  };
  return names;
}

void plan_fs_trace(SandboxPlan& plan) {
  SeccompPlan& sc = plan.seccomp;
  if (!sc.enabled || !sc.notify) {
    throw Error(
        "--trace-fs: file accesses can only be traced through seccomp user notification, which is "
        "unavailable here (an older kernel, or a seccomp filter already in force, as inside another "
        "sandbox); run without --trace-fs");
  }
  if (sc.trace_fs) return;
  sc.trace_fs = true;
  for (const auto& name : fs_trace_syscalls()) {
    SeccompRule r;
    r.syscall = name;
    r.trace = true;
    r.why = "--trace-fs";
    r.origin = Origin{"command line --trace-fs", 0, 0};
    sc.rules.push_back(std::move(r));
  }
}

std::string landlock_access_names(std::uint64_t a, bool net) {
  static const std::pair<std::uint64_t, const char*> fs_names[] = {
      {LANDLOCK_ACCESS_FS_EXECUTE, "execute"},       {LANDLOCK_ACCESS_FS_WRITE_FILE, "write_file"},
      {LANDLOCK_ACCESS_FS_READ_FILE, "read_file"},   {LANDLOCK_ACCESS_FS_READ_DIR, "read_dir"},
      {LANDLOCK_ACCESS_FS_REMOVE_DIR, "remove_dir"}, {LANDLOCK_ACCESS_FS_REMOVE_FILE, "remove_file"},
      {LANDLOCK_ACCESS_FS_MAKE_CHAR, "make_char"},   {LANDLOCK_ACCESS_FS_MAKE_DIR, "make_dir"},
      {LANDLOCK_ACCESS_FS_MAKE_REG, "make_reg"},     {LANDLOCK_ACCESS_FS_MAKE_SOCK, "make_sock"},
      {LANDLOCK_ACCESS_FS_MAKE_FIFO, "make_fifo"},   {LANDLOCK_ACCESS_FS_MAKE_BLOCK, "make_block"},
      {LANDLOCK_ACCESS_FS_MAKE_SYM, "make_sym"},     {LANDLOCK_ACCESS_FS_REFER, "refer"},
      {LANDLOCK_ACCESS_FS_TRUNCATE, "truncate"},     {kIoctlDev, "ioctl_dev"},
  };
  static const std::pair<std::uint64_t, const char*> net_names[] = {{LANDLOCK_ACCESS_NET_BIND_TCP, "bind_tcp"},
                                                                    {LANDLOCK_ACCESS_NET_CONNECT_TCP, "connect_tcp"}};
  std::string out;
  if (net) {
    for (auto [bit, name] : net_names) {
      if (a & bit) out += (out.empty() ? "" : ",") + std::string(name);
    }
  } else {
    for (auto [bit, name] : fs_names) {
      if (a & bit) out += (out.empty() ? "" : ",") + std::string(name);
    }
  }
  return out.empty() ? "none" : out;
}

}  // namespace paddock
