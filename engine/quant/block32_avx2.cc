// The AVX2 Q8_0 / Q4_0 / Q4_1 kernels: the 256-bit loops of block32_x86.inc
// with VPMADDUBSW + VPMADDWD as the byte dot product. VPMADDUBSW's int16 pair
// sums never saturate: |pair| <= 2 * 128 * 127 = 32512 (Q8_0's |w| <= 128,
// |x| <= 127), and two Q4 pairs add up to at most 4 * 15 * 127 = 7620.
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
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

namespace gqa::quant::internal {
namespace {

struct Isa {
  static __m256i DotU8S8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
  }
  static __m256i DotU8S8x2(__m256i u0, __m256i s0, __m256i u1, __m256i s1) {
    const __m256i pairs =
        _mm256_add_epi16(_mm256_maddubs_epi16(u0, s0), _mm256_maddubs_epi16(u1, s1));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
  }
};

#include "engine/quant/block32_x86.inc"

}  // namespace

const VecDotKernel kQ8_0Avx2 = {"q8_0/avx2", DType::kQ8_0,   Q8x32RowBytes,   QuantizeRow,
                                VecDotQ8_0,  VecDotQ8_0Rows, VecDotQ8_0WRows, DequantizeQ8_0};
const VecDotKernel kQ4_0Avx2 = {"q4_0/avx2",
                                DType::kQ4_0,
                                Q8x32RowBytes,
                                QuantizeRow,
                                VecDotQ4<BlockQ4_0>,
                                VecDotQ4Rows<BlockQ4_0>,
                                VecDotQ4WRows<BlockQ4_0>,
                                DequantizeQ4<BlockQ4_0>};
const VecDotKernel kQ4_1Avx2 = {"q4_1/avx2",
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
