// AVX2 K-quant kernels (kquant_kernels.h): "q4_K/avx2", "q5_K/avx2",
// "q6_K/avx2". Per 32 weights: the unsigned 4/5/6-bit values are unpacked
// into 32 bytes in registers, VPMADDUBSW multiplies them with the 32 int8
// activations and adds neighbours (16 int16; at most 2 * 63 * 127, no
// saturation), VPMADDWD multiplies those by the sub-block's scale and adds
// neighbours again (8 int32). A block's int32 sum is exact; it is converted to
// fp32 once and scaled by d * a.d into an fp32 vector accumulator, which is
// summed across lanes at the end of the row. The mins (Q4_K / Q5_K) and the
// -32 offset (Q6_K) go through the activation's bsums with one VPMADDWD.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "engine/quant/block_formats.h"
#include "engine/quant/kquant_kernels.h"

namespace gqa::quant::internal {
namespace {

#define GQA_AVX2 __attribute__((target("avx2,fma,f16c")))

GQA_AVX2 inline float HalfToFloat(Half h) { return _cvtsh_ss(h); }

GQA_AVX2 inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// sum_j mins[j] * (bsums[2j] + bsums[2j+1]) as 8 int32 lanes to be summed;
// mins[j] is byte j of `mins`.
GQA_AVX2 inline __m256i MinsTimesBsums(uint64_t mins, const int16_t* bsums) {
  const __m128i m8 = _mm_cvtsi64_si128(static_cast<int64_t>(mins));
  const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));  // m0 m0 m1 m1 ...
  const __m256i b16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums));
  return _mm256_madd_epi16(m16, b16);
}

// Q4_K and Q5_K: 4 pairs of sub-blocks (2i, 2i+1), each from 32 bytes of qs
// (low nibbles, high nibbles) plus, for Q5_K, bits 2i and 2i+1 of qh.
template <bool kQ5>
GQA_AVX2 float DotK4(const void* w_row, const void* xq, int64_t k) {
  const auto* a = static_cast<const BlockQ8K*>(xq);
  const auto* base = static_cast<const uint8_t*>(w_row);
  const size_t block_bytes = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  __m256 acc_m = _mm256_setzero_ps();
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    const uint8_t* blk = base + b * block_bytes;
    Half d_bits, dmin_bits;
    std::memcpy(&d_bits, blk, 2);
    std::memcpy(&dmin_bits, blk + 2, 2);
    uint64_t sm[2];
    UnpackScalesMinsK4Words(blk + 4, sm);
    // The 8 scales as int16 words in both 128-bit lanes; word j is broadcast
    // to a whole register by a byte shuffle.
    const __m256i scales16 = _mm256_broadcastsi128_si256(
        _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sm[0]))));
    const uint8_t* qs = blk + (kQ5 ? 48 : 16);
    const int8_t* x = a[b].qs;
    __m256i qh;
    if constexpr (kQ5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16));
    __m256i sumi = _mm256_setzero_si256();
    for (int i = 0; i < 4; ++i) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * i));
      __m256i q_lo = _mm256_and_si256(q, low4);
      __m256i q_hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      if constexpr (kQ5) {
        // Bit 2i (2i+1) of each qh byte -> 16 added to the low (high) nibble.
        const __m256i bit_lo = _mm256_set1_epi8(static_cast<char>(1 << (2 * i)));
        const __m256i bit_hi = _mm256_set1_epi8(static_cast<char>(2 << (2 * i)));
        const __m256i sixteen = _mm256_set1_epi8(16);
        q_lo = _mm256_or_si256(
            q_lo,
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit_lo), bit_lo), sixteen));
        q_hi = _mm256_or_si256(
            q_hi,
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit_hi), bit_hi), sixteen));
      }
      const __m256i x_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 64 * i));
      const __m256i x_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 64 * i + 32));
      const __m256i sc_lo = _mm256_shuffle_epi8(scales16, _mm256_set1_epi16(0x0100 + 0x0404 * i));
      const __m256i sc_hi = _mm256_shuffle_epi8(scales16, _mm256_set1_epi16(0x0302 + 0x0404 * i));
      const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(q_lo, x_lo), sc_lo);
      const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(q_hi, x_hi), sc_hi);
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p_lo, p_hi));
    }
    const float ad = a[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(ad * HalfToFloat(d_bits)), _mm256_cvtepi32_ps(sumi), acc);
    acc_m = _mm256_fmadd_ps(_mm256_set1_ps(ad * HalfToFloat(dmin_bits)),
                            _mm256_cvtepi32_ps(MinsTimesBsums(sm[1], a[b].bsums)), acc_m);
  }
  return HorizontalSum(_mm256_sub_ps(acc, acc_m));
}

GQA_AVX2 float DotQ4K(const void* w, const void* xq, int64_t k) { return DotK4<false>(w, xq, k); }
GQA_AVX2 float DotQ5K(const void* w, const void* xq, int64_t k) { return DotK4<true>(w, xq, k); }

// Q6_K: per half h of 128 elements, 4 groups c of 32: low nibbles of
// ql[64h + 32(c % 2) ..] (c < 2) or their high nibbles (c >= 2), and bits
// 2c, 2c+1 of qh[32h ..] as bits 4, 5. Each group's two 16-element halves have
// their own int8 scale (VPMADDWD by scales widened to int16).
GQA_AVX2 float DotQ6K(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ6_K*>(w_row);
  const auto* a = static_cast<const BlockQ8K*>(xq);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i bits45 = _mm256_set1_epi8(0x30);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    const BlockQ6_K& blk = w[b];
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);  // 16 scales as int16
    // -32 * sum_g sc_g * bsums[g], exact in int32.
    const __m256i offset = _mm256_slli_epi32(
        _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].bsums))),
        5);
    __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), offset);
    const int8_t* x = a[b].qs;
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h));
      const __m256i ql1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, low4),
                          _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45)),
          _mm256_or_si256(_mm256_and_si256(ql1, low4),
                          _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                          _mm256_and_si256(qh, bits45)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                          _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45)),
      };
      // Scales 8h .. 8h+7 as words in both lanes; group c takes word 2c in
      // the low lane (elements 0-15) and 2c+1 in the high lane (16-31).
      const __m256i sc_h = _mm256_broadcastsi128_si256(h == 0 ? _mm256_castsi256_si128(sc16)
                                                              : _mm256_extracti128_si256(sc16, 1));
      for (int c = 0; c < 4; ++c) {
        const int g = 4 * h + c;
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * g));
        const __m256i scale = _mm256_shuffle_epi8(
            sc_h, _mm256_setr_m128i(_mm_set1_epi16(static_cast<int16_t>(0x0100 + 0x0404 * c)),
                                    _mm_set1_epi16(static_cast<int16_t>(0x0302 + 0x0404 * c))));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q[c], xv), scale));
      }
    }
    acc =
        _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * HalfToFloat(blk.d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HorizontalSum(acc);
}

}  // namespace

// As QuantizeRowQ8K, 8 elements per step: VCVTPS2DQ rounds half to even (the
// default MXCSR mode nearbyint also follows); each 16 elements are packed to
// bytes together and summed into one bsums entry.
GQA_AVX2 void QuantizeRowQ8KAvx2(const float* x, void* xq, int64_t k) {
  auto* out = static_cast<BlockQ8K*>(xq);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256i hi = _mm256_set1_epi32(127), lo = _mm256_set1_epi32(-127);
  for (int64_t b = 0; b < k / kBlockK; ++b, x += kBlockK) {
    BlockQ8K& blk = out[b];
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < kBlockK; i += 8)
      m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    if (amax < kQ8KMinAmax) {
      std::memset(&blk, 0, sizeof(blk));
      continue;
    }
    const __m256 id = _mm256_set1_ps(127.0f / amax);
    blk.d = amax / 127.0f;
    for (int j = 0; j < kBlockK / 16; ++j) {
      __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16 * j), id));
      __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16 * j + 8), id));
      q0 = _mm256_max_epi32(_mm256_min_epi32(q0, hi), lo);
      q1 = _mm256_max_epi32(_mm256_min_epi32(q1, hi), lo);
      // packs works per 128-bit lane: words come out as q0[0..3] q1[0..3]
      // q0[4..7] q1[4..7]; VPERMQ 0xD8 puts them in order.
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(blk.qs + 16 * j),
                       _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)));
      const __m256i s8 = _mm256_add_epi32(q0, q1);
      __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
      s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1));
      blk.bsums[j] = static_cast<int16_t>(_mm_cvtsi128_si32(s4));
    }
  }
}

const VecDotKernel kQ4KAvx2 = {"q4_K/avx2", DType::kQ4_K, Q8KActivationRowBytes, QuantizeRowQ8KAvx2,
                               DotQ4K};
const VecDotKernel kQ5KAvx2 = {"q5_K/avx2", DType::kQ5_K, Q8KActivationRowBytes, QuantizeRowQ8KAvx2,
                               DotQ5K};
const VecDotKernel kQ6KAvx2 = {"q6_K/avx2", DType::kQ6_K, Q8KActivationRowBytes, QuantizeRowQ8KAvx2,
                               DotQ6K};

}  // namespace gqa::quant::internal

#endif  // defined(__x86_64__)
