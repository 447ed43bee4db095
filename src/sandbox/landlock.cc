#include "sandbox/landlock.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/landlock_abi.h"
#include "util/error.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

// The uapi header of Debian 12 predates ABI 4-6; these layouts are the kernel's.
struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
  std::uint64_t scoped;
};
struct NetPortAttr {
  std::uint64_t allowed_access;
  std::uint64_t port;
};
constexpr int kRuleNetPort = 2;  // LANDLOCK_RULE_NET_PORT

constexpr std::uint64_t kDirOnly =
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER;

}  // namespace

void apply_landlock(const LandlockPlan& plan, std::vector<std::string>& skipped) {
  if (plan.abi <= 0) return;
  RulesetAttr attr{plan.handled_fs, plan.handled_net, plan.scoped};
  // The struct grew with the ABI; pass only the size this ABI knows.
  size_t size = plan.abi >= 6 ? sizeof(RulesetAttr) : plan.abi >= 4 ? 2 * sizeof(std::uint64_t) : sizeof(std::uint64_t);
  UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0)));
  if (!ruleset) throw_errno("landlock: creating the ruleset (ABI " + std::to_string(plan.abi) + ")");

  for (const auto& r : plan.rules) {
    UniqueFd fd(::open(r.path.c_str(), O_PATH | O_CLOEXEC));
    if (!fd) {
      skipped.push_back(r.path);
      continue;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("landlock: stat " + r.path);
    struct landlock_path_beneath_attr pb {};
    // Directory-only rights on a file are EINVAL: keep what applies to this inode.
    pb.allowed_access = S_ISDIR(st.st_mode) ? r.access : (r.access & ~kDirOnly);
    pb.allowed_access &= plan.handled_fs;
    pb.parent_fd = fd.get();
    if (pb.allowed_access == 0) continue;
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
      throw_errno("landlock: rule for " + r.path);
    }
  }
  for (auto port : plan.connect_ports) {
    NetPortAttr np{LANDLOCK_ACCESS_NET_CONNECT_TCP, port};
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRuleNetPort, &np, 0) != 0) {
      throw_errno("landlock: TCP connect rule for port " + std::to_string(port));
    }
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("no_new_privs");
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) throw_errno("landlock: restrict_self");
}

}  // namespace paddock
