// The one error type of a tool's host functions (fs, fetch, db, secret): the call either was
// outside the tool's grants ("not authorized: ...", audited as a denial) or failed for an
// ordinary reason (a missing file, a refused connection). Both reach the script as an Error
// with this one-line message.
#pragma once

#include <stdexcept>
#include <string>

namespace paddock {

class HostCallError : public std::runtime_error {
 public:
  enum class Kind { NotAuthorized, Failed };
  HostCallError(Kind kind, const std::string& what)
      : std::runtime_error(kind == Kind::NotAuthorized ? "not authorized: " + what : what), kind_(kind) {}
  [[nodiscard]] Kind kind() const { return kind_; }
  [[nodiscard]] bool not_authorized() const { return kind_ == Kind::NotAuthorized; }

 private:
  Kind kind_;
};

}  // namespace paddock
