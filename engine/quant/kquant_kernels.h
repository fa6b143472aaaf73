// The Q4_K / Q5_K / Q6_K weight kernels (internal to engine/quant: the backend
// reaches them through vec_dot.h's registry). One file per instruction set:
//   kquant_scalar.cc     the readable reference (any CPU) and the activation
//                        quantizer every K-quant kernel's output must match
//   kquant_avx2.cc       AVX2 + FMA + F16C: VPMADDUBSW (u8 weights x s8
//                        activations -> s16 pairs), VPMADDWD by the sub-block
//                        scale -> s32
//   kquant_avx512.cc     AVX-512BW + VNNI: VPMADDUBSW on 64 bytes, VPDPWSSD
//                        multiplies by the sub-block scales and accumulates
//   kquant_kernels.cc    the registry entry (AVX2 last: fastest where measured)
//
// Activation format (every kernel): one BlockQ8K per 256 elements
// (block_formats.h, ggml's block_q8_K layout): amax = max |x[i]| over the
// block, d = amax / 127, qs[i] = round-half-even(x[i] * (127 / amax)) clamped
// to [-127, 127] (so -128 never occurs), bsums[j] = qs[16j] + ... + qs[16j+15];
// a block with amax < kQ8KMinAmax (all zero, or so small that 127 / amax
// would overflow) has d = 0, qs = 0 and bsums = 0. (ggml uses the signed
// extreme and -127 / max instead; the error bound is the same:
// |x[i] - d qs[i]| <= d / 2 up to rounding of the scale.) x must be finite.
//
// Dot product of one 256-element block (w the weight block, a the activation):
//   Q4_K, Q5_K: w[i] = d sc_j q[i] - dmin m_j over sub-blocks j of 32, so
//     sum_i w[i] x[i] ~= a.d * (d * sum_j sc_j * (sum_{i in j} q[i] qs[i])
//                        - dmin * sum_j m_j * (bsums[2j] + bsums[2j+1]))
//   Q6_K: w[i] = d sc_g (q[i] - 32) over groups g of 16, so
//     sum_i w[i] x[i] ~= a.d * d * (sum_g sc_g * sum_{i in g} q[i] qs[i]
//                                  - 32 * sum_g sc_g * bsums[g])
// The integer sums are exact in int32 (Q5_K: |sum| <= 8*63*32*31*127 < 2^26;
// Q6_K: |sum_g sc_g sum q qs| <= 16*128*16*63*127 < 2^28); each block adds
// its terms to an fp32 sum. SIMD kernels compute the same integers and round
// the same terms in another order, so they agree with the scalar kernel to a
// few ulps of the terms' magnitudes, not bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

// BlockQ8K activation format, shared by every K-quant kernel. The SIMD
// quantizers write exactly the scalar one's bytes (same amax, the same one
// fp32 multiply per element, round half to even).
inline constexpr float kQ8KMinAmax = 1e-30f;
size_t Q8KActivationRowBytes(int64_t k);
void QuantizeRowQ8K(const float* x, void* xq, int64_t k);
#if defined(__x86_64__)
void QuantizeRowQ8KAvx2(const float* x, void* xq, int64_t k);
void QuantizeRowQ8KAvx512(const float* x, void* xq, int64_t k);
#endif

// The 8 6-bit scales and 8 6-bit mins of a Q4_K / Q5_K block, packed in its
// 12 `scales` bytes, as out[0..7] = scales and out[8..15] = mins.
void UnpackScalesMinsK4(const uint8_t* packed, uint8_t out[16]);

// The same 16 bytes in two 64-bit words (scales = bytes 0..7 of
// scales_mins[0], mins = those of [1]), computed 4 bytes at a time in general
// registers: the SIMD kernels move them into a vector register directly
// (bytes stored one by one and reloaded as 16 would stall store forwarding).
// Little-endian: byte j of a word is sub-block j.
inline void UnpackScalesMinsK4Words(const uint8_t* packed, uint64_t scales_mins[2]) {
  uint32_t u[3];
  std::memcpy(u, packed, 12);
  const uint32_t sc_lo = u[0] & 0x3F3F3F3Fu;
  const uint32_t sc_hi = (u[2] & 0x0F0F0F0Fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  const uint32_t mn_lo = u[1] & 0x3F3F3F3Fu;
  const uint32_t mn_hi = ((u[2] >> 4) & 0x0F0F0F0Fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  scales_mins[0] = sc_lo | (static_cast<uint64_t>(sc_hi) << 32);
  scales_mins[1] = mn_lo | (static_cast<uint64_t>(mn_hi) << 32);
}

extern const VecDotKernel kQ4KScalar;
extern const VecDotKernel kQ5KScalar;
extern const VecDotKernel kQ6KScalar;
#if defined(__x86_64__)
extern const VecDotKernel kQ4KAvx2;
extern const VecDotKernel kQ5KAvx2;
extern const VecDotKernel kQ6KAvx2;
extern const VecDotKernel kQ4KAvx512Vnni;
extern const VecDotKernel kQ5KAvx512Vnni;
extern const VecDotKernel kQ6KAvx512Vnni;
#endif

}  // namespace gqa::quant::internal
