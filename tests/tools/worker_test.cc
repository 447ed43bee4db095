// paddock-tool-worker end to end through WorkerClient: the tool contract, the hardened isolate, the limits, and a
// worker dying under the client. Every ToolWorker test runs twice: with the startup snapshot and without, and
// must see the same behaviour.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tools/worker_client.h"
#include "worker_test_support.h"

namespace paddock::tools {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::int64_t kTime = 1764000000000;

ToolCall make_call(std::string source, json input = nullptr) {
  return make_test_call(std::move(source), std::move(input), kTime);
}

class ToolWorker : public ::testing::TestWithParam<bool> {
 protected:
  ToolResult run(const ToolCall& call, const HostHandler& host = refuse_all) { return client.call(call, host); }
  ToolResult run(std::string source, json input = nullptr) { return run(make_call(std::move(source), input)); }
  // The next call on the same client must work, whatever the previous one did.
  void expect_healthy() {
    ToolResult r = run("export default async (i) => i + 1;", 41);
    ASSERT_TRUE(r.ok) << r.kind << ": " << r.error;
    EXPECT_EQ(r.output, 42);
  }

  // Snapshots from a cache shared by the whole test run (the first test makes the blob, the others load it).
  static WorkerOptions options() { return test_options(GetParam()); }

  WorkerClient client{worker_path(), options()};
};

INSTANTIATE_TEST_SUITE_P(Snapshot, ToolWorker, ::testing::Bool(), [](const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "WithSnapshot" : "WithoutSnapshot";
});

TEST_P(ToolWorker, UsesTheSnapshotOnlyWhenAsked) {
  ToolResult r = run("export default async () => 1;");
  ASSERT_TRUE(r.ok) << r.error;
  if (GetParam()) {
    EXPECT_THAT(client.snapshot_status(), ::testing::AnyOf("made", "loaded"));
    EXPECT_TRUE(r.isolate.snapshot);
  } else {
    EXPECT_EQ(client.snapshot_status(), "off");
    EXPECT_FALSE(r.isolate.snapshot);
  }
  EXPECT_GT(r.isolate.serial, 0);
}

TEST_P(ToolWorker, TrivialToolReturnsItsInput) {
  json input = {{"a", 1}, {"b", {"x", "y"}}};
  ToolResult r = run("export default async function (input, host) { return input; }", input);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, input);
  EXPECT_TRUE(r.host_calls.empty());
  ToolResult sync = run("export default function (input) { return {n: input.n * 2}; }", json{{"n", 21}});
  ASSERT_TRUE(sync.ok) << sync.error;
  EXPECT_EQ(sync.output, json({{"n", 42}}));
  ToolResult undef = run("export default async function () {}");
  ASSERT_TRUE(undef.ok) << undef.error;
  EXPECT_TRUE(undef.output.is_null());
}

TEST_P(ToolWorker, GrantedHostFunctionRoundTrip) {
  ToolCall call = make_call(R"JS(
    export default async function (input, host) {
      const text = await host.fs.read("/data/a.txt");
      const rows = await host.db.query("select 1", [1]);
      return { text, rows };
    })JS");
  call.grants = {"fs.read", "db.query"};
  std::vector<HostRequest> seen;
  ToolResult r = run(call, [&](const HostRequest& req) {
    seen.push_back(req);
    if (req.fn == "fs.read") return HostAnswer::success("hello");
    return HostAnswer::success(json::array({json{{"x", 1}}}));
  });
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, json({{"text", "hello"}, {"rows", json::array({json{{"x", 1}}})}}));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].fn, "fs.read");
  EXPECT_EQ(seen[0].args, json::array({"/data/a.txt"}));
  EXPECT_EQ(seen[1].fn, "db.query");
  EXPECT_EQ(seen[1].args, json::array({"select 1", json::array({1})}));
  EXPECT_EQ(r.host_calls, json::parse(R"([{"fn":"fs.read","ok":true},{"fn":"db.query","ok":true}])"));
}

TEST_P(ToolWorker, HostFailureRejectsThePromise) {
  ToolCall call = make_call(R"JS(
    export default async function (input, host) {
      try { await host.fs.read("/etc/shadow"); return "read"; } catch (e) { return String(e); }
    })JS");
  call.grants = {"fs.read"};
  ToolResult r = run(call, [](const HostRequest&) -> HostAnswer { throw std::runtime_error("path outside grants"); });
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, "Error: path outside grants");
  EXPECT_EQ(r.host_calls, json::parse(R"([{"fn":"fs.read","ok":false,"error":"path outside grants"}])"));
}

TEST_P(ToolWorker, UngrantedHostFunctionThrowsNotAuthorizedWithoutAsking) {
  ToolCall call = make_call(R"JS(
    export default async function (input, host) {
      const out = [];
      try { await host.fs.write("/x", "y"); } catch (e) { out.push(e.message); }
      try { host.secret("TOKEN"); } catch (e) { out.push(e.message); }
      out.push(typeof host.fetch, Object.isFrozen(host));
      return out;
    })JS");
  call.grants = {"fs.read"};
  int asked = 0;
  ToolResult r = run(call, [&](const HostRequest&) {
    ++asked;
    return HostAnswer::success(nullptr);
  });
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(asked, 0);
  EXPECT_EQ(r.output, json::parse(R"(["not authorized: fs.write","not authorized: secret","function",true])"));
  EXPECT_EQ(r.host_calls, json::parse(R"([{"fn":"fs.write","ok":false,"error":"not authorized: fs.write"},
                                          {"fn":"secret","ok":false,"error":"not authorized: secret"}])"));

  ToolResult escaped = run(make_call("export default async (i, host) => host.fetch('https://example.com');"));
  EXPECT_FALSE(escaped.ok);
  EXPECT_EQ(escaped.kind, "not_authorized");
  EXPECT_THAT(escaped.error, HasSubstr("not authorized: fetch"));
}

TEST_P(ToolWorker, SecretIsSynchronousAndLogIsFireAndForget) {
  ToolCall call = make_call(R"JS(
    export default async function (input, host) {
      host.log("starting", {n: 1});
      return "Bearer " + host.secret("MAIL_TOKEN");
    })JS");
  call.grants = {"secret", "log"};
  std::vector<std::string> logs;
  ToolResult r = client.call(
      call,
      [](const HostRequest& req) {
        EXPECT_EQ(req.fn, "secret");
        return HostAnswer::success("s3cr3t");
      },
      [&](std::int64_t, const std::string& message) { logs.push_back(message); });
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, "Bearer s3cr3t");
  EXPECT_EQ(logs, std::vector<std::string>{R"(starting {"n":1})"});
}

TEST_P(ToolWorker, ImportsAreRefused) {
  ToolResult r = run("import fs from 'fs';\nexport default async () => 1;");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "bad_module");
  EXPECT_THAT(r.error, HasSubstr("imports are not allowed"));
  ToolResult dyn = run("export default async () => (await import('./other.mjs')).x;");
  EXPECT_FALSE(dyn.ok);
  EXPECT_THAT(dyn.error, HasSubstr("imports are not allowed"));
  expect_healthy();
}

TEST_P(ToolWorker, BadModulesAreReported) {
  ToolResult syntax = run("export default async function ( {");
  EXPECT_EQ(syntax.kind, "bad_module");
  EXPECT_THAT(syntax.error, HasSubstr("SyntaxError"));
  ToolResult no_default = run("export const x = 1;");
  EXPECT_EQ(no_default.kind, "bad_module");
  EXPECT_THAT(no_default.error, HasSubstr("default export"));
  ToolResult throws = run("throw new TypeError('top');\nexport default async () => 1;");
  EXPECT_EQ(throws.kind, "bad_module");
  ToolResult never = run("export default async () => new Promise(() => {});");
  EXPECT_EQ(never.kind, "exception");
  EXPECT_THAT(never.error, HasSubstr("never settles"));
  expect_healthy();
}

TEST_P(ToolWorker, MalformedRequestsAreAnsweredNotFatal) {
  // Through the client every field is well-typed; speak to a worker directly to send a bad one.
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  std::string path = worker_path();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(sv[1], kWorkerFd);
    ::execl(path.c_str(), path.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(sv[1]);
  UniqueFd sock(sv[0]);
  ASSERT_TRUE(send_frame(sock.get(), R"({"type":"call","id":1,"source":"export default () => 1;","wasm":"yes"})"));
  ASSERT_TRUE(send_frame(sock.get(), R"({"type":"call","id":2,"source":"export default () => 2;"})"));
  FrameReader reader;
  std::vector<json> replies;
  std::string frame;
  while (replies.size() < 2 && reader.read(sock.get(), frame) == FrameReader::Status::kFrame) {
    json msg = json::parse(frame);
    if (msg["type"] == "result") replies.push_back(msg);
  }
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0]["kind"], "protocol");
  EXPECT_THAT(replies[0]["error"].get<std::string>(), HasSubstr("wasm"));
  EXPECT_EQ(replies[1]["output"], 2);
  sock.reset();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(status, 0);
}

TEST_P(ToolWorker, EvalAndFunctionFromStringsAreRefused) {
  ToolResult r = run(R"JS(
    export default async function () {
      const out = [];
      try { eval("1 + 1"); out.push("eval ran"); } catch (e) { out.push(e.name); }
      try { new Function("return 1")(); out.push("Function ran"); } catch (e) { out.push(e.name); }
      try { (async function () {}).constructor("return 1"); out.push("AsyncFunction ran"); } catch (e) { out.push(e.name); }
      return out;
    })JS");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, json::parse(R"(["EvalError","EvalError","EvalError"])"));
}

// The smallest valid module: the magic number and version.
constexpr const char* kWasmProbe = R"JS(
  export default async function () {
    if (typeof WebAssembly === "undefined") return "absent";
    try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); return "compiled"; }
    catch (e) { return String(e); }
  })JS";

TEST_P(ToolWorker, WebAssemblyOnlyWhenGranted) {
  ToolResult refused = run(kWasmProbe);
  ASSERT_TRUE(refused.ok) << refused.error;
  EXPECT_EQ(refused.output, "absent");
  ToolCall call = make_call(kWasmProbe);
  call.wasm = true;
  ToolResult granted = run(call);
  ASSERT_TRUE(granted.ok) << granted.error;
  EXPECT_EQ(granted.output, "compiled");
  ToolResult again = run(kWasmProbe);  // the grant does not leak into the next call
  EXPECT_EQ(again.output, "absent");
}

TEST_P(ToolWorker, NoSharedMemoryNoTimersNoHostApis) {
  ToolResult r = run(R"JS(
    export default async function () {
      return [typeof SharedArrayBuffer, typeof Atomics.wait, typeof performance, typeof setTimeout,
              typeof process, typeof require, typeof WebAssembly];
    })JS");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, json::parse(R"(["undefined","undefined","undefined","undefined","undefined","undefined",
                                      "undefined"])"));
}

TEST_P(ToolWorker, GlobalsAreOnlyTheLanguageOnes) {
  ToolResult r = run("export default async () => Object.getOwnPropertyNames(globalThis);");
  ASSERT_TRUE(r.ok) << r.error;
  static const std::vector<std::string> kAllowed = {
      "Object",
      "Function",
      "Array",
      "Number",
      "parseFloat",
      "parseInt",
      "Infinity",
      "NaN",
      "undefined",
      "Boolean",
      "String",
      "Symbol",
      "Date",
      "Promise",
      "RegExp",
      "Error",
      "AggregateError",
      "EvalError",
      "RangeError",
      "ReferenceError",
      "SyntaxError",
      "TypeError",
      "URIError",
      "globalThis",
      "JSON",
      "Math",
      "Intl",
      "ArrayBuffer",
      "Uint8Array",
      "Int8Array",
      "Uint16Array",
      "Int16Array",
      "Uint32Array",
      "Int32Array",
      "Float32Array",
      "Float64Array",
      "Uint8ClampedArray",
      "BigUint64Array",
      "BigInt64Array",
      "DataView",
      "Map",
      "BigInt",
      "Set",
      "WeakMap",
      "WeakSet",
      "Proxy",
      "Reflect",
      "FinalizationRegistry",
      "WeakRef",
      "decodeURI",
      "decodeURIComponent",
      "encodeURI",
      "encodeURIComponent",
      "escape",
      "unescape",
      "eval",
      "isFinite",
      "isNaN",
      "console",
      "Atomics",
      // V8's Error.captureStackTrace lives on Error; nothing else is expected here.
  };
  for (const auto& name : r.output) {
    EXPECT_NE(std::find(kAllowed.begin(), kAllowed.end(), name.get<std::string>()), kAllowed.end())
        << "unexpected global " << name;
  }
}

TEST_P(ToolWorker, DateNowIsTheCallTimeAndCoarse) {
  ToolResult r = run(R"JS(
    export default async function () {
      const start = Date.now(), date = new Date().getTime();
      let now = start;
      while (now - start < 250) now = Date.now();  // busy-wait: the only clock there is
      return [start, date, now];
    })JS");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output[0], kTime);
  EXPECT_EQ(r.output[1], kTime);
  std::int64_t later = r.output[2].get<std::int64_t>() - kTime;
  EXPECT_GE(later, 300);
  EXPECT_EQ(later % 100, 0) << later;
}

TEST_P(ToolWorker, MathRandomFollowsTheSeed) {
  const char* source = "export default async () => [Math.random(), Math.random(), Math.random()];";
  ToolCall a = make_call(source);
  a.seed = 7;
  ToolCall b = make_call(source);
  b.seed = 8;
  ToolResult a1 = run(a), a2 = run(a), b1 = run(b);
  ASSERT_TRUE(a1.ok && a2.ok && b1.ok);
  EXPECT_EQ(a1.output, a2.output);
  EXPECT_NE(a1.output, b1.output);
  for (const auto& x : a1.output) {
    EXPECT_GE(x.get<double>(), 0.0);
    EXPECT_LT(x.get<double>(), 1.0);
  }
}

TEST_P(ToolWorker, InfiniteLoopTimesOut) {
  ToolCall call = make_call("export default async () => { for (;;) {} };");
  call.limits.timeout_ms = 300;
  auto t0 = std::chrono::steady_clock::now();
  ToolResult r = run(call);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "timeout");
  EXPECT_GE(ms, 290);
  EXPECT_LT(ms, 300 + 700);
  expect_healthy();
}

TEST_P(ToolWorker, InfinitePromiseChainTimesOut) {
  ToolCall call = make_call("export default async () => { for (;;) await null; };");
  call.limits.timeout_ms = 300;
  ToolResult r = run(call);
  EXPECT_EQ(r.kind, "timeout");
  ToolCall chain = make_call(
      "export default () => { const f = () => Promise.resolve().then(f); f(); return new "
      "Promise(() => {}); };");
  chain.limits.timeout_ms = 300;
  EXPECT_EQ(run(chain).kind, "timeout");
  expect_healthy();
}

TEST_P(ToolWorker, WaitingForTheHostCountsUnlessTheClockIsPaused) {
  ToolCall call = make_call("export default async (i, host) => await host.fetch('https://example.com');");
  call.grants = {"fetch"};
  call.limits.timeout_ms = 300;
  ToolResult slow = run(call, [](const HostRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    return HostAnswer::success("late");
  });
  EXPECT_EQ(slow.kind, "timeout");
  ToolResult approved = run(call, [&](const HostRequest&) {
    client.pause_clock();  // a person is deciding: not the tool's time
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    client.resume_clock();
    return HostAnswer::success("approved");
  });
  ASSERT_TRUE(approved.ok) << approved.kind << ": " << approved.error;
  EXPECT_EQ(approved.output, "approved");
}

TEST_P(ToolWorker, HeapBombEndsWithMemoryAndTheWorkerSurvives) {
  ToolCall call = make_call("export default async () => { const a = []; for (;;) a.push({n: a.length, s: [1, 2]}); };");
  call.limits.memory_bytes = 32u << 20;
  ToolResult r = run(call);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "memory") << r.error;
  pid_t pid = client.pid();
  expect_healthy();
  EXPECT_EQ(client.pid(), pid);  // the same worker: only its isolate was replaced
}

TEST_P(ToolWorker, HugeArrayFillIsACleanError) {
  // One allocation past every limit: V8 cannot unwind it, so the worker reports the call and exits; the client
  // starts a new worker for the next call.
  ToolResult r = run("export default async () => { new Array(2e8).fill(0); return 1; };");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "memory") << r.error;
  expect_healthy();
}

TEST_P(ToolWorker, GiantBuffersAreRangeErrors) {
  for (const char* expr : {"new ArrayBuffer(2 ** 31)", "new Uint8Array(2 ** 31)", "new Float64Array(2 ** 28)"}) {
    ToolResult r = run(std::string("export default async () => { const b = ") + expr + "; return b.byteLength; };");
    EXPECT_FALSE(r.ok) << expr;
    EXPECT_EQ(r.kind, "exception") << expr;
    EXPECT_THAT(r.error, HasSubstr("RangeError")) << expr;
  }
  ToolResult small = run("export default async () => new Uint8Array(1 << 20).length;");
  EXPECT_EQ(small.output, 1 << 20);
}

TEST_P(ToolWorker, DeepRecursionIsARangeError) {
  ToolResult r = run("export default async () => { const f = (n) => f(n + 1) + 1; return f(0); };");
  EXPECT_EQ(r.kind, "exception");
  EXPECT_THAT(r.error, HasSubstr("Maximum call stack size exceeded"));
  expect_healthy();
}

TEST_P(ToolWorker, OutputOverTheCapIsRefused) {
  ToolCall call = make_call("export default async () => 'x'.repeat(2000);");
  call.limits.max_output_bytes = 1000;
  ToolResult r = run(call);
  EXPECT_EQ(r.kind, "output_too_large");
  call.limits.max_output_bytes = 2002;  // the JSON string's quotes count
  EXPECT_TRUE(run(call).ok);
  ToolResult cyclic = run("export default async () => { const o = {}; o.o = o; return o; };");
  EXPECT_EQ(cyclic.kind, "exception");
}

TEST_P(ToolWorker, KilledWorkerIsReportedAsACrash) {
  ToolCall call = make_call("export default async (i, host) => await host.fs.list('/');");
  call.grants = {"fs.list"};
  ToolResult r = run(call, [&](const HostRequest&) {
    ::kill(client.pid(), SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return HostAnswer::success(json::array());
  });
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "crash");
  EXPECT_THAT(r.error, HasSubstr("signal 9"));
  expect_healthy();  // a new worker
}

TEST_P(ToolWorker, DescribeReadsTheExportsWithoutRunningTheTool) {
  ToolDescription d = client.describe(R"JS(
    export const description = "Send an email";
    export const input = { type: "object", properties: { to: { type: "string" } }, required: ["to"] };
    export default async function () { throw new Error("must not run"); }
  )JS");
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.description, "Send an email");
  EXPECT_EQ(d.input_schema["required"], json::array({"to"}));
  ToolDescription bare = client.describe("export default async () => 1;");
  ASSERT_TRUE(bare.ok);
  EXPECT_TRUE(bare.description.is_null());
  EXPECT_TRUE(bare.input_schema.is_null());
  ToolDescription bad = client.describe("export const description = ;");
  EXPECT_EQ(bad.kind, "bad_module");
}

TEST_P(ToolWorker, StartThrowsForAMissingWorker) {
  WorkerClient missing("/nonexistent/paddock-tool-worker", test_options());
  EXPECT_THROW(missing.start(), std::exception);
}

// A stand-in worker: a shell script that misbehaves on fd 3.
std::string fake_worker(const std::string& name, const std::string& body) {
  std::string path = ::testing::TempDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "w");
  std::fprintf(f, "#!/bin/sh\n%s\n", body.c_str());
  std::fclose(f);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(ToolWorkerClient, GarbageFromTheWorkerIsACrash) {
  WorkerClient client(fake_worker("garbage-worker", "printf 'garbage that is no frame' >&3; sleep 5"), test_options());
  ToolResult r = client.call(make_call("export default async () => 1;"), refuse_all);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "crash");
}

TEST(ToolWorkerClient, AWorkerThatExitsIsACrash) {
  WorkerClient client(fake_worker("exiting-worker", "exit 3"), test_options());
  ToolResult r = client.call(make_call("export default async () => 1;"), refuse_all);
  EXPECT_EQ(r.kind, "crash");
  EXPECT_THAT(r.error, HasSubstr("exited with status 3"));
}

TEST(ToolWorkerClient, ASilentWorkerIsKilledAfterTheGracePeriod) {
  WorkerClient client(fake_worker("silent-worker", "exec sleep 60"), test_options());
  ToolCall call = make_call("export default async () => 1;");
  call.limits.timeout_ms = 100;
  ToolResult r = client.call(call, refuse_all);
  EXPECT_EQ(r.kind, "timeout");
  EXPECT_FALSE(client.running());
}

TEST(ToolWorkerClient, TheWorkerExitsCleanlyAtEndOfFile) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  std::string path = worker_path();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(sv[1], kWorkerFd);
    ::execl(path.c_str(), path.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(sv[1]);
  {
    WorkerClient adopted(UniqueFd(sv[0]), -1, test_options());  // not ours to reap: this test waits itself
    ToolResult r = adopted.call(make_call("export default async (i) => i;", 5), refuse_all);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.output, 5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

// Not a timing assertion (CI machines are noisy): prints the figures, fails only on absurd ones.
TEST_P(ToolWorker, LatencyWarmAndCold) {
  std::vector<double> cold;
  std::vector<double> first;
  ToolCall call = make_call("export default async (input) => ({ echo: input });", json{{"q", "x"}});
  for (int i = 0; i < 10; ++i) {
    WorkerClient fresh(worker_path(), options());
    auto t0 = std::chrono::steady_clock::now();
    fresh.start();
    auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(fresh.call(call, refuse_all).ok);
    cold.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    first.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count());
  }
  ASSERT_TRUE(run(call).ok);
  std::vector<double> warm;
  for (int i = 0; i < 500; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ToolResult r = run(call);
    warm.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_TRUE(r.ok);
  }
  std::printf(
      "tool worker (%s): cold start (spawn to ready) p50 %.2f ms; first call p50 %.3f ms; warm trivial call p50 %.3f "
      "ms, p99 %.3f ms\n",
      GetParam() ? "snapshot" : "no snapshot", percentile(cold, 0.5), percentile(first, 0.5), percentile(warm, 0.5),
      percentile(warm, 0.99));
  EXPECT_LT(percentile(warm, 0.5), 50.0);
}

}  // namespace
}  // namespace paddock::tools
