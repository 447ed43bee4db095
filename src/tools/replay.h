// `paddock replay SESSION`: runs the tool calls a session recorded in full (audit = "full") again
// against the current tool scripts, with the same input, seed and clock, and each host function
// answered from the record (or for real with --live), then reports per call: identical,
// different (with a diff of the output) or failed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace paddock {

struct ReplayOptions {
  std::string session;                // id, prefix or log file (as `paddock log` takes it)
  std::vector<std::string> profiles;  // empty: the profiles the session was started with
  std::string call;                   // only this call id
  std::string tool;                   // only this tool
  bool live = false;
};

// Exit status: 0 every replayed call identical, 1 some differ or failed, 125 paddock's errors.
int replay_command(const ReplayOptions& o);

// A line diff of two JSON values, pretty-printed: "- " lines only in `before`, "+ " only in
// `after`, "  " common ones. Empty when equal.
std::string json_diff(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace paddock
