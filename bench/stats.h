// Medians for the benchmarks: machines are noisy, so every figure is a median of rounds.
#pragma once

#include <algorithm>
#include <vector>

namespace paddock::bench {

// The middle value (the mean of the two middle ones for an even count); 0 for none.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace paddock::bench
