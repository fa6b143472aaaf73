// AVX-512 bf16 / f16 kernels (float_kernels.h).
//   "bf16/avx512", "f16/avx512": fp32 activations; 16 weights per step widened
//     in registers (bf16: zero-extend and shift left 16; f16: VCVTPH2PS), four
//     accumulators (64 elements per iteration), the tail under a load mask.
//   "bf16/avx512bf16": bf16 activations; VDPBF16PS multiplies 32 bf16 pairs
//     and adds them into 16 fp32 lanes, so a step reads half the activation
//     bytes and needs no widening; the tail under a load mask (zeros add 0).
#if defined(__x86_64__)

// GCC 12's intrinsics read "undefined" vectors on purpose (_mm512_undefined_*)
// and warn about it inside its own header once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "engine/common/dtype.h"
#include "engine/quant/float_kernels.h"
#include "engine/quant/prefetch.h"

namespace gqa::quant::internal {
namespace {

#define GQA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c")))
#define GQA_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// 16 uint16 weights (only those in `mask`, the rest 0) -> 16 fp32.
GQA_AVX512 inline __m512 LoadBf16x16(const uint16_t* w, __mmask16 mask) {
  const __m256i raw = _mm256_maskz_loadu_epi16(mask, w);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

GQA_AVX512 inline __m512 LoadF16x16(const uint16_t* w, __mmask16 mask) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, w));
}

template <__m512 (*Load16)(const uint16_t*, __mmask16)>
GQA_AVX512 float Dot(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const uint16_t*>(w_row);
  const auto* x = static_cast<const float*>(xq);
  constexpr __mmask16 kAll = 0xffff;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= k; i += 64) {
    PrefetchAhead(w + i, 2);  // a decode step streams the whole matrix (prefetch.h)
    acc0 = _mm512_fmadd_ps(Load16(w + i, kAll), _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(Load16(w + i + 16, kAll), _mm512_loadu_ps(x + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(Load16(w + i + 32, kAll), _mm512_loadu_ps(x + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(Load16(w + i + 48, kAll), _mm512_loadu_ps(x + i + 48), acc3);
  }
  for (; i + 16 <= k; i += 16) {
    acc0 = _mm512_fmadd_ps(Load16(w + i, kAll), _mm512_loadu_ps(x + i), acc0);
  }
  if (i < k) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (k - i)) - 1);
    acc1 = _mm512_fmadd_ps(Load16(w + i, tail), _mm512_maskz_loadu_ps(tail, x + i), acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

size_t Bf16ActivationRowBytes(int64_t k) { return static_cast<size_t>(k) * sizeof(uint16_t); }

void RoundActivationToBf16(const float* x, void* xq, int64_t k) {
  auto* out = static_cast<uint16_t*>(xq);
  for (int64_t i = 0; i < k; ++i) out[i] = F32ToBf16(x[i]);
}

GQA_AVX512BF16 inline __m512bh LoadPairs(const uint16_t* p, __mmask32 mask) {
  return reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(mask, p));
}

GQA_AVX512BF16 float Bf16DotBf16(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const uint16_t*>(w_row);
  const auto* x = static_cast<const uint16_t*>(xq);
  constexpr __mmask32 kAll = 0xffffffffu;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 128 <= k; i += 128) {
    PrefetchAhead(w + i, 4);
    acc0 = _mm512_dpbf16_ps(acc0, LoadPairs(w + i, kAll), LoadPairs(x + i, kAll));
    acc1 = _mm512_dpbf16_ps(acc1, LoadPairs(w + i + 32, kAll), LoadPairs(x + i + 32, kAll));
    acc2 = _mm512_dpbf16_ps(acc2, LoadPairs(w + i + 64, kAll), LoadPairs(x + i + 64, kAll));
    acc3 = _mm512_dpbf16_ps(acc3, LoadPairs(w + i + 96, kAll), LoadPairs(x + i + 96, kAll));
  }
  for (; i + 32 <= k; i += 32) {
    acc0 = _mm512_dpbf16_ps(acc0, LoadPairs(w + i, kAll), LoadPairs(x + i, kAll));
  }
  if (i < k) {
    const __mmask32 tail = static_cast<__mmask32>((uint64_t{1} << (k - i)) - 1);
    acc1 = _mm512_dpbf16_ps(acc1, LoadPairs(w + i, tail), LoadPairs(x + i, tail));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

#undef GQA_AVX512
#undef GQA_AVX512BF16

}  // namespace

const VecDotKernel kBf16Avx512 = {"bf16/avx512", DType::kBF16, F32ActivationRowBytes,
                                  CopyF32Activation, Dot<LoadBf16x16>};
const VecDotKernel kF16Avx512 = {"f16/avx512", DType::kF16, F32ActivationRowBytes,
                                 CopyF32Activation, Dot<LoadF16x16>};
const VecDotKernel kBf16Avx512Bf16 = {"bf16/avx512bf16", DType::kBF16, Bf16ActivationRowBytes,
                                      RoundActivationToBf16, Bf16DotBf16};

}  // namespace gqa::quant::internal

#endif  // __x86_64__
