// The worker's startup snapshot: a V8 blob holding one prepared context (the prelude run, the host object built),
// made here with v8::SnapshotCreator and kept by the supervisor's cache (tools/snapshot_cache.h), which hands it
// back to later workers. The worker never reads a cache itself: it takes a blob only over its socket, and only
// after checking the size and SHA-256 the supervisor announced and V8's own version stamp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace v8 {
class StartupData;
}

namespace paddock::tools {

// SHA-256 over everything in this binary that shapes a blob: the prelude, the V8 flags, the external reference
// table and the snapshot layout. Part of the cache key (with the V8 version and the libnode and worker files).
const std::string& snapshot_recipe();

// Builds a blob with SnapshotCreator. Empty with `error` set on failure.
std::optional<std::string> make_snapshot_blob(std::string* error);

// Takes `blob` for every isolate made from now on, after checking it is `size` bytes with SHA-256 `sha256` and
// carries this V8's version. The bytes are kept for the life of the process (isolates read them lazily).
bool install_snapshot(std::string blob, std::uint64_t size, std::string_view sha256, std::string* error);

// The installed blob, or null: isolates are then made from V8's built-in snapshot and prepared per call.
v8::StartupData* current_snapshot();

}  // namespace paddock::tools
