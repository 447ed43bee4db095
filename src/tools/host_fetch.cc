#include "tools/host_fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <mutex>

namespace paddock {
namespace {

[[noreturn]] void denied(const std::string& what) {
  throw HostCallError(HostCallError::Kind::NotAuthorized, what);
}
[[noreturn]] void failed(const std::string& what) {
  throw HostCallError(HostCallError::Kind::Failed, what);
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UrlParts {
  std::string scheme, host, url;
  std::uint16_t port = 0;
};

UrlParts parse_url(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), &curl_url_cleanup);
  if (!u) failed("fetch: out of memory");
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    failed("fetch: \"" + url + "\" is not a valid URL");
  }
  auto part = [&](CURLUPart p, unsigned flags = 0) {
    char* s = nullptr;
    if (curl_url_get(u.get(), p, &s, flags) != CURLUE_OK || s == nullptr) return std::string();
    std::string out = s;
    curl_free(s);
    return out;
  };
  UrlParts r;
  r.scheme = part(CURLUPART_SCHEME);
  std::transform(r.scheme.begin(), r.scheme.end(), r.scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (r.scheme != "http" && r.scheme != "https") denied("fetch: only http and https URLs (not " + r.scheme + ")");
  if (!part(CURLUPART_USER).empty()) failed("fetch: credentials in the URL are not accepted; use a header");
  r.host = part(CURLUPART_HOST);
  if (r.host.size() >= 2 && r.host.front() == '[') r.host = r.host.substr(1, r.host.size() - 2);
  std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  r.port = static_cast<std::uint16_t>(std::stoul(port.empty() ? "0" : port));
  r.url = part(CURLUPART_URL);
  return r;
}

std::string address_text(const ResolvedAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return a.v6 ? std::string("[") + buf + "]" : std::string(buf);
}

struct Sink {
  std::string* body;
  std::uint64_t max;
  bool over = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  if (s->body->size() + size * n > s->max) {
    s->over = true;
    return 0;  // libcurl aborts the transfer
  }
  s->body->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (after 100 Continue)
  auto colon = line.find(':');
  if (colon != std::string::npos && headers->size() < 200) {
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    headers->emplace_back(name, value);
  }
  return size * n;
}

}  // namespace

HostFetch::HostFetch(EgressPolicy policy, FetchLimits limits, FetchResolver resolver)
    : policy_(std::move(policy)), limits_(limits), resolver_(resolver ? std::move(resolver) : resolve_host) {
  global_init();
}

FetchResponse HostFetch::fetch(const FetchRequest& request) const {
  std::string url = request.url;
  std::string method = request.method;
  std::string body = request.body;
  std::string first_host;
  for (int hop = 0;; ++hop) {
    UrlParts u = parse_url(url);
    if (hop == 0) first_host = u.host;
    EgressDecision d = policy_.check_name(u.host, u.port);
    if (!d.allowed) denied("fetch " + u.url + ": " + d.reason);
    std::array<std::uint8_t, 16> lit{};
    bool v6 = false;
    std::vector<ResolvedAddress> addrs;
    if (parse_ip_literal(u.host, lit, v6)) {
      ResolvedAddress a;
      a.bytes = lit;
      a.v6 = v6;
      addrs.push_back(a);
    } else {
      std::string error;
      auto all = resolver_(u.host, error);
      if (all.empty()) failed("fetch " + u.url + ": cannot resolve " + u.host + ": " + error);
      std::string refusal;
      for (const auto& a : all) {
        EgressDecision ad = policy_.check_address(u.host, a.bytes.data(), a.v6, u.port);
        if (ad.allowed) {
          addrs.push_back(a);
        } else if (refusal.empty()) {
          refusal = ad.reason;
        }
      }
      if (addrs.empty()) denied("fetch " + u.url + ": " + refusal);
    }

    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) failed("fetch: cannot start libcurl");
    // Only the checked addresses: libcurl never resolves the name itself.
    std::string pin =
        (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port) + ":";
    for (std::size_t i = 0; i < addrs.size(); ++i) pin += (i ? "," : "") + address_text(addrs[i]);
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> resolve(curl_slist_append(nullptr, pin.c_str()),
                                                               &curl_slist_free_all);
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, &curl_slist_free_all);
    for (const auto& [k, v] : request.headers) {
      // Credentials stay with the host they were meant for: a redirect elsewhere drops them.
      std::string lk = k;
      std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (u.host != first_host && (lk == "authorization" || lk == "cookie" || lk == "proxy-authorization")) continue;
      if (k.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
        failed("fetch: header names and values cannot hold line breaks");
      }
      headers.reset(curl_slist_append(headers.release(), (k + ": " + v).c_str()));
    }
    FetchResponse resp;
    Sink sink{&resp.body, limits_.max_response_bytes};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, u.url.c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limits_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits_.max_response_bytes));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
    CURLcode rc = curl_easy_perform(c);
    if (sink.over || rc == CURLE_FILESIZE_EXCEEDED) {
      failed("fetch " + u.url + ": the response is larger than " + std::to_string(limits_.max_response_bytes) +
             " bytes");
    }
    if (rc != CURLE_OK) failed("fetch " + u.url + ": " + curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    resp.url = u.url;
    char* location = nullptr;
    if (resp.status >= 300 && resp.status < 400 && curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
        location != nullptr) {
      if (hop >= limits_.max_redirects) failed("fetch " + request.url + ": too many redirects");
      url = location;
      if (resp.status == 303 || ((resp.status == 301 || resp.status == 302) && method == "POST")) {
        method = "GET";
        body.clear();
      }
      continue;  // the next hop is checked like the first
    }
    return resp;
  }
}

}  // namespace paddock
