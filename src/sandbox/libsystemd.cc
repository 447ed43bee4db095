#include "sandbox/libsystemd.h"

#include <dlfcn.h>

#include <string>

#include "util/error.h"

namespace paddock {

const LibSystemd& libsystemd() {
  static const LibSystemd lib = [] {
    void* handle = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) throw Error(std::string("cannot load libsystemd.so.0: ") + ::dlerror());
    LibSystemd l;
#define PADDOCK_SD_RESOLVE(name)                                       \
  l.name = reinterpret_cast<decltype(l.name)>(::dlsym(handle, #name)); \
  if (l.name == nullptr) throw Error(std::string("libsystemd.so.0 lacks ") + #name);
    PADDOCK_SD_FUNCTIONS(PADDOCK_SD_RESOLVE)
#undef PADDOCK_SD_RESOLVE
    return l;  // the handle stays open for the life of the process
  }();
  return lib;
}

}  // namespace paddock
