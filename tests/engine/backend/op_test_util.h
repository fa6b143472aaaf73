// Helpers shared by the backend op tests: random inputs, NaN poisoning and
// the relative error ||out - ref|| / ||ref|| against a double reference.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <utility>
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

// Logits rows for Backend::ArgMaxRows, [rows, vocab] densely (vocab >= 12):
// random rows plus the cases its contract names: ties (lowest index wins),
// a NaN beside a max, all NaN, all -inf, a single finite value among -inf,
// +inf, a peaked row, a flat row, the max last, a NaN first.
inline std::vector<float> ArgMaxTestRows(int64_t vocab, int* rows, uint32_t seed) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<std::vector<float>> r;
  for (uint32_t i = 0; i < 3; ++i) r.push_back(RandomFloats(vocab, seed + i, -10.0f, 10.0f));
  auto with = [&](std::vector<float> row, std::initializer_list<std::pair<int64_t, float>> sets) {
    for (auto [j, x] : sets) row[j] = x;
    r.push_back(std::move(row));
  };
  const std::vector<float> random = RandomFloats(vocab, seed + 7, -10.0f, 10.0f);
  with(random, {{3, 50.0f}, {vocab - 2, 50.0f}});                    // tie: 3
  with(random, {{2, kNaN}, {9, 40.0f}});                             // 9, NaN logprob
  with(std::vector<float>(vocab, kNaN), {});                         // 0, NaN
  with(std::vector<float>(vocab, -kInf), {});                        // 0, NaN
  with(std::vector<float>(vocab, -kInf), {{7, 1.25f}});              // 7, logprob 0
  with(random, {{5, kInf}});                                         // 5, NaN
  with(random, {{vocab / 2, 45.0f}});                                // peaked: logprob ~ -e^-35 V
  with(std::vector<float>(vocab, 1.5f), {});                         // 0, -log(vocab)
  with(random, {{vocab - 1, 99.0f}});                                // last
  with(std::vector<float>(vocab, -kInf), {{0, kNaN}, {11, -kInf}});  // 1 (first non-NaN), NaN
  *rows = static_cast<int>(r.size());
  std::vector<float> out;
  for (const std::vector<float>& row : r) out.insert(out.end(), row.begin(), row.end());
  return out;
}

// Logprobs agree: both NaN, or within `tolerance` of each other relative to
// max(1, |ref|).
inline bool LogprobsAgree(float got, double ref, double tolerance) {
  if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got);
  return std::abs(got - ref) <= tolerance * std::max(1.0, std::abs(ref));
}

}  // namespace gqa::testing
