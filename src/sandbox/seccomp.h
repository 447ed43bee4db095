// The seccomp layer: compiles a SeccompPlan with libseccomp and loads it.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/plan.h"

namespace paddock {

// Compiles `plan` and loads it into the calling thread (not the other threads of the process).
// The caller must already have set PR_SET_NO_NEW_PRIVS (checked: an Error otherwise).
// Default action: allow. Each rule: SCMP_ACT_ERRNO(err) or SCMP_ACT_KILL_PROCESS, under its
// conditions (ANDed; several conditions on one argument are allowed and form a range).
// kill_foreign_arch: i386 (int $0x80) and x32 system calls kill the process; when false, the
// same rules are applied to those ABIs instead.
// unknown_enosys: system call numbers 0..1023 unknown to libseccomp (newer than it) answer
// ENOSYS, and on x86_64 everything from there up to the x32 bit. This part is a separate
// dozen-instruction BPF program of ranges, loaded just before the libseccomp filter (as
// libseccomp rules it would cost 10-20 ms of compilation per sandbox).
// Rules for system calls that do not exist on this architecture are skipped; an unknown
// name, a bad condition or any libseccomp failure throws Error.
void apply_seccomp(const SeccompPlan& plan);

// The same, split in two so the expensive half runs where it costs nothing: the supervisor
// compiles while the sandbox is still building its root view, and the sandbox only loads.
struct SeccompPrograms {
  std::vector<sock_filter> enosys;  // unknown numbers -> ENOSYS (may be empty)
  std::vector<sock_filter> main;    // the libseccomp-compiled rules
};
SeccompPrograms compile_seccomp(const SeccompPlan& plan);
// Loads both with seccomp(2) directly (no libseccomp). Requires no_new_privs. With
// `listener`, the main filter is loaded with a user-notification listener, returned here.
void load_seccomp(const SeccompPrograms& programs, bool listener = false, int* listener_fd = nullptr);

// Whether a rule's conditions hold for these six arguments (the supervisor uses it to find
// which rule a notification came from).
bool seccomp_rule_matches(const SeccompRule& rule, const std::uint64_t args[6]);
// The native number of a rule's system call (negative when the native ABI lacks it).
int seccomp_syscall_number(const std::string& name);
// The native name for a number ("" when unknown).
std::string seccomp_syscall_name(int nr);
std::string errno_name(int err);
// Wire format over a pipe: two u32 counts, then the instructions.
std::string serialize_seccomp(const SeccompPrograms& programs);
// Reads one serialized SeccompPrograms from fd (blocking). Throws Error on a short read.
SeccompPrograms read_seccomp(int fd);

// Compiles `plan` without loading it and returns the number of BPF instructions of both
// programs (for tests, `paddock doctor` and benchmarks). Throws Error like apply_seccomp.
std::size_t seccomp_program_size(const SeccompPlan& plan);

// One line, e.g. "ioctl(arg1 & 0xffffffff == 0x5412) -> EPERM  [@tty]"; a rule from a
// profile ends with "   # file:line".
std::string describe_rule(const SeccompRule& rule);

// The baseline rules with the default switches (unknown numbers ENOSYS, foreign ABIs killed).
SeccompPlan baseline_plan();

}  // namespace paddock
