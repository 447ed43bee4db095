// `paddock profile list|show|check|new`.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/sha256.h"
#include "cli/cli.h"
#include "policy/file_trust.h"
#include "policy/policy_printer.h"
#include "policy/profile_loader.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

namespace fs = std::filesystem;

ProfileLoader standard_loader() {
  Variables vars = Variables::from_environment();
  SearchPath sp = SearchPath::standard(vars);
  return ProfileLoader(vars, sp);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kTemplate = R"(# paddock profile "%NAME%". See paddock-profile(5) for every key.
# Everything not granted here is refused by the kernel. Paths may use ${HOME}, ${CWD},
# ${USER}, ${PROFILE_DIR}, ${XDG_CONFIG_HOME}, ${XDG_STATE_HOME}, ${TMPDIR} and ~.
description = "%NAME%: describe what this agent does"

# Start from the shipped base: system folders read-only, host credentials masked.
extends = ["base"]

[filesystem]
read  = []                     # read + execute, e.g. "${HOME}/src/shared-lib"
write = ["${CWD}"]             # read + write + execute
deny  = []                     # always wins over read/write, e.g. "${CWD}/.env"
tmpfs = ["/tmp"]               # fresh and empty, discarded at exit

[network]
mode  = "none"                 # none | proxy | host
allow = []                     # with mode = "proxy": "api.example.com:443", "*.example.org"

[env]
pass = ["PATH", "LANG", "TERM", "HOME"]
set  = {}

# A credential the agent may use, taken from your environment when paddock starts:
# [secrets.GITHUB_TOKEN]
# from_env = "GITHUB_TOKEN"
# expose   = "env"             # env | file (/run/secrets/GITHUB_TOKEN, mode 0400)

[limits]
memory = "2G"
pids = 512
wall = "1h"
max_denials = 100              # end the session after this many refusals
)";

}  // namespace

int profile_list() {
  ProfileLoader loader = standard_loader();
  auto entries = loader.search_path().list();
  if (entries.empty()) {
    std::puts("no profiles found on the search path:");
    for (const auto& d : loader.search_path().dirs()) std::printf("  %s (%s)\n", d.dir.c_str(), d.label.c_str());
    return 0;
  }
  size_t w = 4;
  for (const auto& e : entries) w = std::max(w, e.name.size());
  std::printf("%-*s  %-8s  %s\n", static_cast<int>(w), "NAME", "WHERE", "DESCRIPTION");
  for (const auto& e : entries) {
    std::string desc;
    try {
      std::string text = read_all(e.path);
      Policy p = parse_profile_text(text, e.path, loader.variables(), nullptr, false);
      desc = p.description;
    } catch (const Error& err) {
      desc = std::string("(invalid: ") + err.what() + ")";
    }
    if (e.shadowed) desc = "(shadowed by an earlier folder) " + desc;
    std::printf("%-*s  %-8s  %s\n", static_cast<int>(w), e.name.c_str(), e.label.c_str(), desc.c_str());
    std::printf("%-*s  %-8s  %s\n", static_cast<int>(w), "", "", e.path.c_str());
  }
  return 0;
}

int profile_show(const ProfileOptions& opts) {
  ProfileLoader loader = standard_loader();
  if (opts.resolved) {
    Policy p = loader.load({opts.name});
    print_policy(std::cout, p);
    return 0;
  }
  std::string path = loader.locate(opts.name);
  check_trusted_file(path, "profile");
  std::cout << "# " << path << "\n" << read_all(path);
  return 0;
}

int profile_check(const ProfileOptions& opts) {
  ProfileLoader loader = standard_loader();
  int failures = 0;
  for (const auto& f : opts.files) {
    try {
      Policy p = loader.load({f});
      std::printf("%s: ok (%zu profile%s merged)\n", f.c_str(), p.profiles.size(), p.profiles.size() == 1 ? "" : "s");
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 125;
}

int profile_trust(const ProfileOptions& opts) {
  ProfileLoader loader = standard_loader();
  for (const auto& f : opts.files) {
    std::error_code ec;
    std::string path = fs::weakly_canonical(f, ec).string();
    if (ec || !fs::is_regular_file(path)) throw Error(f + ": not a profile file");
    check_trusted_file(path, "profile");
    std::string text = read_all(path);
    // Parse it first: trusting a broken file helps nobody.
    (void)parse_profile_text(text, path, loader.variables(), nullptr, false);
    std::string sha = sha256_hex(text);
    loader.trust_store().trust(path, sha);
    std::printf("trusted %s (sha256 %s)\n", path.c_str(), sha.c_str());
  }
  std::printf("trust store: %s\n", loader.trust_store().file().c_str());
  return 0;
}

int profile_new(const ProfileOptions& opts) {
  if (!is_valid_profile_name(opts.name)) {
    throw Error("invalid profile name \"" + opts.name + "\" (letters, digits, '.', '_' and '-')");
  }
  Variables vars = Variables::from_environment();
  std::string dir = SearchPath::user_dir(vars);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir + ": " + ec.message());
  std::string path = dir + "/" + opts.name + ".toml";
  // O_EXCL: never overwrite a profile someone already wrote.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    if (errno == EEXIST) throw Error(path + " already exists");
    throw_errno("cannot create " + path);
  }
  std::string text = kTemplate;
  for (size_t pos; (pos = text.find("%NAME%")) != std::string::npos;) text.replace(pos, 6, opts.name);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write " + path);
    }
    off += static_cast<size_t>(n);
  }
  std::printf("created %s\nedit it, then run: paddock -p %s -- COMMAND\n", path.c_str(), opts.name.c_str());
  return 0;
}

}  // namespace paddock
