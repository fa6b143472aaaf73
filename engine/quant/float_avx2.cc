// AVX2 + FMA + F16C bf16 / f16 kernels on fp32 activations (float_kernels.h).
// Each step widens 8 weights in registers (bf16: zero-extend to 32 bits and
// shift left 16, the exact bf16 -> fp32 conversion; f16: VCVTPH2PS) and
// multiply-adds them into one of four accumulators (32 elements per
// iteration, enough independent FMAs to cover their latency); the tail of
// k % 8 elements is done one by one.
#if defined(__x86_64__)

#include <immintrin.h>

#include "engine/common/dtype.h"
#include "engine/quant/float_kernels.h"
#include "engine/quant/prefetch.h"

namespace gqa::quant::internal {
namespace {

#define GQA_AVX2 __attribute__((target("avx2,fma,f16c")))

GQA_AVX2 inline __m256 LoadBf16x8(const uint16_t* w) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

GQA_AVX2 inline __m256 LoadF16x8(const uint16_t* w) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
}

GQA_AVX2 inline float HorizontalSum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// Load8: uint16 weights -> 8 fp32; ToF32: one weight, for the tail.
template <__m256 (*Load8)(const uint16_t*), float (*ToF32)(uint16_t)>
GQA_AVX2 float Dot(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const uint16_t*>(w_row);
  const auto* x = static_cast<const float*>(xq);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    PrefetchAhead(w + i, 1);  // one 64-byte line per iteration (prefetch.h)
    acc0 = _mm256_fmadd_ps(Load8(w + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(Load8(w + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(Load8(w + i + 16), _mm256_loadu_ps(x + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(Load8(w + i + 24), _mm256_loadu_ps(x + i + 24), acc3);
  }
  for (; i + 8 <= k; i += 8) acc0 = _mm256_fmadd_ps(Load8(w + i), _mm256_loadu_ps(x + i), acc0);
  float sum = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < k; ++i) sum += ToF32(w[i]) * x[i];
  return sum;
}

#undef GQA_AVX2

}  // namespace

const VecDotKernel kBf16Avx2 = {"bf16/avx2", DType::kBF16, F32ActivationRowBytes, CopyF32Activation,
                                Dot<LoadBf16x8, Bf16ToF32>};
const VecDotKernel kF16Avx2 = {"f16/avx2", DType::kF16, F32ActivationRowBytes, CopyF32Activation,
                               Dot<LoadF16x8, F16ToF32>};

}  // namespace gqa::quant::internal

#endif  // __x86_64__
