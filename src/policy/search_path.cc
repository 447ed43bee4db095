#include "policy/search_path.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "config.h"

namespace paddock {
namespace fs = std::filesystem;

bool is_valid_profile_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool is_profile_path(const std::string& ref) {
  return ref.find('/') != std::string::npos || (ref.size() > 5 && ref.ends_with(".toml"));
}

std::string shipped_profiles_dir() {
  if (const char* o = std::getenv("PADDOCK_SHIPPED_PROFILES"); o != nullptr && o[0] == '/') return o;
  // Running from the build folder (not installed): use the source tree's profiles.
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && path_within(exe.string(), PADDOCK_BUILD_DIR)) return PADDOCK_SOURCE_PROFILES;
  return PADDOCK_PROFILES_DIR;
}

std::string SearchPath::user_dir(const Variables& vars) {
  return vars.xdg_config_home + "/paddock/profiles";
}

SearchPath SearchPath::standard(const Variables& vars) {
  return SearchPath({
      {vars.cwd + "/.paddock", "project"},
      {user_dir(vars), "user"},
      {"/etc/paddock/profiles", "system"},
      {shipped_profiles_dir(), "shipped"},
  });
}

std::optional<std::string> SearchPath::find(const std::string& name) const {
  for (const auto& d : dirs_) {
    std::string p = d.dir + "/" + name + ".toml";
    std::error_code ec;
    if (fs::exists(p, ec)) return p;
  }
  return std::nullopt;
}

bool SearchPath::in_trusted_folder(const std::string& path) const {
  std::error_code ec;
  std::string canon = fs::weakly_canonical(path, ec).string();
  if (ec) canon = path;
  for (const auto& d : dirs_) {
    if (d.label == "project") continue;
    std::string dir = fs::weakly_canonical(d.dir, ec).string();
    if (ec) dir = d.dir;
    if (path_within(canon, dir)) return true;
  }
  return false;
}

std::vector<SearchPath::Entry> SearchPath::list() const {
  std::vector<Entry> out;
  std::set<std::string> seen;
  for (const auto& d : dirs_) {
    std::error_code ec;
    std::vector<Entry> here;
    for (fs::directory_iterator it(d.dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.extension() != ".toml") continue;
      std::string name = p.stem().string();
      if (!is_valid_profile_name(name)) continue;
      here.push_back({name, p.string(), d.label, seen.count(name) != 0});
    }
    std::sort(here.begin(), here.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    for (auto& e : here) {
      seen.insert(e.name);
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace paddock
