#include "tools/host_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "policy/variables.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

[[noreturn]] void denied(const std::string& what) {
  throw HostCallError(HostCallError::Kind::NotAuthorized, what);
}

[[noreturn]] void failed(const std::string& path, int err) {
  throw HostCallError(HostCallError::Kind::Failed, path + ": " + std::strerror(err));
}

bool has_dotdot(std::string_view p) {
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

int openat2_beneath(int dir, const std::string& rel, std::uint64_t flags, std::uint64_t mode) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return static_cast<int>(fd);
}

}  // namespace

HostFs::HostFs(std::vector<std::string> read, std::vector<std::string> write)
    : read_(std::move(read)), write_(std::move(write)) {}

std::pair<std::string, std::string> HostFs::locate(const std::string& path, bool for_write) const {
  if (path.empty() || path[0] != '/') denied("\"" + path + "\" is not an absolute path");
  if (path.find('\0') != std::string::npos) denied("a path with a NUL byte");
  // ".." is refused outright rather than normalised: lexical normalisation is only right when
  // no symlink is involved, and the script should not need it.
  if (has_dotdot(path)) denied(path + " contains \"..\"");
  const std::string p = normalize_path(path);
  const std::string* best = nullptr;
  auto consider = [&](const std::vector<std::string>& grants) {
    for (const auto& g : grants) {
      if (path_within(p, g) && (best == nullptr || g.size() > best->size())) best = &g;
    }
  };
  consider(write_);
  if (!for_write) consider(read_);
  if (best == nullptr) {
    const bool readable =
        std::any_of(read_.begin(), read_.end(), [&](const std::string& g) { return path_within(p, g); });
    denied(
        p + " is outside tool.grants." +
        std::string(for_write ? (readable ? "write (it is only readable)" : "write") : "read and tool.grants.write"));
  }
  std::string rel = p == *best ? "." : p.substr(best->size() == 1 ? 1 : best->size() + 1);
  return {*best, rel};
}

int HostFs::open_beneath(const std::string& path, int flags, bool for_write) const {
  auto [grant, rel] = locate(path, for_write);
  // The granted path itself is opened without following a symlink in its last component; a
  // grant that is a single file is opened directly, since "beneath" a file means nothing.
  UniqueFd base(::open(grant.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
  if (!base) {
    if (errno == ENOENT) failed(path, ENOENT);
    failed(grant, errno);
  }
  struct stat st {};
  if (::fstat(base.get(), &st) != 0) failed(grant, errno);
  if (S_ISLNK(st.st_mode)) denied(grant + " is a symlink; paddock does not follow it");
  if (!S_ISDIR(st.st_mode)) {
    if (rel != ".") failed(path, ENOTDIR);
    UniqueFd f(::open(grant.c_str(), (flags & ~O_CREAT) | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!f) failed(path, errno);
    return f.release();
  }
  int fd = openat2_beneath(base.get(), rel, static_cast<std::uint64_t>(flags), (flags & O_CREAT) ? 0644 : 0);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP || err == EXDEV) denied(path + " is reached through a symlink or leaves its granted folder");
    failed(path, err);
  }
  return fd;
}

std::string HostFs::read(const std::string& path, std::uint64_t max_bytes) const {
  UniqueFd f(open_beneath(path, O_RDONLY | O_NOCTTY, false));
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) failed(path, errno);
  if (S_ISDIR(st.st_mode)) failed(path, EISDIR);
  if (!S_ISREG(st.st_mode)) denied(path + " is not a regular file");
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failed(path, errno);
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      throw HostCallError(HostCallError::Kind::Failed,
                          path + ": larger than the " + std::to_string(max_bytes) + " bytes a tool may read at once");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void HostFs::write(const std::string& path, std::string_view data) const {
  UniqueFd f(open_beneath(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, true));
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) failed(path, errno);
  if (!S_ISREG(st.st_mode)) denied(path + " is not a regular file");
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(f.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failed(path, errno);
    off += static_cast<std::size_t>(n);
  }
}

std::vector<FsEntry> HostFs::list(const std::string& path) const {
  UniqueFd f(open_beneath(path, O_RDONLY | O_DIRECTORY, false));
  int dupfd = ::fcntl(f.get(), F_DUPFD_CLOEXEC, 0);
  if (dupfd < 0) failed(path, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dupfd), &::closedir);
  if (!dir) {
    int err = errno;
    ::close(dupfd);
    failed(path, err);
  }
  std::vector<FsEntry> out;
  while (struct dirent* d = ::readdir(dir.get())) {
    std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    FsEntry e;
    e.name = name;
    struct stat st {};
    if (::fstatat(f.get(), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      e.type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "symlink" : "other";
      e.size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
    } else {
      e.type = "other";
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const FsEntry& a, const FsEntry& b) { return a.name < b.name; });
  return out;
}

}  // namespace paddock
