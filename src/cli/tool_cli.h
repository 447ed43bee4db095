// `paddock tool list|call` and `paddock mcp`: their options, shared by the paddock launcher (for
// --help, and to hand the command over) and paddock-tools, the program that runs them. Tools need
// libcurl, SQLite and the worker protocol; the launcher stays without them so `paddock run`
// starts fast, and execs paddock-tools (from the libexec folder) for these commands.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace paddock {

struct ToolOptions {
  std::vector<std::string> profiles;
  std::string name;
  std::string input;               // JSON text, or "-" for stdin; empty means {}
  std::string approve = "prompt";  // prompt | never
  std::string audit;               // the session log; default under $XDG_STATE_HOME
  bool json = false;               // tool list: JSON instead of a table
  // replay
  std::string session;
  std::string call_id;
  bool live = false;
};

struct ToolCommands {
  CLI::App* tool = nullptr;
  CLI::App* list = nullptr;
  CLI::App* call = nullptr;
  CLI::App* mcp = nullptr;
  CLI::App* replay = nullptr;
};

ToolCommands add_tool_commands(CLI::App& app, ToolOptions& o);

// The path of a paddock helper program (paddock-tools, paddock-tool-worker): $PADDOCK_LIBEXEC
// when set, else next to the running paddock (a build tree), else the installed libexec folder.
std::string paddock_helper_path(const std::string& name);

}  // namespace paddock
