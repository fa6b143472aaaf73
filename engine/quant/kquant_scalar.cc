// The scalar K-quant kernels: the reference every SIMD kernel is tested
// against, and the BlockQ8K activation quantizer all of them share
// (kquant_kernels.h has the formats and the arithmetic).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/common/dtype.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/kquant_kernels.h"

namespace gqa::quant::internal {
namespace {

// Sum over the 8 sub-blocks of 32 of Q4_K / Q5_K: (d * sc_j * sum q qs) and
// (dmin * m_j * bsums), q[256] being the block's unsigned 4- or 5-bit values.
float DotScalesMinsK4(float d, float dmin, const uint8_t* packed_scales, const uint8_t* q,
                      const BlockQ8K& a) {
  uint8_t sm[16];
  UnpackScalesMinsK4(packed_scales, sm);
  int32_t sumi = 0;
  int32_t summ = 0;
  for (int j = 0; j < 8; ++j) {
    int32_t s = 0;
    for (int l = 0; l < 32; ++l) s += q[32 * j + l] * a.qs[32 * j + l];
    sumi += sm[j] * s;
    summ += sm[8 + j] * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
  }
  return a.d * d * static_cast<float>(sumi) - a.d * dmin * static_cast<float>(summ);
}

float VecDotQ4K(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ4_K*>(w_row);
  const auto* a = static_cast<const BlockQ8K*>(xq);
  float sum = 0.0f;
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    // Sub-block 2i is the low nibbles of qs[32i .. 32i+31], 2i+1 their high.
    uint8_t q[kBlockK];
    for (int i = 0; i < 4; ++i) {
      for (int l = 0; l < 32; ++l) {
        q[64 * i + l] = w[b].qs[32 * i + l] & 0x0F;
        q[64 * i + 32 + l] = w[b].qs[32 * i + l] >> 4;
      }
    }
    sum += DotScalesMinsK4(F16ToF32(w[b].d), F16ToF32(w[b].dmin), w[b].scales, q, a[b]);
  }
  return sum;
}

float VecDotQ5K(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ5_K*>(w_row);
  const auto* a = static_cast<const BlockQ8K*>(xq);
  float sum = 0.0f;
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    // As Q4_K, plus bit j of qh[l] as bit 4 of sub-block j's element l.
    uint8_t q[kBlockK];
    for (int i = 0; i < 4; ++i) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t h = w[b].qh[l];
        q[64 * i + l] = (w[b].qs[32 * i + l] & 0x0F) | (((h >> (2 * i)) & 1) << 4);
        q[64 * i + 32 + l] = (w[b].qs[32 * i + l] >> 4) | (((h >> (2 * i + 1)) & 1) << 4);
      }
    }
    sum += DotScalesMinsK4(F16ToF32(w[b].d), F16ToF32(w[b].dmin), w[b].scales, q, a[b]);
  }
  return sum;
}

float VecDotQ6K(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ6_K*>(w_row);
  const auto* a = static_cast<const BlockQ8K*>(xq);
  float sum = 0.0f;
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    // Group g = 4h + c of 32 elements (h < 2, c < 4): element l's low 4 bits
    // are ql[64h + 32(c % 2) + l] >> 4(c / 2), its high 2 bits qh[32h + l] >> 2c.
    // q is unsigned (0..63); the -32 goes through bsums below.
    const BlockQ6_K& blk = w[b];
    uint8_t q[kBlockK];
    for (int g = 0; g < 8; ++g) {
      const int h = g / 4, c = g % 4;
      for (int l = 0; l < 32; ++l) {
        const int lo = (blk.ql[64 * h + 32 * (c % 2) + l] >> (4 * (c / 2))) & 0x0F;
        const int hi = (blk.qh[32 * h + l] >> (2 * c)) & 3;
        q[32 * g + l] = static_cast<uint8_t>(lo | (hi << 4));
      }
    }
    int32_t sumi = 0;
    int32_t sum_offset = 0;
    for (int j = 0; j < 16; ++j) {  // 16 elements per scale
      int32_t s = 0;
      for (int l = 0; l < 16; ++l) s += q[16 * j + l] * a[b].qs[16 * j + l];
      sumi += blk.scales[j] * s;
      sum_offset += blk.scales[j] * a[b].bsums[j];
    }
    sum += a[b].d * F16ToF32(blk.d) * static_cast<float>(sumi - 32 * sum_offset);
  }
  return sum;
}

}  // namespace

size_t Q8KActivationRowBytes(int64_t k) {
  return static_cast<size_t>(k / kBlockK) * sizeof(BlockQ8K);
}

void QuantizeRowQ8K(const float* x, void* xq, int64_t k) {
  auto* out = static_cast<BlockQ8K*>(xq);
  for (int64_t b = 0; b < k / kBlockK; ++b, x += kBlockK) {
    BlockQ8K& blk = out[b];
    float amax = 0.0f;
    for (int i = 0; i < kBlockK; ++i) amax = std::max(amax, std::fabs(x[i]));
    if (amax < kQ8KMinAmax) {  // 0, or so small that 127 / amax overflows
      std::memset(&blk, 0, sizeof(blk));
      continue;
    }
    const float id = 127.0f / amax;
    blk.d = amax / 127.0f;
    for (int i = 0; i < kBlockK; ++i) {
      // nearbyint rounds half to even (the default rounding mode), as the
      // SIMD conversions do.
      const float v = std::nearbyint(x[i] * id);
      blk.qs[i] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
    for (int j = 0; j < kBlockK / 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += blk.qs[16 * j + i];
      blk.bsums[j] = static_cast<int16_t>(sum);
    }
  }
}

void UnpackScalesMinsK4(const uint8_t* packed, uint8_t out[16]) {
  // Sub-blocks 0..3: the low 6 bits of bytes 0..3 (scale) and 4..7 (min).
  // Sub-blocks 4..7: the low / high nibble of bytes 8..11 as the low 4 bits,
  // the top 2 bits of bytes 0..3 / 4..7 as the high 2.
  for (int j = 0; j < 4; ++j) {
    out[j] = packed[j] & 0x3F;
    out[8 + j] = packed[j + 4] & 0x3F;
    out[4 + j] = (packed[j + 8] & 0x0F) | ((packed[j] >> 6) << 4);
    out[12 + j] = (packed[j + 8] >> 4) | ((packed[j + 4] >> 6) << 4);
  }
}

const VecDotKernel kQ4KScalar = {"q4_K/scalar", DType::kQ4_K, Q8KActivationRowBytes, QuantizeRowQ8K,
                                 VecDotQ4K};
const VecDotKernel kQ5KScalar = {"q5_K/scalar", DType::kQ5_K, Q8KActivationRowBytes, QuantizeRowQ8K,
                                 VecDotQ5K};
const VecDotKernel kQ6KScalar = {"q6_K/scalar", DType::kQ6_K, Q8KActivationRowBytes, QuantizeRowQ8K,
                                 VecDotQ6K};

}  // namespace gqa::quant::internal
