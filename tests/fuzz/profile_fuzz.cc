// libFuzzer target for the profile loader: arbitrary bytes as one profile file.
//
// A malformed profile must end in paddock::Error or ValueError (a one-line message for the
// user); any other exception escaping, a crash, or a sanitizer report is a bug.
// A profile that parses must also survive the final pass, and print_policy's output for it
// must itself parse (the printer promises a valid profile).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "policy/policy.h"
#include "policy/policy_printer.h"
#include "policy/profile_loader.h"
#include "policy/variables.h"
#include "util/error.h"

namespace {

using paddock::Error;
using paddock::Origin;
using paddock::Policy;
using paddock::ValueError;
using paddock::Variables;

// Fixed, so a crash reproduces anywhere. SSH_AUTH_SOCK is unset (deny entries naming it are
// dropped), XDG_RUNTIME_DIR is set.
const Variables& fuzz_vars() {
  static const Variables v = [] {
    Variables x;
    x.home = "/home/fuzz";
    x.cwd = "/work/fuzz";
    x.user = "fuzz";
    x.xdg_config_home = "/home/fuzz/.config";
    x.xdg_state_home = "/home/fuzz/.local/state";
    x.tmpdir = "/tmp";
    x.xdg_runtime_dir = "/run/user/1000";
    return x;
  }();
  return v;
}

[[noreturn]] void bug(const char* stage, const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "profile-fuzz: %s: %s\n%s\n", stage, what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, Origin>> extends;
  Policy layer;
  try {
    // check_scripts = false: no file system access, so the run is deterministic.
    layer = paddock::parse_profile_text(text, "fuzz.toml", fuzz_vars(), &extends, /*check_scripts=*/false);
  } catch (const Error&) {
    return 0;
  } catch (const ValueError&) {
    return 0;
  }
  // Anything else propagates out of here; libFuzzer reports the uncaught exception.

  for (const auto& [ref, origin] : extends) {
    if (!origin.known() || origin.line <= 0 || origin.column <= 0) bug("extends", "entry without a position", ref);
  }

  Policy merged;
  paddock::merge_layer(merged, layer);
  try {
    paddock::finalize_policy(merged);
  } catch (const Error&) {
    return 0;  // e.g. a tool granted an undeclared secret: a user error, not a bug
  }

  std::ostringstream printed;
  paddock::print_policy(printed, merged);
  try {
    (void)paddock::parse_profile_text(printed.str(), "printed.toml", fuzz_vars(), nullptr, /*check_scripts=*/false);
  } catch (const std::exception& e) {
    bug("print_policy", "output does not parse back", std::string(e.what()) + "\n--- printed ---\n" + printed.str());
  }
  return 0;
}
