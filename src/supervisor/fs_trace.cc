#include "supervisor/fs_trace.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <utility>

#include "audit/writer.h"
#include "policy/variables.h"
#include "sandbox/landlock_abi.h"
#include "util/unique_fd.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace paddock {
namespace {

constexpr std::uint64_t kReadFile = LANDLOCK_ACCESS_FS_READ_FILE;
constexpr std::uint64_t kReadDir = LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kWriteFile = LANDLOCK_ACCESS_FS_WRITE_FILE;
constexpr std::uint64_t kExecute = LANDLOCK_ACCESS_FS_EXECUTE;
constexpr std::uint64_t kTruncate = LANDLOCK_ACCESS_FS_TRUNCATE;
constexpr std::uint64_t kRefer = LANDLOCK_ACCESS_FS_REFER;
constexpr std::uint64_t kRemoveDir = LANDLOCK_ACCESS_FS_REMOVE_DIR;
constexpr std::uint64_t kRemoveFile = LANDLOCK_ACCESS_FS_REMOVE_FILE;
constexpr std::uint64_t kMakeAll = LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                                   LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                                   LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                                   LANDLOCK_ACCESS_FS_MAKE_SYM;
// Everything that changes the file system: a read-only mount refuses these.
constexpr std::uint64_t kModify = kWriteFile | kTruncate | kRefer | kRemoveDir | kRemoveFile | kMakeAll;
constexpr std::uint64_t kAllFs = kModify | kReadFile | kReadDir | kExecute | LANDLOCK_ACCESS_FS_IOCTL_DEV;

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

bool within_any(const std::string& path, const std::vector<std::string>& dirs) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& d) { return path_within(path, d); });
}

std::uint64_t make_right(mode_t type) {
  switch (type) {
    case S_IFDIR: return LANDLOCK_ACCESS_FS_MAKE_DIR;
    case S_IFLNK: return LANDLOCK_ACCESS_FS_MAKE_SYM;
    case S_IFIFO: return LANDLOCK_ACCESS_FS_MAKE_FIFO;
    case S_IFSOCK: return LANDLOCK_ACCESS_FS_MAKE_SOCK;
    case S_IFCHR: return LANDLOCK_ACCESS_FS_MAKE_CHAR;
    case S_IFBLK: return LANDLOCK_ACCESS_FS_MAKE_BLOCK;
    default: return LANDLOCK_ACCESS_FS_MAKE_REG;
  }
}

std::uint64_t remove_right(mode_t type) {
  return type == S_IFDIR ? kRemoveDir : kRemoveFile;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The grants

FsGrants FsGrants::from_plan(const SandboxPlan& plan) {
  FsGrants g;
  g.accumulate = !plan.namespaces;
  if (plan.landlock.abi > 0) {
    g.rules = plan.landlock.rules;
    g.handled = plan.landlock.handled_fs;
  } else {
    // No Landlock (best_effort): the mount view is all there is, so it is the grant.
    g.handled = kAllFs;
    g.rules.push_back({"/", kReadDir, Origin{"built-in root view", 0, 0}});
    for (const auto& m : plan.mounts) {
      switch (m.kind) {
        case MountOp::Kind::BindRo: g.rules.push_back({m.target, kReadFile | kReadDir | kExecute, m.origin}); break;
        case MountOp::Kind::BindRw:
        case MountOp::Kind::Tmpfs: g.rules.push_back({m.target, kAllFs, m.origin}); break;
        case MountOp::Kind::Secrets: g.rules.push_back({m.target, kReadFile | kReadDir, m.origin}); break;
        case MountOp::Kind::Proc: g.rules.push_back({m.target, kReadFile | kReadDir | kWriteFile, m.origin}); break;
        case MountOp::Kind::BindDev: g.rules.push_back({m.target, kReadFile | kWriteFile, m.origin}); break;
        case MountOp::Kind::Devpts: g.rules.push_back({m.target, kReadFile | kWriteFile | kReadDir, m.origin}); break;
        default: break;
      }
    }
  }
  for (const auto& m : plan.mounts) {
    switch (m.kind) {
      case MountOp::Kind::Tmpfs:
      case MountOp::Kind::Secrets: g.views.push_back({m.target, true, m.origin, m.note}); break;
      case MountOp::Kind::BindRo:
      case MountOp::Kind::BindRw: g.views.push_back({m.target, false, m.origin, m.note}); break;
      default: break;
    }
    if (m.kind == MountOp::Kind::MaskDir || m.kind == MountOp::Kind::MaskFile) {
      g.guards.push_back({m.target, true, m.origin, m.note});
    } else if (m.kind == MountOp::Kind::ReadOnly) {
      g.guards.push_back({m.target, false, m.origin, m.note});
    } else if (m.kind == MountOp::Kind::Proc) {
      g.procfs.push_back(m.target);
    }
  }
  if (!plan.namespaces) g.procfs.push_back("/proc");  // the host's, seen through the same path
  return g;
}

// ---------------------------------------------------------------------------------------------
// What a call wants

FsRequest fs_request(const FsCall& c) {
  FsRequest r;
  const std::string& s = c.syscall;
  const FsNode& p = c.path;
  auto want = [&r](const std::string& path, std::uint64_t rights, bool on_parent) {
    r.wants.push_back({path, rights, on_parent});
  };
  if (s == "open" || s == "openat" || s == "creat") {
    auto flags = static_cast<int>(c.flags);
    if (flags & O_PATH) return r;  // names a file without opening it: no access is checked
    int acc = flags & O_ACCMODE;
    bool read = acc == O_RDONLY || acc == O_RDWR;
    bool write = acc == O_WRONLY || acc == O_RDWR || acc == O_ACCMODE;
    bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
    bool dir = p.type == S_IFDIR || (p.type == 0 && (flags & O_DIRECTORY) && !tmpfile);
    if (tmpfile) {
      // An unnamed file in the folder `path`.
      r.access = "create";
      want(p.path, kWriteFile, false);
      return r;
    }
    if ((flags & O_CREAT) && p.type == 0) {
      r.access = "create";
      want(p.path, LANDLOCK_ACCESS_FS_MAKE_REG, true);
      return r;
    }
    std::uint64_t rights = 0;
    if (read) rights |= dir ? kReadDir : kReadFile;
    if (write) rights |= kWriteFile;
    // O_TRUNC empties an existing file, even opened read-only.
    if ((flags & O_TRUNC) && p.type == S_IFREG) {
      rights |= kTruncate;
      write = true;
    }
    r.access = read && write ? "read,write" : write ? "write" : "read";
    want(p.path, rights, false);
  } else if (s == "execve" || s == "execveat") {
    // The kernel opens the program for reading and executing.
    r.access = "exec";
    want(p.path, kReadFile | kExecute, false);
  } else if (s == "truncate") {
    r.access = "write";
    want(p.path, kWriteFile | kTruncate, false);
  } else if (s == "mkdir" || s == "mkdirat") {
    r.access = "create";
    want(p.path, LANDLOCK_ACCESS_FS_MAKE_DIR, true);
  } else if (s == "symlink" || s == "symlinkat") {
    r.access = "create";
    want(p.path, LANDLOCK_ACCESS_FS_MAKE_SYM, true);
  } else if (s == "rmdir" || s == "unlink" || s == "unlinkat") {
    bool dir = s == "rmdir" || (s == "unlinkat" && (c.flags & AT_REMOVEDIR));
    r.access = "delete";
    want(p.path, dir ? kRemoveDir : kRemoveFile, true);
  } else if (s == "link" || s == "linkat") {
    r.access = "create";
    want(c.path2.path, make_right(p.type), true);
    if (parent_of(p.path) != parent_of(c.path2.path)) {
      want(p.path, kRefer, true);
      want(c.path2.path, kRefer, true);
    }
  } else if (s == "rename" || s == "renameat" || s == "renameat2") {
    const FsNode& to = c.path2;
    r.access = "rename";
    want(p.path, remove_right(p.type), true);
    want(to.path, make_right(p.type), true);
    if (to.type != 0) want(to.path, remove_right(to.type), true);  // replaced (or exchanged)
    if ((c.flags & RENAME_EXCHANGE) && to.type != 0) want(p.path, make_right(to.type), true);
    if (parent_of(p.path) != parent_of(to.path)) {
      want(p.path, kRefer, true);
      want(to.path, kRefer, true);
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// The decision

FsVerdict check_fs_want(const FsGrants& g, const FsWant& w) {
  FsVerdict v;
  // Where the rights are needed: the path itself, or the folder a name is made in or removed from.
  const std::string where = w.on_parent ? parent_of(w.path) : w.path;
  std::uint64_t need = w.rights & g.handled;
  bool in_procfs = within_any(where, g.procfs);
  // Under /proc the magic links (/proc/self/exe, /proc/self/fd/N) lead elsewhere, and Landlock
  // checks where they lead: an exec there says nothing about the grants.
  if (in_procfs) need &= ~kExecute;
  for (const auto& guard : g.guards) {
    if (guard.deny && path_within(w.path, guard.path)) {
      v.allowed = false;
      v.path = w.path;
      v.want = w;
      v.reason = "filesystem.deny \"" + guard.path + "\" (" + guard.origin.short_str() + ")";
      return v;
    }
    if (!guard.deny && (need & kModify) != 0 && path_within(where, guard.path)) {
      v.allowed = false;
      v.path = w.path;
      v.want = w;
      v.reason = "read-only: " + guard.path + (guard.note.empty() ? "" : " (" + guard.note + ")") + ", " +
                 guard.origin.short_str();
      return v;
    }
  }
  if (need == 0) return v;
  const LandlockRule* best = nullptr;
  std::uint64_t granted = 0;
  for (const auto& rule : g.rules) {
    if (!path_within(where, rule.path)) continue;
    if (g.accumulate) granted |= rule.access;
    if (best == nullptr || rule.path.size() >= best->path.size()) best = &rule;
  }
  if (!g.accumulate && best != nullptr) granted = best->access;
  std::uint64_t missing = need & ~granted;
  if (missing == 0) return v;
  v.allowed = false;
  v.path = w.path;
  v.want = w;
  const bool wants_change = (missing & kModify) != 0;
  v.reason = wants_change ? "not in filesystem.write" : "not in filesystem.read/write";
  // A grant that covers the path but without these rights (a read-only grant, a file granted
  // where a folder is needed) is worth naming; "/" listing the root view is not.
  if (best != nullptr && (best->access & g.handled & ~kReadDir) != 0) {
    v.reason += ": " + best->path + " (" + best->origin.short_str() + ") grants only " +
                landlock_access_names(best->access & g.handled);
  }
  return v;
}

FsVerdict check_fs_hidden(const FsGrants& g, const FsWant& w) {
  FsVerdict v;
  const FsGrants::View* in = nullptr;
  for (const auto& view : g.views) {
    if (path_within(w.path, view.path) && (in == nullptr || view.path.size() >= in->path.size())) in = &view;
  }
  if (in == nullptr || !in->fresh) return v;
  v.allowed = false;
  v.path = w.path;
  v.want = w;
  v.reason = "not in filesystem.read/write: " + in->path + " is a fresh tmpfs (" +
             (in->note.empty() ? "" : in->note + ", ") + in->origin.short_str() + "), not the host's folder";
  return v;
}

FsVerdict check_fs_request(const FsGrants& g, const FsRequest& r) {
  for (const auto& w : r.wants) {
    FsVerdict v = check_fs_want(g, w);
    if (!v.allowed) return v;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Resolution

namespace {

void split_into(std::string_view path, std::deque<std::string>& out, bool front) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  if (front)
    out.insert(out.begin(), parts.begin(), parts.end());
  else
    out.insert(out.end(), parts.begin(), parts.end());
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

}  // namespace

FsNode resolve_beneath(int rootfd, std::string_view path, bool follow_last, const std::vector<std::string>& stop_at) {
  std::vector<std::string> done;  // resolved names, from the root
  std::vector<UniqueFd> dirs;     // dirs[i]: the folder done[0..i] (while resolving)
  std::deque<std::string> todo;
  split_into(path, todo, false);
  bool lexical = false;  // from here on names are appended as they are
  int links = 0;
  mode_t type = S_IFDIR;  // "/" itself
  auto cur = [&] { return dirs.empty() ? rootfd : dirs.back().get(); };
  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      // Lexical, and exact: every name in `done` is a real folder, none a symbolic link.
      if (!done.empty()) done.pop_back();
      if (dirs.size() > done.size()) dirs.pop_back();
      if (!lexical) type = S_IFDIR;
      continue;
    }
    const bool last = todo.empty();
    if (lexical) {
      done.push_back(std::move(name));
      type = 0;
      continue;
    }
    struct stat st {};
    if (::fstatat(cur(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      lexical = true;  // missing (a name about to be created), or not for us to see
      done.push_back(std::move(name));
      type = 0;
      continue;
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
      char buf[PATH_MAX];
      ssize_t n = ++links > 40 ? -1 : ::readlinkat(cur(), name.c_str(), buf, sizeof buf);
      if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) {
        lexical = true;  // ELOOP, or changed under us: the kernel will fail it too
        done.push_back(std::move(name));
        type = 0;
        continue;
      }
      std::string_view target(buf, static_cast<std::size_t>(n));
      if (target.front() == '/') {
        done.clear();
        dirs.clear();
      }
      split_into(target, todo, true);
      type = S_IFDIR;  // if the target is "/" or "."
      continue;
    }
    done.push_back(std::move(name));
    type = st.st_mode & S_IFMT;
    if (last) break;
    if (!S_ISDIR(st.st_mode) || within_any(join(done), stop_at)) {
      lexical = true;  // ENOTDIR for the kernel; or procfs, whose links mean something only inside
      continue;
    }
    // A single name, no symbolic link followed (O_NOFOLLOW), a folder or nothing (O_DIRECTORY).
    int fd = ::openat(cur(), done.back().c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      lexical = true;
      continue;
    }
    dirs.emplace_back(fd);
  }
  return FsNode{join(done), type};
}

// ---------------------------------------------------------------------------------------------
// The supervisor's side

namespace {

struct Shape {
  const char* name;
  int dirfd1, path1;  // argument indexes (-1: none, AT_FDCWD)
  int dirfd2, path2;
  int flags;  // the flags argument, -1 none
};

// x86_64 argument layouts (the traced calls: fs_trace_syscalls()).
constexpr Shape kShapes[] = {
    {"open", -1, 0, -1, -1, 1},     {"openat", 0, 1, -1, -1, 2},     {"creat", -1, 0, -1, -1, -1},
    {"execve", -1, 0, -1, -1, -1},  {"execveat", 0, 1, -1, -1, 4},   {"mkdir", -1, 0, -1, -1, -1},
    {"mkdirat", 0, 1, -1, -1, -1},  {"rmdir", -1, 0, -1, -1, -1},    {"unlink", -1, 0, -1, -1, -1},
    {"unlinkat", 0, 1, -1, -1, 2},  {"rename", -1, 0, -1, 1, -1},    {"renameat", 0, 1, 2, 3, -1},
    {"renameat2", 0, 1, 2, 3, 4},   {"link", -1, 0, -1, 1, -1},      {"linkat", 0, 1, 2, 3, 4},
    {"symlink", -1, 1, -1, -1, -1}, {"symlinkat", 1, 2, -1, -1, -1}, {"truncate", -1, 0, -1, -1, -1},
};

const Shape* shape_of(const std::string& name) {
  for (const auto& s : kShapes) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// A NUL-terminated string of at most PATH_MAX bytes from the caller's memory; nullopt when
// unreadable or longer (the kernel then fails the call: EFAULT, ENAMETOOLONG).
std::optional<std::string> read_remote_string(pid_t pid, std::uint64_t addr) {
  if (addr == 0 || addr > UINT64_MAX - PATH_MAX) return std::nullopt;
  char buf[PATH_MAX];
  // Split at the page boundary: a string ending just before an unmapped page still reads.
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::uint64_t first = std::min<std::uint64_t>(page - addr % page, PATH_MAX);
  struct iovec local {
    buf, sizeof buf
  };
  struct iovec remote[2] = {{reinterpret_cast<void*>(addr), first},
                            {reinterpret_cast<void*>(addr + first), PATH_MAX - first}};
  ssize_t n = ::process_vm_readv(pid, &local, 1, remote, first == PATH_MAX ? 1 : 2, 0);
  if (n <= 0) return std::nullopt;
  const void* nul = std::memchr(buf, '\0', static_cast<std::size_t>(n));
  if (nul == nullptr) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(static_cast<const char*>(nul) - buf));
}

// readlink of /proc/PID/cwd or /proc/PID/fd/N: an absolute path as the sandbox sees it, or
// nullopt (a pipe, a deleted folder, a descriptor that is not open).
std::optional<std::string> proc_link(pid_t pid, const char* what) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/%d/%s", static_cast<int>(pid), what);
  char buf[PATH_MAX];
  ssize_t n = ::readlink(link, buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf || buf[0] != '/') return std::nullopt;
  std::string s(buf, static_cast<std::size_t>(n));
  if (s.size() > 10 && s.compare(s.size() - 10, 10, " (deleted)") == 0) return std::nullopt;
  return s;
}

}  // namespace

FsTracer::FsTracer(const SandboxPlan& plan, AuditWriter* audit, bool verbose, std::function<void()> on_denial)
    : grants_(FsGrants::from_plan(plan)), audit_(audit), verbose_(verbose), on_denial_(std::move(on_denial)) {
  static const char* const kRootChangers[] = {"chroot", "pivot_root", "unshare", "clone", "clone3", "setns"};
  for (const auto& removed : plan.seccomp.removed) {
    for (const char* name : kRootChangers) {
      if (removed.name == name) shared_root_ = false;
    }
  }
}

void FsTracer::on_notification(int listener, const struct seccomp_notif& req, const std::string& syscall) {
  const Shape* shape = shape_of(syscall);
  if (shape == nullptr) return;
  const auto pid = static_cast<pid_t>(req.pid);
  const auto* args = req.data.args;
  FsCall call;
  call.syscall = syscall;
  if (syscall == "creat")
    call.flags = O_CREAT | O_WRONLY | O_TRUNC;
  else if (shape->flags >= 0)
    call.flags = args[shape->flags];
  if (syscall == "open" || syscall == "openat") {
    if (static_cast<int>(call.flags) & O_PATH) return;  // nothing is checked for O_PATH
  }

  UniqueFd own_root;
  int rootfd = root_.get();
  if (!shared_root_ || !root_) {
    char rootlink[64];
    std::snprintf(rootlink, sizeof rootlink, "/proc/%d/root", static_cast<int>(pid));
    own_root = UniqueFd(::open(rootlink, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!own_root) return;  // gone already
    rootfd = own_root.get();
    std::uint64_t id = req.id;
    if (shared_root_ && ::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0) {
      root_ = std::move(own_root);  // surely a process of the session: keep its root
      rootfd = root_.get();
    }
  }

  // One path argument: read, made absolute, resolved. false: nothing to record.
  auto resolve = [&](int dirfd_arg, int path_arg, bool follow_last, FsNode& out) {
    auto text = read_remote_string(pid, args[path_arg]);
    if (!text) return false;
    const bool empty_ok = (syscall == "execveat" || syscall == "linkat") && (call.flags & AT_EMPTY_PATH);
    if (text->empty() && !empty_ok) return false;  // ENOENT
    std::string full;
    if (!text->empty() && (*text)[0] == '/') {
      full = *text;
    } else {
      int dirfd = dirfd_arg < 0 ? AT_FDCWD : static_cast<int>(args[dirfd_arg]);
      std::optional<std::string> base;
      if (dirfd == AT_FDCWD) {
        base = proc_link(pid, "cwd");
      } else if (dirfd >= 0) {
        base = proc_link(pid, ("fd/" + std::to_string(dirfd)).c_str());
      }
      if (!base) return false;  // EBADF, ENOTDIR: the kernel refuses before any grant matters
      full = text->empty() ? *base : *base + "/" + *text;
      if (text->empty()) follow_last = false;  // the descriptor's own file
    }
    out = resolve_beneath(rootfd, full, follow_last, grants_.procfs);
    return true;
  };

  const int flags = static_cast<int>(call.flags);
  bool follow1 = true;
  if (syscall == "open" || syscall == "openat" || syscall == "creat") {
    follow1 = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
  } else if (syscall == "execveat") {
    follow1 = !(flags & AT_SYMLINK_NOFOLLOW);
  } else if (syscall == "linkat") {
    follow1 = (flags & AT_SYMLINK_FOLLOW) != 0;
  } else if (syscall != "execve" && syscall != "truncate") {
    follow1 = false;  // the call acts on the name itself
  }
  if (!resolve(shape->dirfd1, shape->path1, follow1, call.path)) return;
  if (shape->path2 >= 0 && !resolve(shape->dirfd2, shape->path2, false, call.path2)) return;

  FsRequest request = fs_request(call);
  FsVerdict verdict = check_fs_request(grants_, request);
  auto node_of = [&](const std::string& path) -> const FsNode& {
    return shape->path2 >= 0 && path == call.path2.path ? call.path2 : call.path;
  };
  auto creates = [](const FsWant& w) { return w.on_parent && (w.rights & kMakeAll) != 0; };
  // Whether the host has the path (for a new name: its folder). AT_NO_AUTOMOUNT: nothing is
  // mounted on the host's side for the sandbox's sake.
  auto on_host = [](const std::string& path, bool folder) {
    struct stat st {};
    if (::fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0) {
      return errno != ENOENT && errno != ENOTDIR;  // EACCES...: cannot tell, so yes
    }
    return !folder || S_ISDIR(st.st_mode);
  };
  if (verdict.allowed) {
    // Granted, yet missing inside while the host has it: hidden by a fresh tmpfs?
    for (const auto& w : request.wants) {
      if (creates(w) || node_of(w.path).type != 0) continue;
      FsVerdict hidden = check_fs_hidden(grants_, w);
      if (!hidden.allowed && on_host(w.path, false)) {
        verdict = hidden;
        break;
      }
    }
    if (verdict.allowed) return;
  } else if (node_of(verdict.path).type == 0) {
    // Missing inside too: worth a record only if a grant would change that (see fs_trace.h).
    const bool makes = creates(verdict.want);
    if (!on_host(makes ? parent_of(verdict.path) : verdict.path, makes)) return;
  }
  // Everything above read the caller's memory and /proc by pid: only if the caller is still
  // the one waiting was it really this process (the pid could have been reused).
  std::uint64_t id = req.id;
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return;

  ++denials_;
  if (audit_ != nullptr) {
    AuditEvent e;
    e.layer = "fs";
    e.action = "deny";
    e.subject = verdict.path;
    e.reason = verdict.reason;
    e.pid = static_cast<int>(pid);
    e.extra = {{"path", verdict.path}, {"access", request.access}, {"syscall", syscall}};
    audit_->write(e);
  }
  if (verbose_) {
    std::fprintf(stderr, "paddock: denied %s %s by pid %d (%s, --trace-fs): %s\n", request.access.c_str(),
                 verdict.path.c_str(), static_cast<int>(pid), syscall.c_str(), verdict.reason.c_str());
  }
  if (on_denial_) on_denial_();
}

}  // namespace paddock
