#include "engine/quant/dequantize.h"

#include <cassert>
#include <cstring>

#include "engine/quant/block_formats.h"

// Exactness: gguf-py computes every product and sum as a separate fp32
// operation; a fused multiply-add would round once instead of twice, so
// gqa_quant is compiled with -ffp-contract=off (engine/CMakeLists.txt).

namespace gqa::quant {
namespace {

// Q8_0: x = qs[i] * d.
void DequantQ8_0(const BlockQ8_0& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int i = 0; i < kBlock32; ++i) y[i] = static_cast<float>(b.qs[i]) * d;
}

// Q4_0: element i < 16 is the low nibble of qs[i], element i + 16 its high
// nibble; x = d * (q - 8).
void DequantQ4_0(const BlockQ4_0& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int i = 0; i < kBlock32 / 2; ++i) {
    y[i] = d * static_cast<float>((b.qs[i] & 0x0F) - 8);
    y[i + 16] = d * static_cast<float>((b.qs[i] >> 4) - 8);
  }
}

// Q4_1: nibbles as Q4_0; x = d * q + m.
void DequantQ4_1(const BlockQ4_1& b, float* y) {
  const float d = F16ToF32(b.d), m = F16ToF32(b.m);
  for (int i = 0; i < kBlock32 / 2; ++i) {
    y[i] = d * static_cast<float>(b.qs[i] & 0x0F) + m;
    y[i + 16] = d * static_cast<float>(b.qs[i] >> 4) + m;
  }
}

// The 8 6-bit scales and mins of Q4_K/Q5_K, packed in 12 bytes: sub-blocks
// 0..3 in the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); sub-blocks
// 4..7 in the nibbles of bytes 8..11 plus the top 2 bits of bytes 0..7.
void ScaleMinK4(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 0x3F;
    mn[j] = s[j + 4] & 0x3F;
    sc[j + 4] = (s[j + 8] & 0x0F) | ((s[j] >> 2) & 0x30);
    mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 2) & 0x30);
  }
}

// Q4_K and Q5_K: sub-block 2j (32 elements) is the low nibbles of
// qs[32j..32j+31], sub-block 2j+1 their high nibbles; Q5_K adds the 5th bit of
// sub-block s's element l as bit s of qh[l] (qh null for Q4_K);
// x = (d*sc) * q - (dmin*m).
void DequantK4Or5(Half d_bits, Half dmin_bits, const uint8_t* scales, const uint8_t* qs,
                  const uint8_t* qh, float* y) {
  const float d = F16ToF32(d_bits), dmin = F16ToF32(dmin_bits);
  uint8_t sc[8], mn[8];
  ScaleMinK4(scales, sc, mn);
  for (int s = 0; s < 8; ++s) {
    const float ds = d * static_cast<float>(sc[s]), ms = dmin * static_cast<float>(mn[s]);
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    for (int l = 0; l < 32; ++l) {
      const int high = qh == nullptr ? 0 : ((qh[l] >> s) & 1) << 4;
      y[32 * s + l] = ds * static_cast<float>(((q[l] >> shift) & 0x0F) | high) - ms;
    }
  }
}

void DequantQ4_K(const BlockQ4_K& b, float* y) {
  DequantK4Or5(b.d, b.dmin, b.scales, b.qs, nullptr, y);
}
void DequantQ5_K(const BlockQ5_K& b, float* y) {
  DequantK4Or5(b.d, b.dmin, b.scales, b.qs, b.qh, y);
}

// Q6_K: group g = h*4 + k (h < 2, k < 4) of 32 elements: low 4 bits from
// ql[h*64 + (k%2)*32 + l] >> (4*(k/2)), high 2 bits from qh[h*32 + l] >> 2k;
// x = (d * scales[e/16]) * (q - 32).
void DequantQ6_K(const BlockQ6_K& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int g = 0; g < 8; ++g) {
    const int h = g / 4, k = g % 4;
    for (int l = 0; l < 32; ++l) {
      const int lo = (b.ql[h * 64 + (k % 2) * 32 + l] >> (4 * (k / 2))) & 0x0F;
      const int hi = (b.qh[h * 32 + l] >> (2 * k)) & 3;
      const int e = 32 * g + l;
      y[e] = (d * static_cast<float>(b.scales[e / 16])) * static_cast<float>((lo | (hi << 4)) - 32);
    }
  }
}

// Applies `fn` to each of the n / Block::elems blocks at src.
template <typename Block, int kElems>
void Blocks(void (*fn)(const Block&, float*), const void* src, float* dst, int64_t n) {
  const Block* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < n / kElems; ++i) fn(b[i], dst + i * kElems);
}

}  // namespace

void DequantizeRow(DType type, const void* src, float* dst, int64_t n) {
  assert(n % DTypeBlockElems(type) == 0);
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::kF16:
    case DType::kBF16:
      ConvertToF32(type, src, dst, n);
      return;
    case DType::kQ8_0:
      return Blocks<BlockQ8_0, kBlock32>(DequantQ8_0, src, dst, n);
    case DType::kQ4_0:
      return Blocks<BlockQ4_0, kBlock32>(DequantQ4_0, src, dst, n);
    case DType::kQ4_1:
      return Blocks<BlockQ4_1, kBlock32>(DequantQ4_1, src, dst, n);
    case DType::kQ4_K:
      return Blocks<BlockQ4_K, kBlockK>(DequantQ4_K, src, dst, n);
    case DType::kQ5_K:
      return Blocks<BlockQ5_K, kBlockK>(DequantQ5_K, src, dst, n);
    case DType::kQ6_K:
      return Blocks<BlockQ6_K, kBlockK>(DequantQ6_K, src, dst, n);
    case DType::kQ4_0x16:
    case DType::kQ4_1x16:
    case DType::kQ8_0x16:
      break;  // no row of a packed matrix is contiguous (quant::UnpackRow)
  }
  assert(false && "DequantizeRow of a packed dtype");
}

}  // namespace gqa::quant
