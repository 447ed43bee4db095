// Expansion of ${VAR} and a leading "~" in profile paths, and lexical path normalisation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/error.h"

namespace paddock {

class UnsetVariable : public ValueError {
 public:
  using ValueError::ValueError;
};

struct Variables {
  std::string home;
  std::string cwd;
  std::string user;
  std::string xdg_config_home;
  std::string xdg_state_home;
  std::string tmpdir;
  // Set only when the host has them; a deny entry naming an unset one is dropped (nothing to
  // mask), any other use is an error.
  std::optional<std::string> ssh_auth_sock;
  std::optional<std::string> xdg_runtime_dir;

  // Read from the real process: $HOME (or the passwd entry), getcwd(), the passwd name, XDG
  // variables with their standard defaults, $TMPDIR or /tmp.
  static Variables from_environment();

  // Expands ${HOME} ${CWD} ${USER} ${PROFILE_DIR} ${XDG_CONFIG_HOME} ${XDG_STATE_HOME} ${TMPDIR}
  // ${SSH_AUTH_SOCK} ${XDG_RUNTIME_DIR} and a leading "~" or "~/". Throws ValueError naming an
  // unknown or unterminated variable, UnsetVariable for a known one the host does not have.
  [[nodiscard]] std::string expand(std::string_view text, std::string_view profile_dir) const;
};

// "/a//b/./c/../d/" -> "/a/b/d". Purely lexical; ".." above "/" stays at "/".
std::string normalize_path(std::string_view path);

// Whether `path` equals `dir` or lies beneath it (both normalised).
bool path_within(std::string_view path, std::string_view dir);

}  // namespace paddock
