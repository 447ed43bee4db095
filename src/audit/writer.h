// The single writer of a session's audit log: assigns seq, ts and the hash chain, and appends
// each event as one JSON line with one write(2). It keeps no user-space buffer, so every event
// (denials, session start and exit included) reaches the kernel as it happens; sync() makes the
// log durable at session end. Not thread-safe: the supervisor's event loop owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "audit/event.h"
#include "util/unique_fd.h"

namespace paddock {

class AuditWriter {
 public:
  // `target` is a file path or "-" for stderr. A file is created 0600 (O_APPEND, O_CLOEXEC,
  // O_NOFOLLOW), its missing parent directories 0700; it must be a regular file, and an existing
  // one must be empty (a log holds exactly one session's chain). Throws paddock::Error naming
  // the path when the log cannot be opened, or for an invalid session id.
  AuditWriter(std::string session, const std::string& target);

  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;
  AuditWriter(AuditWriter&&) noexcept = default;
  AuditWriter& operator=(AuditWriter&&) noexcept = default;
  ~AuditWriter() = default;

  // "20261123T185701Z-3f9a1c2b7d4e5a60": UTC start time (sorts by time) and 64 random bits.
  [[nodiscard]] static std::string new_session_id();
  // $XDG_STATE_HOME/paddock/sessions/<session>.jsonl; XDG_STATE_HOME defaults to
  // ~/.local/state (a relative XDG_STATE_HOME is ignored, as the XDG spec says). Throws for an
  // invalid session id, or when no home folder can be found.
  [[nodiscard]] static std::string default_path(const std::string& session);
  // 1 to 128 characters from [A-Za-z0-9._-], starting with a letter or digit: safe as a file
  // name and inside JSON.
  [[nodiscard]] static bool is_valid_session_id(std::string_view session);

  // Validates the event (unknown layer or action: paddock::Error), assigns seq, ts and prev, and
  // appends the line with a single write(2), retried on EINTR, EAGAIN and partial writes.
  // Throws paddock::Error when the line cannot be written, and for any event after the
  // session/exit event. If nothing of a line was written the writer stays usable; once a line
  // was partly written, every later write throws (the chain is torn).
  void write(const AuditEvent& event);

  // fsync(2)s the log (and, for a file, its folder). Called at session end. On stderr, a pipe
  // or terminal that cannot be synced is not an error.
  void sync();

  [[nodiscard]] const std::string& session() const { return session_; }
  [[nodiscard]] const std::string& path() const { return path_; }  // "-" for stderr
  [[nodiscard]] std::uint64_t next_seq() const { return seq_; }
  [[nodiscard]] const std::string& last_hash() const { return prev_; }  // 64 zeros before the first line
  [[nodiscard]] bool exited() const { return exited_; }

  // Denials (deny, kill, reject) written so far, per layer and in total.
  [[nodiscard]] std::map<std::string, std::uint64_t> denials() const { return denials_; }
  [[nodiscard]] std::uint64_t denial_count() const { return denial_count_; }

 private:
  std::string display_path() const;

  std::string session_;
  std::string path_;
  UniqueFd fd_;
  std::uint64_t seq_ = 0;
  std::string prev_;
  bool exited_ = false;
  bool torn_ = false;
  std::map<std::string, std::uint64_t> denials_;
  std::uint64_t denial_count_ = 0;
};

}  // namespace paddock
