// paddock-tools: runs `paddock tool list|call` and `paddock mcp` (the paddock launcher execs it
// for them). One error boundary, as in paddock's main: a paddock::Error is a one-line message and
// exit status 125.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>

#include "audit/writer.h"
#include "cli/tool_cli.h"
#include "config.h"
#include "mcp/mcp_server.h"
#include "policy/profile_loader.h"
#include "policy/variables.h"
#include "sandbox/host_facts.h"
#include "supervisor/session.h"
#include "tools/tool_runtime.h"
#include "tools/worker_sandbox.h"
#include "util/error.h"

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
  McpAdapter(ToolRuntime& rt, std::function<void()> on_kill) : rt_(rt), on_kill_(std::move(on_kill)) {}
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

int tools_main(int argc, char** argv) {
  CLI::App app{"paddock: tools a profile declares, run in V8 inside a sandbox.", "paddock"};
  ToolOptions o;
  ToolCommands c = add_tool_commands(app, o);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 125;
  }

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
  HostFacts facts = gather_host_facts(policy, vars.cwd, false, {});
  // One missing is not an error until a tool asks for it (listing tools needs none).
  std::map<std::string, std::string> secrets;
  for (const auto& decl : policy.secrets) {
    bool used = false;
    for (const auto& t : policy.tools) {
      used = used || std::find(t.secrets.begin(), t.secrets.end(), decl.name) != t.secrets.end();
    }
    if (!used) continue;
    Policy one;
    one.secrets = {decl};
    try {
      for (auto& s : read_secrets(one, facts)) secrets[s.name] = s.value;
    } catch (const Error&) {
    }
  }

  const bool listing = c.list->parsed();
  const bool serving = c.mcp->parsed();
  std::unique_ptr<AuditWriter> audit;
  const std::string session = AuditWriter::new_session_id();
  if (!listing) {
    audit = std::make_unique<AuditWriter>(session, o.audit.empty() ? AuditWriter::default_path(session) : o.audit);
    AuditEvent start;
    start.layer = "session";
    start.action = "start";
    start.subject = serving ? "paddock mcp" : "paddock tool call " + o.name;
    start.reason = serving ? "MCP server started" : "tool call";
    nlohmann::json profiles = nlohmann::json::array();
    for (const auto& r : policy.profiles) profiles.push_back({{"name", r.name}, {"path", r.path}});
    start.extra = {{"profiles", profiles}, {"layers", {"tools"}}, {"network", "none"}};
    audit->write(start);
  }
  auto started = std::chrono::steady_clock::now();

  ToolRuntimeOptions ro;
  ro.audit = audit.get();
  ro.start_worker = [&](const ToolDecl& t) { return start_sandboxed_worker(t, policy, worker); };
  ro.approve = o.approve == "never" ? ApprovalMode::Never : ApprovalMode::Prompt;
  ro.prompt = terminal_prompt;
  ro.rate_db = state_dir + "/rate.sqlite";
  ro.profile_key = policy.profiles.empty() ? "" : policy.profiles.back().path;
  ro.secrets = std::move(secrets);
  ro.on_log = [](const std::string& tool, const std::string& message) {
    std::fprintf(stderr, "[tool %s] %s\n", tool.c_str(), message.c_str());
  };
  ToolRuntime rt(policy, std::move(ro));

  int status = 0;
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
