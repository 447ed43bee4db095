// The agent baseline seccomp denylist: what every sandbox refuses unless the profile removes it
// (syscalls.allow). In the spirit of Docker's default profile, Flatpak's and systemd's
// @mount/@privileged/@debug/@keyring/@obsolete/@cpu-emulation/@clock/@module/@reboot/@swap/@raw-io
// groups. Pure data: no system calls (libseccomp's name tables are consulted, nothing else).
#pragma once

#include <string>
#include <vector>

#include "sandbox/plan.h"

namespace paddock {

// The baseline rules, in a stable order. Each rule's `why` names its group ("@mount", "@tty"...).
// System calls that do not exist on the native architecture (umount, vm86 on x86_64; iopl on
// aarch64...) are left out.
std::vector<SeccompRule> baseline_seccomp_rules();

// The distinct system call names the baseline has a rule for, in first-appearance order.
std::vector<std::string> baseline_syscall_names();

}  // namespace paddock
