// Random bf16 / f16 weight rows and fp32 activations for the float kernel
// tests, and the double-precision dot with its rounding bound.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/common/dtype.h"

namespace gqa::quant::testing {

// Lengths around every vector width and unroll (8, 16, 32, 64, 128) and the
// model's shapes (576, 1536), up to 4096.
inline const std::vector<int64_t>& TestLengths() {
  static const std::vector<int64_t> lengths = {0,   1,   3,   7,   8,    9,    15,   16,  17,  31,
                                               32,  33,  47,  63,  64,   65,   100,  127, 128, 129,
                                               191, 255, 576, 999, 1536, 2047, 4095, 4096};
  return lengths;
}

inline float ToF32(DType t, uint16_t bits) {
  return t == DType::kBF16 ? Bf16ToF32(bits) : F16ToF32(bits);
}
inline uint16_t FromF32(DType t, float f) { return t == DType::kBF16 ? F32ToBf16(f) : F32ToF16(f); }

// k weights of type t (bf16 or f16) drawn from N(0, 1), as raw bits.
inline std::vector<uint16_t> RandomRow(DType t, int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<uint16_t> row(k);
  for (uint16_t& v : row) v = FromF32(t, dist(rng));
  return row;
}

inline std::vector<float> RandomActivations(int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> x(k);
  for (float& v : x) v = dist(rng);
  return x;
}

struct DoubleDot {
  double value = 0;  // sum of w[i] * x[i] in double
  double abs = 0;    // sum of |w[i] * x[i]|
  // The most any order of fp32 additions of the k exact products (or of
  // fp32-rounded ones) can differ from `value`: k * 2^-24 * abs (the
  // recursive-summation bound, with slack), plus a tiny absolute term.
  double Bound(int64_t k) const {
    return 1.01 * static_cast<double>(k + 1) * 0x1p-24 * abs + 1e-30;
  }
};

inline DoubleDot DotInDouble(DType t, const std::vector<uint16_t>& w, const std::vector<float>& x) {
  DoubleDot d;
  for (size_t i = 0; i < w.size(); ++i) {
    const double p = static_cast<double>(ToF32(t, w[i])) * static_cast<double>(x[i]);
    d.value += p;
    d.abs += std::fabs(p);
  }
  return d;
}

}  // namespace gqa::quant::testing
