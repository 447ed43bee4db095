// Profiles and tool scripts are security configuration: refuse ones another user could change.
#pragma once

#include <sys/stat.h>

#include <string>

namespace paddock {

// Throws Error if `path` is not a regular file, is writable by group or others, or is owned
// by someone other than the current user or root. `what` names the file kind in the message.
void check_trusted_file(const std::string& path, const std::string& what);
// The same check on an already opened file (no race between check and use).
void check_trusted_stat(const struct stat& st, const std::string& path, const std::string& what);

}  // namespace paddock
