// A tool's fs.read / fs.write / fs.list, run by the supervisor on the tool's behalf: only paths
// under the tool's grants.read (reading) or grants.write (reading and writing), each opened
// beneath its granted folder with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): no "..", no
// symlink, no magic link can lead out, whatever the script or anyone else placed in the folder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/host_call_error.h"

namespace paddock {

struct FsEntry {
  std::string name;
  std::string type;  // "file", "dir", "symlink", "other"
  std::uint64_t size = 0;
};

class HostFs {
 public:
  // Absolute, normalised host paths (folders or single files), as the profile loader makes them.
  HostFs(std::vector<std::string> read, std::vector<std::string> write);

  // Throw HostCallError: NotAuthorized outside the grants (or through a symlink), Failed otherwise.
  [[nodiscard]] std::string read(const std::string& path, std::uint64_t max_bytes) const;
  void write(const std::string& path, std::string_view data) const;
  [[nodiscard]] std::vector<FsEntry> list(const std::string& path) const;

 private:
  // The grant covering `path` (longest match) and the path relative to it; throws when none.
  [[nodiscard]] std::pair<std::string, std::string> locate(const std::string& path, bool for_write) const;
  [[nodiscard]] int open_beneath(const std::string& path, int flags, bool for_write) const;

  std::vector<std::string> read_, write_;
};

}  // namespace paddock
