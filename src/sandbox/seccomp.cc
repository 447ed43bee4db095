#include "sandbox/seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "sandbox/seccomp_baseline.h"
#include "util/error.h"
#include "util/unique_fd.h"

namespace paddock {

std::string errno_name(int err) {
  if (err == 0) return "0 (success)";
  if (const char* n = ::strerrorname_np(err); n != nullptr) return n;
  return "errno " + std::to_string(err);
}

namespace {

using Cond = SeccompRule::Cond;
using Op = Cond::Op;

constexpr std::uint64_t kMax = UINT64_MAX;
constexpr unsigned kArgs = 6;
constexpr int kHighestProbedNr = 1023;
constexpr std::uint32_t kX32Bit = 0x40000000;

// ---------------------------------------------------------------------------------------------
// Display

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string value_str(std::uint64_t v) {
  return v < 4096 ? std::to_string(v) : hex(v);
}

std::string cond_str(const Cond& c) {
  std::string a = "arg" + std::to_string(c.arg);
  switch (c.op) {
    case Op::Eq: return a + " == " + value_str(c.a);
    case Op::Ne: return a + " != " + value_str(c.a);
    case Op::Gt: return a + " > " + value_str(c.a);
    case Op::Ge: return a + " >= " + value_str(c.a);
    case Op::Lt: return a + " < " + value_str(c.a);
    case Op::MaskedEq:
      // A flag test (mask == value) reads best with both in hex.
      return a + " & " + hex(c.a) + " == " + (c.b == c.a ? hex(c.b) : value_str(c.b));
  }
  return a + " ?";
}

std::string action_str(const SeccompRule& r) {
  if (r.trace) return "NOTIFY, then continue (recorded by the supervisor; the kernel decides)";
  return r.action == SeccompRule::Action::Kill ? "KILL" : errno_name(r.err);
}

// The rule without its group, for error messages.
std::string rule_head(const SeccompRule& r) {
  std::string s = r.syscall;
  if (!r.conds.empty()) {
    s += "(";
    for (std::size_t i = 0; i < r.conds.size(); ++i) {
      if (i > 0) s += " && ";
      s += cond_str(r.conds[i]);
    }
    s += ")";
  }
  return s + " -> " + action_str(r);
}

// ---------------------------------------------------------------------------------------------
// Conditions: libseccomp takes at most one comparison per argument in a rule (EINVAL
// otherwise, 2.5.x), so several comparisons of one argument are solved here into a set of
// alternatives, each at most one comparison, and the rule becomes one libseccomp rule per
// combination of alternatives.

using Alt = std::optional<scmp_arg_cmp>;  // nullopt: any value

scmp_arg_cmp cmp(unsigned arg, scmp_compare op, std::uint64_t a, std::uint64_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

scmp_arg_cmp single(const Cond& c) {
  switch (c.op) {
    case Op::Eq: return cmp(c.arg, SCMP_CMP_EQ, c.a);
    case Op::Ne: return cmp(c.arg, SCMP_CMP_NE, c.a);
    case Op::Gt: return cmp(c.arg, SCMP_CMP_GT, c.a);
    case Op::Ge: return cmp(c.arg, SCMP_CMP_GE, c.a);
    case Op::Lt: return cmp(c.arg, SCMP_CMP_LT, c.a);
    case Op::MaskedEq: return cmp(c.arg, SCMP_CMP_MASKED_EQ, c.a, c.b);
  }
  throw Error("seccomp: bad comparison operator");
}

// [lo, hi] (inclusive) as alternatives of one comparison each: a range that touches neither
// end of the 64-bit space is cut into aligned power-of-two blocks, each a masked comparison.
void interval_alts(unsigned arg, std::uint64_t lo, std::uint64_t hi, std::vector<Alt>& out) {
  if (lo == hi) {
    out.emplace_back(cmp(arg, SCMP_CMP_EQ, lo));
  } else if (lo == 0 && hi == kMax) {
    out.emplace_back(std::nullopt);
  } else if (lo == 0) {
    out.emplace_back(cmp(arg, SCMP_CMP_LE, hi));
  } else if (hi == kMax) {
    out.emplace_back(cmp(arg, SCMP_CMP_GE, lo));
  } else {
    std::uint64_t cur = lo;  // > 0 here, so the block size below is < 2^64
    for (;;) {
      unsigned k = static_cast<unsigned>(__builtin_ctzll(cur));
      // An aligned block never wraps: cur + 2^k - 1 <= kMax.
      while (k > 0 && cur + ((std::uint64_t{1} << k) - 1) > hi) --k;
      std::uint64_t size_m1 = (std::uint64_t{1} << k) - 1;
      out.emplace_back(cmp(arg, SCMP_CMP_MASKED_EQ, ~size_m1, cur));
      std::uint64_t end = cur + size_m1;
      if (end >= hi) break;
      cur = end + 1;
    }
  }
}

// All comparisons of one argument (ANDed) as alternatives (ORed). Empty: never true.
std::vector<Alt> arg_alts(const std::vector<const Cond*>& conds, const SeccompRule& rule) {
  std::vector<Alt> out;
  if (conds.empty()) {
    out.emplace_back(std::nullopt);
    return out;
  }
  if (conds.size() == 1) {
    out.emplace_back(single(*conds[0]));
    return out;
  }
  unsigned arg = conds[0]->arg;
  std::size_t masked = 0;
  for (const Cond* c : conds) masked += c->op == Op::MaskedEq ? 1 : 0;
  if (masked == conds.size()) {
    // x & m1 == v1 && x & m2 == v2  ==  x & (m1|m2) == (v1|v2), when they agree on m1 & m2.
    std::uint64_t mask = 0, value = 0;
    for (const Cond* c : conds) {
      if ((c->b & ~c->a) != 0) return out;                  // value outside its mask: never
      if (((value ^ c->b) & mask & c->a) != 0) return out;  // contradictory bits: never
      mask |= c->a;
      value |= c->b;
    }
    out.emplace_back(cmp(arg, SCMP_CMP_MASKED_EQ, mask, value));
    return out;
  }
  if (masked > 0) {
    throw Error("seccomp: cannot combine a masked comparison with other comparisons of arg" + std::to_string(arg) +
                " in rule " + rule_head(rule));
  }
  std::uint64_t lo = 0, hi = kMax;
  std::set<std::uint64_t> excluded;
  for (const Cond* c : conds) {
    switch (c->op) {
      case Op::Eq:
        lo = std::max(lo, c->a);
        hi = std::min(hi, c->a);
        break;
      case Op::Gt:
        if (c->a == kMax) return out;
        lo = std::max(lo, c->a + 1);
        break;
      case Op::Ge: lo = std::max(lo, c->a); break;
      case Op::Lt:
        if (c->a == 0) return out;
        hi = std::min(hi, c->a - 1);
        break;
      case Op::Ne: excluded.insert(c->a); break;
      case Op::MaskedEq: break;  // handled above
    }
  }
  if (lo > hi) return out;
  std::uint64_t start = lo;
  bool open = true;
  for (std::uint64_t x : excluded) {
    if (x < lo || x > hi) continue;
    if (x > start) interval_alts(arg, start, x - 1, out);
    if (x == hi) {
      open = false;
      break;
    }
    start = x + 1;
  }
  if (open) interval_alts(arg, start, hi, out);
  return out;
}

// Every combination of alternatives across the arguments: the libseccomp rules for `rule`.
std::vector<std::vector<scmp_arg_cmp>> expand_conds(const SeccompRule& rule) {
  std::vector<const Cond*> by_arg[kArgs];
  for (const Cond& c : rule.conds) {
    if (c.arg >= kArgs) {
      throw Error("seccomp: argument index " + std::to_string(c.arg) + " out of range (0-5) in rule " +
                  rule_head(rule));
    }
    by_arg[c.arg].push_back(&c);
  }
  std::vector<std::vector<scmp_arg_cmp>> combos{{}};
  for (unsigned arg = 0; arg < kArgs; ++arg) {
    std::vector<Alt> alts = arg_alts(by_arg[arg], rule);
    std::vector<std::vector<scmp_arg_cmp>> next;
    for (const auto& prefix : combos) {
      for (const Alt& a : alts) {
        auto v = prefix;
        if (a) v.push_back(*a);
        next.push_back(std::move(v));
      }
    }
    combos = std::move(next);  // empty when some argument can never match
  }
  return combos;
}

// ---------------------------------------------------------------------------------------------
// The filter

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

void check(int rc, const std::string& what) {
  if (rc < 0) throw Error("seccomp: " + what + ": " + std::strerror(-rc));
}

void set_attr(const Filter& f, scmp_filter_attr attr, std::uint32_t value, const char* name) {
  check(seccomp_attr_set(f.get(), attr, value), std::string("setting ") + name);
}

// The ABIs the native one can also run, for kill_foreign_arch = false.
std::vector<std::uint32_t> foreign_arches() {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64: return {SCMP_ARCH_X86, SCMP_ARCH_X32};
    case SCMP_ARCH_AARCH64: return {SCMP_ARCH_ARM};
    default: return {};
  }
}

// An empty filter (default allow) for the native architecture.
Filter new_filter(bool notify) {
  Filter f(seccomp_init(SCMP_ACT_ALLOW));
  if (!f) throw Error("seccomp: cannot create a filter (seccomp_init failed)");
  // The caller sets no_new_privs itself (apply_seccomp checks it).
  set_attr(f, SCMP_FLTATR_CTL_NNP, 0, "SCMP_FLTATR_CTL_NNP");
  // Kernel errors from seccomp_load as they are, not folded into ECANCELED.
  set_attr(f, SCMP_FLTATR_API_SYSRAWRC, 1, "SCMP_FLTATR_API_SYSRAWRC");
  // Binary tree of system call numbers: O(log n) per call instead of a linear scan.
  set_attr(f, SCMP_FLTATR_CTL_OPTIMIZE, 2, "SCMP_FLTATR_CTL_OPTIMIZE");
  // Any architecture not in the filter takes this action: i386 through int $0x80 on x86_64,
  // and x32 too, because whenever x86_64 is in a filter without x32 libseccomp emits
  // "nr >= 0x40000000 && nr != -1 -> bad-arch action" right after the arch check.
  set_attr(f, SCMP_FLTATR_ACT_BADARCH, notify ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS, "SCMP_FLTATR_ACT_BADARCH");
  return f;
}

std::uint32_t action_of(const SeccompRule& r, bool notify) {
  if (r.trace) return SCMP_ACT_NOTIFY;  // add_rules keeps trace rules only when notifying
  // ENOSYS answers are compatibility fallbacks, not refusals worth a round trip.
  if (notify && (r.action == SeccompRule::Action::Kill || r.err != ENOSYS)) return SCMP_ACT_NOTIFY;
  if (r.action == SeccompRule::Action::Kill) return SCMP_ACT_KILL_PROCESS;
  if (r.err < 0 || r.err > 4095) {
    throw Error("seccomp: errno " + std::to_string(r.err) + " out of range (0-4095) in rule " + rule_head(r));
  }
  return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(r.err));
}

// `native`: f holds the native architecture only; otherwise it holds compatible ones too, and
// a system call missing from the native ABI may still exist in those.
void add_rules(const Filter& f, const SeccompPlan& plan, bool native) {
  // A call some non-trace rule takes whole (no conditions) has nothing left to trace: it never
  // runs. Otherwise the trace rule, unconditional, makes every call of it notify, and the
  // supervisor first matches the deny rules (which keep their precedence), then traces.
  std::set<std::string> taken_whole;
  for (const SeccompRule& r : plan.rules) {
    if (!r.trace && r.conds.empty()) taken_whole.insert(r.syscall);
  }
  for (const SeccompRule& r : plan.rules) {
    // Without a listener a trace rule would only mean "allow", the default.
    if (r.trace && (!plan.notify || taken_whole.count(r.syscall) != 0)) continue;
    int nr = native ? seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, r.syscall.c_str())
                    : seccomp_syscall_resolve_name(r.syscall.c_str());
    if (nr == __NR_SCMP_ERROR) throw Error("seccomp: unknown system call \"" + r.syscall + "\"");
    // Not a system call of the native ABI (umount, vm86 on x86_64): nothing to filter there.
    if (native && nr < 0) continue;
    std::uint32_t action = action_of(r, plan.notify);
    for (const auto& conds : expand_conds(r)) {
      int rc = seccomp_rule_add_array(f.get(), action, nr, static_cast<unsigned>(conds.size()),
                                      conds.empty() ? nullptr : conds.data());
      check(rc, "adding rule " + rule_head(r));
    }
  }
}

// Unknown system call numbers -> ENOSYS. As ~650 libseccomp rules (one per number) this
// costs 10-20 ms of compilation per sandbox; as ranges it is a dozen BPF instructions. So it
// is a small program of its own, stacked under the libseccomp filter (the kernel runs every
// filter and takes the strongest action; the two never disagree, since every rule of the
// plan names a system call libseccomp knows).

// [lo, hi] ranges of native numbers 0..kHighestProbedNr unknown to libseccomp. On x86_64 the
// last range runs on to 0x3fffffff: nothing lives above 1023 below the x32 bit either.
std::vector<std::pair<std::uint32_t, std::uint32_t>> unknown_ranges() {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (int nr = 0; nr <= kHighestProbedNr; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (name != nullptr) {
      std::free(name);
      continue;
    }
    auto u = static_cast<std::uint32_t>(nr);
    if (!out.empty() && out.back().second + 1 == u) {
      out.back().second = u;
    } else {
      out.emplace_back(u, u);
    }
  }
  if (seccomp_arch_native() == SCMP_ARCH_X86_64 && !out.empty() &&
      out.back().second == static_cast<std::uint32_t>(kHighestProbedNr)) {
    out.back().second = kX32Bit - 1;
  }
  return out;
}

std::vector<sock_filter> enosys_program() {
  auto ranges = unknown_ranges();
  std::vector<sock_filter> p;
  if (ranges.empty()) return p;
  auto stmt = [&](std::uint16_t code, std::uint32_t k) { p.push_back(BPF_STMT(code, k)); };
  auto jump = [&](std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    p.push_back(BPF_JUMP(code, k, jt, jf));
  };
  // Every jump is local (at most 2 ahead), so any number of ranges fits BPF's 8-bit offsets.
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(), 1, 0);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);  // another ABI: the main filter decides
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
    jump(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 0, 1);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);  // x32 (and -1): the main filter decides
  }
  for (auto [lo, hi] : ranges) {
    jump(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 2);
    jump(BPF_JMP | BPF_JGT | BPF_K, hi, 1, 0);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  }
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  return p;
}

Filter build(const SeccompPlan& plan) {
  Filter f = new_filter(plan.notify && plan.kill_foreign_arch);
  bool native_only = true;
  if (!plan.kill_foreign_arch) {
    // Not killed: the compatible ABIs (i386 and x32 on x86_64) get the same rules, which
    // libseccomp maps to their numbers by name. (On i386, socket() through socketcall(2)
    // cannot have its arguments inspected: libseccomp refuses that family of calls whole.)
    for (std::uint32_t a : foreign_arches()) {
      check(seccomp_arch_add(f.get(), a), "adding a compatible architecture");
      native_only = false;
    }
  }
  add_rules(f, plan, native_only);
  return f;
}

std::vector<sock_filter> export_program(const Filter& f) {
  UniqueFd fd(::memfd_create("paddock-seccomp-bpf", MFD_CLOEXEC));
  if (!fd) throw_errno("seccomp: memfd_create");
  check(seccomp_export_bpf(f.get(), fd.get()), "exporting the filter");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("seccomp: fstat");
  std::vector<sock_filter> prog(static_cast<std::size_t>(st.st_size) / sizeof(sock_filter));
  if (::pread(fd.get(), prog.data(), prog.size() * sizeof(sock_filter), 0) !=
      static_cast<ssize_t>(prog.size() * sizeof(sock_filter))) {
    throw_errno("seccomp: reading the exported filter");
  }
  return prog;
}

int load_program(const std::vector<sock_filter>& p, const char* what, unsigned flags = 0) {
  if (p.empty()) return 0;
  if (p.size() > BPF_MAXINSNS) throw Error(std::string("seccomp: ") + what + " is too long");
  sock_fprog prog{static_cast<unsigned short>(p.size()), const_cast<sock_filter*>(p.data())};
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) throw_errno(std::string("seccomp: loading ") + what);
  return static_cast<int>(rc);
}

}  // namespace

SeccompPrograms compile_seccomp(const SeccompPlan& plan) {
  SeccompPrograms out;
  if (plan.unknown_enosys) out.enosys = enosys_program();
  out.main = export_program(build(plan));
  return out;
}

void load_seccomp(const SeccompPrograms& programs, bool listener, int* listener_fd) {
  int nnp = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (nnp != 1) throw Error("seccomp: no_new_privs is not set; it must be set before the filter is loaded");
  // The small program first: the main filter may deny seccomp(2) itself.
  load_program(programs.enosys, "the filter for unknown system call numbers");
  int fd = load_program(programs.main, "the filter", listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  if (listener_fd != nullptr) *listener_fd = listener ? fd : -1;
}

bool seccomp_rule_matches(const SeccompRule& rule, const std::uint64_t args[6]) {
  for (const auto& c : rule.conds) {
    if (c.arg >= kArgs) return false;
    std::uint64_t v = args[c.arg];
    bool ok = false;
    switch (c.op) {
      case Op::Eq: ok = v == c.a; break;
      case Op::Ne: ok = v != c.a; break;
      case Op::Gt: ok = v > c.a; break;
      case Op::Ge: ok = v >= c.a; break;
      case Op::Lt: ok = v < c.a; break;
      case Op::MaskedEq: ok = (v & c.a) == c.b; break;
    }
    if (!ok) return false;
  }
  return true;
}

int seccomp_syscall_number(const std::string& name) {
  return seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name.c_str());
}

std::string seccomp_syscall_name(int nr) {
  char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (n == nullptr) return "";
  std::string out(n);
  std::free(n);
  return out;
}

std::string serialize_seccomp(const SeccompPrograms& p) {
  std::string out;
  std::uint32_t counts[2] = {static_cast<std::uint32_t>(p.enosys.size()), static_cast<std::uint32_t>(p.main.size())};
  out.append(reinterpret_cast<const char*>(counts), sizeof counts);
  out.append(reinterpret_cast<const char*>(p.enosys.data()), p.enosys.size() * sizeof(sock_filter));
  out.append(reinterpret_cast<const char*>(p.main.data()), p.main.size() * sizeof(sock_filter));
  return out;
}

namespace {
void read_exact(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw Error("seccomp: the filter did not arrive from paddock");
    p += r;
    n -= static_cast<std::size_t>(r);
  }
}
}  // namespace

SeccompPrograms read_seccomp(int fd) {
  std::uint32_t counts[2];
  read_exact(fd, counts, sizeof counts);
  if (counts[0] > BPF_MAXINSNS || counts[1] > BPF_MAXINSNS) throw Error("seccomp: malformed filter from paddock");
  SeccompPrograms p;
  p.enosys.resize(counts[0]);
  p.main.resize(counts[1]);
  read_exact(fd, p.enosys.data(), p.enosys.size() * sizeof(sock_filter));
  read_exact(fd, p.main.data(), p.main.size() * sizeof(sock_filter));
  return p;
}

void apply_seccomp(const SeccompPlan& plan) {
  load_seccomp(compile_seccomp(plan));
}

std::size_t seccomp_program_size(const SeccompPlan& plan) {
  SeccompPrograms p = compile_seccomp(plan);
  return p.enosys.size() + p.main.size();
}

std::string describe_rule(const SeccompRule& rule) {
  std::string s = rule_head(rule);
  if (!rule.why.empty()) s += "  [" + rule.why + "]";
  if (rule.origin.known() && rule.origin.line > 0) s += "   # " + rule.origin.short_str();
  return s;
}

SeccompPlan baseline_plan() {
  SeccompPlan p;
  p.rules = baseline_seccomp_rules();
  return p;
}

}  // namespace paddock
