#include "sandbox/capabilities.h"

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include <memory>

#include "util/error.h"

namespace paddock {

void drop_capabilities() {
  // Bounding set first: it needs CAP_SETPCAP, which the rest of this function removes.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      throw_errno("capabilities: dropping " + std::to_string(cap) + " from the bounding set");
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) throw_errno("capabilities: clearing ambient");
  // Locked securebits: root inside does not get capabilities back through execve or setuid.
  const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                             SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                             SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) throw_errno("capabilities: locking securebits");
  std::unique_ptr<struct _cap_struct, int (*)(void*)> caps(cap_init(), cap_free);
  if (!caps) throw_errno("capabilities: cap_init");
  if (cap_set_proc(caps.get()) != 0) throw_errno("capabilities: emptying the capability sets");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("no_new_privs");
}

}  // namespace paddock
