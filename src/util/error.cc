#include "util/error.h"

#include <cerrno>
#include <cstring>

namespace paddock {

std::string Origin::str() const {
  if (line <= 0) return file;
  std::string s = file + ":" + std::to_string(line);
  if (column > 0) s += ":" + std::to_string(column);
  return s;
}

std::string Origin::short_str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line);
}

void throw_errno(const std::string& what) {
  throw_errno(what, errno);
}

void throw_errno(const std::string& what, int err) {
  throw Error(what + ": " + std::strerror(err));
}

}  // namespace paddock
