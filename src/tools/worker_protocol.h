// The protocol between the supervisor and paddock-tool-worker, shared by both sides.
//
// Transport: the worker inherits one end of an AF_UNIX SOCK_STREAM socketpair as file descriptor 3.
// (SOCK_SEQPACKET is refused: a packet cannot hold a 16 MiB message, and a short read would drop the rest.)
// Every message is a frame: a 4-byte big-endian length, then that many bytes of one JSON object.
// A frame longer than kMaxFrameBytes is a protocol error; the reader closes the connection.
//
// supervisor -> worker
//   {"type":"call","id":N,"tool":"name","source":"<ES module>","input":<json>,
//    "grants":["fs.read","fs.write","fs.list","fetch","secret","db.query","log"],
//    "limits":{"timeout_ms":5000,"memory_bytes":67108864,"max_output_bytes":1048576},
//    "wasm":false,"seed":12345,"time_ms":1764000000000}          (max_output_bytes is capped at 8 MiB: half a frame)
//   {"type":"describe","id":N,"source":"<ES module>"}       runs the module's top level only (no host object)
//   {"type":"host_result","id":N,"seq":K,"ok":true,"value":<json>}
//   {"type":"host_result","id":N,"seq":K,"ok":false,"error":"not authorized"}
//   {"type":"pause_clock","id":N} / {"type":"resume_clock","id":N}
//       The timeout clock stops between the two (an approval prompt is not the tool's time). The supervisor sends
//       pause_clock before it starts waiting for a person and resume_clock when it has the answer; the worker
//       reads them while it waits for host results. Unbalanced pairs are harmless: a call starts with the clock on.
//
// Start-up exchange (WorkerClient does it in start(), or before the first call), always before any tool code:
//   worker -> {"type":"ready","pid":P,"v8":"10.2.154.26-node.37","libnode":"/usr/lib/.../libnode.so.108",
//              "exe":"/.../paddock-tool-worker","recipe":"<sha256 of prelude, V8 flags, snapshot layout>"}
//   then the supervisor sends exactly one of:
//   {"type":"snapshot","id":N,"size":S,"sha256":H,"recipe":R} followed by ONE RAW FRAME of S bytes (not JSON): a
//       blob from the supervisor's cache (tools/snapshot_cache.h). The worker checks size, SHA-256, recipe and
//       V8's version stamp before V8 reads a byte, makes its first isolate from it, and answers
//       {"type":"snapshot_loaded","id":N,"ok":true} (or "ok":false,"error":"..." and carries on without one).
//   {"type":"make_snapshot","id":N}: the worker builds a blob with v8::SnapshotCreator, uses it, and answers
//       {"type":"snapshot_made","id":N,"ok":true,"size":S,"sha256":H,"recipe":R} followed by ONE RAW FRAME of S
//       bytes for the supervisor to file (or "ok":false,"error":"..." and no raw frame).
//   {"type":"no_snapshot","id":N}: none; the worker makes its first isolate and answers
//   {"type":"isolate_ready","id":N}. A worker told nothing (an older client) makes its isolates when the first call
//   comes. Isolates: a snapshot blob holds one prepared context (prelude run, host object built); every call still gets
//   a fresh context deserialised from it. The worker keeps a spare isolate made ahead while it is idle, so the call
//   after a termination does not pay for creating one.
//
// worker -> supervisor
//   {"type":"ready",...}                                       once, at start (no "id"; see above)
//   {"type":"host","id":N,"seq":K,"fn":"fs.read","args":[...]} a granted host function was called
//   {"type":"log","id":N,"message":"..."}                      host.log(...): fire and forget, no answer
//   {"type":"result","id":N,"ok":true,"output":<json>,"host_calls":[{"fn":"fs.read","ok":true}],"duration_ms":D,
//    "isolate":{"serial":K,"origin":"kept"|"pool"|"new","snapshot":true}}     (which isolate ran it; informative)
//   {"type":"result","id":N,"ok":false,"error":"<one line>","kind":"<kind>","host_calls":[...],"duration_ms":D}
//   {"type":"described","id":N,"ok":true,"description":"..."|null,"input_schema":<json>|null}
//   {"type":"described","id":N,"ok":false,"error":"...","kind":"..."}
//   A failure V8 cannot unwind (one allocation past every limit, e.g. `new Array(2e8).fill(0)`) still answers the
//   call — kind "memory" (or "crash" for another V8 fatal error) with "worker_exiting":true — and the worker then
//   exits with status 70; WorkerClient starts a new one for the next call. Heap growth that V8 can unwind (a heap
//   bomb) ends only the call: the isolate is replaced and the worker stays.
//
// Isolation between calls: each call gets a fresh context; after a timeout or memory termination the isolate
// itself is disposed and replaced by the spare (V8 does not promise a usable isolate after TerminateExecution). A
// change of "memory_bytes" also replaces it (heap limits are fixed at isolate creation).
//
// Host functions, as tools see them (`host` is the default export's second argument):
//   async: host.fs.read(path), host.fs.write(path, data), host.fs.list(path), host.fetch(url, options),
//          host.db.query(sql, params) — each returns a Promise settled by the matching host_result.
//   sync:  host.secret(name) — the worker blocks until its host_result arrives (a header built from a secret is the
//          common case, and an await there buys nothing); host.log(...) — fire and forget.
//   Every function exists whatever the grants; one outside the grants throws Error("not authorized: <fn>") (the
//   async ones return a rejected Promise) without asking the supervisor. "host_calls" in the result lists every
//   call in order: {"fn","ok"} plus "error" when it was refused or failed.
//
// Kinds of failure: timeout, memory, exception (the tool threw or rejected), output_too_large, bad_module (syntax
// error, import, no default export function), not_authorized (the tool let a "not authorized" error escape),
// protocol (a malformed request: answered, the worker carries on), and on the client side only: crash (the worker
// died mid-call or spoke garbage). The client also kills a worker silent for timeout_ms + 2 s (kind "timeout").
//
// The tool's world: Date.now()/new Date() start at "time_ms" and advance in 100 ms steps; Math.random is sfc32
// seeded from "seed"; no eval/new Function (EvalError); no SharedArrayBuffer, Atomics.wait, performance, timers
// or Node APIs; WebAssembly only with "wasm":true; imports (static and dynamic) refused.
//
// The worker serves calls one after another for its lifetime and exits with status 0 at end of file on fd 3.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paddock::tools {

inline constexpr int kWorkerFd = 3;
inline constexpr std::size_t kMaxFrameBytes = 16u << 20;

inline constexpr std::uint64_t kDefaultTimeoutMs = 5000;
inline constexpr std::uint64_t kDefaultMemoryBytes = 64u << 20;
inline constexpr std::uint64_t kDefaultMaxOutputBytes = 1u << 20;

// The host function names a grant may hold, in the order the host object is built.
inline constexpr std::string_view kHostFunctions[] = {"fs.read", "fs.write", "fs.list", "fetch",
                                                      "secret",  "db.query", "log"};

// Blocking frame I/O over a stream socket. Writes use MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE.
// Returns false when the peer is gone (or the socket failed); errno says which.
bool send_frame(int fd, std::string_view payload);

// Accumulates bytes from a stream socket and cuts them into frames.
class FrameReader {
 public:
  enum class Status { kFrame, kPartial, kEof, kError, kTooLarge };

  // Reads until one whole frame is buffered (or EOF/error); the frame's payload goes to `out`.
  Status read(int fd, std::string& out);
  // A whole frame is already buffered: read() will not block.
  [[nodiscard]] bool has_frame() const;
  // One read() of whatever is available (call it when poll says readable): kFrame when a whole frame is now
  // buffered, kPartial when more bytes are needed, otherwise kEof/kError/kTooLarge as read().
  Status fill_once(int fd);
  // Takes a buffered frame; has_frame() must be true.
  std::string pop();

 private:
  [[nodiscard]] std::optional<std::size_t> frame_length() const;
  std::string buf_;
  std::size_t start_ = 0;
};

}  // namespace paddock::tools
