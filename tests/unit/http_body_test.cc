// HttpBodyFramer: where one request body ends, so a pipelined second request is never relayed.
#include "net/http_body.h"

#include <gtest/gtest.h>

#include <string>

namespace paddock {
namespace {

// Feeds `data` in pieces of `step` bytes; returns how many bytes were taken in total.
std::size_t feed_all(HttpBodyFramer& f, const std::string& data, std::size_t step) {
  std::size_t taken = 0;
  for (std::size_t i = 0; i < data.size(); i += step) {
    std::string piece = data.substr(i, step);
    std::size_t t = f.feed(piece);
    taken += t;
    if (t < piece.size()) break;
  }
  return taken;
}

TEST(HttpBody, NoBodyTakesNothing) {
  auto f = HttpBodyFramer::none();
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.feed("GET http://other/ HTTP/1.1\r\n"), 0u);
}

TEST(HttpBody, ContentLengthTakesExactlyThatMuch) {
  for (std::size_t step : {1u, 3u, 100u}) {
    auto f = HttpBodyFramer::length(5);
    EXPECT_EQ(feed_all(f, "helloGET http://evil/ HTTP/1.1\r\n\r\n", step), 5u) << step;
    EXPECT_TRUE(f.done());
  }
}

TEST(HttpBody, ChunkedBodyEndsAfterTheLastChunkAndTrailers) {
  const std::string body = "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (std::size_t step : {1u, 2u, 7u, 1000u}) {
    auto f = HttpBodyFramer::chunked();
    EXPECT_EQ(feed_all(f, body + "GET http://evil/ HTTP/1.1\r\n\r\n", step), body.size()) << step;
    EXPECT_TRUE(f.done()) << step;
    EXPECT_FALSE(f.error());
  }
}

TEST(HttpBody, ChunkedWithoutTrailers) {
  auto f = HttpBodyFramer::chunked();
  EXPECT_EQ(f.feed("0\r\n\r\nrest"), 5u);
  EXPECT_TRUE(f.done());
}

TEST(HttpBody, MalformedChunkingStopsAtTheBadByte) {
  for (const std::string bad :
       {"zz\r\n", "5\nhello", "5\r\nhelloXX", "\r\n", "10000000000000000\r\n", "0\r\nTrailer\n\r\n"}) {
    auto f = HttpBodyFramer::chunked();
    std::size_t t = f.feed(bad);
    EXPECT_TRUE(f.error()) << bad;
    EXPECT_LT(t, bad.size()) << bad;
    EXPECT_EQ(f.feed("more"), 0u);
  }
}

}  // namespace
}  // namespace paddock
