// The AVX-VNNI Q8_0 / Q4_0 / Q4_1 kernels: the 256-bit loops of
// block32_x86.inc with the VEX form of VPDPBUSD (AVX-VNNI: Alder Lake and
// later client cores, which have it without AVX-512). The same instruction
// as the avx512vnni kernels, which CPUs with AVX-512 VNNI get instead.
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
#pragma clang attribute push(__attribute__((target("avxvnni,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avxvnni,avx2,fma,f16c")
#endif

namespace gqa::quant::internal {
namespace {

struct Isa {
  static __m256i DotU8S8(__m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
  }
  static __m256i DotU8S8x2(__m256i u0, __m256i s0, __m256i u1, __m256i s1) {
    return _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u0, s0), u1, s1);
  }
};

#include "engine/quant/block32_x86.inc"

}  // namespace

const VecDotKernel kQ8_0AvxVnni = {"q8_0/avxvnni", DType::kQ8_0,   Q8x32RowBytes,   QuantizeRow,
                                   VecDotQ8_0,     VecDotQ8_0Rows, VecDotQ8_0WRows, DequantizeQ8_0};
const VecDotKernel kQ4_0AvxVnni = {"q4_0/avxvnni",
                                   DType::kQ4_0,
                                   Q8x32RowBytes,
                                   QuantizeRow,
                                   VecDotQ4<BlockQ4_0>,
                                   VecDotQ4Rows<BlockQ4_0>,
                                   VecDotQ4WRows<BlockQ4_0>,
                                   DequantizeQ4<BlockQ4_0>};
const VecDotKernel kQ4_1AvxVnni = {"q4_1/avxvnni",
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
