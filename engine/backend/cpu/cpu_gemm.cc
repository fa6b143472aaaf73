#include "engine/backend/cpu/cpu_gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cassert>
#include <climits>
#include <cstring>
#include <string_view>

#if defined(__AVX2__) && defined(__FMA__)
// GCC 12 warns that its own _mm512_reduce_add_ps reads an "undefined" vector
// (_mm256_undefined_pd, by design); the warning points into this header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

#include "engine/backend/cpu/cpu_gemm_quant.h"
#include "engine/backend/cpu/cpu_util.h"

namespace gqa::cpu {
namespace {

// ---- the matrix-vector kernel ----
//
// GemmMatVec walks w in tiles of kTileW rows; a tile (kTileW * k floats, 4.5
// KiB at k = 288) stays in L1 while every row of x is dotted with it, so w is
// read from memory exactly once. Rows of x go kTileX at a time: kTileW *
// kTileX independent accumulators hide the FMA latency, and each loaded w
// vector is used kTileX times.
constexpr int kTileW = 4;

#if defined(__AVX2__) && defined(__FMA__)
// The SIMD vector the tile kernel is written in.
#ifdef __AVX512F__
constexpr int kTileX = 4;  // 16 of the 32 zmm registers hold accumulators
struct Vec {
  static constexpr int kWidth = 16;
  __m512 v;
  static Vec Zero() { return {_mm512_setzero_ps()}; }
  static Vec Load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static Vec Fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  static float Sum(Vec a) { return _mm512_reduce_add_ps(a.v); }
};
#else
constexpr int kTileX = 2;  // 8 of the 16 ymm registers hold accumulators
struct Vec {
  static constexpr int kWidth = 8;
  __m256 v;
  static Vec Zero() { return {_mm256_setzero_ps()}; }
  static Vec Load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static Vec Fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  static float Sum(Vec a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
#endif

// out[r][t] = dot(x[r], w[t]) over k, for R rows of x and kTileW rows of w.
template <int R>
inline void DotTile(const float* const* x, const float* const* w, int64_t k, float out[][kTileW]) {
  Vec acc[R][kTileW];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < kTileW; ++t) acc[r][t] = Vec::Zero();
  int64_t p = 0;
  for (; p + Vec::kWidth <= k; p += Vec::kWidth) {
    Vec wv[kTileW];
    for (int t = 0; t < kTileW; ++t) wv[t] = Vec::Load(w[t] + p);
    for (int r = 0; r < R; ++r) {
      const Vec xv = Vec::Load(x[r] + p);
      for (int t = 0; t < kTileW; ++t) acc[r][t] = Vec::Fma(xv, wv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < kTileW; ++t) {
      float sum = Vec::Sum(acc[r][t]);
      for (int64_t q = p; q < k; ++q) sum += x[r][q] * w[t][q];  // the k % kWidth tail
      out[r][t] = sum;
    }
  }
}
#else
constexpr int kTileX = 2;
// Portable fallback: `omp simd` lets the compiler vectorize the reduction
// without -ffast-math.
template <int R>
inline void DotTile(const float* const* x, const float* const* w, int64_t k, float out[][kTileW]) {
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < kTileW; ++t) {
      const float* xr = x[r];
      const float* wt = w[t];
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t q = 0; q < k; ++q) sum += xr[q] * wt[q];
      out[r][t] = sum;
    }
  }
}
#endif

// y[i0 .. i0 + R), columns [j0, j0 + valid) = x[i0 .. i0 + R) . wr[t] + bias.
template <int R>
void StoreTile(const Tensor& x, const float* const* wr, const float* bias_tile, int valid,
               int64_t i0, int64_t j0, Tensor& y) {
  const float* xr[R];
  for (int r = 0; r < R; ++r) xr[r] = RowF32(x, i0 + r);
  float out[R][kTileW];
  DotTile<R>(xr, wr, x.cols(), out);
  for (int r = 0; r < R; ++r) {
    float* yr = RowF32(y, i0 + r) + j0;
    for (int t = 0; t < valid; ++t) yr[t] = out[r][t] + bias_tile[t];
  }
}

// All rows of y, columns [j0, j0 + kTileW) clipped to n.
void MatVecTile(const Tensor& x, const Tensor& w, const float* bias, Tensor& y, int64_t j0) {
  const int64_t m = x.rows(), n = w.rows();
  const int valid = static_cast<int>(std::min<int64_t>(kTileW, n - j0));
  const float* wr[kTileW];
  // A partial last tile repeats its last row; the extra results are dropped.
  for (int t = 0; t < kTileW; ++t) wr[t] = RowF32(w, j0 + std::min(t, valid - 1));
  float bias_tile[kTileW] = {};
  if (bias != nullptr) std::copy(bias + j0, bias + j0 + valid, bias_tile);

  int64_t i = 0;
  for (; i + kTileX <= m; i += kTileX) StoreTile<kTileX>(x, wr, bias_tile, valid, i, j0, y);
  for (; i + 2 <= m; i += 2) StoreTile<2>(x, wr, bias_tile, valid, i, j0, y);
  if (i < m) StoreTile<1>(x, wr, bias_tile, valid, i, j0, y);
}

// ---- dispatch ----

// Largest m for which GemmMatVec beats OpenBLAS sgemm, by the OpenBLAS kernel
// set in use (bench/results/cpu_gemm_dispatch.md). OpenBLAS 0.3.21 picks its
// kernels by CPUID and falls back to the SSE3 "Prescott" set on CPUs newer
// than it knows (e.g. Emerald Rapids) unless OPENBLAS_CORETYPE is set; with
// those, the matrix-vector kernel is faster at every measured m.
int ComputeMatVecMaxRows() {
  const std::string_view core = openblas_get_corename();
  for (std::string_view avx512 : {"SkylakeX", "Cooperlake", "SapphireRapids"})
    if (core == avx512) return 32;
  for (std::string_view avx2 : {"Haswell", "Zen"})
    if (core == avx2) return 64;
  return INT_MAX;
}

void CheckShapes(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) {
  assert(x.dtype == DType::kF32 && w.dtype == DType::kF32 && y.dtype == DType::kF32);
  assert(x.ndim == 2 && w.ndim == 2 && y.ndim == 2);
  assert(x.cols() == w.cols() && y.rows() == x.rows() && y.cols() == w.rows());
  assert(bias.empty() || (bias.dtype == DType::kF32 && bias.numel() == w.rows()));
  (void)x, (void)w, (void)bias, (void)y;
}

}  // namespace

int MatVecMaxRows() {
  static const int max_rows = ComputeMatVecMaxRows();
  return max_rows;
}

void GemmMatVec(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y, int num_threads) {
  CheckShapes(x, w, bias, y);
  const int64_t m = x.rows(), k = x.cols(), n = w.rows();
  if (m == 0 || n == 0) return;
  const float* b = bias.empty() ? nullptr : bias.as<float>();
  const int64_t num_tiles = (n + kTileW - 1) / kTileW;
  // Static schedule: every tile costs the same.
#pragma omp parallel for num_threads(num_threads) schedule(static) if (n * k >= kMinParallelElems)
  for (int64_t tile = 0; tile < num_tiles; ++tile) MatVecTile(x, w, b, y, tile * kTileW);
}

void GemmBlas(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y, int num_threads) {
  CheckShapes(x, w, bias, y);
  const int64_t m = x.rows(), k = x.cols(), n = w.rows();
  if (m == 0 || n == 0) return;
  // Each OpenMP thread runs a single-threaded sgemm on its own slice of the
  // rows of w (columns of y): every kernel of this backend then shares one
  // thread pool, instead of OpenBLAS's pthreads and OpenMP's workers spinning
  // against each other on the same cores between ops.
  const int slices = static_cast<int>(std::clamp<int64_t>(n / kTileW, 1, num_threads));
#pragma omp parallel for num_threads(slices) schedule(static)
  for (int slice = 0; slice < slices; ++slice) {
    const int64_t j0 = n * slice / slices, j1 = n * (slice + 1) / slices;
    float* y0 = y.as<float>() + j0;
    float beta = 0.0f;
    if (!bias.empty()) {  // y = bias, then y = x * w^T + 1 * y
      for (int64_t i = 0; i < m; ++i) {
        std::memcpy(y0 + i * RowStride(y), bias.as<float>() + j0, (j1 - j0) * sizeof(float));
      }
      beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m),
                static_cast<int>(j1 - j0), static_cast<int>(k), 1.0f, x.as<float>(),
                static_cast<int>(RowStride(x)), RowF32(w, j0), static_cast<int>(RowStride(w)), beta,
                y0, static_cast<int>(RowStride(y)));
  }
}

void Gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y, int num_threads) {
  if (const quant::PackedGemmKernel* packed = PackedGemmKernelFor(w.dtype); packed != nullptr) {
    GemmQuantPacked(x, w, bias, y, *packed, num_threads);  // 16 rows interleaved (packed_blocks.h)
    return;
  }
  if (w.dtype != DType::kF32) {  // a weight kept compact (cpu_gemm_quant.h)
    const quant::VecDotKernel* kernel = GemmKernelFor(w.dtype);
    if (kernel != nullptr) {
      GemmQuant(x, w, bias, y, *kernel, num_threads);
    } else {  // DeviceWeights keeps only dtypes with a kernel; this is the safe way anyway
      GemmQuantTiled(x, w, bias, y, num_threads);
    }
    return;
  }
  if (x.rows() <= MatVecMaxRows()) {
    GemmMatVec(x, w, bias, y, num_threads);
  } else {
    GemmBlas(x, w, bias, y, num_threads);
  }
}

}  // namespace gqa::cpu
