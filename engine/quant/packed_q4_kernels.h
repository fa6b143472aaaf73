// The packed Q4 GEMM kernels (internal to engine/quant: the backend reaches
// them through packed_q4.h's registry). One file per instruction set:
//   packed_q4_scalar.cc   the readable reference (any CPU)
//   packed_q4_avx512.cc   AVX-512 VNNI: VPDPBUSD on 512-bit registers
#pragma once

#include "engine/quant/packed_q4.h"

namespace gqa::quant::internal {

extern const PackedGemmKernel kQ4_0x16Scalar;
extern const PackedGemmKernel kQ4_1x16Scalar;
#if defined(__x86_64__)
extern const PackedGemmKernel kQ4_0x16Avx512Vnni;
extern const PackedGemmKernel kQ4_1x16Avx512Vnni;
#endif

}  // namespace gqa::quant::internal
