#include "util/units.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "test_util.h"
#include "util/error.h"

namespace paddock {
namespace {

using namespace std::chrono_literals;
using test::error_of;

// ---------------------------------------------------------------------------------------------
// parse_size

TEST(ParseSize, Units) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("64K"), 64u * 1024);
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_size("1.5G"), 3ull << 29);
  EXPECT_THROW(parse_size("-1M"), ValueError);
  EXPECT_THROW(parse_size("99999999999999999999T"), ValueError);
}

TEST(ParseSize, ZeroAndPlainBytes) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("0K"), 0u);
  EXPECT_EQ(parse_size("1"), 1u);
  EXPECT_EQ(parse_size("1023"), 1023u);
  EXPECT_EQ(parse_size("512B"), 512u);
}

TEST(ParseSize, BinaryUnits) {
  EXPECT_EQ(parse_size("1K"), 1024u);
  EXPECT_EQ(parse_size("3M"), 3ull << 20);
  EXPECT_EQ(parse_size("7G"), 7ull << 30);
  EXPECT_EQ(parse_size("1T"), 1ull << 40);
  EXPECT_EQ(parse_size("5T"), 5ull << 40);
}

TEST(ParseSize, UnitSpellings) {
  EXPECT_EQ(parse_size("64k"), 64u * 1024);
  EXPECT_EQ(parse_size("64KB"), 64u * 1024);
  EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(parse_size("64Ki"), 64u * 1024);
  EXPECT_EQ(parse_size("2g"), 2ull << 30);
  EXPECT_EQ(parse_size("2GiB"), 2ull << 30);
}

TEST(ParseSize, Fractions) {
  EXPECT_EQ(parse_size("0.5K"), 512u);
  EXPECT_EQ(parse_size("1.5G"), 3ull << 29);
  EXPECT_EQ(parse_size("1.25M"), 1310720u);
  EXPECT_EQ(parse_size("0.5T"), 1ull << 39);
}

TEST(ParseSize, FractionalBytesRefused) {
  EXPECT_EQ(error_of([] { (void)parse_size("1.5"); }),
            "ValueError: invalid size \"1.5\" (a byte count must be a whole number)");
  EXPECT_EQ(error_of([] { (void)parse_size("0.5"); }),
            "ValueError: invalid size \"0.5\" (a byte count must be a whole number)");
  // An explicit byte unit does not make half a byte meaningful.
  EXPECT_EQ(error_of([] { (void)parse_size("1.5B"); }),
            "ValueError: invalid size \"1.5B\" (a byte count must be a whole number)");
}

TEST(ParseSize, SignsRefused) {
  const std::string expect_tail = " (expected a number with an optional unit K, M, G or T, e.g. \"512M\")";
  EXPECT_EQ(error_of([] { (void)parse_size("-1M"); }), "ValueError: invalid size \"-1M\"" + expect_tail);
  EXPECT_EQ(error_of([] { (void)parse_size("-0"); }), "ValueError: invalid size \"-0\"" + expect_tail);
  EXPECT_EQ(error_of([] { (void)parse_size("+1M"); }), "ValueError: invalid size \"+1M\"" + expect_tail);
}

TEST(ParseSize, Overflow) {
  EXPECT_EQ(error_of([] { (void)parse_size("99999999999999999999T"); }),
            "ValueError: size \"99999999999999999999T\" is too large");
  EXPECT_EQ(error_of([] { (void)parse_size("18446744073709551616"); }),
            "ValueError: size \"18446744073709551616\" is too large");
  // 2^63 is refused; just below it is fine.
  EXPECT_EQ(error_of([] { (void)parse_size("8388608T"); }), "ValueError: size \"8388608T\" is too large");
  EXPECT_EQ(parse_size("8388607T"), 8388607ull << 40);
  // So many digits the intermediate value is infinite.
  EXPECT_THROW((void)parse_size(std::string(5000, '9')), ValueError);
}

TEST(ParseSize, BadUnit) {
  EXPECT_EQ(error_of([] { (void)parse_size("5X"); }), "ValueError: invalid size unit in \"5X\" (use K, M, G or T)");
  EXPECT_EQ(error_of([] { (void)parse_size("5P"); }), "ValueError: invalid size unit in \"5P\" (use K, M, G or T)");
  EXPECT_EQ(error_of([] { (void)parse_size("5KK"); }), "ValueError: invalid size unit in \"5KK\" (use K, M, G or T)");
  EXPECT_EQ(error_of([] { (void)parse_size("5 K"); }), "ValueError: invalid size unit in \"5 K\" (use K, M, G or T)");
  EXPECT_EQ(error_of([] { (void)parse_size("5Kb"); }), "ValueError: invalid size unit in \"5Kb\" (use K, M, G or T)");
  EXPECT_EQ(error_of([] { (void)parse_size("5M "); }), "ValueError: invalid size unit in \"5M \" (use K, M, G or T)");
}

TEST(ParseSize, EmptyAndNotANumber) {
  EXPECT_EQ(error_of([] { (void)parse_size(""); }), "ValueError: empty size");
  EXPECT_THROW((void)parse_size("K"), ValueError);
  EXPECT_THROW((void)parse_size(".5K"), ValueError);
  EXPECT_THROW((void)parse_size("1.K"), ValueError);
  EXPECT_THROW((void)parse_size(" 1K"), ValueError);
  EXPECT_THROW((void)parse_size("1,5G"), ValueError);
}

// ---------------------------------------------------------------------------------------------
// parse_duration

TEST(ParseDuration, SingleUnits) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("5s"), 5000ms);
  EXPECT_EQ(parse_duration("30m"), 1'800'000ms);
  EXPECT_EQ(parse_duration("2min"), 120'000ms);
  EXPECT_EQ(parse_duration("2h"), 7'200'000ms);
  EXPECT_EQ(parse_duration("1d"), 86'400'000ms);
  EXPECT_EQ(parse_duration("0s"), 0ms);  // the loader refuses zero where it matters
}

TEST(ParseDuration, Combinations) {
  EXPECT_EQ(parse_duration("1h30m"), 5'400'000ms);
  EXPECT_EQ(parse_duration("1m30s"), 90'000ms);
  EXPECT_EQ(parse_duration("1d2h3m4s5ms"), 93'784'005ms);
  EXPECT_EQ(parse_duration("1s500ms"), 1500ms);
}

TEST(ParseDuration, Fractions) {
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("0.5h"), 1'800'000ms);
}

TEST(ParseDuration, BareNumberRefused) {
  EXPECT_EQ(error_of([] { (void)parse_duration("30"); }),
            "ValueError: duration \"30\" needs a unit (ms, s, m, h or d)");
  EXPECT_EQ(error_of([] { (void)parse_duration("1h30"); }),
            "ValueError: duration \"1h30\" needs a unit (ms, s, m, h or d)");
}

TEST(ParseDuration, NegativeRefused) {
  EXPECT_EQ(error_of([] { (void)parse_duration("-5s"); }),
            "ValueError: invalid duration \"-5s\" (expected e.g. \"500ms\", \"30s\", \"5m\", \"2h\", \"1h30m\")");
  EXPECT_THROW((void)parse_duration("1h-5m"), ValueError);
}

TEST(ParseDuration, Overflow) {
  // The cap is 1e15 ms (about 31700 years).
  EXPECT_EQ(parse_duration("11574074d"), std::chrono::milliseconds(11574074LL * 86'400'000));
  EXPECT_EQ(error_of([] { (void)parse_duration("11574075d"); }), "ValueError: duration \"11574075d\" is too large");
  EXPECT_EQ(error_of([] { (void)parse_duration("99999999999999999999h"); }),
            "ValueError: duration \"99999999999999999999h\" is too large");
  EXPECT_THROW((void)parse_duration(std::string(5000, '9') + "ms"), ValueError);
}

TEST(ParseDuration, Junk) {
  EXPECT_EQ(error_of([] { (void)parse_duration(""); }), "ValueError: empty duration");
  EXPECT_EQ(error_of([] { (void)parse_duration("5x"); }),
            "ValueError: invalid duration unit \"x\" in \"5x\" (use ms, s, m, h or d)");
  EXPECT_EQ(error_of([] { (void)parse_duration("5S"); }),
            "ValueError: invalid duration unit \"S\" in \"5S\" (use ms, s, m, h or d)");
  EXPECT_EQ(error_of([] { (void)parse_duration("5sec"); }),
            "ValueError: invalid duration unit \"sec\" in \"5sec\" (use ms, s, m, h or d)");
  EXPECT_THROW((void)parse_duration("s"), ValueError);
  EXPECT_THROW((void)parse_duration("1h 30m"), ValueError);
  EXPECT_THROW((void)parse_duration(" 5s"), ValueError);
  EXPECT_THROW((void)parse_duration("5s "), ValueError);
  EXPECT_THROW((void)parse_duration("5.s"), ValueError);
  EXPECT_THROW((void)parse_duration("5s!"), ValueError);
}

// ---------------------------------------------------------------------------------------------
// parse_rate

TEST(ParseRate, Periods) {
  EXPECT_EQ(parse_rate("10/hour"), (Rate{10, std::chrono::seconds(3600)}));
  EXPECT_EQ(parse_rate("5/minute"), (Rate{5, std::chrono::seconds(60)}));
  EXPECT_EQ(parse_rate("100/day"), (Rate{100, std::chrono::seconds(86400)}));
  EXPECT_EQ(parse_rate("1/second"), (Rate{1, std::chrono::seconds(1)}));
  EXPECT_EQ(parse_rate("3/h"), (Rate{3, std::chrono::seconds(3600)}));
  EXPECT_EQ(parse_rate("3/min"), (Rate{3, std::chrono::seconds(60)}));
  EXPECT_EQ(parse_rate("3/s"), (Rate{3, std::chrono::seconds(1)}));
}

TEST(ParseRate, ZeroRefused) {
  EXPECT_EQ(error_of([] { (void)parse_rate("0/hour"); }),
            "ValueError: rate \"0/hour\" allows nothing (the count must be at least 1)");
  EXPECT_THROW((void)parse_rate("000/hour"), ValueError);
}

TEST(ParseRate, BadPeriod) {
  EXPECT_EQ(error_of([] { (void)parse_rate("10/week"); }),
            "ValueError: invalid rate period \"week\" in \"10/week\" (use second, minute, hour or day)");
  EXPECT_EQ(error_of([] { (void)parse_rate("10/"); }),
            "ValueError: invalid rate period \"\" in \"10/\" (use second, minute, hour or day)");
  EXPECT_THROW((void)parse_rate("10/Hour"), ValueError);
  EXPECT_THROW((void)parse_rate("10/hour/x"), ValueError);
}

TEST(ParseRate, BadCount) {
  EXPECT_EQ(error_of([] { (void)parse_rate("10"); }),
            "ValueError: invalid rate \"10\" (expected COUNT/PERIOD, e.g. \"10/hour\")");
  EXPECT_EQ(error_of([] { (void)parse_rate("/hour"); }),
            "ValueError: invalid rate \"/hour\" (expected COUNT/PERIOD, e.g. \"10/hour\")");
  EXPECT_EQ(error_of([] { (void)parse_rate("-1/hour"); }),
            "ValueError: invalid rate \"-1/hour\" (the count must be a whole number)");
  EXPECT_EQ(error_of([] { (void)parse_rate("1.5/hour"); }),
            "ValueError: invalid rate \"1.5/hour\" (the count must be a whole number)");
  EXPECT_EQ(error_of([] { (void)parse_rate("99999999999999999999/hour"); }),
            "ValueError: rate \"99999999999999999999/hour\" is too large");
  EXPECT_THROW((void)parse_rate(""), ValueError);
}

// ---------------------------------------------------------------------------------------------
// format_* and round trips

TEST(FormatSize, LargestWholeUnit) {
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(1), "1");
  EXPECT_EQ(format_size(1024), "1K");
  EXPECT_EQ(format_size(1536), "1536");
  EXPECT_EQ(format_size(3ull << 29), "1536M");
  EXPECT_EQ(format_size(2ull << 30), "2G");
  EXPECT_EQ(format_size(1ull << 40), "1T");
  EXPECT_EQ(format_size(1ull << 50), "1024T");  // T is the largest unit
}

TEST(FormatSize, RoundTrip) {
  for (std::uint64_t v : {0ull, 1ull, 1000ull, 1024ull, 1536ull, 4ull << 20, 3ull << 29, 2ull << 30, 5ull << 40,
                          1ull << 50, (1ull << 62) + 1}) {
    EXPECT_EQ(parse_size(format_size(v)), v) << format_size(v);
  }
}

TEST(FormatDuration, Components) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(1ms), "1ms");
  EXPECT_EQ(format_duration(1500ms), "1s500ms");
  EXPECT_EQ(format_duration(5'400'000ms), "1h30m");
  EXPECT_EQ(format_duration(86'400'000ms), "1d");
  EXPECT_EQ(format_duration(90'061'001ms), "1d1h1m1s1ms");
}

TEST(FormatDuration, RoundTrip) {
  for (auto d : {0ms, 1ms, 999ms, 1000ms, 1500ms, 60'000ms, 5'400'000ms, 90'061'001ms,
                 std::chrono::milliseconds(999'999'999'999'999)}) {
    EXPECT_EQ(parse_duration(format_duration(d)), d) << format_duration(d);
  }
  for (const char* s : {"500ms", "5s", "30m", "2h", "1d", "1h30m", "1d2h3m4s5ms"}) {
    EXPECT_EQ(format_duration(parse_duration(s)), s);
  }
}

TEST(FormatRate, RoundTrip) {
  EXPECT_EQ(format_rate({10, std::chrono::seconds(3600)}), "10/hour");
  EXPECT_EQ(format_rate({1, std::chrono::seconds(1)}), "1/second");
  for (const char* s : {"10/hour", "5/minute", "100/day", "1/second"}) {
    EXPECT_EQ(format_rate(parse_rate(s)), s);
  }
  EXPECT_EQ(format_rate(parse_rate("7/h")), "7/hour");
  EXPECT_EQ(parse_rate(format_rate({42, std::chrono::seconds(60)})), (Rate{42, std::chrono::seconds(60)}));
}

}  // namespace
}  // namespace paddock

namespace paddock {
namespace {

TEST(ParseDuration, UnitsGoFromLargestToSmallestOnce) {
  EXPECT_EQ(parse_duration("1h30m"), std::chrono::minutes(90));
  EXPECT_THROW(parse_duration("30s1h"), ValueError);
  EXPECT_THROW(parse_duration("1m1m"), ValueError);
  EXPECT_THROW(parse_duration("5ms2s"), ValueError);
}

}  // namespace
}  // namespace paddock
