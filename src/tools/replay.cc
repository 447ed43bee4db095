#include "tools/replay.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "audit/reader.h"
#include "audit/sha256.h"
#include "cli/tool_cli.h"
#include "policy/profile_loader.h"
#include "policy/variables.h"
#include "tools/tool_runtime.h"
#include "tools/tool_secrets.h"
#include "tools/worker_sandbox.h"
#include "util/error.h"

namespace paddock {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

struct RecordedCall {
  std::string id, tool;
  nlohmann::json input;
  bool have_input = false;
  nlohmann::json result;  // the "result" event's extra
  bool have_result = false;
};

}  // namespace

std::string json_diff(const nlohmann::json& before, const nlohmann::json& after) {
  if (before == after) return "";
  auto a = lines_of(before.dump(2));
  auto b = lines_of(after.dump(2));
  // A longest common subsequence table; outputs are capped so this stays small.
  const std::size_t cap = 2000;
  if (a.size() > cap || b.size() > cap) {
    return "- " + before.dump().substr(0, 4000) + "\n+ " + after.dump().substr(0, 4000) + "\n";
  }
  std::vector<std::vector<std::uint32_t>> l(a.size() + 1, std::vector<std::uint32_t>(b.size() + 1, 0));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      l[i][j] = a[i] == b[j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
    }
  }
  std::string out;
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "  " + a[i++] + "\n";
      ++j;
    } else if (i < a.size() && (j == b.size() || l[i + 1][j] >= l[i][j + 1])) {
      out += "- " + a[i++] + "\n";
    } else {
      out += "+ " + b[j++] + "\n";
    }
  }
  return out;
}

int replay_command(const ReplayOptions& o) {
  const std::string path = resolve_log_argument(o.session, sessions_dir());
  ParsedLog log = read_log(path);
  std::vector<std::string> refs = o.profiles;
  std::map<std::string, RecordedCall> calls;
  std::vector<std::string> order;
  for (const auto& e : log.events) {
    if (e.is_session("start") && refs.empty()) {
      if (auto it = e.extra.find("refs"); it != e.extra.end() && it->is_array()) {
        for (const auto& r : *it) {
          if (r.is_string()) refs.push_back(r.get<std::string>());
        }
      } else if (auto ps = e.extra.find("profiles"); ps != e.extra.end() && ps->is_array()) {
        // A `paddock run` session: every profile it merged, by the file it came from, in order.
        for (const auto& pr : *ps) {
          if (pr.is_object() && pr.contains("path") && pr["path"].is_string())
            refs.push_back(pr["path"].get<std::string>());
        }
      }
    }
    if (e.layer != "tool" || (e.action != "call" && e.action != "result")) continue;
    const std::string id = e.extra_string("call");
    if (id.empty()) continue;
    RecordedCall& c = calls[id];
    if (c.id.empty()) {
      c.id = id;
      c.tool = e.subject;
      order.push_back(id);
    }
    if (auto it = e.extra.find("input"); it != e.extra.end()) {
      c.input = *it;
      c.have_input = true;
    }
    if (e.action == "result") {
      c.result = e.extra;
      c.have_result = true;
    }
  }
  if (refs.empty()) throw Error(path + ": the session does not name its profiles; give them with -p");

  Variables vars = Variables::from_environment();
  ProfileLoader loader(vars, SearchPath::standard(vars));
  Policy policy = loader.load(refs, nullptr);
  const std::string worker = paddock_helper_path("paddock-tool-worker");
  const std::string blobs = path.size() > 6 && path.substr(path.size() - 6) == ".jsonl"
                                ? path.substr(0, path.size() - 6) + ".blobs"
                                : path + ".blobs";
  ToolRuntimeOptions ro;
  ro.secrets = read_tool_secrets(policy);
  ro.start_worker = [&](const ToolDecl& t) { return start_sandboxed_worker(t, policy, worker); };
  ro.approve = ApprovalMode::Never;
  ToolRuntime rt(policy, std::move(ro));

  int replayed = 0, identical = 0, different = 0, failed = 0, skipped = 0;
  for (const auto& id : order) {
    const RecordedCall& c = calls[id];
    if (!o.call.empty() && c.id != o.call) continue;
    if (!o.tool.empty() && c.tool != o.tool) continue;
    if (!c.have_result) continue;  // refused before it ran: nothing to replay
    std::printf("call %s  tool %s: ", c.id.c_str(), c.tool.c_str());
    const bool full_output = c.result.contains("output") || !c.result.value("ok", false);
    if (!c.have_input || !full_output || !c.result.contains("seed")) {
      std::printf("skipped (not recorded in full; the tool needs audit = \"full\")\n");
      ++skipped;
      continue;
    }
    ReplaySpec spec;
    spec.seed = c.result.value("seed", std::uint64_t{0});
    spec.time_ms = c.result.value("time_ms", std::int64_t{-1});
    std::string missing;
    if (!o.live) {
      std::vector<RecordedAnswer> answers;
      for (const auto& h : c.result.value("host_calls", nlohmann::json::array())) {
        std::string sha = h.value("answer", std::string());
        std::ifstream in(blobs + "/" + sha + ".json");
        if (sha.empty() || !in) {
          missing = h.value("fn", std::string("?"));
          break;
        }
        std::ostringstream text;
        text << in.rdbuf();
        // Only a blob whose content matches its address is used.
        nlohmann::json answer = nlohmann::json::parse(text.str(), nullptr, false);
        if (answer.is_discarded() || sha256_hex(text.str()) != sha) {
          missing = h.value("fn", std::string("?")) + " (its record is damaged)";
          break;
        }
        answers.push_back({h.value("fn", std::string()), answer});
      }
      spec.answers = std::move(answers);
    }
    ++replayed;
    if (!missing.empty()) {
      std::printf("failed: the answer of host call %s was not recorded\n", missing.c_str());
      ++failed;
      continue;
    }
    ToolOutcome now = rt.replay(c.tool, c.input, spec);
    const bool was_ok = c.result.value("ok", false);
    if (now.kind == "diverged" || !now.found) {
      std::printf("failed: %s\n", now.error.c_str());
      ++failed;
    } else if (was_ok && now.ok && now.output == c.result["output"]) {
      std::printf("identical\n");
      ++identical;
    } else if (!was_ok && !now.ok && now.kind == c.result.value("kind", std::string())) {
      std::printf("identical (the same %s error)\n", now.kind.c_str());
      ++identical;
    } else {
      nlohmann::json before = was_ok ? c.result["output"]
                                     : nlohmann::json{{"error", c.result.value("error", std::string())},
                                                      {"kind", c.result.value("kind", std::string())}};
      nlohmann::json after = now.ok ? now.output : nlohmann::json{{"error", now.error}, {"kind", now.kind}};
      std::printf("different\n%s", json_diff(before, after).c_str());
      ++different;
    }
  }
  if (!o.call.empty() && calls.count(o.call) == 0) throw Error(path + ": no tool call " + o.call + " in this session");
  if (!o.tool.empty() &&
      std::none_of(order.begin(), order.end(), [&](const std::string& id) { return calls[id].tool == o.tool; })) {
    throw Error(path + ": no call of tool " + o.tool + " in this session");
  }
  std::printf("%d replayed: %d identical, %d different, %d failed; %d skipped\n", replayed, identical, different,
              failed, skipped);
  return different + failed > 0 ? 1 : 0;
}

}  // namespace paddock
