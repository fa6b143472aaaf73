// The AVX-512 VNNI Q8_0 / Q4_0 / Q4_1 kernels: the 256-bit loops of
// block32_x86.inc with VPDPBUSD (EVEX, on ymm registers: AVX512_VNNI +
// AVX512VL) as the byte dot product, one instruction for VPMADDUBSW +
// VPMADDWD and exact in int32. On 512-bit registers (four blocks per step)
// the same loops measured 10-20% slower on a Sapphire Rapids class Xeon
// (bench/results/cpu_vec_dot.md): the lane shuffles that put the blocks
// together cost more than the wider dot products save, and the rows of a
// decode step (18 blocks at k = 576) are short.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstring>
#include <limits>
#include <type_traits>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/prefetch.h"

// Every function below, the included loops too, is compiled for this ISA.
#if defined(__clang__)
#pragma clang attribute push(                                                               \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")
#endif

namespace gqa::quant::internal {
namespace {

struct Isa {
  static __m256i DotU8S8(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
  }
  static __m256i DotU8S8x2(__m256i u0, __m256i s0, __m256i u1, __m256i s1) {
    return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u0, s0), u1, s1);
  }
};

#include "engine/quant/block32_x86.inc"

}  // namespace

const VecDotKernel kQ8_0Avx512Vnni = {"q8_0/avx512vnni", DType::kQ8_0,  Q8x32RowBytes,
                                      QuantizeRow,       VecDotQ8_0,    VecDotQ8_0Rows,
                                      VecDotQ8_0WRows,   DequantizeQ8_0};
const VecDotKernel kQ4_0Avx512Vnni = {"q4_0/avx512vnni",
                                      DType::kQ4_0,
                                      Q8x32RowBytes,
                                      QuantizeRow,
                                      VecDotQ4<BlockQ4_0>,
                                      VecDotQ4Rows<BlockQ4_0>,
                                      VecDotQ4WRows<BlockQ4_0>,
                                      DequantizeQ4<BlockQ4_0>};
const VecDotKernel kQ4_1Avx512Vnni = {"q4_1/avx512vnni",
                                      DType::kQ4_1,
                                      Q8x32RowBytes,
                                      QuantizeRow,
                                      VecDotQ4<BlockQ4_1>,
                                      VecDotQ4Rows<BlockQ4_1>,
                                      VecDotQ4WRows<BlockQ4_1>,
                                      DequantizeQ4<BlockQ4_1>};

}  // namespace gqa::quant::internal

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // __x86_64__
