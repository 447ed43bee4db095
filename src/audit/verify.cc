#include "audit/verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "audit/event.h"
#include "audit/sha256.h"
#include "util/error.h"
#include "util/unique_fd.h"

namespace paddock {

namespace {

bool is_lower_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Feeds lines in order; stops at the first problem.
class Checker {
 public:
  // Returns false once a problem was found (no more lines are needed).
  bool line(std::string_view text) {
    const std::uint64_t n = result_.lines + 1;
    if (!result_.problem.empty()) return false;
    if (auto problem = check(text, n); !problem.empty()) {
      result_.problem = "line " + std::to_string(n) + ": " + problem;
      return false;
    }
    prev_hash_ = sha256_hex(text);
    ++result_.lines;
    return true;
  }

  void unterminated_last_line() {
    if (!result_.problem.empty()) return;
    result_.problem = "line " + std::to_string(result_.lines + 1) +
                      ": incomplete line at the end of the log (no newline; a write was cut short)";
  }

  VerifyResult finish() {
    if (result_.problem.empty() && result_.lines == 0) result_.problem = "log is empty (no events)";
    result_.ok = result_.problem.empty();
    result_.complete = result_.ok && exited_;
    if (result_.ok && !result_.complete) result_.problem = "truncated: no session exit event";
    return result_;
  }

 private:
  std::string check(std::string_view text, std::uint64_t n) {
    if (text.empty()) return "empty line";
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return "not valid JSON";
    if (!j.is_object()) return "not a JSON object";

    auto v = j.find("v");
    if (v == j.end()) return "missing \"v\"";
    if (!v->is_number_integer() || v->get<std::int64_t>() != kAuditVersion) {
      return "unsupported version (\"v\" is " + v->dump() + ", expected " + std::to_string(kAuditVersion) + ")";
    }

    auto session = j.find("session");
    if (session == j.end() || !session->is_string()) return "missing or non-string \"session\"";
    if (n == 1) {
      result_.session = session->get<std::string>();
    } else if (session->get<std::string>() != result_.session) {
      return "session " + session->dump() + " differs from \"" + result_.session + "\" on line 1";
    }

    for (const char* key : {"ts", "layer", "action", "subject", "reason", "prev"}) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_string()) return std::string("missing or non-string \"") + key + "\"";
    }
    const std::string layer = j["layer"].get<std::string>();
    const std::string action = j["action"].get<std::string>();
    if (!is_audit_layer(layer)) return "unknown layer \"" + layer + "\"";
    if (!is_audit_action(action)) return "unknown action \"" + action + "\"";
    if (auto pid = j.find("pid"); pid != j.end() && !pid->is_number_integer()) return "\"pid\" is not an integer";

    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_unsigned()) return "missing or invalid \"seq\"";
    if (exited_) return "event after the session exit event";
    const std::uint64_t expected = n - 1;
    if (seq->get<std::uint64_t>() != expected) {
      return "seq is " + std::to_string(seq->get<std::uint64_t>()) + ", expected " + std::to_string(expected) +
             " (lines were reordered or removed)";
    }

    const std::string prev = j["prev"].get<std::string>();
    if (!is_lower_hex64(prev)) return "\"prev\" is not a SHA-256 in lower-case hex";
    if (n == 1) {
      if (prev != kAuditZeroHash) {
        return "first \"prev\" is not 64 zeros (the log does not start at the beginning of its session)";
      }
    } else if (prev != prev_hash_) {
      return "hash chain broken (the previous line was edited or removed)";
    }

    exited_ = layer == "session" && action == "exit";
    return {};
  }

  VerifyResult result_;
  std::string prev_hash_;
  bool exited_ = false;
};

}  // namespace

VerifyResult verify_log_text(std::string_view text) {
  Checker checker;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
      checker.unterminated_last_line();
      break;
    }
    if (!checker.line(text.substr(0, nl))) break;
    text.remove_prefix(nl + 1);
  }
  return checker.finish();
}

VerifyResult verify_log(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("cannot open audit log " + path);
  Checker checker;
  std::string pending;
  char buf[65536];
  bool stopped = false;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read audit log " + path);
    }
    if (n == 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!checker.line(std::string_view(pending).substr(start, nl - start))) {
        stopped = true;
        break;
      }
    }
    if (stopped) break;
    pending.erase(0, start);
  }
  if (!stopped && !pending.empty()) checker.unterminated_last_line();
  return checker.finish();
}

}  // namespace paddock
