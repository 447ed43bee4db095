#include "audit/writer.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "audit/sha256.h"
#include "util/error.h"

namespace paddock {

namespace {

void fill_random(void* buf, std::size_t len) {
  auto* p = static_cast<unsigned char*>(buf);
  while (len > 0) {
    ssize_t n = ::getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("getrandom");
    }
    p += n;
    len -= static_cast<std::size_t>(n);
  }
}

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') return h;
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  passwd pw{};
  passwd* result = nullptr;
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr &&
      result->pw_dir != nullptr && result->pw_dir[0] == '/') {
    return result->pw_dir;
  }
  throw Error("cannot find the audit log folder: XDG_STATE_HOME and HOME are unset and uid " +
              std::to_string(::getuid()) + " has no home folder in the passwd database");
}

// Creates the missing folders of `dir` (each component, mode 0700); existing ones are kept.
void make_dirs(const std::string& dir, const std::string& log_path) {
  if (dir.empty()) return;
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    if (dir[pos - 1] == '/') continue;  // "//" or trailing "/"
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      throw_errno("cannot create folder " + prefix + (" for the audit log " + log_path));
    }
  }
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {};
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool AuditWriter::is_valid_session_id(std::string_view session) {
  if (session.empty() || session.size() > 128) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(session.front())) return false;
  for (char c : session) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::string AuditWriter::new_session_id() {
  struct timespec now {};
  if (::clock_gettime(CLOCK_REALTIME, &now) != 0) throw_errno("clock_gettime(CLOCK_REALTIME)");
  struct tm tm {};
  if (::gmtime_r(&now.tv_sec, &tm) == nullptr) throw Error("cannot convert the current time to UTC");
  unsigned char rnd[8];
  fill_random(rnd, sizeof rnd);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) throw Error("cannot format the session id");
  std::string id(buf, static_cast<std::size_t>(n));
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : rnd) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xf]);
  }
  return id;
}

std::string AuditWriter::default_path(const std::string& session) {
  if (!is_valid_session_id(session)) throw Error("invalid session id \"" + session + "\"");
  std::string state;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && x[0] == '/') {
    state = x;
  } else {
    state = home_dir() + "/.local/state";
  }
  while (state.size() > 1 && state.back() == '/') state.pop_back();
  if (state == "/") state.clear();
  return state + "/paddock/sessions/" + session + ".jsonl";
}

AuditWriter::AuditWriter(std::string session, const std::string& target)
    : session_(std::move(session)), path_(target), prev_(kAuditZeroHash) {
  if (!is_valid_session_id(session_)) throw Error("invalid session id \"" + session_ + "\"");
  if (target.empty()) throw Error("empty audit log path (use \"-\" for stderr)");

  if (target == "-") {
    int fd = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) throw_errno("cannot write the audit log to stderr");
    fd_.reset(fd);
    return;
  }

  make_dirs(parent_of(target), target);
  // O_NONBLOCK only so that a FIFO in the way cannot hang us before the check below.
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) throw Error("cannot open audit log " + target + ": it is a symbolic link");
    // A FIFO without a reader (or a device without a driver) when opened non-blocking.
    if (err == ENXIO) throw Error("audit log " + target + " is not a regular file");
    throw_errno("cannot open audit log " + target, err);
  }
  fd_.reset(fd);
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) throw_errno("cannot stat audit log " + target);
  if (!S_ISREG(st.st_mode)) throw Error("audit log " + target + " is not a regular file");
  if (st.st_size != 0) {
    throw Error("audit log " + target + " already holds events (each session needs its own log file)");
  }
  if ((st.st_mode & 077) != 0 && ::fchmod(fd_.get(), 0600) != 0) {
    throw_errno("cannot make audit log " + target + " private (mode 0600)");
  }
  int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    throw_errno("cannot set the flags of audit log " + target);
  }
}

std::string AuditWriter::display_path() const {
  return path_ == "-" ? std::string("(stderr)") : path_;
}

void AuditWriter::write(const AuditEvent& event) {
  if (torn_) throw Error("audit log " + display_path() + " is unusable after an earlier failed write");
  if (exited_) {
    throw Error("audit event " + event.layer + "/" + event.action + " after the session exit event");
  }
  std::string line = audit_line(event, session_, seq_, audit_timestamp_now(), prev_);
  std::string hash = sha256_hex(line);
  line.push_back('\n');

  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_.get(), p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
      continue;
    }
    int err = n == 0 ? EIO : errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {  // stderr may be a non-blocking pipe
      pollfd pfd{fd_.get(), POLLOUT, 0};
      if (::poll(&pfd, 1, -1) < 0 && errno != EINTR) {
        int perr = errno;
        if (left != line.size()) torn_ = true;
        throw_errno("cannot wait on audit log " + display_path(), perr);
      }
      continue;
    }
    if (left != line.size()) torn_ = true;
    throw_errno("cannot write audit log " + display_path(), err);
  }

  prev_ = std::move(hash);
  ++seq_;
  if (is_denial_action(event.action)) {
    ++denials_[event.layer];
    ++denial_count_;
  }
  if (event.layer == "session" && event.action == "exit") exited_ = true;
}

void AuditWriter::sync() {
  if (::fsync(fd_.get()) != 0) {
    int err = errno;
    // Pipes, terminals and some special files cannot be synced; that is not a failure of the log.
    if (!(path_ == "-" && (err == EINVAL || err == EROFS || err == ENOTSUP))) {
      throw_errno("cannot fsync audit log " + display_path(), err);
    }
  }
  if (path_ == "-") return;
  std::string dir = parent_of(path_);
  if (dir.empty()) dir = ".";
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) throw_errno("cannot open folder " + dir + " of audit log " + path_);
  if (::fsync(dfd.get()) != 0 && errno != EINVAL) throw_errno("cannot fsync folder " + dir + " of audit log " + path_);
}

}  // namespace paddock
