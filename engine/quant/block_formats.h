// Byte layouts of the block-quantized weight types (ggml's, as GGUF files
// store them) and of the quantized activations their dot products take.
// Weight blocks are read in place from the file's memory map or a copy of it;
// every struct is packed to the exact size ggml uses (static_asserts below).
//
// Element i of a block (0-based) decodes as:
//   Q8_0: d * qs[i]
//   Q4_0: d * (nibble(i) - 8)          nibble(i) = i < 16 ? qs[i] & 15 : qs[i - 16] >> 4
//   Q4_1: d * nibble(i) + m
//   Q4_K, Q5_K: 8 sub-blocks of 32, each with a 6-bit scale and min packed in
//     `scales`; element = d * scale_j * q - dmin * min_j (q 4 or 5 bits)
//   Q6_K: 16 sub-blocks of 16 with int8 scales; element = d * scale_j * (q - 32)
// (engine/quant/dequantize.cc is the readable definition of every format.)
#pragma once

#include <cstdint>

namespace gqa::quant {

using Half = uint16_t;  // IEEE fp16 bits (engine/common/dtype.h F16ToF32)

inline constexpr int kBlock32 = 32;  // elements per Q8_0 / Q4_0 / Q4_1 block
inline constexpr int kBlockK = 256;  // elements per K-quant block ("super-block")

struct BlockQ8_0 {
  Half d;
  int8_t qs[kBlock32];
};
struct BlockQ4_0 {
  Half d;
  uint8_t qs[kBlock32 / 2];
};
struct BlockQ4_1 {
  Half d;
  Half m;
  uint8_t qs[kBlock32 / 2];
};
struct BlockQ4_K {
  Half d;
  Half dmin;
  uint8_t scales[12];  // 8 x (6-bit scale, 6-bit min)
  uint8_t qs[kBlockK / 2];
};
struct BlockQ5_K {
  Half d;
  Half dmin;
  uint8_t scales[12];
  uint8_t qh[kBlockK / 8];  // the fifth bit of each element
  uint8_t qs[kBlockK / 2];
};
struct BlockQ6_K {
  uint8_t ql[kBlockK / 2];  // low 4 bits
  uint8_t qh[kBlockK / 4];  // high 2 bits
  int8_t scales[kBlockK / 16];
  Half d;
};

// ---- the CPU GEMM's interleaved layout (engine/quant/packed_blocks.h) ----

// Block b of 16 consecutive weight rows r = 0..15, side by side: their scales
// (and Q4_1's mins) as arrays, and their quant bytes in groups of 4:
//   qs[64 c + 4 r + j] = row r's qs[4 c + j]   (j = 0..3; c = 0..3 for Q4,
// 0..7 for Q8_0), so 64 bytes hold 4 bytes of every row: for Q4 elements
// 4c..4c+3 in the low nibbles and 16+4c..16+4c+3 in the high ones, for Q8_0
// elements 4c..4c+3.
struct BlockQ8_0x16 {
  Half d[16];
  int8_t qs[16 * kBlock32];
};
struct BlockQ4_0x16 {
  Half d[16];
  uint8_t qs[16 * kBlock32 / 2];
};
struct BlockQ4_1x16 {
  Half d[16];
  Half m[16];
  uint8_t qs[16 * kBlock32 / 2];
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_0x16) == 16 * sizeof(BlockQ8_0));
static_assert(sizeof(BlockQ4_0x16) == 16 * sizeof(BlockQ4_0));
static_assert(sizeof(BlockQ4_1x16) == 16 * sizeof(BlockQ4_1));

// ---- activations, quantized once per row for the integer dot products ----

// One block of 32 activations for Q8_0 / Q4_0 / Q4_1 weights:
// x[i] ~= d * qs[i], and sum = d * (qs[0] + ... + qs[31]) (the term a weight
// block's offset multiplies: Q4_1's m, Q4_0's -8). Our own layout (fp32
// scales), not ggml's q8_0/q8_1.
struct BlockQ8x32 {
  float d;
  float sum;
  int8_t qs[kBlock32];
};
static_assert(sizeof(BlockQ8x32) == 40);

// One block of 256 activations for K-quant weights: x[i] ~= d * qs[i], and
// bsums[j] = qs[16 j] + ... + qs[16 j + 15] (what the K-quants' mins and
// Q6_K's -32 offset multiply). ggml's block_q8_K layout.
struct BlockQ8K {
  float d;
  int8_t qs[kBlockK];
  int16_t bsums[kBlockK / 16];
};
static_assert(sizeof(BlockQ8K) == 292);

}  // namespace gqa::quant
