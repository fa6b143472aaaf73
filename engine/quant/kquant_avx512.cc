// AVX-512 VNNI K-quant kernels (kquant_kernels.h): "q4_K/avx512vnni",
// "q5_K/avx512vnni", "q6_K/avx512vnni". Per 64 weights (two sub-blocks of
// Q4_K / Q5_K, four 16-element groups of Q6_K): the unsigned 4/5/6-bit values
// are unpacked into one 64-byte register, VPMADDUBSW multiplies them with 64
// int8 activations and adds neighbours (32 int16, at most 2 * 63 * 127: no
// saturation), and VPDPWSSD multiplies those by the scales (widened to int16,
// one per 16 or 32 words via VPERMW) and accumulates into 16 int32 lanes.
// A block's int32 sum is exact; it is converted to fp32 once and scaled by
// d * a.d into an fp32 accumulator summed across lanes at the end of the row.
// The mins (Q4_K / Q5_K) and the -32 offset (Q6_K) go through bsums with one
// 256-bit VPMADDWD.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstring>

#include "engine/quant/block_formats.h"
#include "engine/quant/kquant_kernels.h"

// GCC 12's AVX-512 intrinsics pass "undefined" registers as the merge source
// of unmasked operations, which -W(maybe-)uninitialized reports once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace gqa::quant::internal {
namespace {

#define GQA_AVX512VNNI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

GQA_AVX512VNNI inline float HalfToFloat(Half h) { return _cvtsh_ss(h); }

GQA_AVX512VNNI inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// VPERMW indices: word w of Spread<kBase, kWidth>::kIdx selects word
// kBase + w / kWidth. Static tables: building them on the stack per call
// would stall their load on store forwarding.
template <int kBase, int kWidth>
struct Spread {
  static constexpr auto kIdx = [] {
    struct {
      alignas(64) int16_t w[32];
    } t{};
    for (int w = 0; w < 32; ++w) t.w[w] = static_cast<int16_t>(kBase + w / kWidth);
    return t;
  }();
};

template <int kBase, int kWidth>
GQA_AVX512VNNI inline __m512i SpreadWords() {
  return _mm512_load_si512(Spread<kBase, kWidth>::kIdx.w);
}

// 32 bytes repeated in both halves of a 512-bit register.
GQA_AVX512VNNI inline __m512i Broadcast32(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Q4_K and Q5_K: sub-blocks 2i and 2i+1 come from the low and high nibbles of
// qs[32i .. 32i+31] (plus bits 2i and 2i+1 of qh for Q5_K), so one register
// holds the 32 bytes twice, shifted right by 0 in the low half and 4 in the
// high half; its activations are the contiguous a.qs[64i .. 64i+63].
template <bool kQ5>
GQA_AVX512VNNI float DotK4(const void* w_row, const void* xq, int64_t k) {
  const auto* a = static_cast<const BlockQ8K*>(xq);
  const auto* base = static_cast<const uint8_t*>(w_row);
  const size_t block_bytes = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i nibble_shift =
      _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);  // 0 | 4
  const __m512i sixteen = _mm512_set1_epi8(16);
  const __m512i spread[4] = {SpreadWords<0, 16>(), SpreadWords<2, 16>(), SpreadWords<4, 16>(),
                             SpreadWords<6, 16>()};
  __m512i qh_bit[4];
  for (int i = 0; i < 4; ++i) {
    qh_bit[i] = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * i))),
                                   _mm256_set1_epi8(static_cast<char>(2 << (2 * i))), 1);
  }
  __m512 acc = _mm512_setzero_ps();
  __m256 acc_m = _mm256_setzero_ps();
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    const uint8_t* blk = base + b * block_bytes;
    Half d_bits, dmin_bits;
    std::memcpy(&d_bits, blk, 2);
    std::memcpy(&dmin_bits, blk + 2, 2);
    uint64_t sm[2];
    UnpackScalesMinsK4Words(blk + 4, sm);
    const __m128i sm16 = _mm_set_epi64x(static_cast<int64_t>(sm[1]), static_cast<int64_t>(sm[0]));
    const __m512i scales16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(sm16));
    const uint8_t* qs = blk + (kQ5 ? 48 : 16);
    __m512i qh2;
    if constexpr (kQ5) qh2 = Broadcast32(blk + 16);
    __m512i sum0 = _mm512_setzero_si512(), sum1 = _mm512_setzero_si512();
    for (int i = 0; i < 4; ++i) {
      __m512i q = _mm512_and_si512(_mm512_srlv_epi16(Broadcast32(qs + 32 * i), nibble_shift), low4);
      if constexpr (kQ5) {
        q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(qh2, qh_bit[i]), q, sixteen);
      }
      const __m512i x = _mm512_loadu_si512(a[b].qs + 64 * i);
      const __m512i p = _mm512_maddubs_epi16(q, x);
      const __m512i s = _mm512_permutexvar_epi16(spread[i], scales16);
      if (i % 2 == 0) {
        sum0 = _mm512_dpwssd_epi32(sum0, p, s);
      } else {
        sum1 = _mm512_dpwssd_epi32(sum1, p, s);
      }
    }
    const float ad = a[b].d;
    acc = _mm512_fmadd_ps(_mm512_set1_ps(ad * HalfToFloat(d_bits)),
                          _mm512_cvtepi32_ps(_mm512_add_epi32(sum0, sum1)), acc);
    // sum_j m_j * (bsums[2j] + bsums[2j+1]).
    const __m128i m8 = _mm_srli_si128(sm16, 8);
    const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));  // m0 m0 m1 m1 ...
    const __m256i mins =
        _mm256_madd_epi16(m16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].bsums)));
    acc_m = _mm256_fmadd_ps(_mm256_set1_ps(ad * HalfToFloat(dmin_bits)), _mm256_cvtepi32_ps(mins),
                            acc_m);
  }
  return _mm512_reduce_add_ps(acc) - HorizontalSum(acc_m);
}

GQA_AVX512VNNI float DotQ4K(const void* w, const void* xq, int64_t k) {
  return DotK4<false>(w, xq, k);
}
GQA_AVX512VNNI float DotQ5K(const void* w, const void* xq, int64_t k) {
  return DotK4<true>(w, xq, k);
}

// Q6_K: half h of 128 elements is ql[64h .. 64h+63] and qh[32h .. 32h+31].
// Register A holds groups c = 0, 1 (low nibbles of ql's two 32-byte halves,
// qh bits 0-1 and 2-3 moved to bits 4-5), register B groups c = 2, 3 (high
// nibbles, qh bits 4-5 and 6-7); their activations are a.qs[128h ..] and
// a.qs[128h + 64 ..]. Each 16 elements (8 words) have their own scale.
GQA_AVX512VNNI float DotQ6K(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const BlockQ6_K*>(w_row);
  const auto* a = static_cast<const BlockQ8K*>(xq);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i bits45 = _mm512_set1_epi8(0x30);
  const __m512i shl_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i shr_b = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m512i spread[4] = {SpreadWords<0, 8>(), SpreadWords<4, 8>(), SpreadWords<8, 8>(),
                             SpreadWords<12, 8>()};
  __m512 acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < k / kBlockK; ++b) {
    const BlockQ6_K& blk = w[b];
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
    const __m512i scales16 = _mm512_castsi256_si512(sc16);
    // -32 * sum_g sc_g * bsums[g], exact in int32.
    const __m256i offset = _mm256_slli_epi32(
        _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].bsums))),
        5);
    __m512i sum0 = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_zextsi256_si512(offset));
    __m512i sum1 = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(blk.ql + 64 * h);
      const __m512i qh2 = Broadcast32(blk.qh + 32 * h);
      const __m512i qa = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                         _mm512_and_si512(_mm512_sllv_epi16(qh2, shl_a), bits45));
      const __m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                         _mm512_and_si512(_mm512_srlv_epi16(qh2, shr_b), bits45));
      const __m512i xa = _mm512_loadu_si512(a[b].qs + 128 * h);
      const __m512i xb = _mm512_loadu_si512(a[b].qs + 128 * h + 64);
      sum0 = _mm512_dpwssd_epi32(sum0, _mm512_maddubs_epi16(qa, xa),
                                 _mm512_permutexvar_epi16(spread[2 * h], scales16));
      sum1 = _mm512_dpwssd_epi32(sum1, _mm512_maddubs_epi16(qb, xb),
                                 _mm512_permutexvar_epi16(spread[2 * h + 1], scales16));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(a[b].d * HalfToFloat(blk.d)),
                          _mm512_cvtepi32_ps(_mm512_add_epi32(sum0, sum1)), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

}  // namespace

// As QuantizeRowQ8K, 16 elements per step: VCVTPS2DQ rounds half to even (the
// default MXCSR mode nearbyint also follows), and each 16 elements are one
// bsums entry.
GQA_AVX512VNNI void QuantizeRowQ8KAvx512(const float* x, void* xq, int64_t k) {
  auto* out = static_cast<BlockQ8K*>(xq);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  const __m512i hi = _mm512_set1_epi32(127), lo = _mm512_set1_epi32(-127);
  for (int64_t b = 0; b < k / kBlockK; ++b, x += kBlockK) {
    BlockQ8K& blk = out[b];
    __m512 m = _mm512_setzero_ps();
    for (int i = 0; i < kBlockK; i += 16)
      m = _mm512_max_ps(m, _mm512_and_ps(_mm512_loadu_ps(x + i), abs_mask));
    const float amax = _mm512_reduce_max_ps(m);
    if (amax < kQ8KMinAmax) {
      std::memset(&blk, 0, sizeof(blk));
      continue;
    }
    const __m512 id = _mm512_set1_ps(127.0f / amax);
    blk.d = amax / 127.0f;
    for (int j = 0; j < kBlockK / 16; ++j) {
      __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * j), id));
      q = _mm512_max_epi32(_mm512_min_epi32(q, hi), lo);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(blk.qs + 16 * j), _mm512_cvtepi32_epi8(q));
      blk.bsums[j] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
  }
}

const VecDotKernel kQ4KAvx512Vnni = {"q4_K/avx512vnni", DType::kQ4_K, Q8KActivationRowBytes,
                                     QuantizeRowQ8KAvx512, DotQ4K};
const VecDotKernel kQ5KAvx512Vnni = {"q5_K/avx512vnni", DType::kQ5_K, Q8KActivationRowBytes,
                                     QuantizeRowQ8KAvx512, DotQ5K};
const VecDotKernel kQ6KAvx512Vnni = {"q6_K/avx512vnni", DType::kQ6_K, Q8KActivationRowBytes,
                                     QuantizeRowQ8KAvx512, DotQ6K};

}  // namespace gqa::quant::internal

#endif  // defined(__x86_64__)
