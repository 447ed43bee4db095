#include "tools/worker_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "audit/sha256.h"
#include "util/error.h"

namespace paddock::tools {

namespace {

using nlohmann::json;

// The worker enforces the timeout itself; this much later the client stops trusting it and kills it.
constexpr std::uint64_t kGraceMs = 2000;
// How long a worker may take to exit after its socket closed before it is killed.
constexpr auto kExitGrace = std::chrono::milliseconds(500);
// How long start() waits for a worker to be ready, snapshot included.
constexpr std::uint64_t kStartBudgetMs = 10000;

// Says once per process that tool workers run without a snapshot (or that a cache entry was replaced): a
// degraded start-up is worth a line on stderr, not one per worker.
void note_once(std::atomic<bool>& said, const std::string& message) {
  if (!said.exchange(true)) std::fprintf(stderr, "paddock: %s\n", message.c_str());
}
std::atomic<bool> g_said_off{false};
std::atomic<bool> g_said_replaced{false};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = ::sigdescr_np(sig);
    return "killed by signal " + std::to_string(sig) + (name ? std::string(" (") + name + ")" : std::string());
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

}  // namespace

WorkerClient::WorkerClient(std::string worker_path, WorkerOptions options)
    : path_(std::move(worker_path)), options_(std::move(options)) {}

WorkerClient::WorkerClient(UniqueFd socket, pid_t pid, WorkerOptions options)
    : options_(std::move(options)), adopted_(true), sock_(std::move(socket)), pid_(pid) {}

WorkerClient::~WorkerClient() {
  stop();
}

void WorkerClient::spawn() {
  if (::access(path_.c_str(), X_OK) != 0) throw_errno("tool worker " + path_);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
  UniqueFd ours(sv[0]);
  UniqueFd theirs(sv[1]);
  // Everything the child needs is prepared before fork(): after it only async-signal-safe calls.
  std::vector<char*> argv = {path_.data(), nullptr};
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    int fd = theirs.get();
    if (fd == kWorkerFd) {
      if (::fcntl(fd, F_SETFD, 0) != 0) ::_exit(127);
    } else if (::dup2(fd, kWorkerFd) != kWorkerFd) {  // dup2 leaves the copy without FD_CLOEXEC
      ::_exit(127);
    }
    // A worker must not outlive its supervisor.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  sock_ = std::move(ours);
  pid_ = pid;
  reader_ = FrameReader();
  started_ = false;
}

WorkerClient::Next WorkerClient::ensure_started(std::uint64_t budget_ms, std::string* why) {
  if (sock_) {
    // A worker that died between calls (after a fatal out-of-memory, say) is replaced before it can fail a call.
    int status;
    if (pid_ > 0 && !adopted_ && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      sock_.reset();
    }
  }
  if (!sock_) {
    started_ = false;
    if (adopted_) {
      *why = "the tool worker is not running";
      return Next::kGone;
    }
    spawn();
  }
  if (started_) return Next::kMessage;
  Next n = handshake(budget_ms);
  if (n == Next::kGone && snapshot_failed_ && !adopted_) {
    // The worker died taking its snapshot: once more without one.
    bury(false);
    spawn();
    n = handshake(budget_ms);
  }
  if (n != Next::kMessage) *why = bury(n == Next::kTimeout);
  return n;
}

void WorkerClient::start() {
  std::string why;
  if (ensure_started(kStartBudgetMs, &why) != Next::kMessage) throw Error("tool worker did not start: " + why);
}

WorkerClient::Next WorkerClient::handshake(std::uint64_t budget_ms) {
  call_start_ = now_ms();
  paused_ms_ = 0;
  paused_ = false;
  json msg;
  do {
    if (Next n = next(msg, budget_ms); n != Next::kMessage) return n;
  } while (msg.value("type", std::string()) != "ready");
  if (Next n = setup_snapshot(msg); n != Next::kMessage) return n;
  started_ = true;
  return Next::kMessage;
}

void WorkerClient::snapshot_off(const std::string& why) {
  snapshot_status_ = "none: " + why;
  note_once(g_said_off, "tool workers run without a startup snapshot: " + why);
}

WorkerClient::Next WorkerClient::reply(json& msg, std::int64_t id, const std::string& type, std::uint64_t budget_ms) {
  for (;;) {
    if (Next n = next(msg, budget_ms); n != Next::kMessage) return n;
    if (msg.value("id", std::int64_t{-1}) == id && msg.value("type", std::string()) == type) return Next::kMessage;
  }
}

WorkerClient::Next WorkerClient::setup_snapshot(const json& ready) {
  // Whatever happens below, a worker that gets no snapshot is told so, and makes its first isolate before it
  // answers (as it does when it takes a snapshot).
  auto without = [&](const std::string& why) {
    if (why.empty())
      snapshot_status_ = "off";
    else
      snapshot_off(why);
    std::int64_t id = next_id_++;
    if (!send({{"type", "no_snapshot"}, {"id", id}})) return Next::kGone;
    json answer;
    return reply(answer, id, "isolate_ready", kStartBudgetMs);
  };
  if (!options_.snapshot) return without("");
  if (snapshot_failed_) return without("an earlier worker died taking its snapshot");
  auto text = [&](const char* key) {
    auto it = ready.find(key);
    return it != ready.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  SnapshotIdentity identity{text("v8"), text("recipe"), text("libnode"), text("exe")};
  std::string why;
  std::string key = SnapshotCache::key(identity, &why);
  if (key.empty()) return without(why);
  SnapshotCache cache(options_.snapshot_dir);
  const std::uint64_t budget = kStartBudgetMs;
  json msg;
  if (auto blob = cache.load(key, &why)) {
    std::int64_t id = next_id_++;
    if (!send({{"type", "snapshot"},
               {"id", id},
               {"size", blob->bytes.size()},
               {"sha256", blob->sha256},
               {"recipe", identity.recipe}}) ||
        !send_frame(sock_.get(), blob->bytes))
      return Next::kGone;
    Next n = reply(msg, id, "snapshot_loaded", budget);
    if (n != Next::kMessage) {
      // V8 died on a blob that passed every check: never offer it again.
      snapshot_failed_ = true;
      cache.remove(key);
      note_once(g_said_off, "a tool worker died loading its snapshot; the cache entry was removed");
      return n;
    }
    if (msg.value("ok", false)) {
      snapshot_status_ = "loaded";
      return Next::kMessage;
    }
    note_once(g_said_replaced, "the tool worker refused its cached snapshot (" +
                                   msg.value("error", std::string("no reason")) + "); making a new one");
  } else if (!why.empty()) {
    note_once(g_said_replaced, "replacing a tool worker snapshot in the cache: " + why);
  }
  // A blob nobody can keep would cost this start more than it saves: only make one for a usable cache.
  if (!cache.usable(&why)) return without(why);
  std::int64_t id = next_id_++;
  if (!send({{"type", "make_snapshot"}, {"id", id}})) return Next::kGone;
  Next n = reply(msg, id, "snapshot_made", budget);
  if (n != Next::kMessage) {
    snapshot_failed_ = true;
    return n;
  }
  if (!msg.value("ok", false)) {
    snapshot_off("the tool worker could not make one: " + msg.value("error", std::string("no reason")));
    return Next::kMessage;  // it has spoken: it makes its spares without a snapshot
  }
  std::string blob;
  if (Next r = next_raw(blob, budget); r != Next::kMessage) return r;
  std::string sha = msg.value("sha256", std::string());
  if (blob.size() != msg.value("size", std::uint64_t{0}) || sha256_hex(blob) != sha ||
      msg.value("recipe", std::string()) != identity.recipe) {
    // The worker made it for itself, but nothing it cannot describe correctly goes into the cache.
    snapshot_status_ = "none: the tool worker's snapshot did not match its description";
    return Next::kMessage;
  }
  if (!cache.store(key, blob, sha, identity, &why))
    note_once(g_said_off, "cannot keep the tool worker snapshot: " + why);
  snapshot_status_ = "made";
  return Next::kMessage;
}

bool WorkerClient::send(const json& msg) {
  return sock_ && send_frame(sock_.get(), msg.dump(-1, ' ', false, json::error_handler_t::replace));
}

WorkerClient::Next WorkerClient::next_raw(std::string& frame, std::uint64_t budget_ms) {
  for (;;) {
    if (!reader_.has_frame()) {
      int timeout = -1;
      if (!paused_) {
        double left = static_cast<double>(budget_ms) - (now_ms() - call_start_ - paused_ms_);
        if (left <= 0) return Next::kTimeout;
        timeout = static_cast<int>(left) + 1;
      }
      pollfd p{sock_.get(), POLLIN, 0};
      int n = ::poll(&p, 1, timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Next::kGone;
      }
      if (n == 0) continue;  // the budget check above decides
      switch (reader_.fill_once(sock_.get())) {
        case FrameReader::Status::kFrame: break;
        case FrameReader::Status::kPartial: continue;
        case FrameReader::Status::kEof:
        case FrameReader::Status::kError:
        case FrameReader::Status::kTooLarge: return Next::kGone;
      }
    }
    frame = reader_.pop();
    return Next::kMessage;
  }
}

WorkerClient::Next WorkerClient::next(json& msg, std::uint64_t budget_ms) {
  std::string frame;
  if (Next n = next_raw(frame, budget_ms); n != Next::kMessage) return n;
  msg = json::parse(frame, nullptr, false);
  if (!msg.is_object()) return Next::kGone;  // a worker that speaks garbage is as good as dead
  return Next::kMessage;
}

std::string WorkerClient::bury(bool kill_first) {
  sock_.reset();
  reader_ = FrameReader();
  if (pid_ <= 0 || adopted_) {
    pid_ = -1;
    return "the worker closed its socket";
  }
  pid_t pid = std::exchange(pid_, -1);
  if (kill_first) ::kill(pid, SIGKILL);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + kExitGrace;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return describe_status(status);
    if (r < 0 && errno != EINTR) return "ended";
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return describe_status(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

ToolResult WorkerClient::failed(std::string kind, std::string error) const {
  ToolResult r;
  r.kind = std::move(kind);
  r.error = std::move(error);
  r.duration_ms = now_ms() - call_start_;
  return r;
}

void WorkerClient::pause_clock() {
  if (current_id_ < 0 || paused_) return;
  paused_ = true;
  paused_since_ = now_ms();
  send({{"type", "pause_clock"}, {"id", current_id_}});
}

void WorkerClient::resume_clock() {
  if (current_id_ < 0 || !paused_) return;
  paused_ = false;
  paused_ms_ += now_ms() - paused_since_;
  send({{"type", "resume_clock"}, {"id", current_id_}});
}

ToolResult WorkerClient::call(const ToolCall& call, const HostHandler& host, const LogHandler& log) {
  std::string why;
  Next started = ensure_started(call.limits.timeout_ms + kGraceMs, &why);
  if (started == Next::kTimeout) return failed("timeout", "the tool worker did not start in time and was killed");
  if (started == Next::kGone) return failed("crash", "tool worker did not start: " + why);
  call_start_ = now_ms();
  paused_ms_ = 0;
  paused_ = false;
  std::int64_t id = next_id_++;
  json request = {{"type", "call"},
                  {"id", id},
                  {"tool", call.tool},
                  {"source", call.source},
                  {"input", call.input},
                  {"grants", call.grants},
                  {"limits",
                   {{"timeout_ms", call.limits.timeout_ms},
                    {"memory_bytes", call.limits.memory_bytes},
                    {"max_output_bytes", call.limits.max_output_bytes}}},
                  {"wasm", call.wasm},
                  {"seed", call.seed},
                  {"time_ms", call.time_ms >= 0 ? call.time_ms : wall_ms()}};
  if (!send(request)) return failed("crash", "tool worker " + bury(false));
  current_id_ = id;
  struct Reset {
    std::int64_t& id;
    ~Reset() { id = -1; }
  } reset{current_id_};

  for (;;) {
    json msg;
    Next n = next(msg, call.limits.timeout_ms + kGraceMs);
    if (n == Next::kTimeout) {
      bury(true);
      return failed("timeout", "the tool worker did not answer within " + std::to_string(call.limits.timeout_ms) +
                                   " ms (+" + std::to_string(kGraceMs) + " ms grace) and was killed");
    }
    if (n == Next::kGone) return failed("crash", "tool worker " + bury(false) + " during the call");
    std::string type = msg.value("type", std::string());
    if (msg.value("id", std::int64_t{-1}) != id) continue;  // "ready", or a leftover of an earlier call
    if (type == "host") {
      HostRequest req{id, msg.value("seq", std::uint64_t{0}), msg.value("fn", std::string()),
                      msg.value("args", json::array())};
      HostAnswer answer;
      try {
        answer = host ? host(req) : HostAnswer::failure("not authorized");
      } catch (const std::exception& e) {
        answer = HostAnswer::failure(e.what());
      }
      if (paused_) resume_clock();  // a handler that forgot to resume does not stop the clock for good
      json reply = {{"type", "host_result"}, {"id", id}, {"seq", req.seq}, {"ok", answer.ok}};
      if (answer.ok)
        reply["value"] = std::move(answer.value);
      else
        reply["error"] = answer.error;
      if (!send(reply)) return failed("crash", "tool worker " + bury(false) + " during the call");
    } else if (type == "log") {
      if (log) log(id, msg.value("message", std::string()));
    } else if (type == "result") {
      ToolResult r;
      r.ok = msg.value("ok", false);
      if (r.ok) {
        r.output = msg.value("output", json());
      } else {
        r.kind = msg.value("kind", std::string("exception"));
        r.error = msg.value("error", std::string("tool failed"));
      }
      if (msg.contains("host_calls") && msg["host_calls"].is_array()) r.host_calls = msg["host_calls"];
      if (auto it = msg.find("isolate"); it != msg.end() && it->is_object()) {
        r.isolate.serial = it->value("serial", std::int64_t{-1});
        r.isolate.origin = it->value("origin", std::string());
        r.isolate.snapshot = it->value("snapshot", false);
      }
      r.duration_ms = msg.value("duration_ms", now_ms() - call_start_);
      // A fatal out-of-memory: the worker said goodbye and is exiting; replace it next time.
      if (msg.value("worker_exiting", false)) bury(false);
      return r;
    }
  }
}

ToolDescription WorkerClient::describe(const std::string& source, const ToolLimits& limits) {
  ToolDescription d;
  std::string why;
  if (Next started = ensure_started(limits.timeout_ms + kGraceMs, &why); started != Next::kMessage) {
    d.kind = started == Next::kTimeout ? "timeout" : "crash";
    d.error = "tool worker did not start: " + why;
    return d;
  }
  call_start_ = now_ms();
  paused_ms_ = 0;
  paused_ = false;
  std::int64_t id = next_id_++;
  json request = {{"type", "describe"},
                  {"id", id},
                  {"source", source},
                  {"limits",
                   {{"timeout_ms", limits.timeout_ms},
                    {"memory_bytes", limits.memory_bytes},
                    {"max_output_bytes", limits.max_output_bytes}}}};
  if (!send(request)) {
    d.kind = "crash";
    d.error = "tool worker " + bury(false);
    return d;
  }
  for (;;) {
    json msg;
    Next n = next(msg, limits.timeout_ms + kGraceMs);
    if (n != Next::kMessage) {
      d.kind = n == Next::kTimeout ? "timeout" : "crash";
      d.error = "tool worker " + bury(n == Next::kTimeout);
      return d;
    }
    if (msg.value("id", std::int64_t{-1}) != id || msg.value("type", std::string()) != "described") continue;
    d.ok = msg.value("ok", false);
    if (d.ok) {
      d.description = msg.value("description", json());
      d.input_schema = msg.value("input_schema", json());
    } else {
      d.kind = msg.value("kind", std::string("exception"));
      d.error = msg.value("error", std::string("describe failed"));
    }
    if (msg.value("worker_exiting", false)) bury(false);
    return d;
  }
}

void WorkerClient::stop() {
  if (!sock_ && pid_ <= 0) return;
  bury(false);
}

}  // namespace paddock::tools
