#include "net/http_body.h"

#include <algorithm>

namespace paddock {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

HttpBodyFramer::HttpBodyFramer(Mode mode, std::uint64_t n) : mode_(mode), left_(n) {
  if (mode == Mode::Chunked) {
    state_ = State::Size;
  } else {
    state_ = n == 0 ? State::Done : State::Data;
  }
}

std::size_t HttpBodyFramer::feed(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size()) {
    switch (state_) {
      case State::Done:
      case State::Error: return i;
      case State::Data: {
        auto take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, data.size() - i));
        i += take;
        left_ -= take;
        if (left_ == 0) state_ = mode_ == Mode::Length ? State::Done : State::DataCr;
        continue;
      }
      default: break;
    }
    // Chunked framing, one byte at a time; strict CRLF (a lone LF is how smuggling starts).
    const char c = data[i++];
    switch (state_) {
      case State::Size: {
        int v = hex_value(c);
        if (v >= 0 && digits_ < 15) {
          left_ = left_ * 16 + static_cast<std::uint64_t>(v);
          ++digits_;
        } else if (digits_ > 0 && (c == ';' || c == '\r')) {
          last_ = left_ == 0;
          state_ = c == ';' ? State::Ext : State::SizeLf;
        } else {
          state_ = State::Error;
        }
        break;
      }
      case State::Ext:
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t')) {
          state_ = State::Error;
        }
        break;
      case State::SizeLf:
        if (c != '\n') {
          state_ = State::Error;
        } else if (last_) {
          state_ = State::TrailerStart;
        } else {
          state_ = State::Data;
        }
        break;
      case State::DataCr: state_ = c == '\r' ? State::DataLf : State::Error; break;
      case State::DataLf:
        if (c == '\n') {
          state_ = State::Size;
          digits_ = 0;
          left_ = 0;
        } else {
          state_ = State::Error;
        }
        break;
      case State::TrailerStart: state_ = c == '\r' ? State::FinalLf : State::Trailer; break;
      case State::Trailer:
        if (c == '\r') state_ = State::TrailerLf;
        if (c == '\n') state_ = State::Error;
        break;
      case State::TrailerLf: state_ = c == '\n' ? State::TrailerStart : State::Error; break;
      case State::FinalLf: state_ = c == '\n' ? State::Done : State::Error; break;
      default: break;
    }
    if (state_ == State::Error) return i - 1;
  }
  return i;
}

}  // namespace paddock
