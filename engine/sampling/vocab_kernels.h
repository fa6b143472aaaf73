// Vocabulary-wide loops of the sampler (max, exp-and-sum, threshold counts and sums), for
// 128k-entry logits on the hot path of every sampled token. All are written so that the
// compiler vectorizes them: fixed-width blocks of independent lanes, no calls, no branches.
//
// Why not std::exp: glibc expf is a scalar call (~3-10 ns each); a vocab pass of 128k of
// them costs ~0.5-1 ms per token per sequence. ExpNonPositive is a branch-free polynomial
// the compiler vectorizes (AVX2: 8 lanes), with the accuracy of expf (< 2 ulp) on the range
// softmax needs. Sums are accumulated in double in a fixed lane order, so a result does not
// depend on the vector width (a different build may still differ in the last bit, e.g. by
// contracting to FMA).
//
// Thread ownership: none; pure functions.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gqa {

// exp(x) for x <= 0 (after subtracting the max logit), relative error < 2.5e-7. Flushes
// x < -87 (e^-87 ~ 1.6e-38, just above FLT_MIN) to exactly 0, so -inf gives 0: a masked
// token has probability exactly 0. exp(0) is exactly 1. Precondition: x <= 0, not NaN.
inline float ExpNonPositive(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 = kLn2Hi + kLn2Lo, kLn2Hi exact in 10 bits
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: x + kRound rounds x to an integer
  constexpr float kMin = -87.0f;
  const float xc = x < kMin ? kMin : x;
  const float n = (xc * kLog2e + kRound) - kRound;  // round(x / ln 2), in [-126, 0]
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;   // |r| <= ln 2 / 2
  // Cephes expf minimax polynomial: exp(r) ~ 1 + r + r^2 * p(r).
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float two_to_n = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  return x < kMin ? 0.0f : p * two_to_n;
}

// Largest value, NaN ignored (-inf for an empty span or all NaN); *has_nan says whether
// any value was NaN.
float MaxIgnoringNaN(std::span<const float> values, bool* has_nan);

// Sum over i of ExpNonPositive((x[i] - max) * scale), in double. Precondition:
// max >= every x[i] (so each term is in [0, 1]), no NaN, scale > 0 and finite.
double SumExpShifted(std::span<const float> x, float max, float scale);

// Same, also storing each term: out[i] = ExpNonPositive((x[i] - max) * scale).
// out.size() == x.size().
double ExpShifted(std::span<const float> x, float max, float scale, std::span<float> out);

// Sum of values, in double, in the same fixed lane order as the two above.
double SumInDouble(std::span<const float> values);

// Sum of the values >= threshold, in double.
double SumAtLeast(std::span<const float> values, float threshold);

// Number of values >= threshold.
size_t CountAtLeast(std::span<const float> values, float threshold);

// Writes the indices i with values[i] >= threshold to ids, in increasing order; returns
// how many. Branch-free, skipping blocks with no match: fast for few or many matches.
// Precondition: ids has room for values.size() entries.
size_t CollectAtLeast(std::span<const float> values, float threshold, int* ids);

// The first index i with values[i] == target, or -1.
int FirstIndexOf(std::span<const float> values, float target);

// Whether any of the kBlockLanes values at x is > threshold (NaN is not).
inline constexpr size_t kBlockLanes = 16;
inline bool AnyGreater(const float* x, float threshold) {
  uint32_t any = 0;
#pragma GCC unroll 1
  for (size_t j = 0; j < kBlockLanes; ++j) any |= x[j] > threshold;
  return any != 0;
}

}  // namespace gqa
