// Host-side name resolution for the egress proxy, without blocking its event loop: a few worker
// threads call getaddrinfo() and hand results back through an eventfd the loop waits on. The
// loop itself stays single-threaded; the workers touch nothing but their queue.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace paddock {

struct ResolvedAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
};

struct Resolution {
  std::uint64_t ticket = 0;
  std::string host;
  std::vector<ResolvedAddress> addresses;  // empty on failure
  std::string error;                       // getaddrinfo's reason when empty
};

// getaddrinfo() for TCP, IPv4 and IPv6, duplicates removed; empty with `error` set on failure.
// Blocking: HostResolver runs it on its workers, fetch() on the calling thread.
std::vector<ResolvedAddress> resolve_host(const std::string& host, std::string& error);

class HostResolver {
 public:
  explicit HostResolver(int threads = 4);
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  // Readable (EPOLLIN) when take() has results.
  [[nodiscard]] int fd() const;
  // Answers for `host` resolved less than a while ago, without asking again.
  [[nodiscard]] std::optional<std::vector<ResolvedAddress>> cached(const std::string& host);
  void submit(std::uint64_t ticket, const std::string& host);
  // Every finished resolution (and resets the readiness of fd()).
  std::vector<Resolution> take();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;  // kept alive by detached workers still in getaddrinfo()
  struct CacheEntry {
    std::vector<ResolvedAddress> addresses;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, CacheEntry> cache_;
};

}  // namespace paddock
