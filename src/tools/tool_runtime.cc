#include "tools/tool_runtime.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "audit/sha256.h"
#include "audit/writer.h"
#include "net/egress_policy.h"
#include "tools/db_query.h"
#include "tools/host_call_error.h"
#include "tools/host_fetch.h"
#include "tools/host_fs.h"
#include "tools/json_schema.h"
#include "tools/rate_limit.h"
#include "util/error.h"
#include "util/fd_io.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

constexpr std::uint64_t kMaxFsRead = 8u << 20;   // bytes one fs.read may return to a script
constexpr std::size_t kMaxRecorded = 16u << 20;  // largest host answer kept for replay

std::string read_script(const ToolDecl& t) {
  std::ifstream in(t.script, std::ios::binary);
  if (!in) throw Error(t.origin, "tool " + t.name + ": cannot read its script " + t.script);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

tools::ToolLimits limits_of(const ToolDecl& t) {
  tools::ToolLimits l;
  if (t.timeout) l.timeout_ms = static_cast<std::uint64_t>(t.timeout->count());
  if (t.memory) l.memory_bytes = *t.memory;
  if (t.max_output) l.max_output_bytes = *t.max_output;
  return l;
}

std::string random_call_id() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> d;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(d(rd)));
  return buf;
}

std::vector<std::string> paths_of(const std::vector<PathGrant>& g) {
  std::vector<std::string> out;
  for (const auto& p : g) out.push_back(p.path);
  return out;
}

std::string arg_string(const nlohmann::json& args, std::size_t i, const char* what) {
  if (!args.is_array() || args.size() <= i || !args[i].is_string()) {
    throw HostCallError(HostCallError::Kind::Failed, std::string(what) + " must be a string");
  }
  return args[i].get<std::string>();
}

// Text handed to a script must be valid UTF-8 (it travels as JSON); a binary file is refused
// rather than mangled.
bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

std::vector<std::string> granted_host_functions(const ToolDecl& t) {
  std::vector<std::string> out;
  const bool has_read = !t.read.empty() || !t.write.empty();
  if (has_read) out.push_back("fs.read");
  if (!t.write.empty()) out.push_back("fs.write");
  if (has_read) out.push_back("fs.list");
  if (!t.net.empty()) out.push_back("fetch");
  if (!t.secrets.empty()) out.push_back("secret");
  if (t.db) out.push_back("db.query");
  out.push_back("log");
  return out;
}

struct ToolRuntime::Impl {
  struct Tool {
    const ToolDecl* decl = nullptr;
    std::string source;
    std::optional<ToolInfo> info;
    std::optional<JsonSchema> schema;
    std::unique_ptr<tools::WorkerClient> worker;
  };

  const Policy& policy;
  ToolRuntimeOptions opts;
  std::map<std::string, Tool> tools;
  std::unique_ptr<RateLimiter> rate;
  // Kill switches: calls that ran in this session, per tool, and the current run of identical calls.
  std::uint64_t session_calls = 0;
  std::map<std::string, std::uint64_t> tool_calls;
  std::string last_call;  // tool name + input digest of the previous call
  std::uint64_t same_in_a_row = 0;

  Impl(const Policy& p, ToolRuntimeOptions o) : policy(p), opts(std::move(o)) {
    for (const auto& t : policy.tools) tools[t.name].decl = &t;
  }

  void audit(const std::string& action, const std::string& subject, const std::string& reason, nlohmann::json extra) {
    if (opts.audit == nullptr) return;
    AuditEvent e;
    e.layer = "tool";
    e.action = action;
    e.subject = subject;
    e.reason = reason;
    e.extra = std::move(extra);
    opts.audit->write(e);
  }

  // The request for one run of a tool's script (a call, or its replay).
  static tools::ToolCall make_call(const Tool& t, const nlohmann::json& input, std::uint64_t seed,
                                   std::int64_t time_ms) {
    const ToolDecl& d = *t.decl;
    tools::ToolCall tc;
    tc.tool = d.name;
    tc.source = t.source;
    tc.input = input;
    tc.grants = granted_host_functions(d);
    tc.limits = limits_of(d);
    tc.wasm = d.wasm;
    tc.seed = seed;
    tc.time_ms = time_ms;
    return tc;
  }

  tools::WorkerClient& worker(Tool& t) {
    if (!t.worker || !t.worker->running()) t.worker = opts.start_worker(*t.decl);
    return *t.worker;
  }

  const ToolInfo& info(Tool& t) {
    if (t.info) return *t.info;
    const ToolDecl& d = *t.decl;
    t.source = read_script(d);
    tools::ToolDescription desc = worker(t).describe(t.source, limits_of(d));
    if (!desc.ok) throw Error(d.origin, "tool " + d.name + ": " + d.script + ": " + desc.error);
    ToolInfo i;
    i.name = d.name;
    i.description = !d.description.empty()         ? d.description
                    : desc.description.is_string() ? desc.description.get<std::string>()
                                                   : "";
    i.input_schema = desc.input_schema.is_object() ? desc.input_schema : nlohmann::json{{"type", "object"}};
    try {
      t.schema.emplace(i.input_schema);
    } catch (const Error& e) {
      throw Error(d.origin, "tool " + d.name + ": " + e.what());
    }
    i.grants = granted_host_functions(d);
    tools::ToolLimits l = limits_of(d);
    i.limits = {{"timeout_ms", l.timeout_ms},
                {"memory_bytes", l.memory_bytes},
                {"max_output_bytes", l.max_output_bytes},
                {"requires_approval", d.requires_approval}};
    if (d.rate_limit) {
      i.limits["rate_limit"] =
          std::to_string(d.rate_limit->count) + " per " + std::to_string(d.rate_limit->per.count()) + "s";
    }
    t.info = std::move(i);
    return *t.info;
  }

  // Stores one answer for replay; returns its content address, or "" when not stored.
  std::string record(const nlohmann::json& answer) {
    if (opts.record_dir.empty()) return "";
    std::string text = answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > kMaxRecorded) return "";
    std::string sha = sha256_hex(text);
    ::mkdir(opts.record_dir.c_str(), 0700);
    std::string path = opts.record_dir + "/" + sha + ".json";
    UniqueFd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (f) {
      if (!write_fd(f.get(), text)) return "";
    } else if (errno != EEXIST) {
      return "";
    }
    return sha;
  }

  // One host function request of a running call, decided within the tool's grants; with
  // audit = "full" the answer is recorded (a secret's value never is, only its name).
  tools::HostAnswer host(const ToolDecl& d, const tools::HostRequest& r, nlohmann::json& decisions) {
    tools::HostAnswer a = host_answer(d, r, decisions);
    if (d.audit_full && !decisions.empty()) {
      nlohmann::json rec =
          a.ok ? nlohmann::json{{"ok", true}, {"value", a.value}} : nlohmann::json{{"ok", false}, {"error", a.error}};
      if (r.fn == "secret" && a.ok)
        rec = {{"ok", true}, {"secret", r.args.is_array() && !r.args.empty() ? r.args[0] : ""}};
      std::string sha = record(rec);
      if (!sha.empty()) decisions.back()["answer"] = sha;
    }
    return a;
  }

  tools::HostAnswer host_answer(const ToolDecl& d, const tools::HostRequest& r, nlohmann::json& decisions) {
    auto decide = [&](bool ok, const std::string& detail) {
      decisions.push_back({{"fn", r.fn}, {"ok", ok}, {"detail", detail}});
    };
    try {
      if (r.fn == "fs.read" || r.fn == "fs.write" || r.fn == "fs.list") {
        HostFs fs(paths_of(d.read), paths_of(d.write));
        std::string path = arg_string(r.args, 0, "the path");
        if (r.fn == "fs.read") {
          std::string text = fs.read(path, kMaxFsRead);
          if (!valid_utf8(text)) throw HostCallError(HostCallError::Kind::Failed, path + ": not UTF-8 text");
          decide(true, path);
          return tools::HostAnswer::success(text);
        }
        if (r.fn == "fs.write") {
          fs.write(path, arg_string(r.args, 1, "the data"));
          decide(true, path);
          return tools::HostAnswer::success(nullptr);
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : fs.list(path)) out.push_back({{"name", e.name}, {"type", e.type}, {"size", e.size}});
        decide(true, path);
        return tools::HostAnswer::success(out);
      }
      if (r.fn == "fetch") {
        FetchRequest fr;
        fr.url = arg_string(r.args, 0, "the URL");
        if (r.args.size() > 1 && r.args[1].is_object()) {
          const auto& o = r.args[1];
          if (o.contains("method") && o["method"].is_string()) fr.method = o["method"].get<std::string>();
          if (o.contains("body") && o["body"].is_string()) fr.body = o["body"].get<std::string>();
          if (o.contains("headers") && o["headers"].is_object()) {
            for (const auto& [k, v] : o["headers"].items()) {
              if (v.is_string()) fr.headers.emplace_back(k, v.get<std::string>());
            }
          }
        }
        HostFetch f(EgressPolicy(d.net, policy.net_deny, "tool.grants.net of " + d.name), FetchLimits{});
        FetchResponse resp = f.fetch(fr);
        nlohmann::json headers = nlohmann::json::object();
        for (const auto& [k, v] : resp.headers) headers[k] = v;
        decide(true, fr.method + " " + fr.url + " -> " + std::to_string(resp.status));
        std::string body = valid_utf8(resp.body) ? resp.body : std::string();
        return tools::HostAnswer::success(
            {{"status", resp.status}, {"url", resp.url}, {"headers", headers}, {"body", body}});
      }
      if (r.fn == "secret") {
        std::string name = arg_string(r.args, 0, "the secret's name");
        bool declared = std::find(d.secrets.begin(), d.secrets.end(), name) != d.secrets.end();
        auto it = opts.secrets.find(name);
        if (!declared) {
          throw HostCallError(HostCallError::Kind::NotAuthorized,
                              "secret " + name + " is not in tool.grants.secrets of " + d.name);
        }
        if (it == opts.secrets.end()) {
          throw HostCallError(HostCallError::Kind::Failed,
                              "secret " + name + " is declared but paddock could not read it (is its source set?)");
        }
        // The value never reaches the log: only that it was read, and by whom.
        if (opts.audit != nullptr) {
          AuditEvent e;
          e.layer = "credential";
          e.action = "allow";
          e.subject = name;
          e.reason = "read by tool " + d.name;
          e.extra = {{"tool", d.name}};
          opts.audit->write(e);
        }
        decide(true, name);
        return tools::HostAnswer::success(it->second);
      }
      if (r.fn == "db.query") {
        if (!d.db) throw HostCallError(HostCallError::Kind::NotAuthorized, "db.query is not granted to " + d.name);
        std::string sql = arg_string(r.args, 0, "the SQL");
        nlohmann::json params = r.args.size() > 1 ? r.args[1] : nlohmann::json::array();
        DbQuery db(*d.db);
        DbQueryResult res = db.query(sql, params);
        if (res.status == DbQueryResult::Status::Denied) {
          throw HostCallError(HostCallError::Kind::NotAuthorized,
                              res.error.rfind("not authorized: ", 0) == 0 ? res.error.substr(16) : res.error);
        }
        if (!res.ok()) throw HostCallError(HostCallError::Kind::Failed, res.error);
        decide(true, "query");
        return tools::HostAnswer::success(res.value);
      }
      throw HostCallError(HostCallError::Kind::NotAuthorized, r.fn + " is not a host function");
    } catch (const HostCallError& e) {
      decide(false, e.what());
      if (e.not_authorized()) {
        audit("deny", d.name, e.what(), {{"tool", d.name}, {"fn", r.fn}});
      }
      return tools::HostAnswer::failure(e.what());
    }
  }

  ToolOutcome refuse(const std::string& name, const std::string& call_id, const std::string& kind,
                     const std::string& error, nlohmann::json extra = nlohmann::json::object()) {
    extra["call"] = call_id;
    extra["kind"] = kind;
    audit("deny", name, error, extra);
    ToolOutcome o;
    o.ok = false;
    o.found = kind != "not_found";
    o.kind = kind;
    o.error = error;
    o.call_id = call_id;
    return o;
  }

  ToolOutcome call(const std::string& name, const nlohmann::json& input, const std::atomic<bool>* cancelled) {
    const std::string call_id = random_call_id();
    auto it = tools.find(name);
    if (it == tools.end()) return refuse(name, call_id, "not_found", "tool not found: " + name);
    Tool& t = it->second;
    const ToolDecl& d = *t.decl;
    const std::string digest = sha256_hex(input.dump());
    nlohmann::json base = {{"tool", name}, {"call", call_id}, {"input_sha256", digest}};
    if (d.audit_full) base["input"] = input;

    // Kill switches first: they are the session's, whatever the tool would do.
    {
      const Limits& l = policy.limits;
      const std::string key = name + "\n" + digest;
      const std::uint64_t streak = key == last_call ? same_in_a_row + 1 : 1;
      const std::uint64_t loop = l.tool_loop ? l.tool_loop->value : kDefaultToolLoop;
      std::string limit, reason;
      Origin where;
      if (l.max_tool_calls && session_calls >= l.max_tool_calls->value) {
        limit = "max_tool_calls";
        where = l.max_tool_calls->origin;
        reason = "limits.max_tool_calls = " + std::to_string(l.max_tool_calls->value) + " reached";
      } else if (d.max_calls && tool_calls[name] >= d.max_calls->value) {
        limit = "max_calls";
        where = d.max_calls->origin;
        reason = "tool " + name + ": max_calls = " + std::to_string(d.max_calls->value) + " reached";
      } else if (streak >= loop) {
        limit = "tool_loop";
        where = l.tool_loop ? l.tool_loop->origin : Origin{"built-in default", 0, 0};
        reason = "tool " + name + " called with the same input " + std::to_string(streak) +
                 " times in a row (limits.tool_loop = " + std::to_string(loop) + "): a loop";
      }
      if (!limit.empty()) {
        if (where.known()) reason += " (" + where.short_str() + ")";
        const bool kill = l.on_exceed_kill && l.on_exceed_kill->value;
        nlohmann::json extra = base;
        extra["limit"] = limit;
        if (opts.audit != nullptr) {
          AuditEvent e;
          e.layer = "limit";
          e.action = kill ? "kill" : "deny";
          e.subject = name;
          e.reason = reason + (kill ? "; the session was ended (limits.on_exceed = \"kill\")" : "");
          e.extra = extra;
          opts.audit->write(e);
        }
        ToolOutcome o;
        o.kind = limit;
        o.error = reason;
        o.call_id = call_id;
        o.end_session = kill;
        return o;
      }
      same_in_a_row = streak;
      last_call = key;
    }

    // Before any isolate is made: the rate limit, then the schema.
    if (d.rate_limit) {
      if (!rate) rate = std::make_unique<RateLimiter>(opts.rate_db);
      RateDecision rd = rate->acquire(opts.profile_key, name, *d.rate_limit);
      if (!rd.allowed) return refuse(name, call_id, "rate_limited", "rate limit: " + rd.reason, base);
    }
    const ToolInfo& i = info(t);
    (void)i;
    if (auto bad = t.schema->validate(input)) {
      return refuse(name, call_id, "invalid_input", "input does not match the tool's schema: " + *bad, base);
    }
    if (d.requires_approval) {
      std::string who;
      bool approved = false;
      if (opts.approve == ApprovalMode::Never) {
        who = "--approve=never";
      } else if (opts.prompt) {
        approved = opts.prompt(d, input, who);
      } else {
        who = "no terminal to ask on";
      }
      nlohmann::json a = base;
      a["by"] = who;
      audit(approved ? "approve" : "reject", name, approved ? "approved by " + who : "not approved (" + who + ")", a);
      if (!approved) {
        ToolOutcome o;
        o.kind = "rejected";
        o.error = "the call was not approved (" + who + ")";
        o.call_id = call_id;
        return o;
      }
    }
    if (cancelled != nullptr && cancelled->load()) {
      ToolOutcome o;
      o.kind = "cancelled";
      o.error = "cancelled";
      o.call_id = call_id;
      return o;
    }

    audit("call", name, "called", base);
    ++session_calls;
    ++tool_calls[name];
    std::random_device rd;
    tools::ToolCall tc = make_call(
        t, input, (static_cast<std::uint64_t>(rd()) << 32) | rd(),
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    nlohmann::json decisions = nlohmann::json::array();
    auto started = std::chrono::steady_clock::now();
    tools::ToolResult r = worker(t).call(
        tc, [&](const tools::HostRequest& req) { return host(d, req, decisions); },
        [&](std::int64_t, const std::string& message) {
          if (opts.on_log) opts.on_log(name, message);
        });
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    // Host functions outside the grants never reach the supervisor: the worker refuses them
    // itself. They are denials all the same.
    for (const auto& h : r.host_calls) {
      const std::string fn = h.value("fn", std::string());
      const std::string err = h.value("error", std::string());
      if (h.value("ok", true) || err.rfind("not authorized", 0) != 0) continue;
      const auto granted = tc.grants;
      if (std::find(granted.begin(), granted.end(), fn) != granted.end()) continue;
      decisions.push_back({{"fn", fn}, {"ok", false}, {"detail", err}});
      audit("deny", name, err + " (" + fn + " is not granted to " + name + ")",
            {{"tool", name}, {"call", call_id}, {"fn", fn}, {"kind", "not_authorized"}});
    }
    nlohmann::json res = base;
    res["ok"] = r.ok;
    res["duration_ms"] = static_cast<std::int64_t>(ms);
    res["host_calls"] = decisions;
    res["seed"] = tc.seed;
    res["time_ms"] = tc.time_ms;
    if (!r.ok) {
      res["kind"] = r.kind;
      res["error"] = r.error;
    } else if (d.audit_full) {
      res["output"] = r.output;
    } else {
      res["output_sha256"] = sha256_hex(r.output.dump());
    }
    audit("result", name, r.ok ? "ok" : r.kind + ": " + r.error, res);
    ToolOutcome o;
    o.ok = r.ok;
    o.output = r.output;
    o.error = r.error;
    o.kind = r.kind;
    o.call_id = call_id;
    return o;
  }
};

ToolOutcome ToolRuntime::replay(const std::string& name, const nlohmann::json& input, const ReplaySpec& spec) {
  ToolOutcome o;
  auto it = impl_->tools.find(name);
  if (it == impl_->tools.end()) {
    o.found = false;
    o.kind = "not_found";
    o.error = "tool not found: " + name + " (no longer in the profile)";
    return o;
  }
  Impl::Tool& t = it->second;
  const ToolDecl& d = *t.decl;
  (void)impl_->info(t);
  tools::ToolCall tc = impl_->make_call(t, input, spec.seed, spec.time_ms);
  std::size_t next = 0;
  std::string divergence;
  nlohmann::json decisions = nlohmann::json::array();
  tools::ToolResult r = impl_->worker(t).call(tc, [&](const tools::HostRequest& req) -> tools::HostAnswer {
    if (!spec.answers) return impl_->host_answer(d, req, decisions);
    const auto& answers = *spec.answers;
    if (next >= answers.size() || answers[next].fn != req.fn) {
      if (divergence.empty()) {
        divergence = "the script called " + req.fn + " where the record has " +
                     (next < answers.size() ? answers[next].fn : std::string("no further host call"));
      }
      return tools::HostAnswer::failure("replay: " + divergence);
    }
    const nlohmann::json& a = answers[next++].answer;
    if (a.value("ok", false)) {
      if (a.contains("secret")) {
        // Secrets are never recorded: the replay gets the current value, or a placeholder.
        std::string n = a["secret"].is_string() ? a["secret"].get<std::string>() : "";
        auto s = impl_->opts.secrets.find(n);
        return tools::HostAnswer::success(s != impl_->opts.secrets.end() ? s->second : "<secret " + n + ">");
      }
      return tools::HostAnswer::success(a.value("value", nlohmann::json()));
    }
    return tools::HostAnswer::failure(a.value("error", std::string("failed")));
  });
  o.ok = r.ok && divergence.empty();
  o.output = r.output;
  o.error = divergence.empty() ? r.error : "replay diverged: " + divergence;
  o.kind = divergence.empty() ? r.kind : "diverged";
  if (divergence.empty() && spec.answers && next < spec.answers->size()) {
    o.ok = false;
    o.kind = "diverged";
    o.error = "replay diverged: the script made " + std::to_string(next) + " host calls, the record has " +
              std::to_string(spec.answers->size());
  }
  return o;
}

ToolRuntime::ToolRuntime(const Policy& policy, ToolRuntimeOptions options)
    : impl_(std::make_unique<Impl>(policy, std::move(options))) {}

ToolRuntime::~ToolRuntime() = default;

std::vector<ToolInfo> ToolRuntime::list() {
  std::vector<ToolInfo> out;
  for (auto& [name, t] : impl_->tools) out.push_back(impl_->info(t));
  return out;
}

bool ToolRuntime::has(const std::string& name) const {
  return impl_->tools.count(name) != 0;
}

ToolOutcome ToolRuntime::call(const std::string& name, const nlohmann::json& input,
                              const std::atomic<bool>* cancelled) {
  return impl_->call(name, input, cancelled);
}

}  // namespace paddock
