#include "tools/snapshot_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "audit/sha256.h"
#include "util/unique_fd.h"

namespace paddock::tools {

namespace {

using nlohmann::json;

constexpr int kFormat = 1;
constexpr std::size_t kMaxSidecarBytes = 64u << 10;

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Creates the missing components of an absolute `path`, each 0700.
bool make_dirs(const std::string& path, std::string* why) {
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      *why = errno_text("cannot create " + part);
      return false;
    }
  }
  return true;
}

// A file paddock itself may have written: a regular file of ours that nobody else may change.
bool private_file(const struct stat& st, const std::string& path, std::string* why) {
  if (!S_ISREG(st.st_mode)) {
    *why = path + " is not a regular file";
    return false;
  }
  if (st.st_uid != ::geteuid()) {
    *why = path + " is owned by uid " + std::to_string(st.st_uid) + ", not by this user";
    return false;
  }
  if ((st.st_mode & 022) != 0) {
    *why = path + " is writable by group or others";
    return false;
  }
  return true;
}

// The cache directory, opened (not followed if it is a symlink) and checked to be ours and private.
UniqueFd open_dir(const std::string& dir, bool create, std::string* why) {
  if (dir.empty() || dir[0] != '/') {
    *why = "no cache directory (neither XDG_CACHE_HOME nor HOME is set)";
    return {};
  }
  if (create && !make_dirs(dir, why)) return {};
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno != ENOENT) *why = errno_text("cannot open " + dir);
    return {};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    *why = errno_text("cannot examine " + dir);
    return {};
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    *why = dir + " is not private to this user (owner or mode)";
    return {};
  }
  return fd;
}

// Opens a file under `dirfd` (never through a symlink) and checks it with private_file(); at most `max` bytes.
// `missing` when it is absent.
UniqueFd open_private(int dirfd, const std::string& dir, const std::string& name, std::size_t max, bool* missing,
                      std::string* why, struct stat* st) {
  std::string path = dir + "/" + name;
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT)
      *missing = true;
    else if (errno == ELOOP)
      *why = path + " is a symbolic link";
    else
      *why = errno_text("cannot open " + path);
    return {};
  }
  if (::fstat(fd.get(), st) != 0) {
    *why = errno_text("cannot examine " + path);
    return {};
  }
  if (!private_file(*st, path, why)) return {};
  if (static_cast<std::uint64_t>(st->st_size) > max) {
    *why = path + " is too large";
    return {};
  }
  return fd;
}

std::optional<std::string> read_all(int fd, std::size_t size, const std::string& path, std::string* why) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *why = n < 0 ? errno_text("cannot read " + path) : path + " shrank while being read";
      return std::nullopt;
    }
    got += static_cast<std::size_t>(n);
  }
  return out;
}

std::optional<std::string> read_private(int dirfd, const std::string& dir, const std::string& name, std::size_t max,
                                        bool* missing, std::string* why) {
  struct stat st {};
  UniqueFd fd = open_private(dirfd, dir, name, max, missing, why, &st);
  if (!fd) return std::nullopt;
  return read_all(fd.get(), static_cast<std::size_t>(st.st_size), dir + "/" + name, why);
}

// The last blob load() checked in this process, with what identified its file then. The same file unchanged
// (same inode, size, mtime and ctime: any write or chmod moves ctime) need not be read and hashed again.
struct Memo {
  std::mutex mu;
  std::string identity;
  std::string bytes;
};
Memo& memo() {
  static Memo m;
  return m;
}

std::string identity_of(const std::string& dir, const std::string& key, const std::string& sha, const struct stat& st) {
  return dir + "\n" + key + "\n" + sha + "\n" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec);
}

// Writes `bytes` to `name` under `dirfd` through a private temporary file and rename(): readers see the old file
// or the new one, never half of one.
bool write_atomically(int dirfd, const std::string& dir, const std::string& name, std::string_view bytes,
                      std::string* why) {
  static std::atomic<unsigned> counter{0};
  std::string tmp = ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name;
  UniqueFd fd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    *why = errno_text("cannot create " + dir + "/" + tmp);
    return false;
  }
  bool ok = ::fchmod(fd.get(), 0600) == 0;
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (ok && left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (ok) ok = ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) == 0;
  if (!ok) {
    *why = errno_text("cannot write " + dir + "/" + name);
    ::unlinkat(dirfd, tmp.c_str(), 0);
  }
  return ok;
}

// Who the file at `path` is: enough to notice it being replaced or modified.
std::optional<json> file_identity(const std::string& path, std::string* why) {
  if (path.empty() || path[0] != '/') {
    *why = "\"" + path + "\" is not an absolute path";
    return std::nullopt;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *why = errno_text("cannot examine " + path);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *why = path + " is not a regular file";
    return std::nullopt;
  }
  return json{{"path", path},
              {"dev", static_cast<std::uint64_t>(st.st_dev)},
              {"ino", static_cast<std::uint64_t>(st.st_ino)},
              {"size", static_cast<std::uint64_t>(st.st_size)},
              {"mtime_ns", static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec},
              {"ctime_ns", static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec}};
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Removes the entries made for the same worker and libnode files under other keys: one of the two was rebuilt or
// upgraded since, so nobody will ask for them again. Entries of other workers (an installed one beside a build
// tree) stay.
void prune(int dirfd, const std::string& keep, const SnapshotIdentity& id) {
  int copy = ::dup(dirfd);
  if (copy < 0) return;
  DIR* d = ::fdopendir(copy);
  if (!d) {
    ::close(copy);
    return;
  }
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() != 64 + 5 || !name.ends_with(".json")) continue;
    std::string key = name.substr(0, 64);
    if (key == keep || !is_hex64(key)) continue;
    bool missing = false;
    std::string why;
    auto text = read_private(dirfd, "", name, kMaxSidecarBytes, &missing, &why);
    if (!text) continue;
    json sidecar = json::parse(*text, nullptr, false);
    if (sidecar.is_object() && sidecar.value("worker", std::string()) == id.worker_path &&
        sidecar.value("libnode", std::string()) == id.libnode_path)
      stale.push_back(key);
  }
  ::closedir(d);
  for (const std::string& key : stale) {
    ::unlinkat(dirfd, (key + ".blob").c_str(), 0);
    ::unlinkat(dirfd, (key + ".json").c_str(), 0);
  }
}

}  // namespace

SnapshotCache::SnapshotCache(std::string dir) : dir_(dir.empty() ? default_dir() : std::move(dir)) {}

std::string SnapshotCache::default_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/paddock";
  const char* home = std::getenv("HOME");
  std::string h = home && home[0] == '/' ? home : "";
  if (h.empty()) {
    if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_dir && pw->pw_dir[0] == '/') h = pw->pw_dir;
  }
  return h.empty() ? std::string() : h + "/.cache/paddock";
}

std::string SnapshotCache::key(const SnapshotIdentity& id, std::string* why) {
  if (id.v8_version.empty() || id.recipe.empty()) {
    *why = "the worker did not say which V8 and recipe it has";
    return {};
  }
  auto libnode = file_identity(id.libnode_path, why);
  if (!libnode) return {};
  auto worker = file_identity(id.worker_path, why);
  if (!worker) return {};
  json material = {
      {"format", kFormat}, {"v8", id.v8_version}, {"recipe", id.recipe}, {"libnode", *libnode}, {"worker", *worker}};
  return sha256_hex(material.dump());
}

std::optional<SnapshotCache::Blob> SnapshotCache::load(const std::string& key, std::string* why) const {
  why->clear();
  if (!is_hex64(key)) {
    *why = "malformed cache key";
    return std::nullopt;
  }
  UniqueFd dir = open_dir(dir_, false, why);
  if (!dir) return std::nullopt;
  ::flock(dir.get(), LOCK_SH);  // a store() in progress finishes first (advisory: only paddock takes it)
  bool missing = false;
  auto sidecar_text = read_private(dir.get(), dir_, key + ".json", kMaxSidecarBytes, &missing, why);
  if (!sidecar_text) return std::nullopt;
  json sidecar = json::parse(*sidecar_text, nullptr, false);
  if (!sidecar.is_object() || sidecar.value("format", 0) != kFormat || sidecar.value("key", std::string()) != key ||
      !sidecar.contains("size") || !sidecar["size"].is_number_unsigned() ||
      !is_hex64(sidecar.value("sha256", std::string()))) {
    *why = sidecar_path(key) + " is not a sidecar paddock wrote";
    return std::nullopt;
  }
  auto size = sidecar["size"].get<std::uint64_t>();
  std::string sha = sidecar["sha256"].get<std::string>();
  if (size == 0 || size > kMaxSnapshotBytes) {
    *why = sidecar_path(key) + " announces an impossible size";
    return std::nullopt;
  }
  struct stat st {};
  UniqueFd blob = open_private(dir.get(), dir_, key + ".blob", kMaxSnapshotBytes, &missing, why, &st);
  if (!blob) {
    if (missing) *why = blob_path(key) + " is missing (its sidecar is there)";
    return std::nullopt;
  }
  if (static_cast<std::uint64_t>(st.st_size) != size) {
    *why = blob_path(key) + " is " + std::to_string(st.st_size) + " bytes, its sidecar says " + std::to_string(size);
    return std::nullopt;
  }
  std::string identity = identity_of(dir_, key, sha, st);
  {
    std::lock_guard lock(memo().mu);
    if (memo().identity == identity) return Blob{memo().bytes, std::move(sha)};
  }
  auto bytes = read_all(blob.get(), static_cast<std::size_t>(size), blob_path(key), why);
  if (!bytes) return std::nullopt;
  if (sha256_hex(*bytes) != sha) {
    *why = blob_path(key) + " does not match the SHA-256 in its sidecar";
    return std::nullopt;
  }
  {
    std::lock_guard lock(memo().mu);
    memo().identity = identity;
    memo().bytes = *bytes;
  }
  return Blob{std::move(*bytes), std::move(sha)};
}

bool SnapshotCache::store(const std::string& key, std::string_view bytes, const std::string& sha256,
                          const SnapshotIdentity& id, std::string* why) const {
  if (!is_hex64(key) || !is_hex64(sha256) || bytes.empty() || bytes.size() > kMaxSnapshotBytes) {
    *why = "refusing to store a malformed snapshot entry";
    return false;
  }
  UniqueFd dir = open_dir(dir_, true, why);
  if (!dir) {
    if (why->empty()) *why = "cannot open " + dir_;
    return false;
  }
  ::flock(dir.get(), LOCK_EX);
  json sidecar = {
      {"format", kFormat},   {"key", key},          {"size", bytes.size()},       {"sha256", sha256},
      {"v8", id.v8_version}, {"recipe", id.recipe}, {"libnode", id.libnode_path}, {"worker", id.worker_path}};
  // The blob first: a reader between the two renames sees a mismatch and rebuilds, never a wrong pairing.
  if (!write_atomically(dir.get(), dir_, key + ".blob", bytes, why) ||
      !write_atomically(dir.get(), dir_, key + ".json", sidecar.dump(2) + "\n", why))
    return false;
  prune(dir.get(), key, id);
  return true;
}

bool SnapshotCache::usable(std::string* why) const {
  if (open_dir(dir_, true, why)) return true;
  if (why->empty()) *why = "cannot open " + dir_;
  return false;
}

void SnapshotCache::remove(const std::string& key) const {
  if (!is_hex64(key)) return;
  std::string why;
  UniqueFd dir = open_dir(dir_, false, &why);
  if (!dir) return;
  ::flock(dir.get(), LOCK_EX);
  ::unlinkat(dir.get(), (key + ".json").c_str(), 0);
  ::unlinkat(dir.get(), (key + ".blob").c_str(), 0);
}

}  // namespace paddock::tools
