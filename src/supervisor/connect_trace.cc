#include "supervisor/connect_trace.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "audit/writer.h"

namespace paddock {

ConnectTracer::ConnectTracer(const ProxyPlan& plan, AuditWriter* audit, bool verbose, std::function<void()> on_denial)
    : audit_(audit), verbose_(verbose), on_denial_(std::move(on_denial)) {
  for (auto p : plan.listen_ports()) served_.insert(p);
}

void ConnectTracer::on_notification(int listener, const struct seccomp_notif& req) {
  const auto pid = static_cast<pid_t>(req.pid);
  const std::uint64_t addr = req.data.args[1];
  const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(req.data.args[2], sizeof(sockaddr_storage)));
  if (addr == 0 || len < sizeof(sa_family_t)) return;
  struct sockaddr_storage ss {};
  struct iovec local {
    &ss, len
  };
  struct iovec remote {
    reinterpret_cast<void*>(addr), len
  };
  if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(len)) return;
  char text[INET6_ADDRSTRLEN] = {};
  std::uint16_t port = 0;
  std::string host;
  if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    port = ntohs(a->sin_port);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    host = text;
  } else if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    port = ntohs(a->sin6_port);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    host = std::string("[") + text + "]";
  } else {
    return;  // UNIX sockets and the like: not egress
  }
  if (port == 0 || served_.count(port) != 0) return;  // paddock's proxy sees it and records it
  // Only the process still waiting in this very call is the one whose memory was read.
  std::uint64_t id = req.id;
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return;

  const std::string subject = host + ":" + std::to_string(port);
  const std::string reason = "port " + std::to_string(port) +
                             " is in no network.allow entry, so nothing in the sandbox leads out on it; the "
                             "kernel refuses the connection";
  if (audit_ != nullptr) {
    AuditEvent e;
    e.layer = "net";
    e.action = "deny";
    e.subject = subject;
    e.reason = reason;
    e.pid = static_cast<int>(pid);
    e.extra = {{"path", "direct"}, {"host", text}, {"port", port}};
    audit_->write(e);
  }
  if (verbose_)
    std::fprintf(stderr, "paddock: denied connection to %s by pid %d: %s\n", subject.c_str(), pid, reason.c_str());
  if (on_denial_) on_denial_();
}

}  // namespace paddock
