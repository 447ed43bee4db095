// Parsing of the human-readable quantities profiles and flags use. Each parser is strict:
// no sign, no trailing junk, no overflow; failures throw ValueError with a one-line reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace paddock {

// "512", "64K", "2G", "1.5G" (binary units: K=1024). "0" is allowed; callers decide if it is.
std::uint64_t parse_size(std::string_view text);

// "500ms", "5s", "30m", "2h", "1d", and combinations such as "1h30m". A bare number is refused
// (the unit is ambiguous in a security file).
std::chrono::milliseconds parse_duration(std::string_view text);

struct Rate {
  std::uint64_t count = 0;
  std::chrono::seconds per{0};
  bool operator==(const Rate&) const = default;
};
// "10/hour", "5/minute", "100/day", "1/second".
Rate parse_rate(std::string_view text);

std::string format_size(std::uint64_t bytes);
std::string format_duration(std::chrono::milliseconds d);
std::string format_rate(const Rate& r);

}  // namespace paddock
