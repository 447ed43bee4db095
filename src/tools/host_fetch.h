// A tool's fetch(url, options), run by the supervisor with libcurl under the same egress rules
// as network mode "proxy": the URL's host and port must be allowed (the tool's grants.net),
// every resolved address is checked (private, loopback, metadata ranges refused unless named),
// and libcurl connects only to the addresses that were checked (CURLOPT_RESOLVE), so DNS cannot
// rebind between the check and the connection. Redirects are followed by paddock, each hop
// checked again. No proxy from the environment, http and https only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "net/egress_policy.h"
#include "net/host_resolver.h"
#include "tools/host_call_error.h"

namespace paddock {

struct FetchRequest {
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct FetchResponse {
  long status = 0;
  std::string url;  // the final URL, after redirects
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct FetchLimits {
  std::chrono::milliseconds timeout{30'000};
  std::uint64_t max_response_bytes = 16u << 20;
  int max_redirects = 5;
};

// Host-side name resolution; tests inject their own.
using FetchResolver = std::function<std::vector<ResolvedAddress>(const std::string& host, std::string& error)>;

class HostFetch {
 public:
  HostFetch(EgressPolicy policy, FetchLimits limits, FetchResolver resolver = {});
  // Throws HostCallError: NotAuthorized when the policy refuses a hop, Failed otherwise.
  [[nodiscard]] FetchResponse fetch(const FetchRequest& request) const;

 private:
  EgressPolicy policy_;
  FetchLimits limits_;
  FetchResolver resolver_;
};

}  // namespace paddock
