#include "sandbox/mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "policy/variables.h"
#include "sandbox/mount_api.h"
#include "util/error.h"
#include "util/fd_io.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

constexpr const char* kStage = "/tmp";  // the staging tmpfs is mounted over this, in our namespace only

[[noreturn]] void fail(const std::string& what) {
  throw_errno("filesystem: " + what);
}

std::string rel(const std::string& abs) {
  return abs == "/" ? "." : abs.substr(1);
}

UniqueFd open_beneath(int root, const std::string& abs) {
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH;
  return UniqueFd(static_cast<int>(::syscall(SYS_openat2, root, rel(abs).c_str(), &how, sizeof how)));
}

class RootBuilder {
 public:
  RootBuilder(const SandboxPlan& plan, const std::vector<SecretValue>& secrets, std::vector<std::string>& warnings)
      : plan_(plan), secrets_(secrets), warnings_(warnings) {
    for (const auto& m : plan.mounts) {
      if (m.kind == MountOp::Kind::BindRw) writable_.push_back(m.source);
    }
  }

  void run() {
    stage();
    for (const auto& m : plan_.mounts) apply(m);
    // The root itself is read-only: nothing can be created beside the grants.
    if (!root_is_host_) {
      if (sys::mount_setattr(newroot_.get(), "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) != 0) fail("making / read-only");
    }
    pivot();
  }

 private:
  void stage() {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail("making mounts private");
    if (::mount("paddock-stage", kStage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=64k") != 0) {
      fail(std::string("mounting the staging tmpfs on ") + kStage);
    }
    std::string s = kStage;
    if (::mkdir((s + "/newroot").c_str(), 0755) != 0 || ::mkdir((s + "/oldroot").c_str(), 0755) != 0)
      fail("staging folders");
    {
      UniqueFd f(::open((s + "/empty").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_EXCL, 0444));
      if (!f) fail("staging the empty file used for masks");
    }
    if (::mount("paddock-root", (s + "/newroot").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) {
      fail("mounting the new root tmpfs");
    }
    // pivot_root moves the staging tmpfs to "/", so the host root (with its own /tmp intact)
    // is reachable at /oldroot for bind sources, and nothing is hidden.
    if (::chdir(kStage) != 0 || sys::pivot_root(".", "oldroot") != 0 || ::chdir("/") != 0)
      fail("pivot_root into the staging area");
    oldroot_ = UniqueFd(::open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC));
    newroot_ = UniqueFd(::open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC));
    empty_ = UniqueFd(::open("/empty", O_PATH | O_CLOEXEC));
    if (!oldroot_ || !newroot_ || !empty_) fail("opening the staging area");
  }

  // Inside a host tree we bound earlier, nothing may be created: the target must exist.
  bool inside_host_tree(const std::string& target) const {
    for (const auto& b : host_trees_) {
      if (path_within(target, b)) return true;
    }
    return false;
  }

  // Returns an O_PATH fd for `target` in the new root, creating it (and its parents) when it
  // lies on paddock's own tmpfs. An invalid fd means "does not exist inside a host tree".
  UniqueFd mountpoint(const std::string& target, bool dir) {
    if (target == "/") return UniqueFd(::fcntl(newroot_.get(), F_DUPFD_CLOEXEC, 3));
    if (inside_host_tree(target)) return open_beneath(newroot_.get(), target);
    UniqueFd cur(::fcntl(newroot_.get(), F_DUPFD_CLOEXEC, 3));
    std::string path = rel(target);
    size_t start = 0;
    while (start < path.size()) {
      size_t slash = path.find('/', start);
      bool last = slash == std::string::npos;
      std::string comp = path.substr(start, last ? std::string::npos : slash - start);
      start = last ? path.size() : slash + 1;
      if (last && !dir) {
        UniqueFd f(::openat(cur.get(), comp.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444));
        if (!f && errno != EISDIR) fail("creating mount point " + target);
      } else if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST) {
        fail("creating mount point " + target);
      }
      UniqueFd next(::openat(cur.get(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!next) fail("opening mount point " + target);
      cur = std::move(next);
    }
    return cur;
  }

  void attach(int tree, const std::string& target, bool dir, bool required) {
    UniqueFd at = mountpoint(target, dir);
    if (!at) {
      int err = errno;
      if (err == ENOENT && !required) {
        warnings_.push_back(target + " does not exist inside its parent grant; skipped");
        return;
      }
      if (err == ENOENT) {
        throw Error("filesystem: " + target +
                    " does not exist, and it lies inside a folder bound from the host, "
                    "where paddock creates nothing; create it first");
      }
      if (err == ELOOP || err == EXDEV) {
        throw Error("filesystem: " + target +
                    " is reached through a symlink inside a granted folder; "
                    "paddock does not follow it (the sandbox could have placed it there)");
      }
      throw_errno("filesystem: opening mount point " + target, err);
    }
    if (sys::move_mount(tree, "", at.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
      fail("mounting " + target);
    }
    if (target == "/") {
      root_is_host_ = true;
      newroot_ = UniqueFd(::open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!newroot_) fail("reopening the new root");
    }
  }

  UniqueFd new_fs(const char* type, std::initializer_list<std::pair<const char*, const char*>> options, unsigned attrs,
                  const std::string& target) {
    UniqueFd fsfd(sys::fsopen(type, FSOPEN_CLOEXEC));
    if (!fsfd) fail(std::string("fsopen ") + type + " for " + target);
    for (auto [k, v] : options) {
      if (sys::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, k, v, 0) != 0)
        fail(std::string(type) + " option " + k + " for " + target);
    }
    if (sys::fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
      fail(std::string("creating ") + type + " for " + target);
    UniqueFd mnt(sys::fsmount(fsfd.get(), FSMOUNT_CLOEXEC, attrs));
    if (!mnt) fail(std::string("fsmount ") + type + " for " + target);
    return mnt;
  }

  void bind(const MountOp& m, std::uint64_t attrs) {
    UniqueFd src(open_path_safely(oldroot_.get(), m.source, writable_));
    struct stat st {};
    if (::fstat(src.get(), &st) != 0) fail("stat " + m.source);
    UniqueFd tree(sys::open_tree(src.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
    if (!tree) fail("cloning " + m.source);
    if (sys::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, attrs) != 0)
      fail("setting flags on " + m.source);
    attach(tree.get(), m.target, S_ISDIR(st.st_mode), false);
    if (m.kind != MountOp::Kind::BindDev) host_trees_.push_back(m.target);
  }

  void apply(const MountOp& m) {
    switch (m.kind) {
      case MountOp::Kind::BindRo: bind(m, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV); break;
      case MountOp::Kind::BindRw: bind(m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV); break;
      case MountOp::Kind::BindDev: bind(m, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC); break;
      case MountOp::Kind::Tmpfs: {
        // /dev and paddock's runtime folder (/run/paddock) are paddock's; only the user's are shared.
        const char* mode = m.target == "/dev" || m.target == kMcpSocketDir ? "0755" : "1777";
        // With a memory limit a tmpfs can hold at most that much (its pages are charged to
        // the session's cgroup as well).
        std::string size = plan_.tmpfs_size ? std::to_string(*plan_.tmpfs_size) : "";
        UniqueFd t = size.empty() ? new_fs("tmpfs", {{"mode", mode}}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, m.target)
                                  : new_fs("tmpfs", {{"mode", mode}, {"size", size.c_str()}},
                                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, m.target);
        attach(t.get(), m.target, true, true);
        break;
      }
      case MountOp::Kind::MaskDir: {
        UniqueFd t = new_fs("tmpfs", {{"mode", "0000"}, {"size", "4k"}, {"nr_inodes", "1"}},
                            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, m.target);
        attach(t.get(), m.target, true, true);
        break;
      }
      case MountOp::Kind::MaskFile: {
        UniqueFd tree(sys::open_tree(empty_.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
        if (!tree) fail("cloning the mask file for " + m.target);
        if (sys::mount_setattr(tree.get(), "", AT_EMPTY_PATH,
                               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) != 0) {
          fail("mask flags for " + m.target);
        }
        attach(tree.get(), m.target, false, true);
        break;
      }
      case MountOp::Kind::Proc: {
        UniqueFd p = new_fs("proc", {}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, m.target);
        attach(p.get(), m.target, true, true);
        proc_target_ = m.target;
        break;
      }
      case MountOp::Kind::ReadOnly:
      case MountOp::Kind::Pin: {
        UniqueFd at = open_beneath(newroot_.get(), m.target);
        if (!at) {
          // /proc entries this kernel lacks are fine; a guard that cannot be placed is not.
          if (m.kind == MountOp::Kind::ReadOnly && path_within(m.target, "/proc")) break;
          fail("cannot guard " + m.target + " (it vanished or is reached through a symlink)");
        }
        UniqueFd tree(sys::open_tree(at.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
        if (!tree) fail("cloning " + m.target);
        std::uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if (m.kind == MountOp::Kind::ReadOnly) attrs |= MOUNT_ATTR_RDONLY;
        if (sys::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, attrs) != 0) {
          fail("flags for " + m.target);
        }
        if (sys::move_mount(tree.get(), "", at.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
          fail("remounting " + m.target + " read-only");
        }
        break;
      }
      case MountOp::Kind::Devpts: {
        UniqueFd p =
            new_fs("devpts", {{"ptmxmode", "0666"}, {"mode", "0620"}}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, m.target);
        attach(p.get(), m.target, true, true);
        break;
      }
      case MountOp::Kind::Symlink: {
        if (inside_host_tree(m.target)) {
          warnings_.push_back("symlink " + m.target + " would be created inside a host folder; skipped");
          break;
        }
        std::string parent = m.target.substr(0, m.target.rfind('/'));
        UniqueFd dir = mountpoint(parent.empty() ? "/" : parent, true);
        std::string name = m.target.substr(m.target.rfind('/') + 1);
        if (::symlinkat(m.source.c_str(), dir.get(), name.c_str()) != 0 && errno != EEXIST) fail("symlink " + m.target);
        break;
      }
      case MountOp::Kind::File: {
        // A file on a tiny tmpfs of its own, bound read-only over the target.
        UniqueFd t = new_fs("tmpfs", {{"mode", "0755"}, {"size", "64k"}, {"nr_inodes", "4"}},
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, m.target);
        {
          UniqueFd f(::openat(t.get(), "file", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444));
          if (!f) fail("creating " + m.target);
          if (!write_fd(f.get(), m.source)) fail("writing " + m.target);
        }
        UniqueFd tree(sys::open_tree(t.get(), "file", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
        if (!tree) fail("cloning " + m.target);
        if (sys::mount_setattr(tree.get(), "", AT_EMPTY_PATH,
                               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) != 0) {
          fail("read-only " + m.target);
        }
        attach(tree.get(), m.target, false, true);
        break;
      }
      case MountOp::Kind::Secrets: {
        UniqueFd t = new_fs("tmpfs", {{"mode", "0500"}, {"size", "1m"}},
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, m.target);
        for (const auto& s : secrets_) {
          if (s.expose != Secret::Expose::File) continue;
          UniqueFd f(::openat(t.get(), s.name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0400));
          if (!f) fail("creating secret file " + s.name);
          if (!write_fd(f.get(), s.value)) fail("writing secret file " + s.name);
        }
        if (sys::mount_setattr(t.get(), "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) != 0) fail("read-only /run/secrets");
        attach(t.get(), m.target, true, true);
        break;
      }
    }
  }

  void pivot() {
    oldroot_.reset();
    empty_.reset();
    if (::fchdir(newroot_.get()) != 0) fail("entering the new root");
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves
    // only the new root, with no path back to the host's.
    if (sys::pivot_root(".", ".") != 0) fail("pivot_root");
    if (::umount2(".", MNT_DETACH) != 0) fail("detaching the old root");
    if (::chdir("/") != 0) fail("chdir /");
    newroot_.reset();
  }

  const SandboxPlan& plan_;
  const std::vector<SecretValue>& secrets_;
  std::vector<std::string>& warnings_;
  std::vector<std::string> writable_;    // host folders the sandbox can write (untrusted for symlinks)
  std::vector<std::string> host_trees_;  // targets bound from the host so far
  UniqueFd oldroot_, newroot_, empty_;
  bool root_is_host_ = false;
  std::string proc_target_;
};

}  // namespace

int open_path_safely(int root_fd, const std::string& path, const std::vector<std::string>& untrusted) {
  std::string pending = normalize_path(path);
  for (int hops = 0; hops < 40; ++hops) {
    UniqueFd cur(::fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
    if (!cur) throw_errno("filesystem: dup");
    std::string walked;  // the host path resolved so far
    std::string rest = pending == "/" ? "" : pending.substr(1);
    bool restarted = false;
    while (!rest.empty()) {
      size_t slash = rest.find('/');
      std::string comp = rest.substr(0, slash);
      rest = slash == std::string::npos ? "" : rest.substr(slash + 1);
      std::string here = walked + "/" + comp;
      UniqueFd next(::openat(cur.get(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!next) throw_errno("filesystem: cannot open " + here + (here != path ? " (resolving " + path + ")" : ""));
      struct stat st {};
      if (::fstat(next.get(), &st) != 0) throw_errno("filesystem: stat " + here);
      if (S_ISLNK(st.st_mode)) {
        for (const auto& u : untrusted) {
          if (here != u && path_within(here, u)) {
            throw Error("filesystem: " + path + " passes through the symlink " + here + ", inside the writable grant " +
                        u + "; the sandbox could have placed it there, so it is not followed");
          }
        }
        char buf[4096];
        ssize_t n = ::readlinkat(cur.get(), comp.c_str(), buf, sizeof buf - 1);
        if (n < 0) throw_errno("filesystem: readlink " + here);
        std::string target(buf, static_cast<size_t>(n));
        std::string base = target[0] == '/' ? target : walked + "/" + target;
        pending = normalize_path(rest.empty() ? base : base + "/" + rest);
        restarted = true;
        break;
      }
      walked = here;
      cur = std::move(next);
    }
    if (!restarted) return cur.release();
  }
  throw Error("filesystem: too many levels of symbolic links resolving " + path);
}

void build_root_and_pivot(const SandboxPlan& plan, const std::vector<SecretValue>& secrets,
                          std::vector<std::string>& warnings) {
  RootBuilder(plan, secrets, warnings).run();
}

}  // namespace paddock
