#include "policy/variables.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "util/error.h"

namespace paddock {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && v[0] == '/') ? std::string(v) : fallback;
}

}  // namespace

Variables Variables::from_environment() {
  Variables v;
  const passwd* pw = getpwuid(getuid());
  std::string pw_home = pw != nullptr ? pw->pw_dir : "/";
  v.home = normalize_path(env_or("HOME", pw_home));
  v.user = pw != nullptr ? pw->pw_name : std::to_string(getuid());
  std::vector<char> buf(4096);
  if (getcwd(buf.data(), buf.size()) != nullptr) {
    v.cwd = buf.data();
  } else {
    v.cwd = "/";  // the working directory was removed; nothing sensible to grant
  }
  v.xdg_config_home = normalize_path(env_or("XDG_CONFIG_HOME", v.home + "/.config"));
  v.xdg_state_home = normalize_path(env_or("XDG_STATE_HOME", v.home + "/.local/state"));
  v.tmpdir = normalize_path(env_or("TMPDIR", "/tmp"));
  if (const char* s = std::getenv("SSH_AUTH_SOCK"); s != nullptr && s[0] == '/') v.ssh_auth_sock = normalize_path(s);
  if (const char* s = std::getenv("XDG_RUNTIME_DIR"); s != nullptr && s[0] == '/')
    v.xdg_runtime_dir = normalize_path(s);
  return v;
}

std::string Variables::expand(std::string_view text, std::string_view profile_dir) const {
  std::string out;
  size_t i = 0;
  if (text == "~" || text.rfind("~/", 0) == 0) {
    out = home;
    i = 1;
  }
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) throw ValueError("unterminated \"${\" in \"" + std::string(text) + "\"");
      std::string_view name = text.substr(i + 2, close - i - 2);
      if (name == "HOME")
        out += home;
      else if (name == "CWD")
        out += cwd;
      else if (name == "USER")
        out += user;
      else if (name == "PROFILE_DIR")
        out += profile_dir;
      else if (name == "XDG_CONFIG_HOME")
        out += xdg_config_home;
      else if (name == "XDG_STATE_HOME")
        out += xdg_state_home;
      else if (name == "TMPDIR")
        out += tmpdir;
      else if (name == "SSH_AUTH_SOCK" || name == "XDG_RUNTIME_DIR") {
        const auto& v = name == "SSH_AUTH_SOCK" ? ssh_auth_sock : xdg_runtime_dir;
        if (!v) throw UnsetVariable("${" + std::string(name) + "} is not set in paddock's environment");
        out += *v;
      } else
        throw ValueError("unknown variable ${" + std::string(name) +
                         "} (known: HOME, CWD, USER, PROFILE_DIR, XDG_CONFIG_HOME, XDG_STATE_HOME, TMPDIR, "
                         "SSH_AUTH_SOCK, XDG_RUNTIME_DIR)");
      i = close + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

bool path_within(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  if (path.size() < dir.size() || path.substr(0, dir.size()) != dir) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace paddock
