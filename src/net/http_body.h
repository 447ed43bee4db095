// Where one HTTP request body ends in the bytes a client sends after the request head
// (Content-Length, or chunked transfer coding). The HTTP proxy relays exactly one request per
// upstream connection: bytes after the body (a pipelined second request, perhaps for another
// host) are never relayed to the first request's server. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace paddock {

class HttpBodyFramer {
 public:
  static HttpBodyFramer none() { return HttpBodyFramer(Mode::Length, 0); }
  static HttpBodyFramer length(std::uint64_t n) { return HttpBodyFramer(Mode::Length, n); }
  static HttpBodyFramer chunked() { return HttpBodyFramer(Mode::Chunked, 0); }

  // How many leading bytes of `data` belong to the body. Less than data.size() means the body
  // ended (done()) or is malformed (error()) within `data`; the rest is not this request's.
  std::size_t feed(std::string_view data);
  [[nodiscard]] bool done() const { return state_ == State::Done; }
  [[nodiscard]] bool error() const { return state_ == State::Error; }

 private:
  enum class Mode { Length, Chunked };
  enum class State { Data, Size, Ext, SizeLf, DataCr, DataLf, TrailerStart, Trailer, TrailerLf, FinalLf, Done, Error };
  HttpBodyFramer(Mode mode, std::uint64_t n);

  Mode mode_;
  State state_;
  std::uint64_t left_ = 0;  // bytes of the current chunk (or of the whole body) still to come
  int digits_ = 0;
  bool last_ = false;  // the chunk being read is the last (size 0)
};

}  // namespace paddock
