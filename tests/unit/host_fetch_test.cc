// HostFetch: a tool's fetch() reaches exactly the allowed hosts, checks every resolved address and
// every redirect hop, pins libcurl to the checked addresses, and caps responses. The far end is a
// tiny HTTP server on this machine's loopback.
#include "tools/host_fetch.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace paddock {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Answers each connection with `respond(request_head)` and closes it.
class Server {
 public:
  explicit Server(std::function<std::string(const std::string&)> respond) : respond_(std::move(respond)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<struct sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<struct sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) break;
        std::string head;
        char buf[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          head.append(buf, static_cast<size_t>(n));
        }
        requests_.push_back(head);
        std::string out = respond_(head);
        ssize_t w = ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
        (void)w;
        ::close(c);
      }
    });
  }
  ~Server() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  [[nodiscard]] int port() const { return port_; }
  std::vector<std::string> requests_;

 private:
  std::function<std::string(const std::string&)> respond_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\nX-Test: yes\r\n\r\n" + body;
}

EgressPolicy allow(const std::vector<std::string>& patterns) {
  std::vector<HostGrant> a;
  for (const auto& p : patterns) a.push_back({parse_host_pattern(p), {"p.toml", 1, 1}});
  return EgressPolicy(a, {});
}

// Every name resolves to 127.0.0.1 (so names can be tested without DNS).
std::vector<ResolvedAddress> to_loopback(const std::string&, std::string&) {
  ResolvedAddress a;
  a.bytes = {127, 0, 0, 1};
  return {a};
}

FetchRequest get(std::string url) {
  FetchRequest r;
  r.url = std::move(url);
  return r;
}

std::string error_of(const std::function<void()>& f, bool* not_authorized = nullptr) {
  try {
    f();
  } catch (const HostCallError& e) {
    if (not_authorized != nullptr) *not_authorized = e.not_authorized();
    return e.what();
  }
  return "";
}

TEST(HostFetch, AllowedAddressGetsTheResponseWithHeadersAndBody) {
  Server s([](const std::string&) { return ok("hello"); });
  const std::string host = "127.0.0.1:" + std::to_string(s.port());
  HostFetch f(allow({host}), {});
  FetchRequest r;
  r.url = "http://" + host + "/path?q=1";
  r.method = "POST";
  r.body = "payload";
  r.headers = {{"X-Token", "abc"}};
  FetchResponse resp = f.fetch(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "hello");
  EXPECT_THAT(resp.headers, ::testing::Contains(std::make_pair(std::string("x-test"), std::string("yes"))));
  ASSERT_EQ(s.requests_.size(), 1u);
  EXPECT_THAT(s.requests_[0], StartsWith("POST /path?q=1 HTTP/1.1\r\n"));
  EXPECT_THAT(s.requests_[0], HasSubstr("X-Token: abc"));
}

TEST(HostFetch, HostNotAllowedIsNotAuthorizedAndNothingIsSent) {
  Server s([](const std::string&) { return ok("x"); });
  HostFetch f(allow({"api.example.com"}), {}, to_loopback);
  bool na = false;
  std::string e = error_of([&] { (void)f.fetch(get("http://127.0.0.1:" + std::to_string(s.port()) + "/")); }, &na);
  EXPECT_THAT(e, StartsWith("not authorized: fetch "));
  EXPECT_TRUE(na);
  e = error_of([&] { (void)f.fetch(get("http://evil.example/")); }, &na);
  EXPECT_THAT(e, HasSubstr("evil.example:80 is not in network.allow"));
  EXPECT_TRUE(s.requests_.empty());
}

TEST(HostFetch, AllowedNameResolvingToAPrivateAddressIsRefused) {
  Server s([](const std::string&) { return ok("x"); });
  const std::string port = std::to_string(s.port());
  HostFetch f(allow({"svc.example:" + port}), {}, to_loopback);
  bool na = false;
  EXPECT_THAT(error_of([&] { (void)f.fetch(get("http://svc.example:" + port + "/")); }, &na), HasSubstr("loopback"));
  EXPECT_TRUE(na);
  EXPECT_TRUE(s.requests_.empty());
  // Named explicitly, the address is allowed, and libcurl connects to exactly it.
  HostFetch g(allow({"svc.example:" + port, "127.0.0.1:" + port}), {}, to_loopback);
  FetchResponse r = g.fetch(get("http://svc.example:" + port + "/x"));
  EXPECT_EQ(r.body, "x");
  ASSERT_EQ(s.requests_.size(), 1u);
  EXPECT_THAT(s.requests_[0], HasSubstr("Host: svc.example:" + port));
}

TEST(HostFetch, RedirectsAreCheckedHopByHopAndDropCredentialsElsewhere) {
  Server target([](const std::string&) { return ok("landed"); });
  const std::string tport = std::to_string(target.port());
  Server redirector([&](const std::string&) {
    return "HTTP/1.1 302 Found\r\nLocation: http://other.example:" + tport + "/t\r\nContent-Length: 0\r\n\r\n";
  });
  const std::string rport = std::to_string(redirector.port());
  FetchRequest req{"http://first.example:" + rport + "/", "GET", {{"Authorization", "Bearer s3cret"}}, ""};
  // The second hop is not allowed: refused, and the target never sees a request.
  HostFetch f(allow({"first.example:" + rport, "127.0.0.1:" + rport}), {}, to_loopback);
  EXPECT_THAT(error_of([&] { (void)f.fetch(req); }), HasSubstr("other.example:" + tport + " is not in network.allow"));
  EXPECT_TRUE(target.requests_.empty());
  // Allowed: followed, and the Authorization header does not travel to the other host.
  HostFetch g(allow({"first.example:" + rport, "other.example:" + tport, "127.0.0.1"}), {}, to_loopback);
  FetchResponse r = g.fetch(req);
  EXPECT_EQ(r.body, "landed");
  EXPECT_EQ(r.url, "http://other.example:" + tport + "/t");
  ASSERT_EQ(target.requests_.size(), 1u);
  EXPECT_THAT(target.requests_[0], ::testing::Not(HasSubstr("s3cret")));
}

TEST(HostFetch, ResponsesAreCappedAndOnlyHttpSchemesWork) {
  Server s([](const std::string&) { return ok(std::string(5000, 'a')); });
  const std::string host = "127.0.0.1:" + std::to_string(s.port());
  FetchLimits lim;
  lim.max_response_bytes = 1000;
  HostFetch f(allow({host}), lim);
  bool na = true;
  EXPECT_THAT(error_of([&] { (void)f.fetch(get("http://" + host + "/")); }, &na), HasSubstr("larger than 1000"));
  EXPECT_FALSE(na);
  EXPECT_THAT(error_of([&] { (void)f.fetch(get("file:///etc/passwd")); }, &na), HasSubstr("only http and https"));
  EXPECT_TRUE(na);
  EXPECT_THAT(error_of([&] { (void)f.fetch(get("http://user:pw@" + host + "/")); }), HasSubstr("credentials"));
  EXPECT_THAT(error_of([&] {
                (void)f.fetch({"http://" + host + "/", "GET", {{"X", "a\r\nInjected: 1"}}, ""});
              }),
              HasSubstr("line breaks"));
}

}  // namespace
}  // namespace paddock
