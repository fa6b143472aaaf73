// The scalar Q8_0 / Q4_0 / Q4_1 kernels: the readable reference every SIMD
// kernel is tested against (block32_kernels.h has the formulas).
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"

namespace gqa::quant::internal {
namespace {

float H2F(Half h) { return F16ToF32(h); }

// Nibble i of a Q4 block's 16 bytes: element i < 16 is the low nibble of byte
// i, element i + 16 its high nibble.
int Nibble(const uint8_t* qs, int i) { return i < 16 ? qs[i] & 0x0F : qs[i - 16] >> 4; }

float VecDotQ8_0(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ8_0*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  float acc = 0;
  for (int64_t b = 0; b < k / kBlock32; ++b) {
    int32_t isum = 0;
    for (int i = 0; i < kBlock32; ++i) isum += w[b].qs[i] * x[b].qs[i];
    acc += H2F(w[b].d) * x[b].d * static_cast<float>(isum);
  }
  return acc;
}

float VecDotQ4_0(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ4_0*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  float acc = 0;
  for (int64_t b = 0; b < k / kBlock32; ++b) {
    int32_t isum = 0;  // sum n_i * q_i; the -8 offset comes from x's sum
    for (int i = 0; i < kBlock32; ++i) isum += Nibble(w[b].qs, i) * x[b].qs[i];
    acc += H2F(w[b].d) * (x[b].d * static_cast<float>(isum) - 8.0f * x[b].sum);
  }
  return acc;
}

float VecDotQ4_1(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ4_1*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  float acc = 0;
  for (int64_t b = 0; b < k / kBlock32; ++b) {
    int32_t isum = 0;
    for (int i = 0; i < kBlock32; ++i) isum += Nibble(w[b].qs, i) * x[b].qs[i];
    acc += H2F(w[b].d) * x[b].d * static_cast<float>(isum) + H2F(w[b].m) * x[b].sum;
  }
  return acc;
}

}  // namespace

size_t Q8x32RowBytes(int64_t k) { return static_cast<size_t>(k / kBlock32) * sizeof(BlockQ8x32); }

void QuantizeQ8x32(const float* x, void* xq, int64_t k) {
  auto* out = static_cast<BlockQ8x32*>(xq);
  for (int64_t b = 0; b < k / kBlock32; ++b, x += kBlock32) {
    float amax = 0;
    for (int i = 0; i < kBlock32; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    BlockQ8x32& o = out[b];
    o.d = amax / 127.0f;
    if (o.d < std::numeric_limits<float>::min()) {  // zero, or too small: see the header
      o.d = 0;
      o.sum = 0;
      std::memset(o.qs, 0, sizeof(o.qs));
      continue;
    }
    int32_t isum = 0;
    for (int i = 0; i < kBlock32; ++i) {
      // nearbyint rounds in the current mode: to nearest, ties to even, as
      // the SIMD conversions (CVTPS2DQ) do. |x / d| <= 127 up to rounding for
      // finite x; the range check keeps the conversion defined for inf / NaN.
      const float q = std::nearbyint(x[i] / o.d);
      o.qs[i] = static_cast<int8_t>(std::fabs(q) <= 127.0f ? static_cast<int>(q) : 0);
      isum += o.qs[i];
    }
    o.sum = o.d * static_cast<float>(isum);
  }
}

const VecDotKernel kQ8_0Scalar = {"q8_0/scalar", DType::kQ8_0, Q8x32RowBytes, QuantizeQ8x32,
                                  VecDotQ8_0};
const VecDotKernel kQ4_0Scalar = {"q4_0/scalar", DType::kQ4_0, Q8x32RowBytes, QuantizeQ8x32,
                                  VecDotQ4_0};
const VecDotKernel kQ4_1Scalar = {"q4_1/scalar", DType::kQ4_1, Q8x32RowBytes, QuantizeQ8x32,
                                  VecDotQ4_1};

}  // namespace gqa::quant::internal
