// Which profile files outside paddock's own folders the user has reviewed.
//
// A sandboxed agent can write anywhere it was granted write access, for example a project's
// .paddock/ folder. A profile found there (or pulled in by `extends` from outside the user's,
// the system's and the shipped profile folders) is used only when its exact content was
// trusted with `paddock profile trust FILE`, like direnv's `allow`. The trust store lives in
// $XDG_CONFIG_HOME/paddock/, which paddock guards read-only inside every sandbox.
#pragma once

#include <string>

namespace paddock {

class TrustStore {
 public:
  explicit TrustStore(std::string file) : file_(std::move(file)) {}
  [[nodiscard]] const std::string& file() const { return file_; }
  // Whether this content (by sha256) at this absolute path was trusted.
  [[nodiscard]] bool trusted(const std::string& path, const std::string& sha256) const;
  // Records it (creating the store 0600 and its folder 0700).
  void trust(const std::string& path, const std::string& sha256) const;

 private:
  std::string file_;
};

}  // namespace paddock
