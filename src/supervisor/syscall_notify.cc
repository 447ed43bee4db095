#include "supervisor/syscall_notify.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "sandbox/seccomp.h"
#include "util/error.h"

namespace paddock {
namespace {

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

const char* arch_name(std::uint32_t arch) {
  switch (arch) {
    case AUDIT_ARCH_X86_64: return "x86_64";
    case AUDIT_ARCH_I386: return "i386";
    case AUDIT_ARCH_AARCH64: return "aarch64";
    default: return "unknown";
  }
}

}  // namespace

SyscallNotifier::SyscallNotifier(UniqueFd listener, const SeccompPlan& plan, AuditWriter* audit, bool verbose,
                                 std::function<void()> on_denial)
    : fd_(std::move(listener)), plan_(plan), audit_(audit), verbose_(verbose), on_denial_(std::move(on_denial)) {
  for (const auto& r : plan_.rules) {
    int nr = seccomp_syscall_number(r.syscall);
    if (nr >= 0) by_nr_.emplace(nr, &r);
    if (nr >= 0 && r.trace) trace_names_[nr] = r.syscall;
  }
  struct seccomp_notif_sizes sizes {};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) throw_errno("seccomp: SECCOMP_GET_NOTIF_SIZES");
  req_size_ = std::max<std::size_t>(sizes.seccomp_notif, sizeof(struct seccomp_notif));
  resp_size_ = std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(struct seccomp_notif_resp));
}

bool SyscallNotifier::on_readable() {
  std::vector<char> req_buf(req_size_, 0), resp_buf(resp_size_, 0);
  auto* req = reinterpret_cast<struct seccomp_notif*>(req_buf.data());
  if (::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
    // ENOENT: the caller died (or was signalled) before we read it; EINTR: retry later.
    return errno == ENOENT || errno == EINTR || errno == EAGAIN;
  }
  if (ending_) {
    ::kill(static_cast<pid_t>(req->pid), SIGKILL);
    return true;
  }
  const auto& d = req->data;
  const std::uint32_t native = AUDIT_ARCH_X86_64;
  bool foreign = d.arch != native || (d.nr & 0x40000000) != 0;
  const SeccompRule* rule = nullptr;
  std::uint64_t argv[6];
  for (int i = 0; i < 6; ++i) argv[i] = d.args[i];
  bool traced = false;
  if (!foreign) {
    auto range = by_nr_.equal_range(d.nr);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second->trace) {
        traced = true;
      } else if (rule == nullptr && seccomp_rule_matches(*it->second, argv)) {
        rule = it->second;
      }
    }
  }
  if (traced && (rule == nullptr || (rule->action == SeccompRule::Action::Errno && rule->err == ENOSYS))) {
    // Here only because of a --trace-fs rule: deny rules keep precedence (matched above), an
    // ENOSYS rule (which the kernel answers silently) is answered silently, and anything else
    // runs as if never stopped.
    auto answer = [&] {
      if (ending_) {  // the trace itself tripped a kill switch
        ::kill(static_cast<pid_t>(req->pid), SIGKILL);
        return;
      }
      auto* resp = reinterpret_cast<struct seccomp_notif_resp*>(resp_buf.data());
      resp->id = req->id;
      resp->error = rule == nullptr ? 0 : -ENOSYS;
      resp->val = 0;
      resp->flags = rule == nullptr ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
      if (::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, resp) != 0) {
        // ENOENT: the caller is gone (killed while it waited); nothing to answer.
      }
    };
    // The handler reads the caller's memory and /proc while the caller waits; it answers after.
    if (rule == nullptr && trace_) {
      try {
        trace_(fd_.get(), *req, trace_names_[d.nr]);
      } catch (...) {
        answer();  // never leave the caller waiting (the audit log may have failed)
        throw;
      }
    }
    answer();
    return true;
  }
  bool kill = foreign || (rule != nullptr && rule->action == SeccompRule::Action::Kill);
  int err = rule != nullptr ? rule->err : EPERM;

  std::string name = foreign ? std::string(arch_name(d.arch)) + (d.arch == native ? " x32 " : " ") + "syscall " +
                                   std::to_string(d.nr & ~0x40000000)
                             : seccomp_syscall_name(d.nr);
  if (name.empty()) name = "syscall " + std::to_string(d.nr);
  std::string subject = name + "(";
  nlohmann::json args = nlohmann::json::array();
  for (int i = 0; i < 6; ++i) {
    subject += (i ? ", " : "") + hex(d.args[i]);
    args.push_back(hex(d.args[i]));
  }
  subject += ")";
  std::string reason;
  if (foreign) {
    reason = "system calls of a non-native ABI kill the process";
  } else if (rule != nullptr) {
    reason = rule->why == "syscalls.deny" ? "syscalls.deny (" + rule->origin.short_str() + ")"
                                          : "baseline seccomp denylist " + rule->why;
  } else {
    reason = "baseline seccomp denylist";
  }

  ++denials_;
  if (audit_ != nullptr) {
    AuditEvent e;
    e.layer = "syscall";
    e.action = kill ? "kill" : "deny";
    e.subject = subject;
    e.reason = reason;
    e.pid = static_cast<int>(req->pid);
    e.extra = {{"syscall", name},
               {"nr", d.nr},
               {"arch", arch_name(d.arch)},
               {"args", args},
               {"errno", kill ? "SIGKILL" : errno_name(err)}};
    audit_->write(e);
  }
  if (verbose_) {
    std::fprintf(stderr, "paddock: denied %s by pid %u: %s -> %s\n", subject.c_str(), req->pid, reason.c_str(),
                 kill ? "killed" : errno_name(err).c_str());
  }
  // Record, count (a kill switch may end the session here), then answer: the caller waits
  // until then. A kill is delivered as SIGKILL, which the process cannot catch, so the call
  // never completes.
  if (on_denial_) on_denial_();
  if (kill || ending_) {
    ::kill(static_cast<pid_t>(req->pid), SIGKILL);
  } else {
    auto* resp = reinterpret_cast<struct seccomp_notif_resp*>(resp_buf.data());
    resp->id = req->id;
    resp->error = -err;
    resp->val = 0;
    resp->flags = 0;
    if (::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, resp) != 0 && errno != ENOENT) {
      // The caller is gone; nothing to answer.
    }
  }
  return true;
}

}  // namespace paddock
