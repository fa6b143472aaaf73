// Shared by the K-quant kernel tests: random weight blocks, activations, a
// double-precision reference dot product and the error bounds the tests
// allow (derived where they are defined).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "engine/common/dtype.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/dequantize.h"

namespace gqa::quant::testing {

// Byte offsets of the f16 d (and dmin) inside a block of `t`.
inline int DOffset(DType t) { return t == DType::kQ6_K ? 208 : 0; }

inline float BlockD(DType t, const uint8_t* block) {
  uint16_t h;
  std::memcpy(&h, block + DOffset(t), 2);
  return F16ToF32(h);
}
inline float BlockDmin(DType t, const uint8_t* block) {
  if (t == DType::kQ6_K) return 0.0f;
  uint16_t h;
  std::memcpy(&h, block + 2, 2);
  return F16ToF32(h);
}

inline void SetHalf(uint8_t* p, float v) {
  const uint16_t h = F32ToF16(v);
  std::memcpy(p, &h, 2);
}

// n_blocks random blocks of `t`: every byte pattern is a valid K-quant block,
// so the quants, scales and mins are random bytes; d (and dmin) are then set
// to sane magnitudes (|d| in [1e-4, 1e-2], either sign; dmin >= 0).
inline std::vector<uint8_t> RandomBlocks(DType t, int64_t n_blocks, std::mt19937& rng) {
  const size_t bytes = DTypeBlockBytes(t);
  std::vector<uint8_t> w(bytes * n_blocks);
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& v : w) v = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> mag(1e-4f, 1e-2f);
  std::bernoulli_distribution neg(0.5);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* blk = w.data() + b * bytes;
    SetHalf(blk + DOffset(t), neg(rng) ? -mag(rng) : mag(rng));
    if (t != DType::kQ6_K) SetHalf(blk + 2, mag(rng));
  }
  return w;
}

// k activations, each block of 256 with its own magnitude (so blocks get
// different scales), a few large outliers as real activations have.
inline std::vector<float> RandomActivations(int64_t k, std::mt19937& rng) {
  std::vector<float> x(k);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> scale(0.01f, 10.0f);
  std::uniform_int_distribution<int> outlier(0, 63);
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    const float s = scale(rng);
    for (int i = 0; i < kBlockK; ++i) {
      x[b * kBlockK + i] = s * normal(rng) * (outlier(rng) == 0 ? 8.0f : 1.0f);
    }
  }
  return x;
}

// The reference weights: quant::DequantizeRow (engine/quant/dequantize.h,
// the readable definition of the formats) widened to double. It computes
// each element in fp32 as (d * sc) * q - dmin * m, so it is within
// DequantBound of the exact value (see there).
inline std::vector<double> DequantRow(DType t, const uint8_t* w, int64_t k) {
  std::vector<float> f(k);
  DequantizeRow(t, w, f.data(), k);
  return std::vector<double>(f.begin(), f.end());
}

// A row whose every fp32 step is exact in a correct kernel: activations are
// integers in [-3, 3] with one +-127 per block (so a.d = 1 and qs = x), d and
// dmin are powers of two, and Q6_K's scales are halved into [-64, 63], which
// keeps every partial sum of k <= 2048 elements under 2^24.
inline void MakeExactRow(DType t, int64_t k, std::mt19937& rng, std::vector<uint8_t>* w,
                         std::vector<float>* x) {
  *w = RandomBlocks(t, k / kBlockK, rng);
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    uint8_t* blk = w->data() + b * DTypeBlockBytes(t);
    SetHalf(blk + DOffset(t), b % 2 ? 0.25f : -0.5f);
    if (t == DType::kQ6_K) {
      for (int j = 0; j < 16; ++j) {
        blk[192 + j] = static_cast<uint8_t>(static_cast<int8_t>(blk[192 + j]) / 2);
      }
    } else {
      SetHalf(blk + 2, 0.125f);
    }
  }
  std::uniform_int_distribution<int> small(-3, 3);
  x->resize(k);
  for (int64_t i = 0; i < k; ++i) (*x)[i] = static_cast<float>(small(rng));
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    (*x)[b * kBlockK + (b * 37) % kBlockK] = b % 3 ? 127.0f : -127.0f;
  }
}

// ---- error bounds ----

// An upper bound on |d sc_j q| + |dmin m_j| over a block's elements: 63 * 31
// |d| + 63 |dmin| for Q4_K / Q5_K (scale and min < 64, q < 32), 128 * 32 |d|
// for Q6_K (|sc| <= 128, |q - 32| <= 32).
inline double ElementTermBound(DType t, const uint8_t* blk) {
  const double d = std::fabs(BlockD(t, blk)), dmin = std::fabs(BlockDmin(t, blk));
  return t == DType::kQ6_K ? d * 128 * 32 : d * 63 * 31 + dmin * 63;
}

// An upper bound on the magnitude of the fp32 terms a kernel rounds in one
// row: per block, a.d * (|d| * |sum_j sc_j sum q qs| + |dmin| * |sum_j m_j bsums|)
// <= a.d * sum|qs| * ElementTermBound.
inline double TermMagnitude(DType t, const uint8_t* w, const BlockQ8K* a, int64_t k) {
  double total = 0.0;
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    double sum_abs_qs = 0.0;
    for (int i = 0; i < kBlockK; ++i) sum_abs_qs += std::abs(a[b].qs[i]);
    total += a[b].d * sum_abs_qs * ElementTermBound(t, w + b * DTypeBlockBytes(t));
  }
  return total;
}

// The fp32 rounding a kernel may add to the exact value of its integer sums:
// per block, the products d * a.d, the int -> float conversions, the scalings
// and the subtraction each round once (<= 4 units of 2^-24 relative to the
// block's terms, counted 8 for slack), then adding n_blocks block results
// rounds once per addition (<= n_blocks units relative to the running sum,
// itself <= the sum of the terms' magnitudes). So
//   |kernel - exact| <= (8 + n_blocks) * 2^-24 * TermMagnitude.
inline double RoundingBound(DType t, const uint8_t* w, const BlockQ8K* a, int64_t k) {
  return (8.0 + static_cast<double>(k / kBlockK)) * std::ldexp(1.0, -24) *
         TermMagnitude(t, w, a, k);
}

// DequantizeRow's own rounding: each element rounds d * sc, its product with
// q, dmin * m and the difference (Q6_K: d * sc and the product), so it is
// within 3 units of 2^-24 of ElementTermBound of the exact weight, and a dot
// with values v is off by at most 3 * 2^-24 * sum_i ElementTermBound * |v[i]|.
template <typename T>
inline double DequantBound(DType t, const uint8_t* w, const T* v, int64_t k) {
  double total = 0.0;
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    double sum_abs = 0.0;
    for (int i = 0; i < kBlockK; ++i) sum_abs += std::fabs(v[b * kBlockK + i]);
    total += sum_abs * ElementTermBound(t, w + b * DTypeBlockBytes(t));
  }
  return 3.0 * std::ldexp(1.0, -24) * total;
}

}  // namespace gqa::quant::testing
