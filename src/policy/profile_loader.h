// Profile files (TOML, format v1) -> one resolved Policy.
//
// Merge rules for `extends` and multiple -p profiles (documented in paddock-profile(5)):
//   * profiles merge in order, each extended profile before the one that extends it;
//     a profile reached twice (diamond) is merged once, at its first position;
//   * lists append (filesystem.*, network.allow/deny, env.pass, syscalls.*, best_effort);
//   * scalars override (description, network.mode, every limits.* key);
//   * keyed entries replace whole: a later secrets.NAME, env.set NAME or [[tool]] with the
//     same name replaces the earlier one;
//   * deny always wins: a read/write grant equal to or beneath a deny path is dropped,
//     and network.deny beats network.allow at decision time.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.h"
#include "policy/search_path.h"
#include "policy/trust.h"
#include "policy/variables.h"

namespace paddock {

class ProfileLoader {
 public:
  ProfileLoader(Variables vars, SearchPath search)
      : vars_(std::move(vars)), search_(std::move(search)), trust_(vars_.xdg_config_home + "/paddock/trusted") {}

  // Profiles outside the user, system and shipped folders that were not named by path on the
  // command line must have been trusted (see trust.h).
  void set_trust_store(TrustStore t) { trust_ = std::move(t); }
  [[nodiscard]] const TrustStore& trust_store() const { return trust_; }

  // Loads each reference (a profile name from the search path, or a file path) with its
  // extends chain, merges them in order, then merges `overrides` (command-line flags) last.
  // Throws Error ("file:line:column: what is wrong") on any problem.
  [[nodiscard]] Policy load(const std::vector<std::string>& refs, const Policy* overrides = nullptr) const;

  // Resolves a single reference to the file it names (throws if not found).
  [[nodiscard]] std::string locate(const std::string& ref, const std::string& relative_to = {}) const;

  [[nodiscard]] const Variables& variables() const { return vars_; }
  [[nodiscard]] const SearchPath& search_path() const { return search_; }

 private:
  Variables vars_;
  SearchPath search_;
  TrustStore trust_;
};

// Parses one profile's text into a layer (no extends resolution); `extends` receives the
// references it names with their origins. Exposed for tests and the fuzzer.
Policy parse_profile_text(const std::string& text, const std::string& file, const Variables& vars,
                          std::vector<std::pair<std::string, Origin>>* extends, bool check_scripts = true);

// Merges `layer` on top of `base` with the rules above (without the final deny pass).
void merge_layer(Policy& base, const Policy& layer);

// The final pass: dedupe, deny-wins, write-supersedes-read, cross-references (tool secrets).
void finalize_policy(Policy& p);

}  // namespace paddock
