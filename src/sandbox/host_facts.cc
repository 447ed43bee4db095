#include "sandbox/host_facts.h"

#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "policy/variables.h"
#include "sandbox/features.h"

extern char** environ;

namespace paddock {
namespace {

PathInfo lstat_info(const std::string& path) {
  struct stat st {};
  PathInfo i;
  if (::lstat(path.c_str(), &st) != 0) return i;
  if (S_ISDIR(st.st_mode)) {
    i.type = PathInfo::Type::Dir;
  } else if (S_ISLNK(st.st_mode)) {
    i.type = PathInfo::Type::Symlink;
    std::vector<char> buf(4096);
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size() - 1);
    if (n > 0) i.symlink_target.assign(buf.data(), static_cast<size_t>(n));
  } else if (S_ISREG(st.st_mode)) {
    i.type = PathInfo::Type::File;
  } else {
    i.type = PathInfo::Type::Other;
  }
  return i;
}

}  // namespace

int landlock_abi_version() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

std::map<std::string, std::string> environment_map() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    env.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

HostFacts gather_host_facts(const Policy& p, const std::string& cwd, bool probe_userns,
                            std::vector<std::string> protected_paths) {
  HostFacts h;
  h.uid = getuid();
  h.gid = getgid();
  h.cwd = cwd;
  h.env = environment_map();
  h.landlock_abi = landlock_abi_version();
  if (h.landlock_abi == 0) {
    h.landlock_detail =
        errno == EOPNOTSUPP ? "Landlock is disabled in this kernel's LSM list" : "kernel without Landlock";
  }
  h.seccomp_notify = seccomp_listener_works();
  if (probe_userns) {
    KernelFeatures f;
    f = probe_features();
    h.userns = f.userns;
    h.userns_detail = f.userns_detail;
  }
  for (const auto* list : {&p.read, &p.write}) {
    for (const auto& g : *list) h.paths.emplace(g.path, lstat_info(g.path));
  }
  // Guarded paths and the folders above them (which the plan may pin in place).
  auto with_ancestors = [&](const std::string& path) {
    for (std::string a = path; a.size() > 1; a = a.substr(0, a.rfind('/'))) {
      if (h.paths.count(a) != 0) break;
      h.paths.emplace(a, lstat_info(a));
    }
  };
  for (const auto& g : p.deny) with_ancestors(g.path);
  // Network mode "proxy" puts paddock's own files there (or where they point).
  for (const char* f : {"/etc/resolv.conf", "/etc/hosts"}) h.paths.emplace(f, lstat_info(f));
  for (const auto& path : protected_paths) with_ancestors(path);
  h.protected_paths = std::move(protected_paths);
  return h;
}

}  // namespace paddock
