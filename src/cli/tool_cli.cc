#include "cli/tool_cli.h"

#include <limits.h>
#include <unistd.h>

#include "config.h"

namespace paddock {

ToolCommands add_tool_commands(CLI::App& app, ToolOptions& o) {
  ToolCommands c;
  auto profile_opt = [&](CLI::App* sub) {
    sub->add_option("-p,--profile", o.profiles, "Profile name or file declaring the tools; repeat to merge")
        ->type_name("PROFILE")
        ->required()
        ->allow_extra_args(false);
  };
  auto approve_opt = [&](CLI::App* sub) {
    sub->add_option("--approve", o.approve,
                    "Calls of tools that require approval: prompt (ask on the terminal) or never (refuse them)")
        ->type_name("MODE")
        ->check(CLI::IsMember({"prompt", "never"}));
  };
  auto audit_opt = [&](CLI::App* sub) {
    sub->add_option("--audit", o.audit, "Write the session's audit log to FILE (- for stderr)")->type_name("FILE");
  };
  c.tool = app.add_subcommand("tool", "List and call the tools a profile declares (JavaScript in V8)");
  c.tool->require_subcommand(1);
  c.list = c.tool->add_subcommand("list", "List the profile's tools: name, description, grants, limits");
  profile_opt(c.list);
  c.list->add_flag("--json", o.json, "Print JSON (with each tool's input schema) instead of a table");
  c.call = c.tool->add_subcommand("call", "Call one tool; its result (JSON) goes to stdout");
  profile_opt(c.call);
  c.call->add_option("name", o.name, "The tool's name")->required()->type_name("NAME");
  c.call->add_option("input", o.input, "The input as JSON, or - to read it from stdin (default: {})")
      ->type_name("JSON|-");
  approve_opt(c.call);
  audit_opt(c.call);
  c.mcp = app.add_subcommand("mcp", "Serve the profile's tools to an MCP client on stdin/stdout");
  profile_opt(c.mcp);
  approve_opt(c.mcp);
  audit_opt(c.mcp);
  c.replay = app.add_subcommand("replay",
                                "Run a session's recorded tool calls again and report identical, different or failed");
  c.replay->add_option("session", o.session, "Session id (or a unique prefix) or log file")
      ->required()
      ->type_name("SESSION|FILE");
  c.replay->add_option("-p,--profile", o.profiles, "Use these profiles instead of the session's")
      ->type_name("PROFILE")
      ->allow_extra_args(false);
  c.replay->add_option("--call", o.call_id, "Only the call with this id")->type_name("ID");
  c.replay->add_option("--tool", o.name, "Only the calls of this tool")->type_name("NAME");
  c.replay->add_flag("--live", o.live, "Answer host functions for real instead of from the record");
  return c;
}

std::string paddock_helper_path(const std::string& name) {
  if (const char* dir = std::getenv("PADDOCK_LIBEXEC"); dir != nullptr && dir[0] == '/') {
    return std::string(dir) + "/" + name;
  }
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    std::string dir(self);
    dir = dir.substr(0, dir.rfind('/'));
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::string(PADDOCK_LIBEXEC_DIR) + "/" + name;
}

}  // namespace paddock
