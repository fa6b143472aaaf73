// Shared by the block32 kernel tests: random Q8_0 / Q4_0 / Q4_1 weight rows,
// their dequantization in double (from block_formats.h's definitions, written
// independently of the kernels), and the activation quantizer's error bound.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "engine/common/dtype.h"
#include "engine/quant/block_formats.h"

namespace gqa::quant::testing {

inline bool IsBlock32(DType t) {
  return t == DType::kQ8_0 || t == DType::kQ4_0 || t == DType::kQ4_1;
}

// Weight rows' value patterns.
enum class Fill {
  kRandom,     // random quants, scales ~ 1e-3..1e-1, Q4_1 mins of either sign
  kZero,       // every byte 0 (scales 0 too)
  kExtreme,    // quants at their limits (-128/127, nibble 0/15), random scales
  kHugeScale,  // random quants, scales near fp16's max (65504)
  kTinyScale,  // random quants, fp16 subnormal scales (~6e-8)
  kUnitScale,  // random quants, scale 1 (m 0 or an integer): exact float sums
};

// One weight row of k elements of type t (k a multiple of 32).
inline std::vector<uint8_t> MakeWeightRow(DType t, int64_t k, Fill fill, std::mt19937& rng) {
  const size_t block_bytes = DTypeBlockBytes(t);
  std::vector<uint8_t> row(DTypeBytes(t, k));
  if (fill == Fill::kZero) return row;
  std::uniform_int_distribution<int> byte(0, 255), bit(0, 1), small_int(-4, 4);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  auto scale = [&]() -> uint16_t {
    switch (fill) {
      case Fill::kHugeScale:
        return F32ToF16(30000.0f + 35000.0f * unit(rng));
      case Fill::kTinyScale:
        return static_cast<uint16_t>(1 + byte(rng) % 16);  // subnormal
      case Fill::kUnitScale:
        return F32ToF16(1.0f);
      default:
        return F32ToF16(std::exp(std::log(1e-3f) + unit(rng) * std::log(100.0f)));
    }
  };
  auto quant_byte = [&]() -> uint8_t {
    if (fill != Fill::kExtreme) return static_cast<uint8_t>(byte(rng));
    if (t == DType::kQ8_0) return bit(rng) ? 0x7F : 0x80;                     // 127 or -128
    return static_cast<uint8_t>(bit(rng) ? 0xFF : (bit(rng) ? 0x0F : 0xF0));  // 15/15, 15/0, 0/15
  };
  for (size_t b = 0; b < row.size() / block_bytes; ++b) {
    uint8_t* p = row.data() + b * block_bytes;
    uint16_t d = scale();
    std::memcpy(p, &d, 2);
    size_t q_off = 2;
    if (t == DType::kQ4_1) {
      uint16_t m;
      if (fill == Fill::kUnitScale) {
        m = F32ToF16(static_cast<float>(small_int(rng)));
      } else {
        m = static_cast<uint16_t>(scale() ^ (bit(rng) ? 0x8000 : 0));  // either sign
      }
      std::memcpy(p + 2, &m, 2);
      q_off = 4;
    }
    for (size_t i = q_off; i < block_bytes; ++i) p[i] = quant_byte();
  }
  return row;
}

// The row's k elements in double (exact: fp16 * small integers).
inline std::vector<double> Dequantize(DType t, const uint8_t* row, int64_t k) {
  std::vector<double> out(k);
  const size_t block_bytes = DTypeBlockBytes(t);
  for (int64_t b = 0; b < k / kBlock32; ++b) {
    const uint8_t* p = row + b * block_bytes;
    uint16_t dh, mh = 0;
    std::memcpy(&dh, p, 2);
    const double d = F16ToF32(dh);
    double* y = out.data() + b * kBlock32;
    if (t == DType::kQ8_0) {
      for (int i = 0; i < 32; ++i) y[i] = d * static_cast<int8_t>(p[2 + i]);
      continue;
    }
    const uint8_t* qs = p + (t == DType::kQ4_1 ? 4 : 2);
    if (t == DType::kQ4_1) std::memcpy(&mh, p + 2, 2);
    const double m = F16ToF32(mh);
    for (int i = 0; i < 16; ++i) {
      const int lo = qs[i] & 15, hi = qs[i] >> 4;
      y[i] = t == DType::kQ4_0 ? d * (lo - 8) : d * lo + m;
      y[i + 16] = t == DType::kQ4_0 ? d * (hi - 8) : d * hi + m;
    }
  }
  return out;
}

// An upper bound of |w_i| for each element whose products with the quantized
// activations the kernels sum in fp32 without cancellation: |d| * |q| for
// Q8_0, |d| * (n + 8) for Q4_0 (dx * sum n q and 8 * sum are rounded apart),
// |d| * n + |m| for Q4_1. The kernels' fp32 rounding error is relative to
// sum_i Magnitude_i * |xq_i|.
inline std::vector<double> Magnitudes(DType t, const uint8_t* row, int64_t k) {
  std::vector<double> out(k);
  const size_t block_bytes = DTypeBlockBytes(t);
  for (int64_t b = 0; b < k / kBlock32; ++b) {
    const uint8_t* p = row + b * block_bytes;
    uint16_t dh, mh = 0;
    std::memcpy(&dh, p, 2);
    const double d = std::fabs(F16ToF32(dh));
    double* y = out.data() + b * kBlock32;
    if (t == DType::kQ8_0) {
      for (int i = 0; i < 32; ++i) y[i] = d * std::abs(static_cast<int8_t>(p[2 + i]));
      continue;
    }
    const uint8_t* qs = p + (t == DType::kQ4_1 ? 4 : 2);
    if (t == DType::kQ4_1) std::memcpy(&mh, p + 2, 2);
    const double m = std::fabs(F16ToF32(mh));
    for (int i = 0; i < 32; ++i) {
      const int n = i < 16 ? qs[i] & 15 : qs[i - 16] >> 4;
      y[i] = t == DType::kQ4_0 ? d * (n + 8) : d * n + m;
    }
  }
  return out;
}

// The activations as the kernels see them: d * qs per element, in double.
inline std::vector<double> DequantizeQ8x32(const void* xq, int64_t k) {
  std::vector<double> out(k);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  for (int64_t i = 0; i < k; ++i) out[i] = static_cast<double>(x[i / 32].d) * x[i / 32].qs[i % 32];
  return out;
}

// The activations as a packed kernel for row-major type t sees them, d * q
// per element: the Q8_0 kernels store q + 128 (engine/quant/packed_blocks.h).
inline std::vector<double> PackedActivationValues(DType t, const void* xq, int64_t k) {
  std::vector<double> out = DequantizeQ8x32(xq, k);
  if (t != DType::kQ8_0) return out;
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  for (int64_t i = 0; i < k; ++i) {
    const int q = static_cast<uint8_t>(x[i / 32].qs[i % 32]) - 128;
    out[i] = static_cast<double>(x[i / 32].d) * q;
  }
  return out;
}

}  // namespace gqa::quant::testing
