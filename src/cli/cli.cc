#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

#include "cli/tool_cli.h"
#include "config.h"
#include "util/error.h"

namespace paddock {
namespace {

const std::set<std::string> kCommands{"run", "profile", "doctor", "log", "tool", "mcp", "replay"};

void add_run_options(CLI::App* run, RunOptions& o) {
  run->add_option("-p,--profile", o.profiles,
                  "Profile name (from the search path) or file; repeat to merge several, later ones win")
      ->type_name("PROFILE")
      ->allow_extra_args(false);
  run->add_option("--ro", o.ro, "Also grant PATH read-only (read + execute)")
      ->type_name("PATH")
      ->allow_extra_args(false);
  run->add_option("--rw", o.rw, "Also grant PATH read-write")->type_name("PATH")->allow_extra_args(false);
  run->add_option("--deny", o.deny, "Mask PATH, even inside a granted folder")
      ->type_name("PATH")
      ->allow_extra_args(false);
  run->add_option("--tmpfs", o.tmpfs, "Mount a fresh, empty tmpfs at PATH")->type_name("PATH")->allow_extra_args(false);
  run->add_option("--net", o.net, "Network mode: none, proxy or host")
      ->type_name("MODE")
      ->check(CLI::IsMember({"none", "proxy", "host"}));
  run->add_option("--allow-net", o.allow_net, "Allow egress to HOST[:PORT] (pattern as in network.allow)")
      ->type_name("HOST[:PORT]")
      ->allow_extra_args(false);
  run->add_option("--env", o.env, "Pass variable NAME through, or set NAME=VALUE")
      ->type_name("NAME[=VALUE]")
      ->allow_extra_args(false);
  run->add_option("--memory", o.memory, "Memory limit, e.g. 2G")->type_name("SIZE");
  run->add_option("--pids", o.pids, "Maximum number of processes")->type_name("N");
  run->add_option("--cpus", o.cpus, "CPU limit in cores, e.g. 1.5")->type_name("N");
  run->add_option("--timeout", o.timeout, "Wall-clock limit, e.g. 30m; the whole sandbox is killed (exit 124)")
      ->type_name("DURATION");
  run->add_option("--audit", o.audit, "Audit log file ('-' for stderr)")->type_name("FILE");
  run->add_option("--mcp-config", o.mcp_config,
                  "Write an MCP client configuration for the profile's tools endpoint inside the sandbox "
                  "(FILE.toml: Codex CLI form; otherwise .mcp.json form)")
      ->type_name("FILE");
  run->add_flag("--dry-run", o.dry_run, "Print the sandbox plan and exit without running anything");
  run->add_flag("--trace-fs", o.trace_fs,
                "Record each path the sandbox tries to open, create, delete or execute outside its grants "
                "(opt-in: every such call then stops in paddock, which makes them slower)");
  run->add_flag_function(
      "-q,--quiet", [&o](std::int64_t) { o.verbosity = -1; }, "Print only errors");
  run->add_flag_function(
      "-v,--verbose", [&o](std::int64_t) { o.verbosity = 1; }, "Print what paddock sets up");
}

// Tools run in paddock-tools (with libcurl, SQLite and the MCP server), so that the launcher
// itself never loads them.
int exec_tools_host(const std::vector<std::string>& args) {
  const std::string path = paddock_helper_path("paddock-tools");
  std::vector<std::string> all{"paddock"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(path.c_str(), argv.data());
  throw Error("cannot start " + path + ": " + std::strerror(errno));
}

}  // namespace

int cli_main(int argc, char** argv) {
  // `paddock [-p P] -- CMD` and `paddock CMD` mean `paddock run ...`.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && kCommands.count(args[0]) == 0 && args[0] != "-h" && args[0] != "--help" &&
      args[0] != "--version") {
    args.insert(args.begin(), "run");
  }

  CLI::App app{"paddock: run an AI agent in a sandbox the kernel enforces.", "paddock"};
  app.set_version_flag("--version", std::string("paddock ") + PADDOCK_VERSION);
  app.footer(
      "Without a command name, paddock runs one: `paddock -- CMD` is `paddock run -- CMD`.\n"
      "Exit status of run: the command's own; 128+N when it died of signal N; 124 timeout;\n"
      "137 killed for a limit or kill switch; 125 paddock's own error; 126 not executable; 127 not found.\n"
      "See paddock(1) and paddock-profile(5).");
  app.require_subcommand(1);

  RunOptions run_opts;
  CLI::App* run = app.add_subcommand("run", "Run COMMAND inside a sandbox built from the profile(s)");
  add_run_options(run, run_opts);
  run->prefix_command();  // everything from COMMAND on belongs to the command

  ProfileOptions prof_opts;
  CLI::App* profile = app.add_subcommand("profile", "List, show, check and create profiles");
  profile->require_subcommand(1);
  CLI::App* p_list =
      profile->add_subcommand("list", "List profiles on the search path: name, where found, description");
  CLI::App* p_show =
      profile->add_subcommand("show", "Print a profile, or with --resolved the merged policy with origins");
  p_show->add_option("name", prof_opts.name, "Profile name or file")->required()->type_name("NAME");
  p_show->add_flag("--resolved", prof_opts.resolved, "Show the fully merged policy, each rule with its file:line");
  CLI::App* p_check =
      profile->add_subcommand("check", "Validate profile files (with their extends); exit 125 on any error");
  p_check->add_option("files", prof_opts.files, "Profile files or names")->required()->type_name("FILE");
  CLI::App* p_new = profile->add_subcommand("new", "Create a commented profile in your profile folder");
  p_new->add_option("name", prof_opts.name, "Name of the new profile")->required()->type_name("NAME");
  CLI::App* p_trust = profile->add_subcommand(
      "trust", "Trust the current content of profile files outside your profile folders (e.g. ./.paddock/*.toml)");
  p_trust->add_option("files", prof_opts.files, "Profile files to trust, after reviewing them")
      ->required()
      ->type_name("FILE");

  CLI::App* doctor = app.add_subcommand("doctor", "Report which sandbox layers this kernel and user can enforce");

  LogOptions log_opts;
  CLI::App* log =
      app.add_subcommand("log", "Show a session's audit log: what was refused, why, and what would allow it");
  log->add_option("session", log_opts.target, "Session id (or a unique prefix) or log file; default: the most recent")
      ->type_name("SESSION|FILE");
  log->add_flag("--denials", log_opts.denials, "Show only denials (deny, kill, reject)");
  log->add_option("--layer", log_opts.layer,
                  "Show only events of layer L: session, fs, net, dns, syscall, credential, limit or tool")
      ->type_name("L");
  log->add_flag("--follow", log_opts.follow, "Keep printing events as the session appends them");
  log->add_flag("--json", log_opts.json, "Print the raw JSON lines (after filtering) instead of a table");
  log->add_flag("--verify", log_opts.verify,
                "Check the hash chain: exit 0 intact, 1 tampered, 2 intact but incomplete");
  log->add_flag("--list", log_opts.list, "List recent sessions: start, duration, exit, denials, command, profiles");
  log->add_flag("--all", log_opts.all, "With --list, list every session, not only the 20 most recent");

  ToolOptions tool_opts;
  ToolCommands tool_cmds = add_tool_commands(app, tool_opts);
  const std::vector<std::string> original_args = args;

  // Everything after the first "--" is the command, untouched by option parsing.
  std::vector<std::string> after_dashes;
  bool has_dashes = false;
  if (!args.empty() && args[0] == "run") {
    auto it = std::find(args.begin(), args.end(), "--");
    if (it != args.end()) {
      has_dashes = true;
      after_dashes.assign(it + 1, args.end());
      args.erase(it, args.end());
    }
  }

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (args.empty()) {
      std::fputs(app.help().c_str(), stderr);
      return 125;
    }
    std::string hint = args[0] == "run"           ? "paddock run --help"
                       : kCommands.count(args[0]) ? "paddock " + args[0] + " --help"
                                                  : "paddock --help";
    throw Error(std::string(e.what()) + " (see '" + hint + "')");
  }

  if (*run) {
    std::vector<std::string> before = run->remaining();
    if (!before.empty() && before.front().size() > 1 && before.front()[0] == '-') {
      throw Error("unknown option " + before.front() + " (see 'paddock run --help'; put the command after --)");
    }
    if (has_dashes && !before.empty()) {
      throw Error("unexpected \"" + before.front() + "\" before -- (the command goes after --)");
    }
    run_opts.command = has_dashes ? after_dashes : before;
    return run_command(run_opts);
  }
  if (*p_list) return profile_list();
  if (*p_show) return profile_show(prof_opts);
  if (*p_check) return profile_check(prof_opts);
  if (*p_new) return profile_new(prof_opts);
  if (*p_trust) return profile_trust(prof_opts);
  if (*doctor) return doctor_command();
  if (*tool_cmds.tool || *tool_cmds.mcp || *tool_cmds.replay) return exec_tools_host(original_args);
  if (*log) return log_command(log_opts);
  return 125;
}

}  // namespace paddock
