// `paddock log`: show, filter, follow, verify and list session audit logs.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "audit/log_format.h"
#include "audit/reader.h"
#include "audit/verify.h"
#include "cli/cli.h"
#include "util/error.h"

namespace paddock {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

// SIGINT and SIGTERM end --follow cleanly; no SA_RESTART, so a wait returns at once.
void catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM}) {
    if (::sigaction(sig, &sa, nullptr) != 0) throw_errno(std::string("cannot catch ") + ::strsignal(sig));
  }
}

std::string stem_of(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  if (name.size() > 6 && name.compare(name.size() - 6, 6, ".jsonl") == 0) name.resize(name.size() - 6);
  return name;
}

// Options that make no sense together are refused rather than silently ignored.
void check_combination(const LogOptions& o) {
  auto refuse = [](const std::string& a, const std::string& b) {
    throw Error(a + " cannot be combined with " + b + " (see 'paddock log --help')");
  };
  if (o.list) {
    if (!o.target.empty()) throw Error("--list takes no SESSION (see 'paddock log --help')");
    if (o.follow) refuse("--list", "--follow");
    if (o.verify) refuse("--list", "--verify");
    if (o.json) refuse("--list", "--json");
    if (o.denials) refuse("--list", "--denials");
    if (!o.layer.empty()) refuse("--list", "--layer");
  } else if (o.all) {
    throw Error("--all only applies to --list (see 'paddock log --help')");
  }
  if (o.verify) {
    if (o.follow) refuse("--verify", "--follow");
    if (o.json) refuse("--verify", "--json");
    if (o.denials) refuse("--verify", "--denials");
    if (!o.layer.empty()) refuse("--verify", "--layer");
  }
}

}  // namespace

int log_command(const LogOptions& o) {
  check_combination(o);
  if (!o.layer.empty()) validate_layer_name(o.layer);

  if (o.list) {
    const std::string dir = sessions_dir();
    auto sessions = list_sessions(dir, o.all ? 0 : 20, std::time(nullptr));
    if (sessions.empty()) {
      std::cout << "no sessions in " << printable(dir) << " yet\n";
      return 0;
    }
    render_session_list(std::cout, sessions, stdout_wants_color());
    return 0;
  }

  // A path does not need the session folder (nor a home folder to find it).
  const std::string dir = o.target.find('/') != std::string::npos ? std::string() : sessions_dir();
  const std::string path = resolve_log_argument(o.target, dir);

  if (o.verify) return report_verify(std::cout, verify_log(path));

  LogFilter filter;
  filter.denials_only = o.denials;
  filter.layer = o.layer;
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;

  if (!o.follow) {
    ParsedLog log = read_log(path);
    if (o.json) {
      std::cout.flush();
      for (auto line : log.malformed) std::cerr << "line " << line << ": not a valid event\n";
      render_json(std::cout, log, filter, terminal);
    } else {
      render_log(std::cout, log, filter, stdout_wants_color(), stem_of(path));
    }
    std::cout.flush();
    return 0;
  }

  catch_stop_signals();
  LogFollower follower(path);
  LiveLogView::Options view_opts;
  view_opts.filter = filter;
  view_opts.json = o.json;
  view_opts.color = !o.json && stdout_wants_color();
  view_opts.terminal = terminal;
  view_opts.fallback_id = stem_of(path);
  LiveLogView view(std::cout, std::cerr, view_opts);
  view.begin(follower.read_lines());
  if (view.exited()) return 0;
  follower.run([&view](std::string_view text, std::uint64_t number) { return view.line(text, number); }, &g_stop);
  return 0;
}

}  // namespace paddock
