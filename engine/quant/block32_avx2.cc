// The AVX2 Q8_0 / Q4_0 / Q4_1 kernels: one block of 32 per 256-bit register,
// two blocks per loop step (two accumulators). Per block, VPMADDUBSW
// multiplies 32 unsigned weight bytes by 32 signed activations into 16 int16
// pair sums (no saturation: |pair| <= 2 * 128 * 127 = 32512) and VPMADDWD
// widens them to 8 int32 lanes; the lanes are converted to fp32 and multiplied
// by the block's dw * dx into a vector accumulator, reduced once per row.
// Q8_0's signed weights go through the sign trick: |w| (unsigned) times
// x * sign(w), exact because the activations are never -128.
// The activation format is the scalar one (QuantizeQ8x32): quantizing is once
// per row, the dots are once per weight row.
#if defined(__x86_64__)

#include <immintrin.h>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"

#define GQA_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace gqa::quant::internal {
namespace {

GQA_AVX2 inline float H2F(Half h) { return _cvtsh_ss(h); }

// The 32 nibbles of a Q4 block's 16 bytes, in element order: the low nibbles
// (elements 0..15) in the low 128 bits, the high ones (16..31) above.
GQA_AVX2 inline __m256i Nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), mask), _mm_and_si128(q, mask));
}

GQA_AVX2 inline __m256i Load32(const int8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// u (unsigned bytes) . s (signed bytes): 8 int32 lanes, each the sum of 4
// consecutive products.
GQA_AVX2 inline __m256i DotU8S8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

GQA_AVX2 inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// acc += lanes(isum) * scale.
GQA_AVX2 inline __m256 Accumulate(__m256 acc, __m256i isum, float scale) {
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(scale), acc);
}

GQA_AVX2 inline __m256i DotQ8_0(const BlockQ8_0& w, const BlockQ8x32& x) {
  const __m256i wq = Load32(w.qs);
  return DotU8S8(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(Load32(x.qs), wq));
}

GQA_AVX2 inline __m256i DotNibbles(const uint8_t* qs, const BlockQ8x32& x) {
  return DotU8S8(Nibbles(qs), Load32(x.qs));
}

GQA_AVX2 float VecDotQ8_0(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ8_0*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  const int64_t nb = k / kBlock32;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    acc0 = Accumulate(acc0, DotQ8_0(w[b], x[b]), H2F(w[b].d) * x[b].d);
    acc1 = Accumulate(acc1, DotQ8_0(w[b + 1], x[b + 1]), H2F(w[b + 1].d) * x[b + 1].d);
  }
  if (b < nb) acc0 = Accumulate(acc0, DotQ8_0(w[b], x[b]), H2F(w[b].d) * x[b].d);
  return HorizontalSum(_mm256_add_ps(acc0, acc1));
}

// Q4_0: dw * dx * sum(n q) in the vectors, the -8 offset as 8 * sum_b dw * sum
// in two scalar chains.
GQA_AVX2 float VecDotQ4_0(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ4_0*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  const int64_t nb = k / kBlock32;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float off0 = 0, off1 = 0;
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const float d0 = H2F(w[b].d), d1 = H2F(w[b + 1].d);
    acc0 = Accumulate(acc0, DotNibbles(w[b].qs, x[b]), d0 * x[b].d);
    acc1 = Accumulate(acc1, DotNibbles(w[b + 1].qs, x[b + 1]), d1 * x[b + 1].d);
    off0 += d0 * x[b].sum;
    off1 += d1 * x[b + 1].sum;
  }
  if (b < nb) {
    const float d0 = H2F(w[b].d);
    acc0 = Accumulate(acc0, DotNibbles(w[b].qs, x[b]), d0 * x[b].d);
    off0 += d0 * x[b].sum;
  }
  return HorizontalSum(_mm256_add_ps(acc0, acc1)) - 8.0f * (off0 + off1);
}

// Q4_1: dw * dx * sum(n q) in the vectors, sum_b m * sum in two scalar chains.
GQA_AVX2 float VecDotQ4_1(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ4_1*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  const int64_t nb = k / kBlock32;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float off0 = 0, off1 = 0;
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    acc0 = Accumulate(acc0, DotNibbles(w[b].qs, x[b]), H2F(w[b].d) * x[b].d);
    acc1 = Accumulate(acc1, DotNibbles(w[b + 1].qs, x[b + 1]), H2F(w[b + 1].d) * x[b + 1].d);
    off0 += H2F(w[b].m) * x[b].sum;
    off1 += H2F(w[b + 1].m) * x[b + 1].sum;
  }
  if (b < nb) {
    acc0 = Accumulate(acc0, DotNibbles(w[b].qs, x[b]), H2F(w[b].d) * x[b].d);
    off0 += H2F(w[b].m) * x[b].sum;
  }
  return HorizontalSum(_mm256_add_ps(acc0, acc1)) + (off0 + off1);
}

}  // namespace

const VecDotKernel kQ8_0Avx2 = {"q8_0/avx2", DType::kQ8_0, Q8x32RowBytes, QuantizeQ8x32,
                                VecDotQ8_0};
const VecDotKernel kQ4_0Avx2 = {"q4_0/avx2", DType::kQ4_0, Q8x32RowBytes, QuantizeQ8x32,
                                VecDotQ4_0};
const VecDotKernel kQ4_1Avx2 = {"q4_1/avx2", DType::kQ4_1, Q8x32RowBytes, QuantizeQ8x32,
                                VecDotQ4_1};

}  // namespace gqa::quant::internal

#endif  // __x86_64__
