// The AVX-512 VNNI Q8_0 / Q4_0 / Q4_1 kernels: two blocks of 32 per 512-bit
// register (block b in the low 256 bits, b + 1 in the high), four blocks per
// loop step (two accumulators). VPDPBUSD multiplies 64 unsigned weight bytes
// by 64 signed activations and adds each group of 4 products into an int32
// lane: lanes 0..7 hold block b's partial sums, 8..15 block b + 1's. They are
// converted to fp32 and multiplied by [dw*dx of b] x 8 ++ [dw*dx of b+1] x 8
// into a vector accumulator, reduced once per row.
// Q4 nibbles are unsigned already; Q8_0's signed weights use the sign trick,
// |w| (unsigned) times x negated where w < 0, exact because the activations
// are never -128. The activation format is the scalar one (QuantizeQ8x32).
#if defined(__x86_64__)

#include <immintrin.h>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"

// GCC 12's AVX-512 intrinsics pass "undefined" registers as the merge source
// of unmasked operations, which -W(maybe-)uninitialized reports once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define GQA_AVX512_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace gqa::quant::internal {
namespace {

GQA_AVX512_VNNI inline float H2F(Half h) { return _cvtsh_ss(h); }

GQA_AVX512_VNNI inline __m256i Load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Two 32-byte runs as one register: a low, b high.
GQA_AVX512_VNNI inline __m512i Join(__m256i a, __m256i b) {
  return _mm512_inserti64x4(_mm512_zextsi256_si512(a), b, 1);
}

// The activations of blocks b and b + 1 (both_blocks) or of b alone, zeros above.
GQA_AVX512_VNNI inline __m512i Activations(const BlockQ8x32* x, bool both_blocks) {
  return both_blocks ? Join(Load32(x[0].qs), Load32(x[1].qs))
                     : _mm512_zextsi256_si512(Load32(x[0].qs));
}

// The 2 x 32 nibbles of two Q4 blocks' 16 bytes each, in element order: per
// 128-bit lane, the low nibbles of qa, its high nibbles, then qb's.
GQA_AVX512_VNNI inline __m512i Nibbles(const uint8_t* qa, const uint8_t* qb) {
  const __m256i a =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qa)));
  const __m256i b =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb)));
  const __m512i shifted = _mm512_srlv_epi64(Join(a, b), _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
  return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0F));
}

// [s0] x 8 ++ [s1] x 8.
GQA_AVX512_VNNI inline __m512 Scales(float s0, float s1) {
  return _mm512_insertf32x8(_mm512_zextps256_ps512(_mm256_set1_ps(s0)), _mm256_set1_ps(s1), 1);
}

GQA_AVX512_VNNI inline __m512 Accumulate(__m512 acc, __m512i isum, __m512 scales) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scales, acc);
}

// Q8_0 blocks b and b + 1 (or b alone: then the high lanes are 0).
GQA_AVX512_VNNI inline __m512i DotQ8_0(const BlockQ8_0* w, const BlockQ8x32* x, bool both) {
  const __m512i wq =
      both ? Join(Load32(w[0].qs), Load32(w[1].qs)) : _mm512_zextsi256_si512(Load32(w[0].qs));
  const __m512i xs = Activations(x, both);
  const __m512i xs_signed =
      _mm512_mask_sub_epi8(xs, _mm512_movepi8_mask(wq), _mm512_setzero_si512(), xs);
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(wq), xs_signed);
}

template <typename Block>
GQA_AVX512_VNNI inline __m512i DotNibbles(const Block* w, const BlockQ8x32* x, bool both) {
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), Nibbles(w[0].qs, w[both ? 1 : 0].qs),
                             Activations(x, both));
}

GQA_AVX512_VNNI float VecDotQ8_0(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ8_0*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  const int64_t nb = k / kBlock32;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  auto scale = [&](int64_t b) { return H2F(w[b].d) * x[b].d; };
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    acc0 = Accumulate(acc0, DotQ8_0(w + b, x + b, true), Scales(scale(b), scale(b + 1)));
    acc1 =
        Accumulate(acc1, DotQ8_0(w + b + 2, x + b + 2, true), Scales(scale(b + 2), scale(b + 3)));
  }
  for (; b < nb; b += 2) {
    const bool both = b + 1 < nb;
    acc0 = Accumulate(acc0, DotQ8_0(w + b, x + b, both), Scales(scale(b), both ? scale(b + 1) : 0));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// Q4_0: dw * dx * sum(n q) in the vectors, the -8 offset as 8 * sum_b dw * sum
// in two scalar chains.
GQA_AVX512_VNNI float VecDotQ4_0(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ4_0*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  const int64_t nb = k / kBlock32;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  float off0 = 0, off1 = 0;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    const float d0 = H2F(w[b].d), d1 = H2F(w[b + 1].d), d2 = H2F(w[b + 2].d), d3 = H2F(w[b + 3].d);
    acc0 = Accumulate(acc0, DotNibbles(w + b, x + b, true), Scales(d0 * x[b].d, d1 * x[b + 1].d));
    acc1 = Accumulate(acc1, DotNibbles(w + b + 2, x + b + 2, true),
                      Scales(d2 * x[b + 2].d, d3 * x[b + 3].d));
    off0 += d0 * x[b].sum + d2 * x[b + 2].sum;
    off1 += d1 * x[b + 1].sum + d3 * x[b + 3].sum;
  }
  for (; b < nb; b += 2) {
    const bool both = b + 1 < nb;
    const float d0 = H2F(w[b].d), d1 = both ? H2F(w[b + 1].d) : 0.0f;
    acc0 = Accumulate(acc0, DotNibbles(w + b, x + b, both),
                      Scales(d0 * x[b].d, both ? d1 * x[b + 1].d : 0.0f));
    off0 += d0 * x[b].sum;
    if (both) off1 += d1 * x[b + 1].sum;
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) - 8.0f * (off0 + off1);
}

// Q4_1: dw * dx * sum(n q) in the vectors, sum_b m * sum in two scalar chains.
GQA_AVX512_VNNI float VecDotQ4_1(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ4_1*>(w_row);
  const auto* x = static_cast<const BlockQ8x32*>(xq);
  const int64_t nb = k / kBlock32;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  float off0 = 0, off1 = 0;
  auto scale = [&](int64_t b) { return H2F(w[b].d) * x[b].d; };
  auto offset = [&](int64_t b) { return H2F(w[b].m) * x[b].sum; };
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    acc0 = Accumulate(acc0, DotNibbles(w + b, x + b, true), Scales(scale(b), scale(b + 1)));
    acc1 = Accumulate(acc1, DotNibbles(w + b + 2, x + b + 2, true),
                      Scales(scale(b + 2), scale(b + 3)));
    off0 += offset(b) + offset(b + 2);
    off1 += offset(b + 1) + offset(b + 3);
  }
  for (; b < nb; b += 2) {
    const bool both = b + 1 < nb;
    acc0 = Accumulate(acc0, DotNibbles(w + b, x + b, both),
                      Scales(scale(b), both ? scale(b + 1) : 0.0f));
    off0 += offset(b);
    if (both) off1 += offset(b + 1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + (off0 + off1);
}

}  // namespace

const VecDotKernel kQ8_0Avx512Vnni = {"q8_0/avx512vnni", DType::kQ8_0, Q8x32RowBytes, QuantizeQ8x32,
                                      VecDotQ8_0};
const VecDotKernel kQ4_0Avx512Vnni = {"q4_0/avx512vnni", DType::kQ4_0, Q8x32RowBytes, QuantizeQ8x32,
                                      VecDotQ4_0};
const VecDotKernel kQ4_1Avx512Vnni = {"q4_1/avx512vnni", DType::kQ4_1, Q8x32RowBytes, QuantizeQ8x32,
                                      VecDotQ4_1};

}  // namespace gqa::quant::internal

#endif  // __x86_64__
