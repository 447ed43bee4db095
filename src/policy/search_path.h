// Where profile names are looked up, in order:
//   ./.paddock/, $XDG_CONFIG_HOME/paddock/profiles/, /etc/paddock/profiles/, the shipped profiles.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/variables.h"

namespace paddock {

struct SearchDir {
  std::string dir;
  std::string label;  // "project", "user", "system", "shipped"
};

class SearchPath {
 public:
  explicit SearchPath(std::vector<SearchDir> dirs) : dirs_(std::move(dirs)) {}
  // The standard path for this process. The shipped folder is the installed one, or the
  // source tree's profiles/ when paddock runs uninstalled from its build folder;
  // $PADDOCK_SHIPPED_PROFILES overrides it (tests).
  static SearchPath standard(const Variables& vars);

  [[nodiscard]] const std::vector<SearchDir>& dirs() const { return dirs_; }
  // The first "<dir>/<name>.toml" that exists.
  [[nodiscard]] std::optional<std::string> find(const std::string& name) const;
  // Whether `path` lies in one of the folders paddock trusts by location (user, system,
  // shipped): everything else needs `paddock profile trust`.
  [[nodiscard]] bool in_trusted_folder(const std::string& path) const;

  struct Entry {
    std::string name;
    std::string path;
    std::string label;
    bool shadowed = false;  // a folder earlier in the path has a profile of the same name
  };
  [[nodiscard]] std::vector<Entry> list() const;

  // The folder `profile new` writes to.
  static std::string user_dir(const Variables& vars);

 private:
  std::vector<SearchDir> dirs_;
};

bool is_valid_profile_name(const std::string& name);
// A reference is a path (contains '/' or ends in ".toml") rather than a name.
bool is_profile_path(const std::string& ref);
std::string shipped_profiles_dir();

}  // namespace paddock
