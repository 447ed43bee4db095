// Command-line entry: parses argv with CLI11 and dispatches to one command.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace paddock {

struct RunOptions {
  std::vector<std::string> profiles;
  std::vector<std::string> ro, rw, deny, tmpfs;
  std::string net;  // "" = from the profile
  std::vector<std::string> allow_net;
  std::vector<std::string> env;  // NAME or NAME=VALUE
  std::string memory;
  std::optional<long long> pids;
  std::optional<double> cpus;
  std::string timeout;
  std::string audit;
  std::string mcp_config;  // write the MCP client configuration for the tools endpoint here
  bool dry_run = false;
  bool trace_fs = false;  // record file accesses outside the grants (seccomp notification per open)
  int verbosity = 0;      // -1 quiet, 1 verbose
  std::vector<std::string> command;
};

struct ProfileOptions {
  std::string name;
  bool resolved = false;
  std::vector<std::string> files;
};

struct LogOptions {
  std::string target;  // SESSION id or prefix, or FILE; empty = the most recent session
  bool denials = false;
  std::string layer;  // empty = every layer
  bool follow = false;
  bool json = false;
  bool verify = false;
  bool list = false;
  bool all = false;  // with list: every session, not only the 20 most recent
};

int run_command(const RunOptions& opts);
int profile_list();
int profile_show(const ProfileOptions& opts);
int profile_check(const ProfileOptions& opts);
int profile_new(const ProfileOptions& opts);
int profile_trust(const ProfileOptions& opts);
int doctor_command();
// Exit status 0; with --verify 0 intact, 1 tampered, 2 intact but incomplete (log_format.h).
int log_command(const LogOptions& opts);

// Parses and runs; returns the process exit status. Errors escape as paddock::Error.
int cli_main(int argc, char** argv);

}  // namespace paddock
