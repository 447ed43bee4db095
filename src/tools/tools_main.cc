// paddock-tools: runs `paddock tool list|call` and `paddock mcp` (the paddock launcher execs it
// for them). One error boundary, as in paddock's main: a paddock::Error is a one-line message and
// exit status 125.
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include "audit/writer.h"
#include "cli/tool_cli.h"
#include "config.h"
#include "mcp/http_transport.h"
#include "mcp/mcp_server.h"
#include "policy/profile_loader.h"
#include "policy/variables.h"
#include "supervisor/session.h"
#include "tools/replay.h"
#include "tools/tool_runtime.h"
#include "tools/tool_secrets.h"
#include "tools/worker_sandbox.h"
#include "util/error.h"
#include "util/fd_passing.h"

namespace paddock {
namespace {

// A person decides on the controlling terminal, which an MCP client's pipes do not replace.
bool terminal_prompt(const ToolDecl& tool, const nlohmann::json& input, std::string& who) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    who = "no terminal to ask on";
    return false;
  }
  UniqueFd tty(fd);
  std::string shown = input.dump(2);
  if (shown.size() > 4000) shown = shown.substr(0, 4000) + "\n  ... (" + std::to_string(shown.size()) + " bytes)";
  std::string grants;
  for (const auto& g : granted_host_functions(tool)) grants += (grants.empty() ? "" : ", ") + g;
  std::string text = "\npaddock: tool \"" + tool.name + "\" (" + tool.origin.short_str() +
                     ") asks to run.\n  input: " + shown + "\n  grants: " + grants + "\nApprove this call once? [y/N] ";
  if (::write(fd, text.data(), text.size()) < 0) {
    who = "the terminal could not be written";
    return false;
  }
  std::string answer;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') answer += c;
  const bool yes = answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
  const struct passwd* pw = ::getpwuid(::getuid());
  who = std::string(pw != nullptr ? pw->pw_name : "uid " + std::to_string(::getuid())) + " on the terminal";
  return yes;
}

class McpAdapter : public McpToolService {
 public:
  // `on_kill` ends the session when a kill switch says so (it does not return).
  explicit McpAdapter(ToolRuntime& rt, std::function<void()> on_kill = {}) : rt_(rt), on_kill_(std::move(on_kill)) {}
  // list() and has() run on the thread reading the client's messages: they must not wait for a
  // running call (a cancellation could not be read meanwhile). The descriptions are read once,
  // before serving starts, so listing only reads them.
  std::vector<McpToolInfo> list() override {
    std::vector<McpToolInfo> out;
    for (const auto& t : rt_.list()) out.push_back({t.name, t.description, t.input_schema});
    return out;
  }
  bool has(const std::string& name) override {
    if (rt_.has(name)) return true;
    // The server answers an unknown tool itself; the refusal still goes to the log.
    std::lock_guard lock(mu_);
    (void)rt_.call(name, nlohmann::json::object());
    return false;
  }
  McpCallResult call(const std::string& name, const nlohmann::json& arguments,
                     const std::atomic<bool>& cancelled) override {
    // One call at a time: each tool has one warm worker, and calls are audited in order.
    std::lock_guard lock(mu_);
    ToolOutcome o = rt_.call(name, arguments, &cancelled);
    if (o.end_session && on_kill_) on_kill_();
    McpCallResult r;
    r.ok = o.ok;
    r.output = o.output;
    r.error = o.error;
    return r;
  }

 private:
  ToolRuntime& rt_;
  std::function<void()> on_kill_;
  std::mutex mu_;
};

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

nlohmann::json parse_input(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  std::string source = text == "-" ? read_all(std::cin) : text;
  try {
    return nlohmann::json::parse(source);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message holds the line and column.
    throw Error(std::string("tool input is not valid JSON: ") + e.what());
  }
}

// ---- `paddock-tools serve`: the tools endpoint inside a `paddock run` sandbox (issue 7) ----

// Runs every tool call on one long-lived thread. A tool's worker (and its sandbox's supervisor) is
// forked by the thread that starts it and dies with that thread (PR_SET_PDEATHSIG): it must not
// be started on a connection's thread, which ends with the connection. Calls are one at a time
// anyway (McpAdapter), so nothing is lost.
class CallThread : public McpToolService {
 public:
  explicit CallThread(McpToolService& inner) : inner_(inner), thread_([this] { loop(); }) {}
  ~CallThread() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::vector<McpToolInfo> list() override { return inner_.list(); }
  bool has(const std::string& name) override { return inner_.has(name); }
  McpCallResult call(const std::string& name, const nlohmann::json& arguments,
                     const std::atomic<bool>& cancelled) override {
    std::packaged_task<McpCallResult()> task([&] { return inner_.call(name, arguments, cancelled); });
    std::future<McpCallResult> result = task.get_future();
    {
      std::lock_guard lock(mu_);
      queue_.push_back([&task] { task(); });
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }
  McpToolService& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

std::string random_session_id() {
  unsigned char b[16];
  if (::getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) throw_errno("getrandom");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// Streamable HTTP sessions: each initialize gets an McpServer (its negotiated version) of its own
// and an Mcp-Session-Id; requests without one are served by a shared server (2026-07-28 clients
// are stateless). An McpServer's session state is written only by initialize, which never reaches
// a published server, so requests on one session can run concurrently.
class HttpSessions {
 public:
  static constexpr std::size_t kMaxSessions = 256;
  explicit HttpSessions(McpToolService& tools) : tools_(tools), shared_(make()) {}

  http::McpReply handle(std::string_view body, const std::string& session) {
    http::McpReply reply;
    nlohmann::json msg = nlohmann::json::parse(body, nullptr, false);
    const bool init = msg.is_object() && msg.contains("method") && msg["method"] == "initialize";
    std::shared_ptr<McpServer> server;
    if (init) {
      server = make();
    } else if (session.empty()) {
      server = shared_;
    } else {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(session);
      if (it == sessions_.end()) {
        reply.unknown_session = true;
        return reply;
      }
      server = it->second;
    }
    std::vector<std::string> lines = server->handle_line(body);
    if (!lines.empty()) reply.body = lines.front();
    if (init && reply.body && nlohmann::json::parse(*reply.body, nullptr, false).contains("result")) {
      reply.session_id = random_session_id();
      std::lock_guard lock(mu_);
      if (order_.size() >= kMaxSessions) {
        sessions_.erase(order_.front());
        order_.pop_front();
      }
      sessions_[reply.session_id] = server;
      order_.push_back(reply.session_id);
    }
    return reply;
  }

 private:
  std::shared_ptr<McpServer> make() { return std::make_shared<McpServer>(tools_, "paddock", PADDOCK_VERSION); }
  McpToolService& tools_;
  std::shared_ptr<McpServer> shared_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<McpServer>> sessions_;
  std::deque<std::string> order_;
};

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One HTTP connection: requests in order (keep-alive), each answered before the next is read.
void serve_http_connection(int fd, HttpSessions& sessions) {
  constexpr int kIdleMs = 300'000;
  std::string buf;
  bool continued = false;
  char chunk[64 * 1024];
  for (;;) {
    http::ParseResult r = http::parse_request(buf);
    if (r.status == http::ParseResult::Status::kError) {
      http::Response e = http::error_response(r.error_status, -32600, r.error);
      e.close = true;
      send_all(fd, http::format_response(e));
      return;
    }
    if (r.status == http::ParseResult::Status::kComplete) {
      buf.erase(0, r.consumed);
      continued = false;
      http::Response resp = http::serve_mcp_request(
          r.request, [&](std::string_view body, const std::string& sid) { return sessions.handle(body, sid); });
      if (!send_all(fd, http::format_response(resp)) || resp.close) return;
      continue;
    }
    if (r.expect_continue && !continued) {
      continued = true;
      if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return;
    }
    pollfd p{fd, POLLIN, 0};
    int pr = ::poll(&p, 1, kIdleMs);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

// Serves the listening sockets the supervisor passes on `channel` ('U': the UNIX socket, one
// JSON-RPC message per line, or HTTP; 'T': Streamable HTTP) until the channel ends with the session.
[[noreturn]] void serve_endpoint(int channel, McpToolService& tools) {
  constexpr int kMaxConnections = 64;
  std::atomic<int> active{0};
  HttpSessions sessions(tools);
  UniqueFd unix_listener, tcp_listener;
  auto spawn = [&](int conn, bool http_conn) {
    if (active.load() >= kMaxConnections) {
      ::close(conn);
      return;
    }
    ++active;
    try {
      std::thread([&, conn, http_conn]() mutable {
        // On the UNIX socket both framings: HTTP (curl --unix-socket) starts with a method name in
        // capitals, and no JSON text starts with a capital letter.
        char first = 0;
        if (!http_conn) {
          pollfd p{conn, POLLIN, 0};
          if (::poll(&p, 1, 300'000) == 1 && ::recv(conn, &first, 1, MSG_PEEK) == 1 && first >= 'A' && first <= 'Z')
            http_conn = true;
        }
        if (http_conn) {
          serve_http_connection(conn, sessions);
        } else {
          McpServer server(tools, "paddock", PADDOCK_VERSION);
          (void)server.serve(conn, conn);
        }
        ::close(conn);
        --active;
      }).detach();
    } catch (const std::system_error&) {
      ::close(conn);
      --active;
    }
  };
  for (;;) {
    pollfd p[3] = {{channel, POLLIN, 0}, {unix_listener.get(), POLLIN, 0}, {tcp_listener.get(), POLLIN, 0}};
    if (::poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("tools endpoint: poll");
    }
    if (p[0].revents != 0) {
      char tag = 0;
      UniqueFd fd = recv_fd(channel, &tag);
      if (!fd) {
        // The session is over: nobody is left to serve; calls still running end with us.
        std::fflush(nullptr);
        ::_exit(0);
      }
      if (tag == 'U') unix_listener = std::move(fd);
      if (tag == 'T') tcp_listener = std::move(fd);
    }
    for (int i = 1; i < 3; ++i) {
      if (p[i].revents == 0) continue;
      int conn = ::accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) spawn(conn, i == 2);
    }
  }
}

int tools_main(int argc, char** argv) {
  CLI::App app{"paddock: tools a profile declares, run in V8 inside a sandbox.", "paddock"};
  ToolOptions o;
  ToolCommands c = add_tool_commands(app, o);
  // `paddock run` starts this for a profile with tools: not a command for people.
  int channel_fd = -1, audit_fd = -1;
  CLI::App* serve = app.add_subcommand("serve", "Serve the tools inside a paddock run sandbox (internal)");
  serve->group("");
  serve->add_option("-p,--profile", o.profiles)->required()->allow_extra_args(false);
  serve->add_option("--channel-fd", channel_fd)->required();
  serve->add_option("--audit-fd", audit_fd);
  std::string record_dir;
  serve->add_option("--record-dir", record_dir);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 125;
  }

  if (c.replay->parsed()) {
    ReplayOptions ro{o.session, o.profiles, o.call_id, o.name, o.live};
    return replay_command(ro);
  }
  if (o.profiles.empty()) throw Error("give the profile declaring the tools with -p PROFILE");

  Variables vars = Variables::from_environment();
  ProfileLoader loader(vars, SearchPath::standard(vars));
  Policy policy = loader.load(o.profiles, nullptr);
  if (policy.tools.empty() && !c.mcp->parsed()) {
    throw Error("the profile " + o.profiles.back() + " declares no tools ([[tool]])");
  }
  const std::string worker = paddock_helper_path("paddock-tool-worker");
  const std::string state_dir = vars.xdg_state_home + "/paddock";
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (!ec) ::chmod(state_dir.c_str(), 0700);

  // Declared secrets that some tool is granted, read once; the values stay in this process.
  std::map<std::string, std::string> secrets = read_tool_secrets(policy);

  const bool listing = c.list->parsed();
  const bool serving = c.mcp->parsed();
  const bool in_run = serve->parsed();
  std::unique_ptr<AuditWriter> audit;
  const std::string session = AuditWriter::new_session_id();
  if (in_run) {
    // The run's one audit log is the supervisor's: our events go to it through this pipe, one
    // JSON line each, and it writes them into its chain.
    if (audit_fd >= 0) {
      int saved = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      if (saved < 0 || ::dup2(audit_fd, STDERR_FILENO) < 0) throw_errno("tools: audit channel");
      audit = std::make_unique<AuditWriter>(session, "-");
      ::dup2(saved, STDERR_FILENO);
      ::close(saved);
      ::close(audit_fd);
    }
  } else if (!listing) {
    audit = std::make_unique<AuditWriter>(session, o.audit.empty() ? AuditWriter::default_path(session) : o.audit);
    AuditEvent start;
    start.layer = "session";
    start.action = "start";
    start.subject = serving ? "paddock mcp" : "paddock tool call " + o.name;
    start.reason = serving ? "MCP server started" : "tool call";
    nlohmann::json profiles = nlohmann::json::array();
    for (const auto& r : policy.profiles) profiles.push_back({{"name", r.name}, {"path", r.path}});
    // What replay loads again: a profile given as a relative path is recorded absolute, so the
    // replay does not depend on where it is run from.
    nlohmann::json refs = nlohmann::json::array();
    for (const auto& r : o.profiles) {
      const bool is_path = r.find('/') != std::string::npos || r.ends_with(".toml");
      refs.push_back(is_path && r[0] != '/' ? normalize_path(vars.cwd + "/" + r) : r);
    }
    start.extra = {{"profiles", profiles}, {"refs", refs}, {"layers", {"tools"}}, {"network", "none"}};
    audit->write(start);
  }
  auto started = std::chrono::steady_clock::now();

  ToolRuntimeOptions ro;
  ro.audit = audit.get();
  ro.start_worker = [&](const ToolDecl& t) { return start_sandboxed_worker(t, policy, worker); };
  // In a run, the terminal belongs to the sandboxed command (paddock relays it raw): nobody can be
  // asked, so calls that need approval are refused.
  ro.approve = (in_run || o.approve == "never") ? ApprovalMode::Never : ApprovalMode::Prompt;
  ro.prompt = terminal_prompt;
  ro.rate_db = state_dir + "/rate.sqlite";
  if (audit && audit->path() != "-") {
    const std::string& lp = audit->path();
    ro.record_dir =
        (lp.size() > 6 && lp.substr(lp.size() - 6) == ".jsonl" ? lp.substr(0, lp.size() - 6) : lp) + ".blobs";
  }
  if (in_run && !record_dir.empty()) ro.record_dir = record_dir;  // beside the run's log
  ro.profile_key = policy.profiles.empty() ? "" : policy.profiles.back().path;
  ro.secrets = std::move(secrets);
  // In a run, a tool's log lines on the terminal would tear the command's screen apart.
  const bool quiet_logs = in_run && ::isatty(STDERR_FILENO) == 1;
  ro.on_log = [quiet_logs](const std::string& tool, const std::string& message) {
    if (!quiet_logs) std::fprintf(stderr, "[tool %s] %s\n", tool.c_str(), message.c_str());
  };
  ToolRuntime rt(policy, std::move(ro));

  int status = 0;
  if (in_run) {
    (void)rt.list();  // every script evaluated once, before a client can ask
    McpAdapter adapter(rt, [] {
      // A kill switch with on_exceed = "kill": its events are in the pipe already; the supervisor
      // sees this status and ends the sandbox (exit 137).
      std::fflush(nullptr);
      ::_exit(137);
    });
    CallThread calls(adapter);
    serve_endpoint(channel_fd, calls);
  }
  if (listing) {
    std::vector<ToolInfo> tools = rt.list();
    if (o.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : tools) {
        out.push_back({{"name", t.name},
                       {"description", t.description},
                       {"input_schema", t.input_schema},
                       {"grants", t.grants},
                       {"limits", t.limits}});
      }
      std::cout << out.dump(2) << "\n";
    } else {
      for (const auto& t : tools) {
        std::string grants;
        for (const auto& g : t.grants) grants += (grants.empty() ? "" : ", ") + g;
        std::cout << t.name << "\n  " << t.description << "\n  grants: " << grants << "\n  limits: " << t.limits.dump()
                  << "\n";
      }
    }
    return 0;
  }
  auto finish = [&](int code, const std::string& why) {
    if (!audit) return;
    AuditEvent end;
    end.layer = "session";
    end.action = "exit";
    end.subject = std::to_string(code);
    end.reason = why;
    end.extra = {
        {"status", code},
        {"wall_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count()},
        {"denials", audit->denials()},
        {"denial_total", audit->denial_count()}};
    audit->write(end);
  };
  if (c.call->parsed()) {
    nlohmann::json input = parse_input(o.input);
    ToolOutcome out = rt.call(o.name, input);
    if (out.ok) {
      std::cout << out.output.dump() << "\n";
    } else {
      std::fprintf(stderr, "paddock: tool %s: %s\n", o.name.c_str(), out.error.c_str());
      status = out.end_session ? 137 : out.found ? 1 : 2;
    }
  } else {
    (void)rt.list();  // every script evaluated once, before a client can ask
    McpAdapter adapter(rt, [&] {
      // A kill switch with on_exceed = "kill": the session ends here, the client sees end of file.
      std::fprintf(stderr, "paddock: a tool kill switch ended the session (limits.on_exceed = \"kill\")\n");
      finish(137, "a tool kill switch ended the session");
      std::fflush(nullptr);
      // Answers of calls that finished just before are written by the server's threads: give
      // them a moment before the process goes.
      ::usleep(100'000);
      ::_exit(137);
    });
    McpServer server(adapter, "paddock", PADDOCK_VERSION);
    status = server.serve(STDIN_FILENO, STDOUT_FILENO);
  }
  finish(status, status == 137 ? "a tool kill switch ended the session"
                 : serving     ? "MCP client closed the connection"
                               : "tool call finished");
  return status;
}

}  // namespace
}  // namespace paddock

int main(int argc, char** argv) {
  try {
    return paddock::tools_main(argc, argv);
  } catch (const paddock::Error& e) {
    std::fprintf(stderr, "paddock: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "paddock: internal error: %s\n", e.what());
  }
  return 125;
}
