// `paddock log --verify`: checks a session log line by line — JSON shape, one session, seq
// 0,1,2,… without gaps, and the hash chain — so edits, removals and reordering are detected.
// The chain is a plain hash, not a keyed MAC: it catches accidental damage and naive edits, not
// someone who rewrites the log and recomputes every hash after the edit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace paddock {

struct VerifyResult {
  // Every line present is well formed, in order and chained to the one before it.
  bool ok = false;
  // ok, and the last line is the session/exit event. A live session's log is ok but not yet
  // complete; so is a log whose tail was cut off.
  bool complete = false;
  // Lines that passed every check (on failure, the lines before the bad one).
  std::uint64_t lines = 0;
  // Empty when ok and complete. When !ok: "line N: what is wrong", e.g. "line 7: hash chain
  // broken (the previous line was edited or removed)". When ok but not complete:
  // "truncated: no session exit event".
  std::string problem;
  // The session id found on line 1 (empty if line 1 had none).
  std::string session;
};

// Verifies the log at `path`. Throws paddock::Error naming the path when it cannot be read;
// everything wrong with the content is reported in the result.
VerifyResult verify_log(const std::string& path);

// The same checks on a log held in memory.
VerifyResult verify_log_text(std::string_view text);

}  // namespace paddock
