#include "tools/worker/snapshot.h"

#include <v8-context.h>
#include <v8-exception.h>
#include <v8-isolate.h>
#include <v8-local-handle.h>
#include <v8-snapshot.h>

#include <memory>
#include <vector>

#include "audit/sha256.h"
#include "tools/worker/hardening.h"
#include "tools/worker/host_bridge.h"
#include "tools/worker/platform.h"
#include "tools/worker_protocol.h"

namespace paddock::tools {

namespace {

// Bumped whenever what a snapshot context holds (or where) changes without the prelude changing.
constexpr int kSnapshotLayout = 1;
// Smaller than any blob V8 makes; V8 reads its version stamp without checking the size first.
constexpr std::size_t kMinSnapshotBytes = 4096;

struct Installed {
  std::string bytes;
  v8::StartupData data{nullptr, 0};
};
// Every blob ever installed stays: an isolate made from one reads it until it is disposed.
std::vector<std::unique_ptr<Installed>>& installed() {
  static std::vector<std::unique_ptr<Installed>> all;
  return all;
}

}  // namespace

const std::string& snapshot_recipe() {
  static const std::string recipe = [] {
    Sha256 h;
    h.update("paddock-tool-worker snapshot layout " + std::to_string(kSnapshotLayout) + "\n");
    h.update(v8_flags());
    h.update("\n");
    std::size_t refs = 0;
    for (const std::intptr_t* p = HostBridge::external_references(); *p != 0; ++p) ++refs;
    h.update("external references " + std::to_string(refs) + "\n");
    for (std::string_view fn : kHostFunctions) {
      h.update(fn);
      h.update("\n");
    }
    h.update(prelude_source());
    return Sha256::hex(h.final());
  }();
  return recipe;
}

std::optional<std::string> make_snapshot_blob(std::string* error) {
  v8::StartupData blob{nullptr, 0};
  {
    v8::SnapshotCreator creator(HostBridge::external_references());
    v8::Isolate* isolate = creator.GetIsolate();
    {
      v8::HandleScope handles(isolate);
      // The default context is a plain one (unused: every call deserialises the prepared context below).
      creator.SetDefaultContext(v8::Context::New(isolate));
      v8::Local<v8::Context> context = v8::Context::New(isolate);
      v8::Context::Scope scope(context);
      v8::TryCatch tc(isolate);
      v8::Local<v8::Function> setup;
      v8::Local<v8::Object> host;
      if (!prepare_context(isolate, context, &setup, &host)) {
        *error = "the prelude failed in the snapshot context";
        return std::nullopt;
      }
      if (creator.AddContext(context) != kSnapshotContextIndex ||
          creator.AddData(context, setup) != kSnapshotSetupData ||
          creator.AddData(context, host) != kSnapshotHostData) {
        *error = "unexpected snapshot layout";
        return std::nullopt;
      }
    }
    // kKeep: the prelude's compiled code comes along, so a call does not compile it again.
    blob = creator.CreateBlob(v8::SnapshotCreator::FunctionCodeHandling::kKeep);
  }
  if (blob.data == nullptr || blob.raw_size <= 0) {
    *error = "V8 made no snapshot";
    return std::nullopt;
  }
  std::string out(blob.data, static_cast<std::size_t>(blob.raw_size));
  delete[] blob.data;  // CreateBlob's caller owns the array
  return out;
}

bool install_snapshot(std::string blob, std::uint64_t size, std::string_view sha256, std::string* error) {
  if (blob.size() != size) {
    *error = "the blob is " + std::to_string(blob.size()) + " bytes, not " + std::to_string(size);
    return false;
  }
  if (blob.size() < kMinSnapshotBytes || blob.size() > kMaxFrameBytes) {
    *error = "a blob of " + std::to_string(blob.size()) + " bytes is no snapshot";
    return false;
  }
  if (sha256_hex(blob) != sha256) {
    *error = "the blob's SHA-256 is not the one announced";
    return false;
  }
  auto entry = std::make_unique<Installed>();
  entry->bytes = std::move(blob);
  entry->data = v8::StartupData{entry->bytes.data(), static_cast<int>(entry->bytes.size())};
  if (!entry->data.IsValid()) {
    *error = "the blob was made by another V8 version";
    return false;
  }
  installed().push_back(std::move(entry));
  return true;
}

v8::StartupData* current_snapshot() {
  return installed().empty() ? nullptr : &installed().back()->data;
}

}  // namespace paddock::tools
