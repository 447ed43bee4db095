// The tool worker's startup snapshot and isolate pool: the cache (made once, reused, tampering detected, foreign
// or unsafe files refused), the worker's own checks, identical behaviour with and without a snapshot, pooled
// isolates after a termination, and the start-up figures with and without a snapshot.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/sha256.h"
#include "tools/snapshot_cache.h"
#include "worker_test_support.h"

namespace paddock::tools {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::int64_t kTime = 1764000000000;

ToolCall make_call(std::string source, json input = nullptr) {
  return make_test_call(std::move(source), std::move(input), kTime);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data, mode_t mode = 0600) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::fchmod(fd, mode);
  ::close(fd);
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

// A test with a cache of its own.
class Snapshot : public ::testing::Test {
 protected:
  WorkerOptions options() const {
    WorkerOptions o;
    o.snapshot_dir = dir.path() + "/cache/paddock";  // not there yet: the client creates it
    return o;
  }
  // Starts a worker, checks it answers, and says how it got its snapshot.
  std::string start_worker() {
    WorkerClient client(worker_path(), options());
    client.start();
    ToolResult r = client.call(make_call("export default async (i) => i * 2;", 21), refuse_all);
    EXPECT_TRUE(r.ok) << r.kind << ": " << r.error;
    EXPECT_EQ(r.output, 42);
    EXPECT_EQ(r.isolate.snapshot, client.snapshot_status() == "made" || client.snapshot_status() == "loaded");
    return client.snapshot_status();
  }
  // The one entry of the cache: its blob and sidecar paths.
  std::pair<std::string, std::string> entry() {
    std::vector<std::string> blobs;
    std::string cache = options().snapshot_dir;
    for (const auto& e : std::filesystem::directory_iterator(cache))
      if (e.path().extension() == ".blob") blobs.push_back(e.path().string());
    EXPECT_EQ(blobs.size(), 1u);
    if (blobs.empty()) return {};
    std::string base = blobs[0].substr(0, blobs[0].size() - 5);
    return {base + ".blob", base + ".json"};
  }

  ScratchDir dir;
};

TEST_F(Snapshot, MadeOnceThenReusedFromTheCache) {
  EXPECT_EQ(start_worker(), "made");
  auto [blob, sidecar] = entry();
  struct stat made = stat_of(blob);
  EXPECT_EQ(made.st_mode & 0777, 0600u);
  EXPECT_EQ(stat_of(sidecar).st_mode & 0777, 0600u);
  EXPECT_EQ(stat_of(options().snapshot_dir).st_mode & 0777, 0700u);
  json meta = json::parse(read_file(sidecar));
  std::string bytes = read_file(blob);
  EXPECT_EQ(meta["size"], bytes.size());
  EXPECT_EQ(meta["sha256"], sha256_hex(bytes));
  EXPECT_EQ(meta["key"].get<std::string>() + ".blob", std::filesystem::path(blob).filename().string());

  EXPECT_EQ(start_worker(), "loaded");
  EXPECT_EQ(start_worker(), "loaded");
  struct stat reused = stat_of(blob);
  EXPECT_EQ(reused.st_ino, made.st_ino);
  EXPECT_EQ(reused.st_mtim.tv_sec, made.st_mtim.tv_sec);
  EXPECT_EQ(reused.st_mtim.tv_nsec, made.st_mtim.tv_nsec);
}

TEST_F(Snapshot, ATamperedBlobIsDetectedAndRebuilt) {
  ASSERT_EQ(start_worker(), "made");
  auto [blob, sidecar] = entry();
  std::string bytes = read_file(blob);
  ino_t before = stat_of(blob).st_ino;
  // Flip one byte in place: same file, same size, same permissions.
  int fd = ::open(blob.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  char flipped = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  ASSERT_EQ(::pwrite(fd, &flipped, 1, static_cast<off_t>(bytes.size() / 2)), 1);
  ::close(fd);

  EXPECT_EQ(start_worker(), "made");
  EXPECT_NE(stat_of(blob).st_ino, before);  // replaced, not patched
  json meta = json::parse(read_file(sidecar));
  EXPECT_EQ(meta["sha256"], sha256_hex(read_file(blob)));
  EXPECT_EQ(start_worker(), "loaded");
}

TEST_F(Snapshot, ABlobWithAWrongSidecarIsRefused) {
  ASSERT_EQ(start_worker(), "made");
  auto [blob, sidecar] = entry();
  json meta = json::parse(read_file(sidecar));
  std::string cache = options().snapshot_dir;
  SnapshotCache c(cache);
  std::string why;

  json wrong_hash = meta;
  wrong_hash["sha256"] = sha256_hex("something else");
  write_file(sidecar, wrong_hash.dump());
  EXPECT_FALSE(c.load(meta["key"], &why));
  EXPECT_THAT(why, HasSubstr("SHA-256"));
  EXPECT_EQ(start_worker(), "made");

  json wrong_size = json::parse(read_file(sidecar));
  wrong_size["size"] = wrong_size["size"].get<std::uint64_t>() + 1;
  write_file(sidecar, wrong_size.dump());
  EXPECT_FALSE(c.load(meta["key"], &why));
  EXPECT_THAT(why, HasSubstr("bytes"));
  EXPECT_EQ(start_worker(), "made");

  write_file(sidecar, "{\"format\":1}");
  EXPECT_FALSE(c.load(meta["key"], &why));
  EXPECT_THAT(why, HasSubstr("not a sidecar paddock wrote"));
  EXPECT_EQ(start_worker(), "made");
  EXPECT_EQ(start_worker(), "loaded");
}

TEST_F(Snapshot, UnsafeCacheFilesAreNotUsed) {
  ASSERT_EQ(start_worker(), "made");
  auto [blob, sidecar] = entry();
  std::string key = json::parse(read_file(sidecar))["key"];
  SnapshotCache c(options().snapshot_dir);
  std::string why;

  ASSERT_EQ(::chmod(blob.c_str(), 0664), 0);  // group-writable: anyone in the group could have changed it
  EXPECT_FALSE(c.load(key, &why));
  EXPECT_THAT(why, HasSubstr("writable by group or others"));
  EXPECT_EQ(start_worker(), "made");
  EXPECT_EQ(stat_of(blob).st_mode & 0777, 0600u);

  // A symbolic link, even to a good copy, is not a file paddock wrote there.
  std::string copy = dir.path() + "/copy.blob";
  write_file(copy, read_file(blob));
  ::unlink(blob.c_str());
  ASSERT_EQ(::symlink(copy.c_str(), blob.c_str()), 0);
  EXPECT_FALSE(c.load(key, &why));
  EXPECT_THAT(why, HasSubstr("symbolic link"));
  EXPECT_EQ(start_worker(), "made");
  EXPECT_TRUE(S_ISREG(stat_of(blob).st_mode));

  // A directory others may write to is not used at all; the worker runs without a snapshot.
  ASSERT_EQ(::chmod(options().snapshot_dir.c_str(), 0777), 0);
  std::string status = start_worker();
  EXPECT_THAT(status, HasSubstr("none: "));
  EXPECT_THAT(status, HasSubstr("not private"));
  ::chmod(options().snapshot_dir.c_str(), 0700);
}

TEST_F(Snapshot, AForeignBlobWithAMatchingSidecarIsRefusedByTheWorker) {
  ASSERT_EQ(start_worker(), "made");
  auto [blob, sidecar] = entry();
  // Someone who can write our cache writes bytes and a sidecar that agree: the worker's own check (V8's version
  // stamp) still refuses them, without crashing, and a real blob replaces them.
  std::string garbage(600000, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 2654435761u >> 13);
  json meta = json::parse(read_file(sidecar));
  meta["size"] = garbage.size();
  meta["sha256"] = sha256_hex(garbage);
  write_file(blob, garbage);
  write_file(sidecar, meta.dump());
  EXPECT_EQ(start_worker(), "made");
  EXPECT_NE(read_file(blob), garbage);
  EXPECT_EQ(start_worker(), "loaded");
}

// Speaks to a worker directly, as the supervisor would, to send what WorkerClient never does.
class RawWorker {
 public:
  RawWorker() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    std::string path = worker_path();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(sv[1], kWorkerFd);
      ::execl(path.c_str(), path.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(sv[1]);
    sock_ = UniqueFd(sv[0]);
    ready = next();
  }
  ~RawWorker() {
    sock_.reset();
    int status = 0;
    ::waitpid(pid_, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the worker did not exit cleanly: " << status;
  }
  void send(const json& msg) { ASSERT_TRUE(send_frame(sock_.get(), msg.dump())); }
  void send_raw(const std::string& bytes) { ASSERT_TRUE(send_frame(sock_.get(), bytes)); }
  json next() {
    std::string frame;
    if (reader_.read(sock_.get(), frame) != FrameReader::Status::kFrame) return nullptr;
    return json::parse(frame, nullptr, false);
  }
  std::string next_raw() {
    std::string frame;
    EXPECT_EQ(reader_.read(sock_.get(), frame), FrameReader::Status::kFrame);
    return frame;
  }
  json call(std::int64_t id, const std::string& source) {
    send({{"type", "call"}, {"id", id}, {"source", source}, {"seed", 1}});
    return next();
  }

  json ready;

 private:
  pid_t pid_ = -1;
  UniqueFd sock_;
  FrameReader reader_;
};

TEST(SnapshotWorker, ChecksWhatItIsGivenBeforeV8SeesIt) {
  RawWorker w;
  ASSERT_EQ(w.ready["type"], "ready");
  std::string recipe = w.ready["recipe"];
  EXPECT_EQ(recipe.size(), 64u);
  EXPECT_EQ(w.ready["libnode"].get<std::string>().find('/'), 0u);
  EXPECT_THAT(w.ready["libnode"].get<std::string>(), HasSubstr("libnode.so"));

  // Let it make a real blob, to have good bytes at hand.
  w.send({{"type", "make_snapshot"}, {"id", 1}});
  json made = w.next();
  ASSERT_EQ(made["ok"], true) << made.dump();
  std::string blob = w.next_raw();
  EXPECT_EQ(made["size"], blob.size());
  EXPECT_EQ(made["sha256"], sha256_hex(blob));
  EXPECT_EQ(made["recipe"], recipe);

  auto load = [&](std::int64_t id, const std::string& bytes, std::uint64_t size, const std::string& sha,
                  const std::string& rec) {
    w.send({{"type", "snapshot"}, {"id", id}, {"size", size}, {"sha256", sha}, {"recipe", rec}});
    w.send_raw(bytes);
    return w.next();
  };
  json wrong_hash = load(2, blob, blob.size(), sha256_hex("other"), recipe);
  EXPECT_EQ(wrong_hash["ok"], false);
  EXPECT_THAT(wrong_hash["error"].get<std::string>(), HasSubstr("SHA-256"));
  json wrong_size = load(3, blob, blob.size() - 1, made["sha256"], recipe);
  EXPECT_EQ(wrong_size["ok"], false);
  json wrong_recipe = load(4, blob, blob.size(), made["sha256"], sha256_hex("another prelude"));
  EXPECT_EQ(wrong_recipe["ok"], false);
  EXPECT_THAT(wrong_recipe["error"].get<std::string>(), HasSubstr("recipe"));
  std::string tiny = "not a snapshot";
  json short_blob = load(5, tiny, tiny.size(), sha256_hex(tiny), recipe);
  EXPECT_EQ(short_blob["ok"], false);
  std::string foreign(blob.size(), 'x');
  json not_v8 = load(6, foreign, foreign.size(), sha256_hex(foreign), recipe);
  EXPECT_EQ(not_v8["ok"], false);
  EXPECT_THAT(not_v8["error"].get<std::string>(), HasSubstr("V8"));

  json call = w.call(7, "export default () => [typeof SharedArrayBuffer, Math.random() < 1];");
  ASSERT_EQ(call["ok"], true) << call.dump();
  EXPECT_EQ(call["output"], json::parse(R"(["undefined",true])"));
  EXPECT_EQ(call["isolate"]["snapshot"], true);  // still the blob it made itself

  json good = load(8, blob, blob.size(), made["sha256"], recipe);
  EXPECT_EQ(good["ok"], true) << good.dump();
  json after = w.call(9, "export default () => 1;");
  EXPECT_EQ(after["output"], 1);
  EXPECT_EQ(after["isolate"]["snapshot"], true);
}

// The same tools, run with and without the snapshot, give the same answers.
TEST(SnapshotWorker, CallsBehaveTheSameWithAndWithoutASnapshot) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> tools = {
      {"export default async () => [Math.random(), Math.random(), Math.random()];", {}},
      {"export default async () => { const t = Date.now(); let n = t; while (n - t < 150) n = Date.now(); "
       "return [t, n - t, new Date().getTime() >= t]; };",
       {}},
      {"export default async () => { try { eval('1'); return 'eval ran'; } catch (e) { return e.name; } };", {}},
      {"export default async () => { try { new Function('return 1'); return 'ran'; } catch (e) { return e.name; } };",
       {}},
      {"export default async () => Object.getOwnPropertyNames(globalThis).sort();", {}},
      {"export default async () => [typeof SharedArrayBuffer, typeof Atomics.wait, typeof Atomics.waitAsync, "
       "typeof WebAssembly, typeof performance, typeof setTimeout];",
       {}},
      {"export default async (i, host) => [Object.keys(host), Object.keys(host.fs), Object.keys(host.db), "
       "Object.isFrozen(host), Object.isFrozen(host.fs), host.fs.read.name, typeof host.secret];",
       {}},
      {"export default async (i, host) => { const out = []; try { host.secret('X'); } catch (e) { out.push(e.message); "
       "}"
       " try { await host.fetch('https://x'); } catch (e) { out.push(e.message); } return out; };",
       {"log"}},
      {"export default async (i, host) => { host.log('hi'); return await host.fs.read('/a'); };", {"fs.read", "log"}},
      {"export default async () => { Math.random = () => 0.5; globalThis.leak = 1; return Math.random(); };", {}},
      {"export default async () => [typeof globalThis.leak, Math.random() !== 0.5];", {}},
  };
  auto run_all = [&](bool snapshot) {
    WorkerClient client(worker_path(), test_options(snapshot));
    std::vector<json> out;
    for (const auto& [source, grants] : tools) {
      ToolCall call = make_call(source);
      call.grants = grants;
      ToolResult r = client.call(call, [](const HostRequest& req) { return HostAnswer::success("read " + req.fn); });
      EXPECT_EQ(r.isolate.snapshot, snapshot);
      out.push_back({{"ok", r.ok}, {"output", r.output}, {"error", r.error}, {"host_calls", r.host_calls}});
    }
    return out;
  };
  std::vector<json> with = run_all(true);
  std::vector<json> without = run_all(false);
  ASSERT_EQ(with.size(), without.size());
  for (std::size_t i = 0; i < with.size(); ++i) EXPECT_EQ(with[i], without[i]) << tools[i].first;
  EXPECT_EQ(with[0]["output"].size(), 3u);
  EXPECT_EQ(with[1]["output"][0], kTime);
  EXPECT_EQ(with[2]["output"], "EvalError");
  EXPECT_EQ(with[5]["output"], json::parse(R"(["undefined","undefined","undefined","undefined","undefined",
                                                "undefined"])"));
  EXPECT_EQ(with[10]["output"], json::parse(R"(["undefined",true])"));  // nothing carries over between calls
}

TEST(SnapshotWorker, AfterATimeoutTheNextCallGetsAPooledIsolate) {
  for (bool snapshot : {true, false}) {
    SCOPED_TRACE(snapshot ? "with snapshot" : "without snapshot");
    WorkerClient client(worker_path(), test_options(snapshot));
    client.start();
    ToolCall quick = make_call("export default async (i) => i;", 1);
    ToolResult first = client.call(quick, refuse_all);
    ASSERT_TRUE(first.ok) << first.error;
    // A spare was made ahead, so even the first call found one.
    EXPECT_EQ(first.isolate.origin, "pool");
    ToolResult second = client.call(quick, refuse_all);
    EXPECT_EQ(second.isolate.origin, "kept");
    EXPECT_EQ(second.isolate.serial, first.isolate.serial);

    ToolCall loop = make_call("export default async () => { for (;;) {} };");
    loop.limits.timeout_ms = 200;
    ToolResult stuck = client.call(loop, refuse_all);
    EXPECT_EQ(stuck.kind, "timeout");
    EXPECT_EQ(stuck.isolate.serial, first.isolate.serial);  // the terminated isolate is thrown away afterwards

    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // idle time: the worker refills its pool
    auto t0 = std::chrono::steady_clock::now();
    ToolResult after = client.call(quick, refuse_all);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(after.ok) << after.error;
    EXPECT_EQ(after.isolate.origin, "pool");
    EXPECT_NE(after.isolate.serial, first.isolate.serial);
    EXPECT_EQ(after.isolate.snapshot, snapshot);
    std::printf("call after a timeout (%s): %.3f ms on a pooled isolate\n", snapshot ? "snapshot" : "no snapshot", ms);

    // A heap limit termination too; and the isolate after it is again a pooled one.
    ToolCall bomb = make_call("export default async () => { const a = []; for (;;) a.push({n: a.length}); };");
    bomb.limits.memory_bytes = 32u << 20;
    ToolResult oom = client.call(bomb, refuse_all);
    EXPECT_EQ(oom.kind, "memory");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bomb.source = "export default async () => 7;";
    ToolResult next = client.call(bomb, refuse_all);  // same memory limit: a spare made for it
    EXPECT_EQ(next.output, 7);
    EXPECT_EQ(next.isolate.origin, "pool");
    EXPECT_NE(next.isolate.serial, oom.isolate.serial);
  }
}

TEST(SnapshotWorker, DisabledMeansNoCacheAtAll) {
  ScratchDir dir;
  WorkerOptions o;
  o.snapshot = false;
  o.snapshot_dir = dir.path() + "/never";
  WorkerClient client(worker_path(), o);
  ToolResult r = client.call(make_call("export default async () => 1;"), refuse_all);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.isolate.snapshot);
  EXPECT_EQ(client.snapshot_status(), "off");
  EXPECT_FALSE(std::filesystem::exists(o.snapshot_dir));
}

TEST(SnapshotCacheKey, ChangesWithTheFilesItDependsOn) {
  ScratchDir dir;
  std::string lib = dir.path() + "/libnode.so.108", exe = dir.path() + "/worker";
  write_file(lib, "v8");
  write_file(exe, "worker");
  SnapshotIdentity id{"10.2.154.26-node.37", sha256_hex("recipe"), lib, exe};
  std::string why;
  std::string key = SnapshotCache::key(id, &why);
  ASSERT_EQ(key.size(), 64u) << why;
  EXPECT_EQ(SnapshotCache::key(id, &why), key);
  SnapshotIdentity other_v8 = id;
  other_v8.v8_version = "10.2.154.27";
  EXPECT_NE(SnapshotCache::key(other_v8, &why), key);
  SnapshotIdentity other_recipe = id;
  other_recipe.recipe = sha256_hex("another prelude");
  EXPECT_NE(SnapshotCache::key(other_recipe, &why), key);
  write_file(lib, "v9");  // an upgraded libnode: new inode, new times
  EXPECT_NE(SnapshotCache::key(id, &why), key);
  SnapshotIdentity missing = id;
  missing.libnode_path = dir.path() + "/nope.so";
  EXPECT_TRUE(SnapshotCache::key(missing, &why).empty());
  EXPECT_THAT(why, HasSubstr("nope.so"));
  missing.libnode_path = "relative/libnode.so";
  EXPECT_TRUE(SnapshotCache::key(missing, &why).empty());
}

TEST(SnapshotCacheStore, ReplacesAtomicallyAndPrunesEntriesOfTheSameFiles) {
  ScratchDir dir;
  SnapshotCache cache(dir.path() + "/c");
  SnapshotIdentity id{"v8", "recipe", "/usr/lib/libnode.so", "/usr/libexec/paddock-tool-worker"};
  std::string why;
  std::string a(5000, 'a'), b(6000, 'b');
  std::string key_a = sha256_hex("a"), key_b = sha256_hex("b");
  ASSERT_TRUE(cache.store(key_a, a, sha256_hex(a), id, &why)) << why;
  auto got = cache.load(key_a, &why);
  ASSERT_TRUE(got) << why;
  EXPECT_EQ(got->bytes, a);
  SnapshotIdentity elsewhere = id;
  elsewhere.worker_path = "/build/paddock-tool-worker";
  std::string key_c = sha256_hex("c");
  ASSERT_TRUE(cache.store(key_c, a, sha256_hex(a), elsewhere, &why)) << why;
  // Same worker and libnode under a new key (one of them changed): the old entry goes, the other worker's stays.
  ASSERT_TRUE(cache.store(key_b, b, sha256_hex(b), id, &why)) << why;
  EXPECT_FALSE(cache.load(key_a, &why));
  EXPECT_TRUE(why.empty()) << why;  // simply gone
  EXPECT_TRUE(cache.load(key_b, &why));
  EXPECT_TRUE(cache.load(key_c, &why));
  EXPECT_FALSE(cache.store(key_b, b, "not a hash", id, &why));
  for (const auto& e : std::filesystem::directory_iterator(cache.dir()))
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << "left behind: " << e.path();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Not a timing assertion: prints cold start-to-ready and first-call latency with and without a snapshot.
TEST(SnapshotWorker, StartUpFigures) {
  ToolCall call = make_call("export default async (input) => ({ echo: input });", json{{"q", "x"}});
  auto measure = [&](const char* label, const WorkerOptions& o, int rounds, const std::function<void()>& before) {
    std::vector<double> ready, first, second;
    std::string status;
    for (int i = 0; i < rounds; ++i) {
      before();
      WorkerClient client(worker_path(), o);
      auto t0 = std::chrono::steady_clock::now();
      client.start();
      auto t1 = std::chrono::steady_clock::now();
      ToolResult r = client.call(call, refuse_all);
      auto t2 = std::chrono::steady_clock::now();
      ToolResult r2 = client.call(call, refuse_all);
      auto t3 = std::chrono::steady_clock::now();
      ASSERT_TRUE(r.ok && r2.ok) << r.error << r2.error;
      ready.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      first.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
      second.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
      status = client.snapshot_status();
    }
    std::printf("%-28s spawn->ready %7.2f ms  first call %6.3f ms  second call %6.3f ms  (median of %d; %s)\n", label,
                median(ready), median(first), median(second), rounds, status.c_str());
  };
  ScratchDir dir;
  WorkerOptions on;
  on.snapshot_dir = dir.path();
  WorkerOptions off;
  off.snapshot = false;
  measure("no snapshot", off, 15, [] {});
  measure("snapshot made (empty cache)", on, 7, [&] { std::filesystem::remove_all(dir.path()); });
  measure("snapshot loaded from cache", on, 15, [] {});
}

}  // namespace
}  // namespace paddock::tools
