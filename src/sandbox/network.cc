#include "sandbox/network.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "util/error.h"

namespace paddock {
namespace {

// Sends one netlink request and waits for its acknowledgement; throws naming `what`.
void netlink_request(void* msg, std::size_t len, const std::string& what) {
  UniqueFd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!nl) throw_errno("network: netlink socket");
  struct sockaddr_nl kernel {};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl.get(), msg, len, 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof kernel) < 0)
    throw_errno("network: " + what);
  char buf[512];
  ssize_t n;
  do {
    n = ::recv(nl.get(), buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(struct nlmsgerr)))) throw_errno("network: netlink answer");
  auto* h = reinterpret_cast<struct nlmsghdr*>(buf);
  if (h->nlmsg_type != NLMSG_ERROR) throw Error("network: unexpected netlink answer");
  auto* e = static_cast<struct nlmsgerr*>(NLMSG_DATA(h));
  if (e->error != 0) throw_errno("network: " + what, -e->error);
}

template <typename Req>
void add_attr(Req& req, unsigned short type, const void* data, std::size_t size) {
  auto* rta = reinterpret_cast<struct rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
  std::memcpy(RTA_DATA(rta), data, size);
  req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

int loopback_index() {
  int lo = static_cast<int>(::if_nametoindex("lo"));
  if (lo == 0) throw_errno("network: finding lo");
  return lo;
}

// RTM_NEWROUTE "local <family default> dev lo table local": every address of the family is
// then one of this namespace's own, so a connect() to any of them lands on a local listener
// (paddock's, on the allowed ports) instead of failing with ENETUNREACH.
void add_local_default_route(int family) {
  struct {
    struct nlmsghdr nh;
    struct rtmsg rt;
    char attrs[64];
  } req{};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
  req.nh.nlmsg_type = RTM_NEWROUTE;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  req.nh.nlmsg_seq = 1;
  req.rt.rtm_family = static_cast<unsigned char>(family);
  req.rt.rtm_dst_len = 0;
  req.rt.rtm_table = RT_TABLE_LOCAL;
  req.rt.rtm_protocol = RTPROT_BOOT;
  req.rt.rtm_scope = RT_SCOPE_HOST;
  req.rt.rtm_type = RTN_LOCAL;
  int lo = loopback_index();
  add_attr(req, RTA_OIF, &lo, sizeof lo);
  netlink_request(&req, req.nh.nlmsg_len,
                  std::string("making every ") + (family == AF_INET ? "IPv4" : "IPv6") + " address local");
}

// An IPv4 address on lo that is not a loopback one: getaddrinfo() with AI_ADDRCONFIG returns
// IPv4 answers only when the system has such an address, and many programs ask that way.
void add_global_ipv4_address(const std::array<std::uint8_t, 4>& addr) {
  struct {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
    char attrs[64];
  } req{};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  req.nh.nlmsg_type = RTM_NEWADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  req.nh.nlmsg_seq = 2;
  req.ifa.ifa_family = AF_INET;
  req.ifa.ifa_prefixlen = 32;
  req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  req.ifa.ifa_index = static_cast<unsigned>(loopback_index());
  add_attr(req, IFA_LOCAL, addr.data(), 4);
  add_attr(req, IFA_ADDRESS, addr.data(), 4);
  netlink_request(&req, req.nh.nlmsg_len, "adding the sandbox's own address");
}

bool ipv6_available() {
  UniqueFd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return s.valid();
}

UniqueFd tcp_listener(std::uint16_t port, bool v6) {
  UniqueFd s(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("network: listening socket");
  int one = 1, zero = 0;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    // One dual-stack socket per port: IPv4 peers arrive as ::ffff:a.b.c.d.
    if (::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0)
      throw_errno("network: dual-stack listener");
    struct sockaddr_in6 a {};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    a.sin6_port = htons(port);
    rc = ::bind(s.get(), reinterpret_cast<struct sockaddr*>(&a), sizeof a);
  } else {
    struct sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons(port);
    rc = ::bind(s.get(), reinterpret_cast<struct sockaddr*>(&a), sizeof a);
  }
  if (rc != 0) throw_errno("network: listening on port " + std::to_string(port));
  if (::listen(s.get(), 4096) != 0) throw_errno("network: listen on port " + std::to_string(port));
  return s;
}

}  // namespace

void bring_up_loopback() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("network: socket for lo");
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) throw_errno("network: reading lo flags");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) throw_errno("network: bringing lo up");
}

ProxyListeners open_proxy_listeners(const ProxyPlan& plan) {
  const bool v6 = ipv6_available();
  add_local_default_route(AF_INET);
  if (v6) add_local_default_route(AF_INET6);
  // The pool's network address: never handed out for a name.
  add_global_ipv4_address(plan.pool_base);
  ProxyListeners out;
  for (auto port : plan.listen_ports()) out.tcp.push_back(tcp_listener(port, v6));
  out.dns_udp = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!out.dns_udp) throw_errno("network: DNS socket");
  struct sockaddr_in a {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(plan.dns_port);
  if (::bind(out.dns_udp.get(), reinterpret_cast<struct sockaddr*>(&a), sizeof a) != 0)
    throw_errno("network: binding the resolver to 127.0.0.1:" + std::to_string(plan.dns_port));
  return out;
}

McpListeners open_mcp_listeners(const McpEndpointPlan& plan) {
  McpListeners out;
  out.unix_socket = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!out.unix_socket) throw_errno("tools: UNIX socket");
  struct sockaddr_un u {};
  u.sun_family = AF_UNIX;
  if (plan.socket_path.size() >= sizeof u.sun_path) throw Error("tools: socket path too long: " + plan.socket_path);
  std::memcpy(u.sun_path, plan.socket_path.c_str(), plan.socket_path.size() + 1);
  if (::bind(out.unix_socket.get(), reinterpret_cast<struct sockaddr*>(&u), sizeof u) != 0)
    throw_errno("tools: binding " + plan.socket_path);
  if (::chmod(plan.socket_path.c_str(), 0600) != 0) throw_errno("tools: chmod " + plan.socket_path);
  if (::listen(out.unix_socket.get(), 128) != 0) throw_errno("tools: listen on " + plan.socket_path);
  std::string dir = plan.socket_path.substr(0, plan.socket_path.rfind('/'));
  if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
    throw_errno("tools: making " + dir + " read-only");
  if (plan.tcp_port != 0) {
    out.tcp = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!out.tcp) throw_errno("tools: TCP socket");
    int one = 1;
    ::setsockopt(out.tcp.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(plan.tcp_port);
    if (::bind(out.tcp.get(), reinterpret_cast<struct sockaddr*>(&a), sizeof a) != 0)
      throw_errno("tools: listening on 127.0.0.1:" + std::to_string(plan.tcp_port));
    if (::listen(out.tcp.get(), 128) != 0) throw_errno("tools: listen on port " + std::to_string(plan.tcp_port));
  }
  return out;
}

}  // namespace paddock
