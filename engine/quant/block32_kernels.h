// The Q8_0, Q4_0 and Q4_1 weight kernels (internal to engine/quant: the
// backend reaches them through vec_dot.h's registry). One file per
// instruction set:
//   block32_scalar.cc   the readable reference (any CPU)
//   block32_avx2.cc     AVX2 + FMA + F16C: VPMADDUBSW + VPMADDWD
//   block32_avxvnni.cc  AVX-VNNI: VPDPBUSD (VEX)
//   block32_avx512.cc   AVX-512 VNNI + VL: VPDPBUSD (EVEX) on 256-bit registers
// The three SIMD files share their loops (block32_x86.inc: layout, scales)
// and differ in the byte dot-product instruction only.
//
// All of them share one activation format, a row of k / 32 BlockQ8x32
// (block_formats.h), written by QuantizeQ8x32 (the SIMD kernels use the same
// function or one that writes the same bytes, tested):
//   d   = max_i |x_i| / 127 (fp32),
//   qs  = x_i / d rounded to nearest, ties to even (so |qs| <= 127: never -128,
//         which the sign tricks of the SIMD kernels rely on),
//   sum = d * (qs_0 + ... + qs_31) (fp32, the integer sum converted exactly),
// and a block with d < FLT_MIN (max |x| < 127 * 2^-126 ~ 1.5e-36, all zeros
// included) is stored as d = 0, qs = 0, sum = 0: a subnormal d has too few
// significant bits for x / d to stay within +-127.5. x must be finite: with an
// inf or NaN in a block, that block's bytes are unspecified (and may differ
// between the scalar and SIMD quantizers), the dot products then meaningless.
//
// Per block of 32 the integer part is exact in every kernel (int32 sums of
// products); the scales are applied in fp32:
//   Q8_0: dw * dx * sum(w_i * q_i)
//   Q4_0: dw * (dx * sum(n_i * q_i) - 8 * sum)    n_i the nibble, 0..15
//   Q4_1: dw * dx * sum(n_i * q_i) + m * sum
// and the blocks' terms are added in fp32, in an order each kernel chooses:
// results agree between kernels to rounding, not bits.
#pragma once

#include <cstdint>

#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

// Bytes of one activation row of k elements (k a multiple of 32).
size_t Q8x32RowBytes(int64_t k);
// x [k] fp32 -> k / 32 BlockQ8x32 at xq (the scalar reference quantizer).
void QuantizeQ8x32(const float* x, void* xq, int64_t k);

extern const VecDotKernel kQ8_0Scalar;
extern const VecDotKernel kQ4_0Scalar;
extern const VecDotKernel kQ4_1Scalar;
#if defined(__x86_64__)
extern const VecDotKernel kQ8_0Avx2;
extern const VecDotKernel kQ4_0Avx2;
extern const VecDotKernel kQ4_1Avx2;
extern const VecDotKernel kQ8_0AvxVnni;
extern const VecDotKernel kQ4_0AvxVnni;
extern const VecDotKernel kQ4_1AvxVnni;
extern const VecDotKernel kQ8_0Avx512Vnni;
extern const VecDotKernel kQ4_0Avx512Vnni;
extern const VecDotKernel kQ4_1Avx512Vnni;
#endif

}  // namespace gqa::quant::internal
