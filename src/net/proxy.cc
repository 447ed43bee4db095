#include "net/proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "audit/writer.h"
#include "net/address_pool.h"
#include "net/dns_responder.h"
#include "net/egress_policy.h"
#include "net/host_resolver.h"
#include "net/http_body.h"
#include "net/http_proxy_request.h"
#include "net/socks5.h"
#include "util/error.h"

namespace paddock {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kHeadTimeout = std::chrono::seconds(30);     // to send a complete request head
constexpr auto kConnectTimeout = std::chrono::seconds(15);  // host-side connect, resolution included
constexpr std::size_t kSplice = 1 << 20;                    // bytes per splice into a pipe
constexpr std::uint64_t kBulk = 1 << 20;                    // bytes before a connection counts as bulk
constexpr std::size_t kBulkPipe = 1 << 20;                  // its pipes' capacity then
constexpr int kRoundsPerEvent = 16;                         // fairness between busy connections
constexpr int kDnsPerEvent = 64;
constexpr std::uint32_t kUnwatched = 0xffffffffu;  // an epoll mask: not in the set at all

enum class Tag : std::uint8_t { Listener = 1, DnsUdp, Resolver, Timer, Client, Upstream };

std::uint64_t key(Tag t, std::uint64_t id) {
  return (static_cast<std::uint64_t>(t) << 56) | id;
}

enum class Path { Http, Connect, Socks, Transparent, DnsTcp };

const char* path_name(Path p) {
  switch (p) {
    case Path::Http: return "http";
    case Path::Connect: return "connect";
    case Path::Socks: return "socks";
    case Path::Transparent: return "transparent";
    case Path::DnsTcp: return "dns";
  }
  return "?";
}

enum class Stage { HttpHead, SocksGreeting, SocksRequest, DnsTcp, Resolving, Connecting, Relay, Closing };

struct Endpoint {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
  std::uint16_t port = 0;
};

// A socket address as paddock's Endpoint; IPv4-mapped IPv6 becomes IPv4.
Endpoint endpoint_of(const struct sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const struct sockaddr_in*>(&ss);
    std::memcpy(e.bytes.data(), &a->sin_addr, 4);
    e.port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const struct sockaddr_in6*>(&ss);
    e.port = ntohs(a->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      std::memcpy(e.bytes.data(), reinterpret_cast<const std::uint8_t*>(&a->sin6_addr) + 12, 4);
    } else {
      e.v6 = true;
      std::memcpy(e.bytes.data(), &a->sin6_addr, 16);
    }
  }
  return e;
}

std::string address_text(const std::uint8_t* bytes, bool v6) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, buf, sizeof buf);
  return buf;
}

std::string host_port(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool is_loopback_service_address(const Endpoint& e) {
  static const std::uint8_t v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (e.v6) return std::memcmp(e.bytes.data(), v6_loop, 16) == 0;
  return e.bytes[0] == 127 && e.bytes[1] == 0 && e.bytes[2] == 0 && e.bytes[3] == 1;
}

void set_reset_on_close(int fd) {
  struct linger l {
    1, 0
  };
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

struct Pipe {
  UniqueFd r, w;
  std::size_t pending = 0;  // bytes in the pipe
  std::uint64_t moved = 0;  // bytes through it so far
  bool grown = false;
  bool open() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    r = UniqueFd(p[0]);
    w = UniqueFd(p[1]);
    return true;
  }
};

struct Conn {
  std::uint64_t id = 0;
  UniqueFd client, upstream;
  Stage stage = Stage::HttpHead;
  Path path = Path::Transparent;
  Clock::time_point start = Clock::now();
  Clock::time_point deadline;

  std::string host;  // the destination as named (or the literal's text)
  std::uint16_t port = 0;
  bool literal = false;
  std::string address;  // the address dialled
  std::string rule;     // file:line that allowed it

  std::string in;  // bytes from the client before the relay starts
  std::string to_upstream, to_client;
  std::size_t to_upstream_off = 0, to_client_off = 0;

  std::vector<ResolvedAddress> candidates;
  std::size_t next_candidate = 0;
  std::string last_connect_error;

  Pipe c2u, u2c;
  bool client_eof = false, upstream_eof = false;
  bool upstream_shut = false, client_shut = false;
  bool connected = false;
  std::uint64_t bytes_out = 0, bytes_in = 0;
  std::uint32_t client_mask = kUnwatched, upstream_mask = kUnwatched;
  bool reset_client = false;  // close the client with a RST (transparent refusals)
  std::size_t scanned = 0;    // bytes of `in` already searched for a line end
  // Path::Http: the one request body relayed; bytes after it are dropped.
  HttpBodyFramer body = HttpBodyFramer::none();
  bool extra_noted = false;
};

struct Budget {
  std::uint64_t connections = 0;
  std::uint64_t bytes_out = 0;
};

}  // namespace

class EgressProxy::Impl {
 public:
  Impl(const ProxyPlan& plan, std::vector<UniqueFd> listeners, UniqueFd dns_udp, ProxyOptions options)
      : plan_(plan),
        opts_(std::move(options)),
        policy_(plan.allow, plan.deny),
        pool_(plan.pool_base, plan.pool_prefix),
        dns_(policy_, pool_),
        listeners_(std::move(listeners)),
        dns_udp_(std::move(dns_udp)) {
    // splice() into a socket whose peer is gone raises SIGPIPE (it has no MSG_NOSIGNAL): the
    // relay wants EPIPE instead. The sandbox already exists, so it does not inherit this.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old_sigpipe_);
    // Each open connection holds up to six descriptors (two sockets, two pipes).
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      // What the session itself holds (listeners, log, pidfd...) is kept aside.
      const std::uint64_t reserve = listeners_.size() + 32;
      max_conns_ = rl.rlim_cur > reserve + 6 ? (rl.rlim_cur - reserve) / 6 : 1;
    }
    spare_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ep_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep_) throw_errno("network: epoll for the proxy");
    for (std::size_t i = 0; i < listeners_.size(); ++i) add(listeners_[i].get(), EPOLLIN, key(Tag::Listener, i));
    add(dns_udp_.get(), EPOLLIN, key(Tag::DnsUdp, 0));
    add(resolver_.fd(), EPOLLIN, key(Tag::Resolver, 0));
    timer_ = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!timer_) throw_errno("network: timer for the proxy");
    struct itimerspec its {};
    its.it_value.tv_sec = 1;
    its.it_interval.tv_sec = 1;
    ::timerfd_settime(timer_.get(), 0, &its, nullptr);
    add(timer_.get(), EPOLLIN, key(Tag::Timer, 0));
  }

  ~Impl() {
    struct SigpipeRestore {
      struct sigaction old;
      ~SigpipeRestore() { ::sigaction(SIGPIPE, &old, nullptr); }
    } restore{old_sigpipe_};
    std::vector<std::uint64_t> ids;
    ids.reserve(conns_.size());
    for (auto& [id, c] : conns_) ids.push_back(id);
    for (auto id : ids) {
      try {
        finish(id, "the session ended");
      } catch (...) {
        // The log may already be closed; nothing else to do with a connection at exit.
      }
    }
  }

  [[nodiscard]] int fd() const { return ep_.get(); }
  [[nodiscard]] ProxyStats stats() const { return stats_; }

  void run_ready() {
    struct epoll_event events[64];
    int n = ::epoll_wait(ep_.get(), events, 64, 0);
    for (int i = 0; i < n; ++i) {
      std::uint64_t k = events[i].data.u64;
      auto tag = static_cast<Tag>(k >> 56);
      std::uint64_t id = k & ((std::uint64_t{1} << 56) - 1);
      switch (tag) {
        case Tag::Listener: on_accept(id); break;
        case Tag::DnsUdp: on_dns_udp(); break;
        case Tag::Resolver: on_resolved(); break;
        case Tag::Timer: on_timer(); break;
        case Tag::Client:
        case Tag::Upstream: on_conn(id, tag == Tag::Client, events[i].events); break;
      }
    }
  }

 private:
  // ---- epoll bookkeeping -------------------------------------------------------------------

  void add(int fd, std::uint32_t events, std::uint64_t k) {
    struct epoll_event ev {};
    ev.events = events;
    ev.data.u64 = k;
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("network: epoll_ctl");
  }

  // `current` is kUnwatched while the descriptor is not in the epoll set. A descriptor nobody
  // waits on leaves the set: hang-ups and errors are reported whatever the mask, and would
  // otherwise wake the loop over and over.
  void set_mask(int fd, std::uint32_t& current, std::uint32_t wanted, std::uint64_t k) {
    if (fd < 0 || current == wanted) return;
    if (wanted == 0) {
      if (current != kUnwatched) ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
      current = kUnwatched;
      return;
    }
    struct epoll_event ev {};
    ev.events = wanted;
    ev.data.u64 = k;
    ::epoll_ctl(ep_.get(), current == kUnwatched ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    current = wanted;
  }

  // ---- audit -------------------------------------------------------------------------------

  void event(const std::string& layer, const std::string& action, const std::string& subject, const std::string& reason,
             nlohmann::json extra) {
    if (opts_.audit == nullptr) return;
    AuditEvent e;
    e.layer = layer;
    e.action = action;
    e.subject = subject;
    e.reason = reason;
    e.extra = std::move(extra);
    try {
      opts_.audit->write(e);
    } catch (const std::exception& ex) {
      // A log that cannot be written must not take the relay down with it; say so once.
      if (!audit_failed_) std::fprintf(stderr, "paddock: audit log: %s\n", ex.what());
      audit_failed_ = true;
    }
  }

  void denied(const std::string& layer, const std::string& subject, const std::string& reason, nlohmann::json extra) {
    ++stats_.denials;
    event(layer, "deny", subject, reason, std::move(extra));
    if (opts_.verbose) {
      std::fprintf(stderr, "paddock: denied %s %s: %s\n", layer == "dns" ? "DNS" : "connection to", subject.c_str(),
                   reason.c_str());
    }
    if (opts_.on_denial) opts_.on_denial();
  }

  nlohmann::json conn_fields(const Conn& c) const {
    nlohmann::json j = {{"path", path_name(c.path)}, {"host", c.host}, {"port", c.port}, {"conn", c.id}};
    if (!c.address.empty()) j["address"] = c.address;
    return j;
  }

  // ---- accepting ---------------------------------------------------------------------------

  void on_accept(std::uint64_t index) {
    int lfd = listeners_[index].get();
    for (int i = 0; i < 64; ++i) {
      struct sockaddr_storage peer {};
      socklen_t len = sizeof peer;
      if (conns_.size() >= max_conns_) {
        // Each connection may need six descriptors once relaying: accepting more than the
        // limit allows would only make every one of them fail later.
        refuse_for_lack_of_descriptors(lfd);
        continue;
      }
      int fd = ::accept4(lfd, reinterpret_cast<struct sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          refuse_for_lack_of_descriptors(lfd);
          continue;
        }
        return;  // EAGAIN, or a connection that went away before we got to it
      }
      UniqueFd client(fd);
      struct sockaddr_storage local {};
      len = sizeof local;
      if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&local), &len) != 0) continue;
      start_conn(std::move(client), endpoint_of(local));
    }
  }

  // Out of descriptors: take the connection with the spare one, close it at once (the client
  // sees a refused connection, not a hang), and get the spare back.
  void refuse_for_lack_of_descriptors(int lfd) {
    spare_.reset();
    UniqueFd victim(::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC));
    if (victim) set_reset_on_close(victim.get());
    victim.reset();
    spare_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    auto now = Clock::now();
    if (now - last_fd_warning_ > std::chrono::seconds(1)) {
      last_fd_warning_ = now;
      event("net", "warn", "descriptors", "out of file descriptors: a new connection was refused; open ones continue",
            {{"open_connections", conns_.size()}});
    }
  }

  void start_conn(UniqueFd client, const Endpoint& local) {
    auto c = std::make_unique<Conn>();
    c->id = ++next_id_;
    c->client = std::move(client);
    c->client_mask = kUnwatched;
    c->upstream_mask = kUnwatched;
    c->deadline = Clock::now() + kHeadTimeout;
    Conn& r = *c;
    conns_[c->id] = std::move(c);
    if (is_loopback_service_address(local) && local.port == plan_.http_port) {
      r.path = Path::Http;
      r.stage = Stage::HttpHead;
    } else if (is_loopback_service_address(local) && local.port == plan_.socks_port) {
      r.path = Path::Socks;
      r.stage = Stage::SocksGreeting;
    } else if (is_loopback_service_address(local) && local.port == plan_.dns_port) {
      r.path = Path::DnsTcp;
      r.stage = Stage::DnsTcp;
    } else {
      r.path = Path::Transparent;
      r.port = local.port;
      r.host = address_text(local.bytes.data(), local.v6);
      decide(r);
      return;
    }
    update(r);
  }

  // ---- the decision ------------------------------------------------------------------------

  void refuse(Conn& c, const EgressDecision& d, nlohmann::json extra = nullptr) {
    nlohmann::json j = conn_fields(c);
    if (d.rule.known()) j["rule"] = d.rule.short_str();
    if (!d.hint.empty()) j["hint"] = d.hint;
    if (extra.is_object()) j.update(extra);
    denied("net", host_port(c.host, c.port), d.reason, j);
    fail(c, 403, SocksReply::NotAllowed, d);
  }

  // Answers a connection that will not go through, in its protocol's own way, then closes it.
  void fail(Conn& c, int http_status, SocksReply socks, const EgressDecision& d) {
    switch (c.path) {
      case Path::Http:
      case Path::Connect:
        if (http_status == 403) {
          HttpDenial hd{c.host, c.port, d.reason, d.rule.known() ? d.rule.short_str() : "", d.hint};
          c.to_client = http_denied_response(hd);
        } else {
          c.to_client = http_response(http_status, "paddock: " + d.reason + "\n");
        }
        break;
      case Path::Socks: {
        auto r = socks5_reply(socks);
        c.to_client.assign(r.begin(), r.end());
        break;
      }
      case Path::Transparent:
      case Path::DnsTcp: c.reset_client = true; break;
    }
    c.to_client_off = 0;
    c.stage = Stage::Closing;
    c.deadline = Clock::now() + std::chrono::seconds(5);
    c.upstream.reset();
    c.upstream_mask = kUnwatched;
    if (c.to_client.empty()) {
      close_conn(c.id);
      return;
    }
    update(c);
  }

  EgressDecision budget_refusal(const std::string& what, const Setting<std::uint64_t>& s, const std::string& scope) {
    EgressDecision d;
    d.allowed = false;
    d.reason = scope + "network." + what + " = " + std::to_string(s.value) + " (" + s.origin.short_str() + ") used up";
    d.rule = s.origin;
    d.hint = "network." + what + " = <more than " + std::to_string(s.value) + ">";
    return d;
  }

  void decide(Conn& c) {
    EgressDecision d;
    std::array<std::uint8_t, 16> lit{};
    bool v6 = false;
    if (parse_ip_literal(c.host, lit, v6)) {
      // One of the resolver's own addresses (a client that resolved the name itself before
      // asking the HTTP proxy or SOCKS, as socks5:// clients do) stands for its name.
      std::array<std::uint8_t, 4> v4{};
      std::memcpy(v4.data(), lit.data(), 4);
      if (!v6 && pool_.contains(v4)) {
        auto name = pool_.name_for(v4);
        if (!name) {
          EgressDecision stale;
          stale.reason = c.host + " is one of paddock's resolver addresses but stands for no name (a stale answer?)";
          refuse(c, stale);
          return;
        }
        c.host = *name;
        c.literal = false;
        decide(c);
        return;
      }
      c.literal = true;
      d = policy_.check_address("", lit.data(), v6, c.port);
    } else {
      d = policy_.check_name(c.host, c.port);
    }
    if (!d.allowed) {
      refuse(c, d);
      return;
    }
    c.rule = d.rule.known() ? d.rule.short_str() : "";
    // Budgets: connections, then bytes (one used up refuses new connections too, before anything
    // is dialled); the session's before the host's.
    Budget& host_budget = per_host_[c.host];
    struct BudgetCheck {
      const std::optional<Setting<std::uint64_t>>& limit;
      std::uint64_t used;
      const char* key;
      std::string scope;
      const char* limit_name;
    };
    const BudgetCheck checks[] = {
        {plan_.budget.max_connections, session_.connections, "max_connections", "", "max_connections"},
        {plan_.per_host.max_connections, host_budget.connections, "per_host.max_connections", c.host + ": ",
         "max_connections"},
        {plan_.budget.max_bytes_out, session_.bytes_out, "max_bytes_out", "", "max_bytes_out"},
        {plan_.per_host.max_bytes_out, host_budget.bytes_out, "per_host.max_bytes_out", c.host + ": ", "max_bytes_out"},
    };
    for (const auto& k : checks) {
      if (k.limit && k.used >= k.limit->value) {
        refuse(c, budget_refusal(k.key, *k.limit, k.scope), {{"limit", k.limit_name}});
        return;
      }
    }
    ++session_.connections;
    ++host_budget.connections;
    c.deadline = Clock::now() + kConnectTimeout;
    if (c.literal) {
      ResolvedAddress a;
      a.bytes = lit;
      a.v6 = v6;
      c.candidates = {a};
      connect_next(c);
      return;
    }
    if (auto hit = resolver_.cached(c.host)) {
      resolved(c, *hit, "");
      return;
    }
    c.stage = Stage::Resolving;
    update(c);
    resolver_.submit(c.id, c.host);
  }

  void on_resolved() {
    for (auto& r : resolver_.take()) {
      auto it = conns_.find(r.ticket);
      if (it == conns_.end() || it->second->stage != Stage::Resolving) continue;
      resolved(*it->second, r.addresses, r.error);
    }
  }

  void resolved(Conn& c, const std::vector<ResolvedAddress>& addrs, const std::string& error) {
    if (addrs.empty()) {
      EgressDecision d;
      d.reason = "cannot resolve " + c.host + " on the host: " + error;
      event("net", "warn", host_port(c.host, c.port), d.reason, conn_fields(c));
      fail(c, 502, SocksReply::HostUnreachable, d);
      return;
    }
    // Every address is checked, and only checked addresses are dialled: no rebinding window.
    std::optional<EgressDecision> first_refusal;
    c.candidates.clear();
    for (const auto& a : addrs) {
      EgressDecision d = policy_.check_address(c.host, a.bytes.data(), a.v6, c.port);
      if (d.allowed) {
        c.candidates.push_back(a);
      } else if (!first_refusal) {
        first_refusal = d;
        c.address = address_text(a.bytes.data(), a.v6);
      }
    }
    if (c.candidates.empty()) {
      refuse(c, *first_refusal);
      return;
    }
    c.address.clear();
    connect_next(c);
  }

  void connect_next(Conn& c) {
    while (c.next_candidate < c.candidates.size()) {
      const ResolvedAddress& a = c.candidates[c.next_candidate++];
      c.address = address_text(a.bytes.data(), a.v6);
      UniqueFd s(::socket(a.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!s) {
        c.last_connect_error = std::strerror(errno);
        continue;
      }
      int one = 1;
      ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      int rc;
      if (a.v6) {
        struct sockaddr_in6 sa {};
        sa.sin6_family = AF_INET6;
        std::memcpy(&sa.sin6_addr, a.bytes.data(), 16);
        sa.sin6_port = htons(c.port);
        rc = ::connect(s.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa);
      } else {
        struct sockaddr_in sa {};
        sa.sin_family = AF_INET;
        std::memcpy(&sa.sin_addr, a.bytes.data(), 4);
        sa.sin_port = htons(c.port);
        rc = ::connect(s.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa);
      }
      if (rc != 0 && errno != EINPROGRESS) {
        c.last_connect_error = std::strerror(errno);
        continue;
      }
      c.upstream = std::move(s);
      c.upstream_mask = kUnwatched;
      c.stage = Stage::Connecting;
      update(c);
      return;
    }
    EgressDecision d;
    d.reason = "cannot connect to " + host_port(c.host, c.port) + (c.address.empty() ? "" : " (" + c.address + ")") +
               ": " + (c.last_connect_error.empty() ? "no address" : c.last_connect_error);
    event("net", "warn", host_port(c.host, c.port), d.reason, conn_fields(c));
    fail(c, 502, SocksReply::ConnectionRefused, d);
  }

  void on_connected(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      c.last_connect_error = std::strerror(err);
      ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, c.upstream.get(), nullptr);
      c.upstream.reset();
      connect_next(c);
      return;
    }
    if (!c.c2u.open() || !c.u2c.open()) {
      EgressDecision d;
      d.reason = std::string("paddock cannot relay: ") + std::strerror(errno);
      event("net", "warn", host_port(c.host, c.port), d.reason, conn_fields(c));
      fail(c, 503, SocksReply::GeneralFailure, d);
      return;
    }
    c.connected = true;
    ++stats_.connections;
    nlohmann::json j = conn_fields(c);
    if (!c.rule.empty()) j["rule"] = c.rule;
    event("net", "allow", host_port(c.host, c.port), "allowed" + (c.rule.empty() ? "" : " by " + c.rule), j);
    if (opts_.verbose) {
      std::fprintf(stderr, "paddock: %s %s (%s) allowed\n", path_name(c.path), host_port(c.host, c.port).c_str(),
                   c.address.c_str());
    }
    switch (c.path) {
      case Path::Connect: c.to_client = "HTTP/1.1 200 Connection established\r\n\r\n"; break;
      case Path::Socks: {
        auto r = socks5_reply(SocksReply::Succeeded);
        c.to_client.assign(r.begin(), r.end());
        break;
      }
      default: break;
    }
    c.to_client_off = 0;
    // What the client sent after its request head goes first (a TLS hello right behind CONNECT).
    c.to_upstream += c.in;
    c.in.clear();
    if (!charge_bytes_out(c, c.to_upstream.size())) return;
    c.stage = Stage::Relay;
    pump(c);
  }

  // ---- budgets of bytes --------------------------------------------------------------------

  // How many more bytes may go out on this connection (UINT64_MAX: no budget).
  std::uint64_t bytes_left(const Conn& c) {
    std::uint64_t left = UINT64_MAX;
    if (plan_.budget.max_bytes_out) {
      const auto m = plan_.budget.max_bytes_out->value;
      left = std::min(left, session_.bytes_out >= m ? 0 : m - session_.bytes_out);
    }
    if (plan_.per_host.max_bytes_out) {
      const auto m = plan_.per_host.max_bytes_out->value;
      const auto used = per_host_[c.host].bytes_out;
      left = std::min(left, used >= m ? 0 : m - used);
    }
    return left;
  }

  // Counts n bytes going out; false (and the connection ended, with a denial) when a budget
  // does not have them.
  bool charge_bytes_out(Conn& c, std::uint64_t n) {
    if (n == 0) return true;
    if (n > bytes_left(c)) {
      bool session = plan_.budget.max_bytes_out && session_.bytes_out + n > plan_.budget.max_bytes_out->value;
      EgressDecision d = session
                             ? budget_refusal("max_bytes_out", *plan_.budget.max_bytes_out, "")
                             : budget_refusal("per_host.max_bytes_out", *plan_.per_host.max_bytes_out, c.host + ": ");
      nlohmann::json j = conn_fields(c);
      j["limit"] = "max_bytes_out";
      j["rule"] = d.rule.short_str();
      j["hint"] = d.hint;
      denied("net", host_port(c.host, c.port), d.reason + "; the connection was closed", j);
      c.reset_client = true;
      close_conn(c.id);
      return false;
    }
    session_.bytes_out += n;
    per_host_[c.host].bytes_out += n;
    c.bytes_out += n;
    stats_.bytes_out += n;
    return true;
  }

  // ---- relaying ----------------------------------------------------------------------------

  // Writes a pending buffer; false on a fatal error.
  static bool flush(int fd, std::string& buf, std::size_t& off, bool& blocked) {
    while (off < buf.size()) {
      ssize_t n = ::send(fd, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        blocked = true;
        return true;
      }
      if (n < 0) return false;
      off += static_cast<std::size_t>(n);
    }
    buf.clear();
    off = 0;
    return true;
  }

  // Moves bytes src -> pipe -> dst until something would block. Returns false when the
  // connection must end (an error, or a budget refusal that already closed it: `gone`).
  bool pump_dir(Conn& c, bool outbound, bool& gone) {
    int src = outbound ? c.client.get() : c.upstream.get();
    int dst = outbound ? c.upstream.get() : c.client.get();
    Pipe& p = outbound ? c.c2u : c.u2c;
    bool& eof = outbound ? c.client_eof : c.upstream_eof;
    bool& shut = outbound ? c.upstream_shut : c.client_shut;
    std::string& buf = outbound ? c.to_upstream : c.to_client;
    std::size_t& off = outbound ? c.to_upstream_off : c.to_client_off;
    bool blocked = false;
    if (!flush(dst, buf, off, blocked)) return false;
    if (blocked) return true;
    for (int round = 0; round < kRoundsPerEvent; ++round) {
      while (p.pending > 0) {
        ssize_t n = ::splice(p.r.get(), nullptr, dst, nullptr, p.pending, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        if (n <= 0) return false;
        p.pending -= static_cast<std::size_t>(n);
        if (!outbound) {
          c.bytes_in += static_cast<std::uint64_t>(n);
          stats_.bytes_in += static_cast<std::uint64_t>(n);
        }
      }
      if (eof) break;
      std::size_t want = kSplice;
      if (outbound) {
        std::uint64_t left = bytes_left(c);
        if (left == 0) {
          char b;
          ssize_t peek = ::recv(src, &b, 1, MSG_PEEK | MSG_DONTWAIT);
          if (peek > 0) {
            charge_bytes_out(c, 1);  // refuses and closes
            gone = true;
            return false;
          }
          if (peek < 0 && errno == EAGAIN) return true;
          eof = true;
          break;
        }
        want = static_cast<std::size_t>(std::min<std::uint64_t>(want, left));
      }
      ssize_t n = ::splice(src, nullptr, p.w.get(), nullptr, want, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n < 0) return false;
      if (n == 0) {
        eof = true;
        break;
      }
      p.pending += static_cast<std::size_t>(n);
      p.moved += static_cast<std::uint64_t>(n);
      if (!p.grown && p.moved >= kBulk) {
        // A bulk transfer: a larger pipe moves it in fewer system calls. Only then, because
        // the kernel charges pipe capacity per user, and idle connections should not use it up.
        p.grown = true;
        ::fcntl(p.w.get(), F_SETPIPE_SZ, static_cast<int>(kBulkPipe));
      }
      if (outbound && !charge_bytes_out(c, static_cast<std::uint64_t>(n))) {
        gone = true;
        return false;
      }
    }
    if (eof && p.pending == 0 && buf.empty() && !shut) {
      ::shutdown(dst, SHUT_WR);  // half-close travels through
      shut = true;
    }
    return true;
  }

  void pump(Conn& c) {
    bool gone = false;
    bool ok = c.path == Path::Http ? pump_http_request(c, gone) : pump_dir(c, true, gone);
    if (gone) return;
    if (ok) ok = pump_dir(c, false, gone);
    if (gone) return;
    if (!ok) {
      c.reset_client = true;
      close_conn(c.id);
      return;
    }
    if (c.upstream_shut && c.client_shut) {
      close_conn(c.id);
      return;
    }
    update(c);
  }

  // ---- per-connection events ---------------------------------------------------------------

  void on_conn(std::uint64_t id, bool client_side, std::uint32_t events) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    switch (c.stage) {
      case Stage::HttpHead: read_head(c, &Impl::parse_http); break;
      case Stage::SocksGreeting:
      case Stage::SocksRequest: read_head(c, &Impl::parse_socks); break;
      case Stage::DnsTcp: {
        bool blocked = false;
        if (!flush(c.client.get(), c.to_client, c.to_client_off, blocked)) {
          close_conn(id);
          break;
        }
        read_head(c, &Impl::parse_dns_tcp);
        break;
      }
      case Stage::Resolving:
      case Stage::Connecting:
        if (client_side) {
          if ((events & (EPOLLHUP | EPOLLERR)) != 0) close_conn(id);  // the client gave up while we dialled
        } else {
          on_connected(c);
        }
        break;
      case Stage::Relay:
        pump(c);
        // A side that failed (reset) can neither send nor take more: whatever could be
        // delivered was, above. A hang-up alone is seen by the reads and writes themselves.
        if ((events & EPOLLERR) != 0 && conns_.count(id) != 0) {
          it->second->reset_client = true;
          close_conn(id);
        }
        break;
      case Stage::Closing: linger(c); break;
    }
  }

  // A refusal is written, the write side shut, and what the client still sends is read and
  // dropped until it closes: closing with unread bytes would send a RST that can destroy the
  // refusal before the client reads it.
  void linger(Conn& c) {
    if (!c.client_shut) {
      bool blocked = false;
      if (!flush(c.client.get(), c.to_client, c.to_client_off, blocked)) {
        close_conn(c.id);
        return;
      }
      if (blocked) {
        update(c);
        return;
      }
      ::shutdown(c.client.get(), SHUT_WR);
      c.client_shut = true;
    }
    char buf[4096];
    for (int i = 0; i < 16; ++i) {
      ssize_t n = ::recv(c.client.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) {
        close_conn(c.id);
        return;
      }
    }
    update(c);
  }

  using Parser = bool (Impl::*)(Conn&);

  // Reads what the client sent before the relay starts; the parser decides whether it is
  // enough. Reads are bounded: a head larger than the protocol allows ends the connection.
  void read_head(Conn& c, Parser parse) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(c.client.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) {
        close_conn(c.id);
        return;
      }
      if (n == 0) {
        // A request followed at once by a half-close is still a request: parse what came.
        c.client_eof = true;
        break;
      }
      c.in.append(buf, static_cast<std::size_t>(n));
      if (c.in.size() > kHttpProxyMaxHead + sizeof buf) break;
    }
    const std::uint64_t id = c.id;
    while ((this->*parse)(c)) {
      // A parser returns true when it consumed a complete message and wants to look again
      // (pipelined DNS over TCP); the connection may be gone by then.
      if (conns_.count(id) == 0) return;
    }
    if (conns_.count(id) == 0) return;
    const bool head_stage = c.stage == Stage::HttpHead || c.stage == Stage::SocksGreeting ||
                            c.stage == Stage::SocksRequest || c.stage == Stage::DnsTcp;
    if (head_stage && c.client_eof) {
      if (c.to_client.empty()) {
        close_conn(id);  // ended before its request was complete (or all DNS answers are out)
        return;
      }
      c.stage = Stage::Closing;  // the answers still go out, then the connection closes
      c.deadline = Clock::now() + std::chrono::seconds(5);
    }
    if (head_stage) update(c);
  }

  bool parse_http(Conn& c) {
    // The parser reads the whole head again on each call: only call it when a line ended.
    if (c.in.find('\n', c.scanned) == std::string::npos && c.in.size() < kHttpProxyMaxHead) {
      c.scanned = c.in.size();
      return false;
    }
    c.scanned = c.in.size();
    HttpProxyParse r = parse_http_proxy_request(c.in);
    if (r.state == HttpProxyParse::State::Incomplete) return false;
    if (r.state == HttpProxyParse::State::Error) {
      EgressDecision d;
      d.reason = "bad proxy request: " + r.error;
      c.path = Path::Http;
      c.host = "(bad request)";
      event("net", "warn", "http", d.reason, {{"path", "http"}, {"status", r.status}});
      fail(c, r.status, SocksReply::GeneralFailure, d);
      return false;
    }
    HttpProxyRequest& q = r.request;
    c.host = q.host;
    c.port = q.port;
    c.in.erase(0, q.head_size);
    if (q.kind == HttpProxyRequest::Kind::Connect) {
      c.path = Path::Connect;
    } else {
      c.path = Path::Http;
      c.body = q.chunked ? HttpBodyFramer::chunked() : HttpBodyFramer::length(q.content_length);
      std::size_t take = c.body.feed(c.in);
      if (take < c.in.size()) extra_after_request(c);
      c.in.resize(take);
      c.in.insert(0, q.forward_head);
    }
    decide(c);
    return false;
  }

  void extra_after_request(Conn& c) {
    if (c.extra_noted) return;
    c.extra_noted = true;
    event("net", "warn", host_port(c.host, c.port),
          c.body.error() ? "malformed chunked request body: the rest was not relayed"
                         : "a second request on one proxy connection was not relayed (one request per connection; "
                           "the client reconnects)",
          conn_fields(c));
  }

  // Path::Http, client to upstream: the request body and nothing after it.
  bool pump_http_request(Conn& c, bool& gone) {
    bool blocked = false;
    if (!flush(c.upstream.get(), c.to_upstream, c.to_upstream_off, blocked)) return false;
    if (blocked) return true;
    char buf[16384];
    for (int round = 0; round < kRoundsPerEvent && !c.client_eof; ++round) {
      ssize_t n = ::recv(c.client.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return false;
      if (n == 0) {
        c.client_eof = true;
        break;
      }
      const auto got = static_cast<std::size_t>(n);
      std::size_t take = c.body.done() || c.body.error() ? 0 : c.body.feed(std::string_view(buf, got));
      if (take < got) extra_after_request(c);
      if (take == 0) continue;
      if (!charge_bytes_out(c, take)) {
        gone = true;
        return false;
      }
      c.to_upstream.append(buf, take);
      if (!flush(c.upstream.get(), c.to_upstream, c.to_upstream_off, blocked)) return false;
      if (blocked) break;
    }
    if (c.client_eof && c.to_upstream.empty() && !c.upstream_shut) {
      ::shutdown(c.upstream.get(), SHUT_WR);
      c.upstream_shut = true;
    }
    return true;
  }

  bool parse_socks(Conn& c) {
    auto bytes = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(c.in.data()), c.in.size());
    if (c.stage == Stage::SocksGreeting) {
      SocksGreeting g = parse_socks5_greeting(bytes);
      if (g.state == SocksGreeting::State::Incomplete) return false;
      if (g.state == SocksGreeting::State::Error || !g.no_auth) {
        auto r = socks5_method_reply(false);
        c.to_client.assign(r.begin(), r.end());
        c.stage = Stage::Closing;
        c.deadline = Clock::now() + std::chrono::seconds(5);
        event("net", "warn", "socks",
              g.state == SocksGreeting::State::Error ? "bad SOCKS greeting: " + g.error
                                                     : "SOCKS client offers no usable method",
              {{"path", "socks"}});
        update(c);
        return false;
      }
      auto r = socks5_method_reply(true);
      c.to_client.assign(r.begin(), r.end());
      c.to_client_off = 0;
      bool blocked = false;
      if (!flush(c.client.get(), c.to_client, c.to_client_off, blocked)) {
        close_conn(c.id);
        return false;
      }
      c.in.erase(0, g.size);
      c.stage = Stage::SocksRequest;
      return !c.in.empty();
    }
    SocksRequest q = parse_socks5_request(bytes);
    if (q.state == SocksRequest::State::Incomplete) return false;
    if (q.state == SocksRequest::State::Error || q.command != 1) {
      EgressDecision d;
      d.reason = q.state == SocksRequest::State::Error
                     ? "bad SOCKS request: " + q.error
                     : "SOCKS command " + std::to_string(q.command) + " is not served";
      event("net", "warn", "socks", d.reason, {{"path", "socks"}});
      fail(c, 400, q.state == SocksRequest::State::Error ? q.reply_on_error : SocksReply::CommandNotSupported, d);
      return false;
    }
    c.host = q.host;
    c.port = q.port;
    c.literal = !q.is_domain;
    c.in.erase(0, q.size);
    decide(c);
    return false;
  }

  // DNS over TCP: 2-byte length, message; answered in order, the connection kept for more.
  bool parse_dns_tcp(Conn& c) {
    if (c.in.size() < 2) return false;
    std::size_t len = (static_cast<std::uint8_t>(c.in[0]) << 8) | static_cast<std::uint8_t>(c.in[1]);
    if (len > 4096) {  // a query is a few dozen bytes
      record_dns(DnsAnswer{{}, "", "", true, "oversized DNS message over TCP", "", "", ""}, "tcp");
      close_conn(c.id);
      return false;
    }
    if (c.in.size() < 2 + len) return false;
    auto msg = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(c.in.data()) + 2, len);
    DnsAnswer a = dns_.answer(msg);
    c.in.erase(0, 2 + len);
    record_dns(a, "tcp");
    if (a.response.empty()) {
      close_conn(c.id);
      return false;
    }
    std::string out(2, '\0');
    out[0] = static_cast<char>(a.response.size() >> 8);
    out[1] = static_cast<char>(a.response.size() & 0xff);
    out.append(a.response.begin(), a.response.end());
    c.to_client += out;
    bool blocked = false;
    if (!flush(c.client.get(), c.to_client, c.to_client_off, blocked)) {
      close_conn(c.id);
      return false;
    }
    c.deadline = Clock::now() + kHeadTimeout;
    return c.in.size() >= 2;
  }

  void record_dns(const DnsAnswer& a, const char* transport) {
    nlohmann::json j = {{"type", a.type}, {"transport", transport}};
    if (!a.rule.empty()) j["rule"] = a.rule;
    if (!a.hint.empty()) j["hint"] = a.hint;
    if (!a.answer.empty()) j["answer"] = a.answer;
    const std::string subject = a.name.empty() ? "(malformed query)" : a.name;
    if (a.denied) {
      denied("dns", subject, a.reason, j);
    } else {
      event("dns", "allow", subject, a.reason, j);
    }
  }

  void on_dns_udp() {
    std::uint8_t buf[4096];
    for (int i = 0; i < kDnsPerEvent; ++i) {
      struct sockaddr_storage peer {};
      socklen_t len = sizeof peer;
      ssize_t n =
          ::recvfrom(dns_udp_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&peer), &len);
      if (n < 0) return;
      DnsAnswer a = dns_.answer(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
      record_dns(a, "udp");
      if (!a.response.empty()) {
        ::sendto(dns_udp_.get(), a.response.data(), a.response.size(), MSG_DONTWAIT,
                 reinterpret_cast<struct sockaddr*>(&peer), len);
      }
    }
  }

  void on_timer() {
    std::uint64_t ticks;
    ssize_t r = ::read(timer_.get(), &ticks, sizeof ticks);
    (void)r;
    auto now = Clock::now();
    std::vector<std::uint64_t> expired;
    for (auto& [id, c] : conns_) {
      if (c->stage != Stage::Relay && now >= c->deadline) expired.push_back(id);
    }
    for (auto id : expired) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      if (c.stage == Stage::Resolving || c.stage == Stage::Connecting) {
        EgressDecision d;
        d.reason = "timed out connecting to " + host_port(c.host, c.port);
        event("net", "warn", host_port(c.host, c.port), d.reason, conn_fields(c));
        fail(c, 504, SocksReply::HostUnreachable, d);
      } else {
        close_conn(id);  // a head never completed, or a refusal never read
      }
    }
  }

  // ---- interest and closing ----------------------------------------------------------------

  void update(Conn& c) {
    std::uint32_t cm = 0, um = 0;
    switch (c.stage) {
      case Stage::HttpHead:
      case Stage::SocksGreeting:
      case Stage::SocksRequest:
      case Stage::DnsTcp:
        cm = c.in.size() > kHttpProxyMaxHead ? 0u : static_cast<std::uint32_t>(EPOLLIN);
        if (!c.to_client.empty()) cm |= EPOLLOUT;
        break;
      case Stage::Resolving: break;  // errors and hang-ups are reported regardless
      case Stage::Connecting: um = EPOLLOUT; break;
      case Stage::Relay:
        if (!c.client_eof && c.c2u.pending == 0 && c.to_upstream.empty()) cm |= EPOLLIN;
        if (c.u2c.pending > 0 || !c.to_client.empty()) cm |= EPOLLOUT;
        if (!c.upstream_eof && c.u2c.pending == 0 && c.to_client.empty()) um |= EPOLLIN;
        if (c.c2u.pending > 0 || !c.to_upstream.empty()) um |= EPOLLOUT;
        break;
      case Stage::Closing: cm = c.client_shut ? EPOLLIN : EPOLLOUT; break;
    }
    set_mask(c.client.get(), c.client_mask, cm, key(Tag::Client, c.id));
    if (c.upstream) set_mask(c.upstream.get(), c.upstream_mask, um, key(Tag::Upstream, c.id));
  }

  void finish(std::uint64_t id, const std::string& why) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    if (c.connected) {
      nlohmann::json j = conn_fields(c);
      j["bytes_out"] = c.bytes_out;
      j["bytes_in"] = c.bytes_in;
      j["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - c.start).count();
      event("net", "result", host_port(c.host, c.port), why, j);
    }
    if (c.reset_client && c.client) set_reset_on_close(c.client.get());
    conns_.erase(it);  // closing the descriptors removes them from the epoll set
  }

  void close_conn(std::uint64_t id) { finish(id, "closed"); }

  const ProxyPlan& plan_;
  ProxyOptions opts_;
  EgressPolicy policy_;
  AddressPool pool_;
  DnsResponder dns_;
  HostResolver resolver_;
  std::vector<UniqueFd> listeners_;
  UniqueFd dns_udp_, ep_, timer_, spare_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::uint64_t next_id_ = 0;
  Budget session_;
  std::unordered_map<std::string, Budget> per_host_;
  bool audit_failed_ = false;
  Clock::time_point last_fd_warning_{};
  std::size_t max_conns_ = SIZE_MAX;
  ProxyStats stats_;
  struct sigaction old_sigpipe_ {};
};

EgressProxy::EgressProxy(const ProxyPlan& plan, std::vector<UniqueFd> tcp_listeners, UniqueFd dns_udp,
                         ProxyOptions options)
    : impl_(std::make_unique<Impl>(plan, std::move(tcp_listeners), std::move(dns_udp), std::move(options))) {}

EgressProxy::~EgressProxy() = default;

int EgressProxy::fd() const {
  return impl_->fd();
}

void EgressProxy::run_ready() {
  impl_->run_ready();
}

ProxyStats EgressProxy::stats() const {
  return impl_->stats();
}

}  // namespace paddock
