// The AVX-512 VNNI packed GEMM (packed_blocks.h): one zmm register holds 4
// quant bytes of each of 16 weight rows, VPDPBUSD multiplies them by 4
// activation bytes broadcast to every lane, and each int32 lane ends a block
// holding one row's block sum. Up to 8 activation rows share a block's
// unpacked weight vectors (8 accumulators + 8 weight vectors + scales fit the
// 32 zmm registers). The float operations per output are
// packed_blocks_scalar.cc's, in its order: the same bits (tested).
#if defined(__x86_64__)

// GCC 12's intrinsics read "undefined" vectors on purpose (_mm512_undefined_*)
// and warn about it inside its own header once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>
#include <type_traits>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/packed_blocks_kernels.h"
#include "engine/quant/prefetch.h"
#include "engine/quant/vec_dot.h"

#if defined(__clang__)
#pragma clang attribute push(                                                          \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")
#endif

namespace gqa::quant::internal {
namespace {

// 4 activation bytes at p in every int32 lane.
inline __m512i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Weight rows 0..15 of a group against activation rows 0..M-1 (x[i]), all
// nb blocks; y[i] gets the 16 sums of activation row i.
template <typename Packed, int M>
void Gemm16Rows(const Packed* w, int64_t nb, const BlockQ8x32* const* x, float* const* y) {
  constexpr bool kQ4_1 = std::is_same_v<Packed, BlockQ4_1x16>;
  const __m512i mask = _mm512_set1_epi8(0x0F);
  __m512 acc[M];
  for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead(w + b, sizeof(Packed) / 64);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
    __m512 mw;
    if constexpr (kQ4_1) {
      mw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].m)));
    }
    // lo[c]: elements 4c..4c+3 of every row, hi[c]: 16+4c..16+4c+3.
    __m512i lo[4], hi[4];
    for (int c = 0; c < 4; ++c) {
      const __m512i q = _mm512_loadu_si512(w[b].qs + 64 * c);
      lo[c] = _mm512_and_si512(q, mask);
      hi[c] = _mm512_and_si512(_mm512_srli_epi16(q, 4), mask);
    }
    for (int i = 0; i < M; ++i) {
      const BlockQ8x32& xb = x[i][b];
      // Two chains of 4 dependent VPDPBUSDs per row; M rows interleave them.
      __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[0], Broadcast4(xb.qs));
      __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi[0], Broadcast4(xb.qs + 16));
      for (int c = 1; c < 4; ++c) {
        s0 = _mm512_dpbusd_epi32(s0, lo[c], Broadcast4(xb.qs + 4 * c));
        s1 = _mm512_dpbusd_epi32(s1, hi[c], Broadcast4(xb.qs + 16 + 4 * c));
      }
      const __m512 isum = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
      acc[i] = _mm512_fmadd_ps(isum, _mm512_mul_ps(dw, _mm512_set1_ps(xb.d)), acc[i]);
      if constexpr (kQ4_1) {
        acc[i] = _mm512_fmadd_ps(mw, _mm512_set1_ps(xb.sum), acc[i]);
      } else {
        acc[i] = _mm512_fmadd_ps(dw, _mm512_set1_ps(-8.0f * xb.sum), acc[i]);
      }
    }
  }
  for (int i = 0; i < M; ++i) _mm512_storeu_ps(y[i], acc[i]);
}

// Q8_0: the weights are the signed operand of VPDPBUSD and the activations,
// stored plus 128, the unsigned one, so each sum is off by 128 * sum(w) per
// row and block: one more VPDPBUSD per weight vector (against bytes of 1),
// shared by the M activation rows, gives sum(w).
template <int M>
void Gemm16RowsQ8(const BlockQ8_0x16* w, int64_t nb, const BlockQ8x32* const* x, float* const* y) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512 acc[M];
  for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead(w + b, sizeof(BlockQ8_0x16) / 64);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
    // q[c]: elements 4c..4c+3 of every row.
    __m512i q[8];
    __m512i wsum = _mm512_setzero_si512();
    for (int c = 0; c < 8; ++c) {
      q[c] = _mm512_loadu_si512(w[b].qs + 64 * c);
      wsum = _mm512_dpbusd_epi32(wsum, ones, q[c]);
    }
    const __m512i offset = _mm512_slli_epi32(wsum, 7);  // 128 * sum(w), exact
    for (int i = 0; i < M; ++i) {
      const BlockQ8x32& xb = x[i][b];
      __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), Broadcast4(xb.qs), q[0]);
      __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), Broadcast4(xb.qs + 4), q[1]);
      for (int c = 2; c < 8; c += 2) {
        s0 = _mm512_dpbusd_epi32(s0, Broadcast4(xb.qs + 4 * c), q[c]);
        s1 = _mm512_dpbusd_epi32(s1, Broadcast4(xb.qs + 4 * c + 4), q[c + 1]);
      }
      const __m512i exact = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), offset);
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), _mm512_mul_ps(dw, _mm512_set1_ps(xb.d)),
                               acc[i]);
    }
  }
  for (int i = 0; i < M; ++i) _mm512_storeu_ps(y[i], acc[i]);
}

template <typename Packed, int M>
void Gemm16Pass(const Packed* w, int64_t nb, const char* xq, size_t xq_stride, float* y,
                int64_t y_stride) {
  const BlockQ8x32* x[M];
  float* yr[M];
  for (int i = 0; i < M; ++i) {
    x[i] = reinterpret_cast<const BlockQ8x32*>(xq + i * xq_stride);
    yr[i] = y + i * y_stride;
  }
  if constexpr (std::is_same_v<Packed, BlockQ8_0x16>) {
    Gemm16RowsQ8<M>(w, nb, x, yr);
  } else {
    Gemm16Rows<Packed, M>(w, nb, x, yr);
  }
}

// Activation rows in passes of 8, then 4, 2, 1: each row's result is the same
// whichever pass it falls in.
template <typename Packed>
void Gemm16(const void* w_group, int64_t k, const void* xq, size_t xq_stride, int64_t m, float* y,
            int64_t y_stride) {
  const auto* w = static_cast<const Packed*>(w_group);
  const auto* x = static_cast<const char*>(xq);
  const int64_t nb = k / kBlock32;
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) {
    Gemm16Pass<Packed, 8>(w, nb, x + i * xq_stride, xq_stride, y + i * y_stride, y_stride);
  }
  if (i + 4 <= m) {
    Gemm16Pass<Packed, 4>(w, nb, x + i * xq_stride, xq_stride, y + i * y_stride, y_stride);
    i += 4;
  }
  if (i + 2 <= m) {
    Gemm16Pass<Packed, 2>(w, nb, x + i * xq_stride, xq_stride, y + i * y_stride, y_stride);
    i += 2;
  }
  if (i < m) Gemm16Pass<Packed, 1>(w, nb, x + i * xq_stride, xq_stride, y + i * y_stride, y_stride);
}

// The row-major AVX-512 kernels' activation quantizer (the same bytes as
// QuantizeQ8x32, tested there), looked up at call time, not at static
// initialization.
void QuantizeActivation(const float* x, void* xq, int64_t k) {
  kQ4_1Avx512Vnni.quantize_activation(x, xq, k);
}

void QuantizeActivationUnsigned(const float* x, void* xq, int64_t k) {
  QuantizeQ8x32Unsigned(kQ4_1Avx512Vnni.quantize_activation, x, xq, k);
}

}  // namespace

const PackedGemmKernel kQ8_0x16Avx512Vnni = {"q8_0x16/avx512vnni", DType::kQ8_0x16, Q8x32RowBytes,
                                             QuantizeActivationUnsigned, Gemm16<BlockQ8_0x16>};
const PackedGemmKernel kQ4_0x16Avx512Vnni = {"q4_0x16/avx512vnni", DType::kQ4_0x16, Q8x32RowBytes,
                                             QuantizeActivation, Gemm16<BlockQ4_0x16>};
const PackedGemmKernel kQ4_1x16Avx512Vnni = {"q4_1x16/avx512vnni", DType::kQ4_1x16, Q8x32RowBytes,
                                             QuantizeActivation, Gemm16<BlockQ4_1x16>};

}  // namespace gqa::quant::internal

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // __x86_64__
