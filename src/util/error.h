// paddock's single error strategy: exceptions derived from paddock::Error, caught at one
// boundary per process (main() for the supervisor, the setup entry point in the sandbox child).
// An Error renders as exactly one line, prefixed with file:line:column when it has a location.
#pragma once

#include <stdexcept>
#include <string>

namespace paddock {

// Where a value came from: a profile file and position, or a pseudo-file such as "<command line>".
struct Origin {
  std::string file;
  int line = 0;
  int column = 0;

  [[nodiscard]] bool known() const { return !file.empty(); }
  // "file:line:column", "file:line" for display of grants, or "file" without a position.
  [[nodiscard]] std::string str() const;
  [[nodiscard]] std::string short_str() const;  // file:line only
  bool operator==(const Origin&) const = default;
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  Error(const Origin& where, const std::string& what)
      : std::runtime_error(where.known() ? where.str() + ": " + what : what) {}
};

// A value that failed to parse (size, duration, host pattern...). The profile loader rethrows
// it as an Error carrying the location of the offending value.
class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// errno-based failure of a system call, rendered as "what: strerror(errno)".
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace paddock
