// --trace-fs: the supervisor's record of file accesses outside the sandbox's grants.
//
// With --trace-fs the seccomp filter sends the file-opening system calls (fs_trace_syscalls()
// in plan.h) to the supervisor. For each one FsTracer reads the path from the caller's memory,
// resolves it as the sandbox sees it, works out what the call wanted (read, write, exec,
// create, delete, rename) and checks that against the grants: the plan's Landlock rules and
// its deny masks. An access outside them becomes an fs/deny audit event (a denial for
// limits.max_denials). Then the call continues unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE):
// the kernel (mount view, Landlock) still decides everything; this only records.
//
// Where the path comes from. Measured on Linux 6.18: the supervisor, in the host's mount
// namespace, reading /proc/PID/cwd and /proc/PID/fd/N of a sandboxed process after its
// pivot_root gets the path *as the sandbox sees it* (the kernel prints a path relative to the
// root of the mount tree it lies in, and readlink, unlike getcwd, adds no "(unreachable)"):
// a sandbox process in its private /tmp/a/b reads back "/tmp/a/b", not a host path. The one
// exception is a descriptor opened outside and inherited (stdin, stdout, stderr), which names
// its host path; as the base of a relative path (a dirfd) that is harmless, since nothing
// paddock passes in is a directory. readlink("/proc/PID/root") says only "/".
// So: the base of a relative path is readlink(/proc/PID/cwd) or readlink(/proc/PID/fd/N);
// symbolic links are then resolved one name at a time below an O_PATH descriptor of
// /proc/PID/root (the sandbox's root, in its own mount namespace), each lookup a single name
// with O_NOFOLLOW and ".." handled lexically, so no link (absolute, or full of "..") ever
// takes the supervisor outside the sandbox's tree. /bin -> usr/bin and friends resolve as they
// do for the kernel; without this every dynamic program's libc would look ungranted. Below a
// procfs mount nothing is resolved: its magic links (/proc/self/fd/N) mean something only to
// the process itself.
//
// What is recorded: an access the grants do not allow, to a path that exists in the sandbox
// or, when it does not, on the host (for a new name: whose folder exists on the host). A grant
// cannot make a missing path appear, so the failed look-ups of PATH searches and of library
// and configuration probing are left out; what is left is what a grant would change. Also
// recorded: a host file looked for below a fresh tmpfs (filesystem.tmpfs = ["/tmp"] grants an
// empty /tmp, not the host's files in it).
//
// Limits (documented in paddock(1)): the path is read while the caller waits, but another
// thread of the sandbox could change it before the kernel reads it again (a record, not a
// decision, so this only matters for the record); openat2 is not traced (the baseline
// refuses it with ENOSYS); stat/access-style calls are not traced (they need no grant).
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/plan.h"
#include "util/unique_fd.h"

namespace paddock {

class AuditWriter;

// What the sandbox may do to which path, as --trace-fs checks it.
struct FsGrants {
  struct Guard {
    std::string path;
    bool deny = false;  // a filesystem.deny mask (MaskDir/MaskFile): nothing at or below is reachable;
                        // otherwise a read-only mount (paddock's own state, /proc/sys)
    Origin origin;
    std::string note;
  };
  std::vector<LandlockRule> rules;  // the longest rule containing a path decides (see accumulate)
  std::uint64_t handled = 0;        // rights the kernel checks; others are not asked for
  // Without a private mount view Landlock alone decides, and it adds up every rule above a path.
  bool accumulate = false;
  std::vector<Guard> guards;
  std::vector<std::string> procfs;  // procfs mount points: nothing resolved below, no exec there
  // The mounts that show a folder: a host bind, or a fresh tmpfs (filesystem.tmpfs, /dev...),
  // which hides whatever the host has there.
  struct View {
    std::string path;
    bool fresh = false;
    Origin origin;
    std::string note;
  };
  std::vector<View> views;

  // From the plan: its Landlock rules, or without Landlock (best_effort) the mount view as rules.
  static FsGrants from_plan(const SandboxPlan& plan);
};

// A path after resolution.
struct FsNode {
  std::string path;  // absolute, normalised, symbolic links resolved as far as the path exists
  mode_t type = 0;   // S_IFREG, S_IFDIR, S_IFLNK...; 0 when it does not exist (or cannot be seen)
};

// One traced call, decoded.
struct FsCall {
  std::string syscall;      // "openat", "execve", ...
  std::uint64_t flags = 0;  // open flags (creat: O_CREAT|O_WRONLY|O_TRUNC); AT_* or RENAME_* flags
  FsNode path;              // the path (symlink, symlinkat: the new link's name)
  FsNode path2;             // rename, link: the new name
};

// One check: `rights` (Landlock access bits) on `path`, or on its folder when on_parent.
struct FsWant {
  std::string path;  // the path the call named (reported)
  std::uint64_t rights = 0;
  bool on_parent = false;
};

struct FsRequest {
  std::string access;  // "read", "write", "read,write", "exec", "create", "delete", "rename"; "" nothing to check
  std::vector<FsWant> wants;
};

struct FsVerdict {
  bool allowed = true;
  std::string path;    // when denied: the path outside the grants
  std::string reason;  // when denied: "not in filesystem.read/write", or the deny rule and where it is
  FsWant want;         // when denied: the want refused
};

// What a call wants. Pure.
FsRequest fs_request(const FsCall& call);
// Whether the grants allow one want / every want of a request (the first refused one). Pure.
FsVerdict check_fs_want(const FsGrants& grants, const FsWant& want);
FsVerdict check_fs_request(const FsGrants& grants, const FsRequest& request);
// For a want the grants allow on a path missing in the sandbox: refused when the innermost
// mount there is a fresh tmpfs (the host's file at that path is not what a tmpfs grant
// grants). The caller asks only when the host has the path. Pure.
FsVerdict check_fs_hidden(const FsGrants& grants, const FsWant& want);

// Resolves the absolute `path` below `rootfd` as a process whose root that is would, except
// that the walk stops resolving at a missing or unreadable name, at a non-directory and below
// any of `stop_at` (the rest is appended lexically). The last name is followed when it is a
// symbolic link only with `follow_last`. Never leaves rootfd's tree; opens nothing but
// directories with O_PATH.
FsNode resolve_beneath(int rootfd, std::string_view path, bool follow_last, const std::vector<std::string>& stop_at);

// The supervisor's side: one per session, driven by SyscallNotifier's trace handler.
class FsTracer {
 public:
  // `on_denial` is called after each recorded access outside the grants (the kill switch).
  FsTracer(const SandboxPlan& plan, AuditWriter* audit, bool verbose, std::function<void()> on_denial);
  // One notification of a trace rule; `listener` checks that the caller is still the one that
  // asked (SECCOMP_IOCTL_NOTIF_ID_VALID). Records, never answers.
  void on_notification(int listener, const struct seccomp_notif& req, const std::string& syscall);
  [[nodiscard]] std::uint64_t denials() const { return denials_; }

 private:
  FsGrants grants_;
  // Every process of the session has the same root (no chroot, pivot_root or new mount
  // namespace is allowed) unless the profile removed those rules: then /proc/PID/root is
  // opened once per session, not once per call.
  bool shared_root_ = true;
  UniqueFd root_;
  AuditWriter* audit_;
  bool verbose_;
  std::function<void()> on_denial_;
  std::uint64_t denials_ = 0;
};

}  // namespace paddock
