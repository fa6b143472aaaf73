// quant::DequantizeRow against blocks built by hand with known values: every
// scale, offset and quant is a small integer or power of two, so each
// expected element is exact in fp32 and compared with ==. (The gguf-py
// parity test, gguf_dequant_parity, checks random blocks bit for bit.)
#include "engine/quant/dequantize.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/quant/block_formats.h"

namespace gqa::quant {
namespace {

std::vector<float> Decode(DType type, const void* blocks, int64_t n) {
  std::vector<float> out(n, -999.0f);
  DequantizeRow(type, blocks, out.data(), n);
  return out;
}

TEST(DequantizeTest, PlainTypes) {
  const float f32[3] = {1.5f, -2.0f, 0.25f};
  EXPECT_EQ(Decode(DType::kF32, f32, 3), std::vector<float>({1.5f, -2.0f, 0.25f}));
  const uint16_t bf16[2] = {0x3fc0, 0xc000};  // 1.5, -2
  EXPECT_EQ(Decode(DType::kBF16, bf16, 2), std::vector<float>({1.5f, -2.0f}));
  const uint16_t f16[2] = {0x3e00, 0xb400};  // 1.5, -0.25
  EXPECT_EQ(Decode(DType::kF16, f16, 2), std::vector<float>({1.5f, -0.25f}));
}

TEST(DequantizeTest, Q8_0TwoBlocks) {
  BlockQ8_0 b[2];
  b[0].d = F32ToF16(0.5f);
  b[1].d = F32ToF16(-2.0f);
  for (int i = 0; i < 32; ++i) b[0].qs[i] = b[1].qs[i] = static_cast<int8_t>(i - 16);
  const std::vector<float> y = Decode(DType::kQ8_0, b, 64);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(y[i], 0.5f * (i - 16)) << i;
    EXPECT_EQ(y[32 + i], -2.0f * (i - 16)) << i;
  }
}

// Element i < 16: low nibble of qs[i]; i >= 16: high nibble of qs[i - 16].
uint8_t Nibbles(int lo, int hi) { return static_cast<uint8_t>(lo | (hi << 4)); }

TEST(DequantizeTest, Q4_0) {
  BlockQ4_0 b;
  b.d = F32ToF16(0.25f);
  for (int i = 0; i < 16; ++i) b.qs[i] = Nibbles(i, 15 - i);
  const std::vector<float> y = Decode(DType::kQ4_0, &b, 32);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(y[i], 0.25f * (i - 8)) << i;
    EXPECT_EQ(y[16 + i], 0.25f * (15 - i - 8)) << i;
  }
}

TEST(DequantizeTest, Q4_1) {
  BlockQ4_1 b;
  b.d = F32ToF16(0.5f);
  b.m = F32ToF16(-3.0f);
  for (int i = 0; i < 16; ++i) b.qs[i] = Nibbles(i, 15 - i);
  const std::vector<float> y = Decode(DType::kQ4_1, &b, 32);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(y[i], 0.5f * i - 3.0f) << i;
    EXPECT_EQ(y[16 + i], 0.5f * (15 - i) - 3.0f) << i;
  }
}

// ggml's packing of 8 6-bit (scale, min) pairs into 12 bytes (the inverse of
// what the K-quant decoders unpack), written from llama.cpp's quantizer.
void PackScaleMin(const int sc[8], const int mn[8], uint8_t out[12]) {
  std::memset(out, 0, 12);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      out[j] = static_cast<uint8_t>(sc[j]);
      out[j + 4] = static_cast<uint8_t>(mn[j]);
    } else {
      out[j + 4] = static_cast<uint8_t>((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
      out[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
      out[j] |= static_cast<uint8_t>((mn[j] >> 4) << 6);
    }
  }
}

constexpr int kSc[8] = {1, 2, 63, 4, 5, 40, 33, 63};
constexpr int kMn[8] = {0, 7, 1, 63, 17, 2, 48, 9};

// Element e of a Q4_K/Q5_K block is in sub-block e / 32; its 4 low bits are
// nibble (e / 32) % 2 of qs[32 * (e / 64) + e % 32].
int TestQuant(int e, int bits) { return (e * 7 + 3) % (1 << bits); }

// Fills a Q4_K (qh null) or Q5_K block's scales and quants with TestQuant.
void FillK4Or5(uint8_t scales[12], uint8_t qs[128], uint8_t* qh, int bits) {
  PackScaleMin(kSc, kMn, scales);
  std::memset(qs, 0, 128);
  if (qh != nullptr) std::memset(qh, 0, 32);
  for (int e = 0; e < 256; ++e) {
    const int q = TestQuant(e, bits);
    qs[32 * (e / 64) + e % 32] |= static_cast<uint8_t>((q & 15) << (4 * ((e / 32) % 2)));
    if (qh != nullptr) qh[e % 32] |= static_cast<uint8_t>((q >> 4) << (e / 32));
  }
}

TEST(DequantizeTest, Q4_K) {
  BlockQ4_K b;
  b.d = F32ToF16(0.5f);
  b.dmin = F32ToF16(0.25f);
  FillK4Or5(b.scales, b.qs, nullptr, 4);
  const std::vector<float> y = Decode(DType::kQ4_K, &b, 256);
  for (int e = 0; e < 256; ++e) {
    EXPECT_EQ(y[e], 0.5f * kSc[e / 32] * TestQuant(e, 4) - 0.25f * kMn[e / 32]) << e;
  }
}

TEST(DequantizeTest, Q5_K) {
  BlockQ5_K b;
  b.d = F32ToF16(2.0f);
  b.dmin = F32ToF16(0.5f);
  FillK4Or5(b.scales, b.qs, b.qh, 5);
  const std::vector<float> y = Decode(DType::kQ5_K, &b, 256);
  for (int e = 0; e < 256; ++e) {
    EXPECT_EQ(y[e], 2.0f * kSc[e / 32] * TestQuant(e, 5) - 0.5f * kMn[e / 32]) << e;
  }
}

TEST(DequantizeTest, Q6_K) {
  // Element e = 128 h + 32 k + l: low 4 bits in nibble k / 2 of
  // ql[64 h + 32 (k % 2) + l], high 2 bits at bit 2k of qh[32 h + l].
  BlockQ6_K b;
  b.d = F32ToF16(0.125f);
  std::memset(b.ql, 0, sizeof(b.ql));
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(j % 2 ? -3 * j : 5 * j);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, k = (e / 32) % 4, l = e % 32, q = TestQuant(e, 6);
    b.ql[64 * h + 32 * (k % 2) + l] |= static_cast<uint8_t>((q & 15) << (4 * (k / 2)));
    b.qh[32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * k));
  }
  const std::vector<float> y = Decode(DType::kQ6_K, &b, 256);
  for (int e = 0; e < 256; ++e) {
    EXPECT_EQ(y[e], 0.125f * b.scales[e / 16] * (TestQuant(e, 6) - 32)) << e;
  }
}

}  // namespace
}  // namespace gqa::quant
