// The packed GEMM kernels (internal to engine/quant: the backend reaches
// them through packed_blocks.h's registry). One file per instruction set:
//   packed_blocks_scalar.cc   the readable reference (any CPU)
//   packed_blocks_avx512.cc   AVX-512 VNNI: VPDPBUSD on 512-bit registers
//
// All take activations in the layout of packed_blocks.h; the Q8_0 ones write
// it with QuantizeQ8x32Unsigned (below).
#pragma once

#include "engine/quant/packed_blocks.h"

namespace gqa::quant::internal {

// x [k] -> k / 32 BlockQ8x32 as QuantizeQ8x32 writes them, every quant byte
// then plus 128 (the Q8_0 kernels' unsigned activations). `quantize` is the
// QuantizeQ8x32 implementation to start from (the scalar one or a SIMD
// kernel's: the same bytes).
void QuantizeQ8x32Unsigned(void (*quantize)(const float*, void*, int64_t), const float* x, void* xq,
                           int64_t k);

extern const PackedGemmKernel kQ8_0x16Scalar;
extern const PackedGemmKernel kQ4_0x16Scalar;
extern const PackedGemmKernel kQ4_1x16Scalar;
#if defined(__x86_64__)
extern const PackedGemmKernel kQ8_0x16Avx512Vnni;
extern const PackedGemmKernel kQ4_0x16Avx512Vnni;
extern const PackedGemmKernel kQ4_1x16Avx512Vnni;
#endif

}  // namespace gqa::quant::internal
