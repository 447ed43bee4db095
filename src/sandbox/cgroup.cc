#include "sandbox/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "sandbox/systemd_scope.h"
#include "util/error.h"
#include "util/fd_io.h"

namespace paddock {
namespace {

constexpr long kCgroup2Magic = 0x63677270;  // CGROUP2_SUPER_MAGIC
constexpr long kCgroup1Magic = 0x27e0eb;    // CGROUP_SUPER_MAGIC
constexpr std::uint64_t kCpuPeriodUs = 100000;
constexpr std::uint64_t kMinCpuQuotaUs = 1000;  // the kernel refuses less than 1 ms
constexpr std::string_view kPrefix = "paddock-";
constexpr auto kScopeTimeout = std::chrono::milliseconds(5000);

// ---------------------------------------------------------------------------------------------
// Files

std::optional<std::string> read_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  return read_fd(fd.get());
}

// Returns 0 or the errno. `create` (fake trees only) makes the file when it is missing.
int write_text_raw(const std::string& path, const std::string& value, bool create) {
  int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
  if (create) flags |= O_CREAT | O_TRUNC;
  UniqueFd fd(::open(path.c_str(), flags, 0644));
  if (!fd) return errno;
  ssize_t n = 0;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (static_cast<size_t>(n) != value.size()) return EIO;
  return 0;
}

void write_text(const std::string& path, const std::string& value, bool create) {
  if (int e = write_text_raw(path, value, create); e != 0) {
    throw_errno("cannot write \"" + value + "\" to " + path, e);
  }
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool writable(const std::string& path) {
  return ::access(path.c_str(), W_OK) == 0;
}

bool fs_is(const std::string& path, long magic) {
  struct statfs sfs {};
  return ::statfs(path.c_str(), &sfs) == 0 && static_cast<long>(sfs.f_type) == magic;
}

std::string join_path(const std::string& base, const std::string& rel) {
  std::string r = base;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (rel.empty() || rel == "/") return r;
  if (rel.front() != '/') r += '/';
  r += rel;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r;
}

// A cgroup path as /proc/self/cgroup prints it: absolute, no "." or ".." components.
bool sane_cgroup_path(const std::string& p) {
  if (p.empty() || p.front() != '/') return false;
  std::stringstream ss(p);
  std::string comp;
  while (std::getline(ss, comp, '/')) {
    if (comp == "." || comp == "..") return false;
  }
  return true;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string w;
  while (ss >> w) {
    if (!w.empty() && (w.front() == '+' || w.front() == '-')) w.erase(0, 1);
    if (!w.empty()) out.push_back(w);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v, const std::string& sep, const std::string& prefix = "") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += prefix + s;
  }
  return out;
}

std::vector<std::string> missing_from(const std::vector<std::string>& needed, const std::vector<std::string>& have) {
  std::vector<std::string> out;
  for (const auto& n : needed) {
    if (std::find(have.begin(), have.end(), n) == have.end()) out.push_back(n);
  }
  return out;
}

std::optional<std::uint64_t> to_u64(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// "key value" lines (memory.events, pids.events, cpu.stat, memory.oom_control).
std::map<std::string, std::uint64_t> key_values(const std::optional<std::string>& text) {
  std::map<std::string, std::uint64_t> out;
  if (!text) return out;
  std::stringstream ss(*text);
  std::string line;
  while (std::getline(ss, line)) {
    std::stringstream ls(line);
    std::string k, v;
    if (ls >> k >> v) {
      if (auto n = to_u64(v)) out[k] = *n;
    }
  }
  return out;
}

std::optional<std::uint64_t> read_u64(const std::string& path) {
  auto t = read_text(path);
  if (!t) return std::nullopt;
  std::string s = *t;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return to_u64(s);
}

std::vector<pid_t> read_pids(const std::string& procs_file) {
  std::vector<pid_t> out;
  auto t = read_text(procs_file);
  if (!t) return out;
  std::stringstream ss(*t);
  long p = 0;
  while (ss >> p) {
    if (p > 0) out.push_back(static_cast<pid_t>(p));
  }
  return out;
}

// /proc/self/cgroup: "0::/path" for v2, "N:ctrl,ctrl:/path" for v1 hierarchies.
struct SelfCgroups {
  std::optional<std::string> v2;
  std::map<std::string, std::string> v1;  // controller → path
};

SelfCgroups parse_self_cgroups(const std::string& text) {
  SelfCgroups out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto a = line.find(':');
    auto b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string id = line.substr(0, a);
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (id == "0" && ctrls.empty()) {
      out.v2 = path;
      continue;
    }
    std::stringstream cs(ctrls);
    std::string c;
    while (std::getline(cs, c, ',')) {
      if (!c.empty()) out.v1[c] = path;
    }
  }
  return out;
}

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// rmdir, retrying briefly while the kernel still counts exiting tasks (EBUSY). In a fake tree
// the plain files standing in for the kernel's are removed first. Returns true when gone.
bool remove_dir(const std::string& dir, bool fake) {
  if (fake) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (d) {
      while (dirent* e = ::readdir(d.get())) {
        if (e->d_type == DT_REG) ::unlinkat(::dirfd(d.get()), e->d_name, 0);
      }
    }
  }
  for (int attempt = 0; attempt < 60; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    sleep_ms(attempt < 10 ? 2 : 20);
  }
  return false;
}

// SIGKILLs every process listed in `dirs`' cgroup.procs until none is left (bounded: about two
// seconds). paddock's own pid is never signalled.
bool kill_listed(const std::vector<std::string>& dirs) {
  const pid_t self = ::getpid();
  for (int attempt = 0; attempt < 150; ++attempt) {
    bool any = false;
    for (const auto& d : dirs) {
      for (pid_t p : read_pids(d + "/cgroup.procs")) {
        if (p == self) continue;
        any = true;
        ::kill(p, SIGKILL);
      }
    }
    if (!any) return true;
    sleep_ms(attempt < 10 ? 1 : (attempt < 50 ? 5 : 20));
  }
  return false;
}

// Kills everything in one cgroup: cgroup.kill (v2, Linux 5.14+) or signal by signal.
// cgroup.kill kills the whole subtree at once, forks in flight included; the signal-by-signal
// loop then only waits for the list to empty (or does the work on kernels without it).
void kill_cgroup(const std::string& dir) {
  if (exists(dir + "/cgroup.kill")) write_text_raw(dir + "/cgroup.kill", "1", false);
  kill_listed({dir});
}

std::string session_dir_name(const std::string& session) {
  return std::string(kPrefix) + session + "-" + std::to_string(::getpid());
}

// "paddock-<session>-<pid>" → pid, or 0 when `name` is not a session cgroup.
pid_t session_pid_of(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return 0;
  auto dash = name.rfind('-');
  if (dash == std::string::npos || dash <= kPrefix.size()) return 0;  // needs a non-empty session
  auto pid = to_u64(name.substr(dash + 1));
  if (!pid || *pid == 0 || *pid > 4194304) return 0;  // PID_MAX_LIMIT
  return static_cast<pid_t>(*pid);
}

void check_session(const std::string& session) {
  bool ok = !session.empty() && session.size() <= 128 && session.front() != '.';
  for (char c : session) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.');
  }
  if (!ok) throw Error("invalid session id for a cgroup name: \"" + session + "\"");
}

std::uint64_t cpu_quota_us(double cpus) {
  if (!std::isfinite(cpus) || cpus <= 0) throw Error("invalid cpu limit " + std::to_string(cpus));
  double q = std::round(cpus * static_cast<double>(kCpuPeriodUs));
  if (q > 1e15) q = 1e15;
  return std::max<std::uint64_t>(kMinCpuQuotaUs, static_cast<std::uint64_t>(q));
}

std::optional<std::uint64_t> effective_high(const CgroupLimits& l) {
  if (l.memory_high) return l.memory_high;
  if (l.memory_max) {
    auto m = static_cast<unsigned __int128>(*l.memory_max);
    return static_cast<std::uint64_t>(m * 9 / 10);
  }
  return std::nullopt;
}

// The v2 controllers the limits need, and nothing more.
std::vector<std::string> v2_controllers(const CgroupLimits& l) {
  std::vector<std::string> out;
  if (l.memory_max || l.memory_high) out.push_back("memory");
  if (l.pids_max) out.push_back("pids");
  if (l.cpus) out.push_back("cpu");
  return out;
}

// Finds the v1 hierarchy carrying `ctrl` under `root`: root/ctrl, or an entry such as
// "cpu,cpuacct" whose comma-separated name lists it. "" when there is none.
std::string find_v1_mount(const std::string& root, const std::string& ctrl, bool fake) {
  auto ok = [&](const std::string& p) { return is_dir(p) && (fake || fs_is(p, kCgroup1Magic)); };
  if (ok(root + "/" + ctrl)) return root + "/" + ctrl;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(root.c_str()), ::closedir);
  if (!d) return "";
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name.find(',') == std::string::npos) continue;
    std::stringstream ss(name);
    std::string c;
    while (std::getline(ss, c, ',')) {
      if (c == ctrl && ok(root + "/" + name)) return root + "/" + name;
    }
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction

struct CgroupBuilder {
  using Ptr = std::unique_ptr<SessionCgroup>;
  enum class Layout { None, Child, Delegate };

  static Ptr fresh(const CgroupLimits& l, SessionCgroup::Version v, bool fake) {
    Ptr cg(new SessionCgroup());
    cg->version_ = v;
    cg->limits_ = l;
    cg->fake_ = fake;
    return cg;
  }

  static void make_dir(SessionCgroup& cg, const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0) {
      if (errno == EEXIST) throw Error("cannot create cgroup " + path + ": it already exists");
      throw_errno("cannot create cgroup " + path);
    }
    cg.created_.push_back(path);
  }

  // Which v2 layout C allows: (a) a child, because C already hands the controllers down;
  // (b) a delegated split, because C holds nothing but paddock; or none, with the reason.
  static Layout assess_v2(const std::string& c, const std::vector<std::string>& needed, std::string& reason) {
    if (!is_dir(c)) {
      reason = "cgroup v2 at " + c + " does not exist";
      return Layout::None;
    }
    if (!writable(c) || !writable(c + "/cgroup.procs")) {
      reason = "cgroup v2 at " + c + " is not writable";
      return Layout::None;
    }
    auto enabled = words(read_text(c + "/cgroup.subtree_control").value_or(""));
    if (missing_from(needed, enabled).empty()) return Layout::Child;
    auto available = words(read_text(c + "/cgroup.controllers").value_or(""));
    auto missing = missing_from(needed, available);
    if (!missing.empty()) {
      reason = "cgroup v2 at " + c + " lacks the " + joined(missing, ", ") + " controller" +
               (missing.size() > 1 ? "s" : "") +
               " (available: " + (available.empty() ? "none" : joined(available, " ")) + ")";
      return Layout::None;
    }
    auto procs = read_pids(c + "/cgroup.procs");
    if (procs.size() != 1 || procs.front() != ::getpid()) {
      reason = "cgroup v2 at " + c + " holds other processes and does not enable " +
               joined(missing_from(needed, enabled), ", ") + " for its children";
      return Layout::None;
    }
    if (!writable(c + "/cgroup.subtree_control")) {
      reason = "cgroup v2 at " + c + " is not delegated (cgroup.subtree_control is not writable)";
      return Layout::None;
    }
    return Layout::Delegate;
  }

  static Ptr build_v2(Layout layout, const std::string& c, const CgroupLimits& l, const std::string& session,
                      const std::vector<std::string>& needed, bool fake, const std::string& via) {
    Ptr cg = fresh(l, SessionCgroup::Version::V2, fake);
    cg->via_ = via;
    const std::string p = c + "/" + session_dir_name(session);
    cg->session_dir_ = p;
    make_dir(*cg, p);
    if (layout == Layout::Child) {
      cg->sandbox_dir_ = p;
      cg->dirs_ = {p};
    } else {
      // v2 allows processes only in leaves once controllers are enabled: paddock moves into
      // supervisor/, the sandbox gets sandbox/, and the controllers are handed down to both.
      const std::string sup = p + "/supervisor";
      const std::string sb = p + "/sandbox";
      make_dir(*cg, sup);
      make_dir(*cg, sb);
      cg->supervisor_dir_ = sup;
      write_text(sup + "/cgroup.procs", std::to_string(::getpid()), fake);
      cg->moved_from_ = c;
      auto enabled = words(read_text(c + "/cgroup.subtree_control").value_or(""));
      auto to_enable = missing_from(needed, enabled);
      if (!to_enable.empty()) {
        write_text(c + "/cgroup.subtree_control", joined(to_enable, " ", "+"), fake);
        cg->enabled_in_parent_ = to_enable;
      }
      if (!needed.empty()) {
        write_text(p + "/cgroup.subtree_control", joined(needed, " ", "+"), fake);
        cg->enabled_in_session_ = needed;
      }
      cg->sandbox_dir_ = sb;
      cg->dirs_ = {sb, p};
    }
    write_v2_limits(*cg, l);
    cg->dirfd_ = UniqueFd(::open(cg->sandbox_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!cg->dirfd_) throw_errno("cannot open cgroup " + cg->sandbox_dir_);
    open_v2_events(*cg);
    return cg;
  }

  static void write_v2_limits(SessionCgroup& cg, const CgroupLimits& l) {
    const std::string& d = cg.sandbox_dir_;
    const bool fake = cg.fake_;
    if (l.memory_max) write_text(d + "/memory.max", std::to_string(*l.memory_max), fake);
    if (auto high = effective_high(l)) write_text(d + "/memory.high", std::to_string(*high), fake);
    // No escape into swap (the file exists only with swap accounting).
    if (l.memory_max && (fake || exists(d + "/memory.swap.max"))) write_text(d + "/memory.swap.max", "0", fake);
    if (l.pids_max) write_text(d + "/pids.max", std::to_string(*l.pids_max), fake);
    if (l.cpus) {
      write_text(d + "/cpu.max", std::to_string(cpu_quota_us(*l.cpus)) + " " + std::to_string(kCpuPeriodUs), fake);
    }
  }

  static void open_v2_events(SessionCgroup& cg) {
    UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!in) throw_errno("inotify_init1 for cgroup events");
    bool any = false;
    for (const char* f : {"memory.events", "pids.events"}) {
      const std::string path = cg.sandbox_dir_ + "/" + f;
      const bool wanted = std::string(f) == "memory.events" ? (cg.limits_.memory_max || cg.limits_.memory_high)
                                                            : cg.limits_.pids_max.has_value();
      if (cg.fake_ && wanted && !exists(path)) write_text(path, "", true);
      if (::inotify_add_watch(in.get(), path.c_str(), IN_MODIFY | IN_DONT_FOLLOW) >= 0) any = true;
    }
    if (any) cg.event_fds_.push_back(std::move(in));
  }

  static Ptr v2(const CgroupLimits& l, const std::string& session, const CgroupRoots& roots, std::string& why) {
    if (roots.v2.empty()) {
      why = "no cgroup v2 hierarchy";
      return nullptr;
    }
    if (!roots.fake && !fs_is(roots.v2, kCgroup2Magic)) {
      why = roots.v2 + " is not a cgroup v2 file system";
      return nullptr;
    }
    const auto needed = v2_controllers(l);
    std::string c;
    if (!own_v2_cgroup(roots, c, why)) return nullptr;

    std::string reason;
    Layout layout = assess_v2(c, needed, reason);
    if (layout != Layout::None) return build_v2(layout, c, l, session, needed, roots.fake, "");

    // (c) Ask systemd for a delegated scope holding paddock, then split it as in (b).
    std::string bus_why;
    SdBusPtr bus;
    if (roots.fake) {
      bus_why = "systemd is not asked for a test tree";
    } else {
      bus = open_systemd_bus(bus_why);
    }
    if (!bus) {
      why = reason + " and " + bus_why;
      return nullptr;
    }
    TransientScope scope{scope_unit_name(session), "paddock session " + session, ::getpid()};
    try {
      start_transient_scope(bus.get(), scope, kScopeTimeout);
    } catch (const Error& e) {
      why = reason + "; " + e.what();
      return nullptr;
    }
    bus.reset();
    if (!own_v2_cgroup(roots, c, why)) return nullptr;
    std::string reason2;
    layout = assess_v2(c, needed, reason2);
    if (layout == Layout::None) {
      why = reason + "; in the systemd scope " + scope.unit + ": " + reason2;
      return nullptr;
    }
    return build_v2(layout, c, l, session, needed, roots.fake, "systemd scope " + scope.unit);
  }

  static bool own_v2_cgroup(const CgroupRoots& roots, std::string& c, std::string& why) {
    auto text = read_text(roots.proc_self_cgroup);
    if (!text) {
      why = "cannot read " + roots.proc_self_cgroup;
      return false;
    }
    auto self = parse_self_cgroups(*text);
    if (!self.v2) {
      why = "paddock is not in a cgroup v2 hierarchy (no \"0::\" line in " + roots.proc_self_cgroup + ")";
      return false;
    }
    if (!sane_cgroup_path(*self.v2)) {
      why = "unexpected cgroup v2 path \"" + *self.v2 + "\" in " + roots.proc_self_cgroup;
      return false;
    }
    c = join_path(roots.v2, *self.v2);
    return true;
  }

  // -------------------------------------------------------------------------------------------

  static Ptr v1(const CgroupLimits& l, const std::string& session, const CgroupRoots& roots, std::string& why) {
    if (roots.v1.empty()) {
      why = "no cgroup v1 hierarchy";
      return nullptr;
    }
    std::vector<std::string> needed;
    if (l.memory_max || l.memory_high) needed.push_back("memory");
    if (l.pids_max) needed.push_back("pids");
    if (l.cpus) needed.push_back("cpu");
    if (needed.empty()) needed.push_back("pids");  // no limits: a cgroup only to find and kill everything

    auto text = read_text(roots.proc_self_cgroup);
    if (!text) {
      why = "cannot read " + roots.proc_self_cgroup;
      return nullptr;
    }
    auto self = parse_self_cgroups(*text);
    // Check everything before creating anything.
    std::vector<std::pair<std::string, std::string>> parents;  // controller → parent dir
    for (const auto& ctrl : needed) {
      std::string mount = find_v1_mount(roots.v1, ctrl, roots.fake);
      if (mount.empty()) {
        why = "no cgroup v1 " + ctrl + " hierarchy under " + roots.v1;
        return nullptr;
      }
      auto it = self.v1.find(ctrl);
      if (it == self.v1.end()) {
        why = "paddock is in no cgroup v1 " + ctrl + " hierarchy (" + roots.proc_self_cgroup + ")";
        return nullptr;
      }
      if (!sane_cgroup_path(it->second)) {
        why = "unexpected cgroup v1 path \"" + it->second + "\" in " + roots.proc_self_cgroup;
        return nullptr;
      }
      std::string parent = join_path(mount, it->second);
      if (!is_dir(parent)) {
        why = "cgroup v1 " + ctrl + " at " + parent + " does not exist";
        return nullptr;
      }
      if (!writable(parent)) {
        why = "cgroup v1 " + ctrl + " at " + parent + " is not writable";
        return nullptr;
      }
      if (ctrl == "cpu" && !roots.fake && !exists(parent + "/cpu.cfs_quota_us")) {
        why = "cgroup v1 cpu at " + parent + " has no CFS bandwidth control (cpu.cfs_quota_us)";
        return nullptr;
      }
      parents.emplace_back(ctrl, parent);
    }
    // CPU time (the exit record, limits.cpu_time) comes from cpuacct, which may be its own
    // hierarchy rather than co-mounted with cpu. Optional: without it the usage reads 0.
    if (std::string acct = find_v1_mount(roots.v1, "cpuacct", roots.fake); !acct.empty()) {
      auto it = self.v1.find("cpuacct");
      if (it != self.v1.end() && sane_cgroup_path(it->second)) {
        std::string parent = join_path(acct, it->second);
        if (is_dir(parent) && writable(parent)) parents.emplace_back("cpuacct", parent);
      }
    }

    Ptr cg = fresh(l, SessionCgroup::Version::V1, roots.fake);
    const std::string name = session_dir_name(session);
    for (const auto& [ctrl, parent] : parents) {
      std::string dir = parent + "/" + name;
      if (std::find(cg->dirs_.begin(), cg->dirs_.end(), dir) == cg->dirs_.end()) {  // co-mounted controllers
        make_dir(*cg, dir);
        cg->dirs_.push_back(dir);
      }
      if (ctrl == "memory") cg->memory_dir_ = dir;
      if (ctrl == "pids") cg->pids_dir_ = dir;
      if (ctrl == "cpu") cg->cpu_dir_ = dir;
      if (ctrl == "cpuacct") cg->cpuacct_dir_ = dir;
    }
    write_v1_limits(*cg, l);
    open_v1_events(*cg);
    return cg;
  }

  static void write_v1_limits(SessionCgroup& cg, const CgroupLimits& l) {
    const bool fake = cg.fake_;
    if (!cg.memory_dir_.empty()) {
      const std::string& d = cg.memory_dir_;
      if (l.memory_max) {
        write_text(d + "/memory.limit_in_bytes", std::to_string(*l.memory_max), fake);
        // memory+swap at the same value: no escape into swap. Absent without swap accounting.
        const std::string memsw = d + "/memory.memsw.limit_in_bytes";
        if (fake || (exists(memsw) && writable(memsw))) {
          int e = write_text_raw(memsw, std::to_string(*l.memory_max), fake);
          if (e != 0 && e != EINVAL && e != ENOENT) {
            throw_errno("cannot write \"" + std::to_string(*l.memory_max) + "\" to " + memsw, e);
          }
        }
      }
      if (auto high = effective_high(l)) write_text(d + "/memory.soft_limit_in_bytes", std::to_string(*high), fake);
    }
    if (!cg.pids_dir_.empty() && l.pids_max) write_text(cg.pids_dir_ + "/pids.max", std::to_string(*l.pids_max), fake);
    if (!cg.cpu_dir_.empty() && l.cpus) {
      write_text(cg.cpu_dir_ + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs), fake);
      write_text(cg.cpu_dir_ + "/cpu.cfs_quota_us", std::to_string(cpu_quota_us(*l.cpus)), fake);
    }
  }

  // memcg v1 notifications: "<eventfd> <fd of the watched file> [args]" into cgroup.event_control.
  // A kernel without them (or a fake tree) just gets no fd: events() still reads the counters.
  static UniqueFd register_memcg_event(const std::string& dir, const std::string& file, const std::string& args) {
    UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!efd) return {};
    UniqueFd watched(::open((dir + "/" + file).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!watched) return {};
    std::string line = std::to_string(efd.get()) + " " + std::to_string(watched.get());
    if (!args.empty()) line += " " + args;
    if (write_text_raw(dir + "/cgroup.event_control", line, false) != 0) return {};
    return efd;
  }

  static void open_v1_events(SessionCgroup& cg) {
    if (!cg.memory_dir_.empty()) {
      if (UniqueFd oom = register_memcg_event(cg.memory_dir_, "memory.oom_control", "")) {
        cg.event_fds_.push_back(std::move(oom));
      }
      // The threshold is registered by the first event_fds(): its registration waits for an RCU
      // grace period (5-20 ms measured), which should not hold up the sandbox's start.
      cg.high_pending_ = effective_high(cg.limits_).has_value();
    }
    // v1 pids.events changes silently (no kernfs notification, measured on Linux 6.18): the
    // counter is read by events() when something else wakes the caller, and at the end.
  }
};

// ---------------------------------------------------------------------------------------------

CgroupRoots CgroupRoots::detect() {
  CgroupRoots r;
  if (fs_is("/sys/fs/cgroup", kCgroup2Magic)) {
    r.v2 = "/sys/fs/cgroup";
    r.v1 = "";
    return r;
  }
  r.v2 = fs_is("/sys/fs/cgroup/unified", kCgroup2Magic) ? "/sys/fs/cgroup/unified" : "";
  bool any_v1 = false;
  for (const char* c : {"memory", "pids", "cpu"}) {
    if (!find_v1_mount("/sys/fs/cgroup", c, false).empty()) any_v1 = true;
  }
  r.v1 = any_v1 ? "/sys/fs/cgroup" : "";
  return r;
}

std::unique_ptr<SessionCgroup> SessionCgroup::create(const CgroupLimits& limits, const std::string& session,
                                                     const CgroupRoots& roots, std::string& why) {
  check_session(session);
  why.clear();
  std::string why_v2;
  if (auto cg = CgroupBuilder::v2(limits, session, roots, why_v2)) return cg;
  std::string why_v1;
  auto cg = CgroupBuilder::v1(limits, session, roots, why_v1);
  why = cg ? why_v2 : why_v2 + "; " + why_v1;
  return cg;
}

SessionCgroup::~SessionCgroup() {
  event_fds_.clear();
  dirfd_.reset();
  try {
    kill_all();
  } catch (...) {  // NOLINT(bugprone-empty-catch): teardown is best effort; stale cleanup finishes it
  }
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    if (*it == supervisor_dir_ && !moved_from_.empty()) move_back();
    remove_dir(*it, fake_);
  }
}

void SessionCgroup::move_back() noexcept {
  // The original cgroup may hold processes again only once it no longer hands controllers
  // down, and it stops handing them down only once the session dir has stopped too.
  if (!enabled_in_session_.empty()) {
    write_text_raw(session_dir_ + "/cgroup.subtree_control", joined(enabled_in_session_, " ", "-"), fake_);
  }
  if (!enabled_in_parent_.empty()) {
    write_text_raw(moved_from_ + "/cgroup.subtree_control", joined(enabled_in_parent_, " ", "-"), fake_);
  }
  write_text_raw(moved_from_ + "/cgroup.procs", std::to_string(::getpid()), fake_);
  moved_from_.clear();
}

std::string SessionCgroup::description() const {
  if (version_ == Version::V2) {
    return "cgroup v2 " + sandbox_dir_ + (via_.empty() ? "" : " (" + via_ + ")");
  }
  return "cgroup v1 " + joined(dirs_, ", ");
}

void SessionCgroup::add(pid_t pid) {
  const std::string value = std::to_string(pid);
  if (version_ == Version::V2) {
    write_text(sandbox_dir_ + "/cgroup.procs", value, fake_);
    return;
  }
  for (const auto& d : dirs_) write_text(d + "/cgroup.procs", value, fake_);
}

std::vector<int> SessionCgroup::event_fds() const {
  if (high_pending_) {
    high_pending_ = false;
    const std::string threshold = std::to_string(*effective_high(limits_));
    if (UniqueFd th = CgroupBuilder::register_memcg_event(memory_dir_, "memory.usage_in_bytes", threshold)) {
      high_efd_ = th.get();
      event_fds_.push_back(std::move(th));
    }
  }
  std::vector<int> out;
  out.reserve(event_fds_.size());
  for (const auto& fd : event_fds_) out.push_back(fd.get());
  return out;
}

void SessionCgroup::ack_events() {
  for (const auto& fd : event_fds_) {
    if (fd.get() == high_efd_) {
      // The counter adds up the threshold's notifications since the last read.
      std::uint64_t n = 0;
      if (::read(fd.get(), &n, sizeof n) == static_cast<ssize_t>(sizeof n)) high_signals_ += n;
      continue;
    }
    alignas(inotify_event) char buf[4096];
    while (::read(fd.get(), buf, sizeof buf) > 0) {
    }
  }
}

CgroupEvents SessionCgroup::events() const {
  CgroupEvents ev;
  if (version_ == Version::V2) {
    const std::string& d = sandbox_dir_;
    auto mem = key_values(read_text(d + "/memory.events"));
    ev.memory_high = mem["high"];
    ev.memory_max = mem["max"];
    ev.oom_kill = mem["oom_kill"];
    ev.pids_max = key_values(read_text(d + "/pids.events"))["max"];
    auto cpu = key_values(read_text(d + "/cpu.stat"));
    ev.cpu_throttled = cpu["nr_throttled"];
    ev.cpu_usage_usec = cpu["usage_usec"];
    ev.memory_peak = read_u64(d + "/memory.peak").value_or(0);
    return ev;
  }
  if (!memory_dir_.empty()) {
    // A threshold notifies each crossing, upward and downward alternately, starting from an
    // empty cgroup below it: the upward ones are every other one, the first included.
    ev.memory_high = (high_signals_ + 1) / 2;
    ev.oom_kill = key_values(read_text(memory_dir_ + "/memory.oom_control"))["oom_kill"];
    ev.memory_peak = read_u64(memory_dir_ + "/memory.max_usage_in_bytes").value_or(0);
    // With swap accounting the memory+swap counter is charged first and fails first. Some
    // kernels leave both failcnt at 0 even through an OOM kill (seen on 6.18), so an OOM kill or
    // a peak at the limit count as the limit having been hit at least that often.
    std::uint64_t fails = read_u64(memory_dir_ + "/memory.failcnt").value_or(0) +
                          read_u64(memory_dir_ + "/memory.memsw.failcnt").value_or(0);
    std::uint64_t floor = ev.oom_kill;
    if (floor == 0 && limits_.memory_max && ev.memory_peak >= *limits_.memory_max) floor = 1;
    ev.memory_max = std::max(fails, floor);
  }
  if (!pids_dir_.empty()) ev.pids_max = key_values(read_text(pids_dir_ + "/pids.events"))["max"];
  if (!cpu_dir_.empty()) ev.cpu_throttled = key_values(read_text(cpu_dir_ + "/cpu.stat"))["nr_throttled"];
  if (!cpuacct_dir_.empty()) {
    if (auto ns = read_u64(cpuacct_dir_ + "/cpuacct.usage")) ev.cpu_usage_usec = *ns / 1000;
  }
  return ev;
}

void SessionCgroup::kill_all() {
  if (fake_) return;  // the pids in a fake tree's cgroup.procs are not members of anything
  if (version_ == Version::V2) {
    if (!sandbox_dir_.empty()) kill_cgroup(sandbox_dir_);
    return;
  }
  kill_listed(dirs_);
}

// ---------------------------------------------------------------------------------------------
// Stale cgroups

namespace {

struct StaleWalk {
  bool fake = false;
  int budget = 20000;  // directories visited at most
  int removed = 0;

  // Kills and removes a stale session's tree, children first.
  bool remove_tree(const std::string& dir, int depth) {
    std::vector<std::string> children;
    {
      std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
      if (d) {
        while (dirent* e = ::readdir(d.get())) {
          std::string n = e->d_name;
          if (n == "." || n == ".." || e->d_type != DT_DIR) continue;
          children.push_back(dir + "/" + n);
        }
      }
    }
    if (!fake) kill_cgroup(dir);
    bool ok = true;
    if (depth < 16) {
      for (const auto& c : children) ok = remove_tree(c, depth + 1) && ok;
    }
    if (!fake) kill_listed({dir});
    return remove_dir(dir, false) && ok;
  }

  void walk(const std::string& dir, dev_t dev, int depth) {
    std::vector<std::string> subdirs;
    {
      std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
      if (!d) return;
      while (dirent* e = ::readdir(d.get())) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || e->d_type != DT_DIR) continue;  // never a symlink
        subdirs.push_back(n);
      }
    }
    for (const auto& n : subdirs) {
      if (--budget < 0) return;
      const std::string path = dir + "/" + n;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_dev != dev) continue;
      if (pid_t pid = session_pid_of(n); pid != 0) {
        if (::kill(pid, 0) != 0 && errno == ESRCH && remove_tree(path, 0)) ++removed;
        continue;  // a session's own subtree is never searched further
      }
      if (depth < 12) walk(path, dev, depth + 1);
    }
  }

  void top(const std::string& root) {
    struct stat st {};
    if (root.empty() || ::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
    walk(root, st.st_dev, 0);
  }
};

}  // namespace

int cleanup_stale_cgroups(const CgroupRoots& roots) {
  StaleWalk w;
  w.fake = roots.fake;
  std::set<std::string> tops;
  if (!roots.v2.empty() && (roots.fake || fs_is(roots.v2, kCgroup2Magic))) tops.insert(roots.v2);
  if (!roots.v1.empty()) {
    for (const char* c : {"memory", "pids", "cpu", "cpuacct"}) {
      std::string m = find_v1_mount(roots.v1, c, roots.fake);
      if (!m.empty()) tops.insert(m);
    }
  }
  for (const auto& t : tops) w.top(t);
  return w.removed;
}

}  // namespace paddock
