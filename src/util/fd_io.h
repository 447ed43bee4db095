// Whole-descriptor reads and writes that retry on EINTR and short transfers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace paddock {

// Everything up to end of file; nullopt on a read error (errno says which).
std::optional<std::string> read_fd(int fd);
// All of `data`; false on a write error (errno says which).
bool write_fd(int fd, std::string_view data);

}  // namespace paddock
