#include "net/host_resolver.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "util/error.h"
#include "util/unique_fd.h"

namespace paddock {
namespace {

// Long enough that a burst of connections to one host resolves once, short enough that the
// host-side answer follows DNS changes.
constexpr auto kCacheFor = std::chrono::seconds(30);
constexpr std::size_t kCacheMax = 4096;

}  // namespace

std::vector<ResolvedAddress> resolve_host(const std::string& host, std::string& error) {
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  struct addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  std::vector<ResolvedAddress> out;
  if (rc != 0) {
    error = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return out;
  }
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    ResolvedAddress a;
    if (ai->ai_family == AF_INET) {
      std::memcpy(a.bytes.data(), &reinterpret_cast<struct sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6) {
      a.v6 = true;
      std::memcpy(a.bytes.data(), &reinterpret_cast<struct sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    bool dup = false;
    for (const auto& b : out) dup = dup || (b.v6 == a.v6 && b.bytes == a.bytes);
    if (!dup) out.push_back(a);
  }
  ::freeaddrinfo(res);
  if (out.empty() && error.empty()) error = "no IPv4 or IPv6 address";
  return out;
}

struct HostResolver::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::uint64_t, std::string>> todo;
  std::vector<Resolution> done;
  bool stop = false;
  UniqueFd event;
};

HostResolver::HostResolver(int threads) : shared_(std::make_shared<Shared>()) {
  shared_->event = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!shared_->event) throw_errno("network: eventfd for the resolver");
  for (int i = 0; i < threads; ++i) {
    std::thread([s = shared_] {
      for (;;) {
        std::pair<std::uint64_t, std::string> job;
        {
          std::unique_lock lock(s->mu);
          s->cv.wait(lock, [&] { return s->stop || !s->todo.empty(); });
          if (s->stop) return;
          job = std::move(s->todo.front());
          s->todo.pop_front();
        }
        Resolution r;
        r.ticket = job.first;
        r.host = job.second;
        r.addresses = resolve_host(r.host, r.error);
        std::lock_guard lock(s->mu);
        if (s->stop) return;
        s->done.push_back(std::move(r));
        std::uint64_t one = 1;
        ssize_t w = ::write(s->event.get(), &one, sizeof one);
        (void)w;  // the counter cannot overflow with this few writes
      }
    }).detach();
  }
}

HostResolver::~HostResolver() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stop = true;
  }
  shared_->cv.notify_all();
}

int HostResolver::fd() const {
  return shared_->event.get();
}

std::optional<std::vector<ResolvedAddress>> HostResolver::cached(const std::string& host) {
  auto it = cache_.find(host);
  if (it == cache_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    cache_.erase(it);
    return std::nullopt;
  }
  return it->second.addresses;
}

void HostResolver::submit(std::uint64_t ticket, const std::string& host) {
  {
    std::lock_guard lock(shared_->mu);
    shared_->todo.emplace_back(ticket, host);
  }
  shared_->cv.notify_one();
}

std::vector<Resolution> HostResolver::take() {
  std::uint64_t n = 0;
  ssize_t r = ::read(shared_->event.get(), &n, sizeof n);
  (void)r;
  std::vector<Resolution> out;
  {
    std::lock_guard lock(shared_->mu);
    out.swap(shared_->done);
  }
  auto now = std::chrono::steady_clock::now();
  for (const auto& res : out) {
    if (res.addresses.empty()) continue;
    if (cache_.size() >= kCacheMax) cache_.clear();
    cache_[res.host] = {res.addresses, now + kCacheFor};
  }
  return out;
}

}  // namespace paddock
