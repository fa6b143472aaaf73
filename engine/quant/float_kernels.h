// The bf16 and f16 weight kernels (internal to engine/quant: the backend reaches
// them through vec_dot.h's registry). One file per instruction set:
//   float_scalar.cc  the readable reference (any CPU)
//   float_avx2.cc    AVX2 + FMA + F16C: 8 weights per step widened in registers
//   float_avx512.cc  AVX-512F/BW/VL: 16 per step; AVX512_BF16's VDPBF16PS on
//                    bf16 activations (32 pairs per instruction)
//
// Activation formats (what each kernel's quantize_activation writes):
//   fp32 kernels ("*/scalar", "*/avx2", "*/avx512"): a plain copy of x, k floats.
//   "bf16/avx512bf16": x rounded to bf16 (round to nearest even, F32ToBf16), k
//     uint16; the products are then exact and summed in fp32 by VDPBF16PS.
//
// k is any length >= 0 (bf16 and f16 rows have no blocks): every kernel
// handles a tail shorter than its vector width.
//
// NaN / inf: all kernels follow IEEE arithmetic on the products and sums, so a
// NaN in w or x, inf * 0, or +inf and -inf products in one row give NaN, and
// an inf product with otherwise finite terms gives that inf. Only the order of
// the additions differs between kernels (results agree to rounding, not bits).
// The bf16-activation kernel also rounds x to bf16 first, so |x| >= 3.39e38
// becomes inf there (finite in the fp32 kernels), and VDPBF16PS treats bf16
// denormal inputs as zero and flushes denormal results (ignoring MXCSR).
#pragma once

#include <cstdint>

#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

// fp32-activation format, shared by the fp32 kernels.
size_t F32ActivationRowBytes(int64_t k);
void CopyF32Activation(const float* x, void* xq, int64_t k);

extern const VecDotKernel kBf16Scalar;
extern const VecDotKernel kF16Scalar;
#if defined(__x86_64__)
extern const VecDotKernel kBf16Avx2;
extern const VecDotKernel kF16Avx2;
extern const VecDotKernel kBf16Avx512;
extern const VecDotKernel kF16Avx512;
extern const VecDotKernel kBf16Avx512Bf16;
#endif

}  // namespace gqa::quant::internal
