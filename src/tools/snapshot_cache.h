// The supervisor's cache of tool-worker startup snapshots (V8-free: paddock-tools links it, the worker does not).
//
// Layout: $XDG_CACHE_HOME/paddock/ (default ~/.cache/paddock/), mode 0700, holding per key
//   <key>.blob  the V8 blob, exactly as a worker made it (0600)
//   <key>.json  its sidecar, written by paddock alongside: {"format":1,"key":...,"size":N,"sha256":...,"v8":...}
// The key is the SHA-256 of what a blob depends on: the V8 version, the worker's snapshot recipe (prelude, flags,
// layout), and the identity of the libnode file and of the worker executable (path, device, inode, size, mtime
// and ctime — hashing libnode's 45 MB on every start would cost more than the snapshot saves). Any change to
// one gives a new key, so a stale blob is never asked for.
//
// A blob is used only when both files are regular files owned by this user, not writable by group or others,
// the directory is ours and private, and the blob's size and SHA-256 are the sidecar's. Anything else is
// reported (load() returns nothing with a reason) and the caller makes a new blob, which replaces the old
// files atomically. Blobs come only from a paddock-tool-worker asked to make one before it ran any tool code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paddock::tools {

// What the worker's "ready" message says about itself.
struct SnapshotIdentity {
  std::string v8_version;
  std::string recipe;        // the worker's snapshot recipe hash
  std::string libnode_path;  // absolute
  std::string worker_path;   // absolute
};

inline constexpr std::size_t kMaxSnapshotBytes = 12u << 20;

class SnapshotCache {
 public:
  // `dir` empty: default_dir().
  explicit SnapshotCache(std::string dir = {});

  // $XDG_CACHE_HOME/paddock when XDG_CACHE_HOME is absolute, otherwise $HOME/.cache/paddock; empty when neither
  // can be found.
  static std::string default_dir();

  // The cache key for `id`: 64 hex digits. Empty with `why` set when a file cannot be examined.
  static std::string key(const SnapshotIdentity& id, std::string* why);

  struct Blob {
    std::string bytes;
    std::string sha256;
  };
  // The checked blob under `key`. Empty when there is none (`why` left empty) or when the entry fails a check
  // (`why` says which; the entry is left for store() to replace).
  std::optional<Blob> load(const std::string& key, std::string* why) const;
  // Files `bytes` (whose SHA-256 is `sha256`) under `key`, replacing any entry. False with `why` on failure.
  bool store(const std::string& key, std::string_view bytes, const std::string& sha256, const SnapshotIdentity& id,
             std::string* why) const;
  // Whether store() can work: the directory exists (it is created) and is private to this user.
  bool usable(std::string* why) const;
  // Removes the entry under `key` (a blob the worker could not use).
  void remove(const std::string& key) const;

  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] std::string blob_path(const std::string& key) const { return dir_ + "/" + key + ".blob"; }
  [[nodiscard]] std::string sidecar_path(const std::string& key) const { return dir_ + "/" + key + ".json"; }

 private:
  std::string dir_;
};

}  // namespace paddock::tools
