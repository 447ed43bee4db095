#include "util/units.h"

#include <array>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace paddock {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parses a non-negative decimal number with an optional fraction, advancing pos.
// Returns false when there is no digit at pos.
bool take_number(std::string_view s, size_t& pos, long double& out) {
  size_t start = pos;
  long double v = 0;
  while (pos < s.size() && is_digit(s[pos])) {
    v = v * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos == start) return false;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t frac_start = pos;
    long double scale = 0.1L;
    while (pos < s.size() && is_digit(s[pos])) {
      v += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == frac_start) return false;
  }
  out = v;
  return true;
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  if (text.empty()) throw ValueError("empty size");
  size_t pos = 0;
  long double v = 0;
  if (!take_number(text, pos, v)) {
    throw ValueError("invalid size " + quoted(text) +
                     " (expected a number with an optional unit K, M, G or T, e.g. \"512M\")");
  }
  std::string unit(text.substr(pos));
  long double mult = 1;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else {
    static constexpr std::array<std::pair<char, int>, 4> units{{{'K', 1}, {'M', 2}, {'G', 3}, {'T', 4}}};
    bool found = false;
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
    std::string rest = unit.substr(1);
    if (rest.empty() || rest == "B" || rest == "iB" || rest == "i") {
      for (auto [c, p] : units) {
        if (c == u) {
          mult = std::pow(1024.0L, p);
          found = true;
        }
      }
    }
    if (!found) throw ValueError("invalid size unit in " + quoted(text) + " (use K, M, G or T)");
  }
  long double bytes = v * mult;
  if ((unit.empty() || unit == "B") && text.find('.') != std::string_view::npos) {
    throw ValueError("invalid size " + quoted(text) + " (a byte count must be a whole number)");
  }
  if (bytes >= static_cast<long double>(std::numeric_limits<std::uint64_t>::max()) / 2) {
    throw ValueError("size " + quoted(text) + " is too large");
  }
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::chrono::milliseconds parse_duration(std::string_view text) {
  if (text.empty()) throw ValueError("empty duration");
  size_t pos = 0;
  long double total_ms = 0;
  bool any = false;
  long double last_mult = 1e18L;  // units must strictly decrease: "1h30m", not "30s1h" or "1m1m"
  while (pos < text.size()) {
    long double v = 0;
    if (!take_number(text, pos, v)) {
      throw ValueError("invalid duration " + quoted(text) +
                       " (expected e.g. \"500ms\", \"30s\", \"5m\", \"2h\", \"1h30m\")");
    }
    size_t ustart = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(ustart, pos - ustart);
    long double mult = 0;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m" || unit == "min")
      mult = 60'000;
    else if (unit == "h")
      mult = 3'600'000;
    else if (unit == "d")
      mult = 86'400'000;
    else if (unit.empty())
      throw ValueError("duration " + quoted(text) + " needs a unit (ms, s, m, h or d)");
    else
      throw ValueError("invalid duration unit \"" + std::string(unit) + "\" in " + quoted(text) +
                       " (use ms, s, m, h or d)");
    if (mult >= last_mult) {
      throw ValueError("invalid duration " + quoted(text) +
                       " (units must go from largest to smallest, each once, as in \"1h30m\")");
    }
    last_mult = mult;
    total_ms += v * mult;
    any = true;
    if (total_ms > 1e15L) throw ValueError("duration " + quoted(text) + " is too large");
  }
  if (!any) throw ValueError("invalid duration " + quoted(text));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

Rate parse_rate(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    throw ValueError("invalid rate " + quoted(text) + " (expected COUNT/PERIOD, e.g. \"10/hour\")");
  }
  std::string_view count = text.substr(0, slash);
  std::string_view period = text.substr(slash + 1);
  std::uint64_t n = 0;
  for (char c : count) {
    if (!is_digit(c)) throw ValueError("invalid rate " + quoted(text) + " (the count must be a whole number)");
    if (n > (std::numeric_limits<std::uint64_t>::max() - 9) / 10)
      throw ValueError("rate " + quoted(text) + " is too large");
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (n == 0) throw ValueError("rate " + quoted(text) + " allows nothing (the count must be at least 1)");
  std::chrono::seconds per{0};
  if (period == "second" || period == "s" || period == "sec")
    per = std::chrono::seconds(1);
  else if (period == "minute" || period == "min" || period == "m")
    per = std::chrono::seconds(60);
  else if (period == "hour" || period == "h")
    per = std::chrono::seconds(3600);
  else if (period == "day" || period == "d")
    per = std::chrono::seconds(86400);
  else
    throw ValueError("invalid rate period \"" + std::string(period) + "\" in " + quoted(text) +
                     " (use second, minute, hour or day)");
  return Rate{n, per};
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<const char*, 5> names{"", "K", "M", "G", "T"};
  int i = 0;
  std::uint64_t v = bytes;
  while (i < 4 && v != 0 && v % 1024 == 0) {
    v /= 1024;
    ++i;
  }
  return std::to_string(v) + names[static_cast<size_t>(i)];
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  auto take = [&](std::int64_t unit, const char* name) {
    if (ms >= unit) {
      out += std::to_string(ms / unit) + name;
      ms %= unit;
    }
  };
  take(86'400'000, "d");
  take(3'600'000, "h");
  take(60'000, "m");
  take(1000, "s");
  take(1, "ms");
  return out;
}

std::string format_rate(const Rate& r) {
  const char* p = r.per.count() == 1      ? "second"
                  : r.per.count() == 60   ? "minute"
                  : r.per.count() == 3600 ? "hour"
                                          : "day";
  return std::to_string(r.count) + "/" + p;
}

}  // namespace paddock
