// Helpers shared by the backend op tests: random inputs, NaN poisoning and
// the relative error ||out - ref|| / ||ref|| against a double reference.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace gqa::testing {

inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

inline bool HasNaN(const std::vector<float>& v) {
  for (float x : v)
    if (std::isnan(x)) return true;
  return false;
}

// ||out - ref|| / ||ref|| over equally long arrays; NaN anywhere gives NaN,
// which fails every `<` comparison.
inline double RelativeError(const std::vector<float>& out, const std::vector<double>& ref) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff += (out[i] - ref[i]) * (out[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  return std::sqrt(diff / norm);
}

}  // namespace gqa::testing
