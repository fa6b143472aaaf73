#include "engine/backend/cpu/cpu_gemm_quant.h"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <vector>

#include "engine/backend/cpu/cpu_util.h"
#include "engine/quant/dequantize.h"

namespace gqa::cpu {
namespace {

// Weight rows a thread dots with every x row before moving on (GemmQuantDot):
// 8 rows of a Q4_1 [*, 1536] matrix are 7.7 KB, which stay in L1 next to the
// quantized x rows while each of them passes.
constexpr int64_t kDotTileRows = 8;

// Bytes of fp32 weights a thread dequantizes at a time (GemmQuantTiled): big
// enough that sgemm's per-call packing of x is amortized over many weight
// rows, small enough to stay in L2 (1 MiB: 455 rows at k = 576).
constexpr int64_t kTileBytes = int64_t{1} << 20;

// x rows GemmQuantPacked runs against a group of 16 weight rows at a time:
// their quantized blocks (32 rows x 40 bytes per 32 elements: 23 KB at
// k = 576, 61 KB at k = 1536) stay in L1/L2 while a thread walks its groups.
constexpr int64_t kPackedRowChunk = 32;

// Grows `buf` to hold `bytes`; the storage is reused by later calls.
template <typename T>
T* Scratch(std::vector<T>& buf, size_t count) {
  if (buf.size() < count) buf.resize(count);
  return buf.data();
}

void CheckShapes(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) {
  assert(x.dtype == DType::kF32 && y.dtype == DType::kF32 && w.dtype != DType::kF32);
  assert(x.ndim == 2 && w.ndim == 2 && y.ndim == 2);
  assert(x.cols() == w.cols() && y.rows() == x.rows() && y.cols() == w.rows());
  assert(w.cols() % DTypeBlockElems(w.dtype) == 0);
  assert(bias.empty() || (bias.dtype == DType::kF32 && bias.numel() == w.rows()));
  (void)x, (void)w, (void)bias, (void)y;
}

const char* WeightRow(const Tensor& w, int64_t r) {
  return static_cast<const char*>(w.data) + DTypeBytes(w.dtype, r * w.row_stride);
}

// The m rows of x in a kernel's activation format (row_bytes each), once per
// call, into the calling thread's reused buffer (the workers only read it).
template <typename Kernel>
const char* QuantizeRows(const Tensor& x, const Kernel& kernel, size_t row_bytes, int num_threads) {
  thread_local std::vector<char> xq_buf;
  const int64_t m = x.rows(), k = x.cols();
  char* xq = Scratch(xq_buf, row_bytes * m);
#pragma omp parallel for num_threads(num_threads) schedule(static) if (m * k >= kMinParallelElems)
  for (int64_t i = 0; i < m; ++i) kernel.quantize_activation(RowF32(x, i), xq + i * row_bytes, k);
  return xq;
}

}  // namespace

int QuantDotMaxRows(DType weight) {
  // Measured single-threaded on SmolLM2's qkv (960 x 576) and ffn_down
  // (576 x 1536) with the AVX-512 VNNI kernels (bench/results/cpu_gemm_quant.md):
  // the dot path costs the same per x row at every m (each row decodes the
  // weight blocks again, in registers), the tiled path a fixed dequantization
  // of the whole matrix plus a cheap sgemm. They cross at m ~ 16-24 for Q8_0
  // (cheap to dequantize) and m ~ 40-60 for Q4_1. Other types: unmeasured,
  // the Q4 bound.
  return weight == DType::kQ8_0 ? 16 : 32;
}

const quant::VecDotKernel* GemmKernelFor(DType weight) {
  // The registry builds a vector per call; the GEMM asks every layer, so the
  // choice is made once per dtype (GQA_CPU_KERNELS is read then).
  static const std::array<const quant::VecDotKernel*, 16> kernels = [] {
    std::array<const quant::VecDotKernel*, 16> k{};
    for (size_t i = 0; i <= static_cast<size_t>(DType::kQ6_K); ++i) {
      k[i] = quant::BestVecDotKernel(static_cast<DType>(i));
    }
    return k;
  }();
  return kernels[static_cast<size_t>(weight)];
}

const quant::PackedGemmKernel* PackedGemmKernelFor(DType packed) {
  static const quant::PackedGemmKernel* const q8_0 = quant::BestPackedGemmKernel(DType::kQ8_0x16);
  static const quant::PackedGemmKernel* const q4_0 = quant::BestPackedGemmKernel(DType::kQ4_0x16);
  static const quant::PackedGemmKernel* const q4_1 = quant::BestPackedGemmKernel(DType::kQ4_1x16);
  switch (packed) {
    case DType::kQ8_0x16:
      return q8_0;
    case DType::kQ4_0x16:
      return q4_0;
    case DType::kQ4_1x16:
      return q4_1;
    default:
      return nullptr;
  }
}

void GemmQuantPacked(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
                     const quant::PackedGemmKernel& kernel, int num_threads) {
  CheckShapes(x, w, bias, y);
  assert(kernel.weight == w.dtype && w.rows() % quant::kPackRows == 0);
  assert(w.row_stride == w.cols());  // packed groups are contiguous
  const int64_t m = x.rows(), k = x.cols(), n = w.rows();
  if (m == 0 || n == 0) return;
  const size_t xq_bytes = kernel.activation_row_bytes(k);
  const char* xq = QuantizeRows(x, kernel, xq_bytes, num_threads);
  const char* w0 = static_cast<const char*>(w.data);
  const size_t group_bytes = DTypeBytes(w.dtype, quant::kPackRows * k);
  const int64_t num_groups = n / quant::kPackRows;
  const int64_t num_chunks = (m + kPackedRowChunk - 1) / kPackedRowChunk;
  const float* b = bias.empty() ? nullptr : bias.as<float>();
  const int64_t y_stride = RowStride(y);
  // Work items chunk-major: a thread's consecutive items share a chunk of x
  // rows (in cache) and walk the weight groups. Static: every item of a chunk
  // costs the same.
#pragma omp parallel for num_threads(num_threads) \
    schedule(static) if (m * n * k >= kMinParallelElems)
  for (int64_t item = 0; item < num_chunks * num_groups; ++item) {
    const int64_t i0 = item / num_groups * kPackedRowChunk, g = item % num_groups;
    const int64_t rows = std::min(m - i0, kPackedRowChunk), j0 = g * quant::kPackRows;
    float* yg = y.as<float>() + i0 * y_stride + j0;
    kernel.gemm16(w0 + g * group_bytes, k, xq + i0 * xq_bytes, xq_bytes, rows, yg, y_stride);
    if (b != nullptr) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int r = 0; r < quant::kPackRows; ++r) yg[i * y_stride + r] += b[j0 + r];
      }
    }
  }
}

void GemmQuantDot(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
                  const quant::VecDotKernel& kernel, int num_threads) {
  CheckShapes(x, w, bias, y);
  assert(kernel.weight == w.dtype);
  const int64_t m = x.rows(), k = x.cols(), n = w.rows();
  if (m == 0 || n == 0) return;
  const size_t xq_bytes = kernel.activation_row_bytes(k);
  const char* xq = QuantizeRows(x, kernel, xq_bytes, num_threads);

  const float* b = bias.empty() ? nullptr : bias.as<float>();
  // Bytes between weight rows, once: WeightRow's DTypeBytes calls out of line
  // (dtype.cc) and cost ~1% of a decode step when asked per row (perf).
  const char* w0 = static_cast<const char*>(w.data);
  const size_t w_row_bytes = DTypeBytes(w.dtype, w.row_stride);
  const int64_t num_tiles = (n + kDotTileRows - 1) / kDotTileRows;
  // Static schedule: every tile costs the same.
#pragma omp parallel for num_threads(num_threads) schedule(static) if (n * k >= kMinParallelElems)
  for (int64_t tile = 0; tile < num_tiles; ++tile) {
    const int64_t j0 = tile * kDotTileRows, j1 = std::min(n, j0 + kDotTileRows);
    if (kernel.vec_dot_rows != nullptr && m > 1) {
      // Each weight row against all m x rows at once: its blocks are decoded
      // once per group of x rows, not once per x row (vec_dot.h); same sums.
      const int64_t y_stride = RowStride(y);
      for (int64_t j = j0; j < j1; ++j) {
        float* yj = y.as<float>() + j;
        kernel.vec_dot_rows(w0 + j * w_row_bytes, xq, xq_bytes, m, k, yj, y_stride);
        if (b != nullptr) {
          for (int64_t i = 0; i < m; ++i) yj[i * y_stride] += b[j];
        }
      }
      continue;
    }
    if (kernel.vec_dot_wrows != nullptr && m == 1) {
      // Decode: the tile's weight rows against the one x row, each x block
      // loaded once for several weight rows (vec_dot.h); same sums.
      float* y0 = y.as<float>();
      kernel.vec_dot_wrows(w0 + j0 * w_row_bytes, w_row_bytes, j1 - j0, xq, k, y0 + j0);
      if (b != nullptr) {
        for (int64_t j = j0; j < j1; ++j) y0[j] += b[j];
      }
      continue;
    }
    for (int64_t i = 0; i < m; ++i) {
      const char* xi = xq + i * xq_bytes;
      float* yi = RowF32(y, i);
      for (int64_t j = j0; j < j1; ++j) {
        yi[j] = kernel.vec_dot(w0 + j * w_row_bytes, xi, k) + (b != nullptr ? b[j] : 0.0f);
      }
    }
  }
}

void GemmQuantTiled(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
                    int num_threads) {
  CheckShapes(x, w, bias, y);
  const int64_t m = x.rows(), k = x.cols(), n = w.rows();
  if (m == 0 || n == 0) return;
  const int64_t tile_rows = std::max<int64_t>(16, kTileBytes / (k * 4) / 16 * 16);
  // The kernel's SIMD expansion where it has one (bit-identical to
  // DequantizeRow; measured 8% of a 128-token prefill as scalar code).
  const quant::VecDotKernel* kernel = GemmKernelFor(w.dtype);
  void (*dequantize_row)(const void*, float*, int64_t) =
      kernel != nullptr ? kernel->dequantize_row : nullptr;
  const int64_t num_tiles = (n + tile_rows - 1) / tile_rows;
  // Each thread takes whole tiles; dynamic, since the last tile may be short
  // and the threads share the cores with nothing else of ours meanwhile.
#pragma omp parallel for num_threads(num_threads) schedule(dynamic, 1)
  for (int64_t tile = 0; tile < num_tiles; ++tile) {
    const int64_t j0 = tile * tile_rows, rows = std::min(n, j0 + tile_rows) - j0;
    thread_local std::vector<float> tile_buf;
    float* wt = Scratch(tile_buf, static_cast<size_t>(tile_rows * k));
    for (int64_t r = 0; r < rows; ++r) {
      if (dequantize_row != nullptr) {
        dequantize_row(WeightRow(w, j0 + r), wt + r * k, k);
      } else {
        quant::DequantizeRow(w.dtype, WeightRow(w, j0 + r), wt + r * k, k);
      }
    }
    float* y0 = y.as<float>() + j0;
    float beta = 0.0f;
    if (!bias.empty()) {  // y = bias, then y = x * wt^T + 1 * y
      for (int64_t i = 0; i < m; ++i) {
        std::memcpy(y0 + i * RowStride(y), bias.as<float>() + j0, rows * sizeof(float));
      }
      beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m),
                static_cast<int>(rows), static_cast<int>(k), 1.0f, x.as<float>(),
                static_cast<int>(RowStride(x)), wt, static_cast<int>(k), beta, y0,
                static_cast<int>(RowStride(y)));
  }
}

void GemmQuant(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
               const quant::VecDotKernel& kernel, int num_threads) {
  if (x.rows() <= QuantDotMaxRows(w.dtype)) {
    GemmQuantDot(x, w, bias, y, kernel, num_threads);
  } else {
    GemmQuantTiled(x, w, bias, y, num_threads);
  }
}

}  // namespace gqa::cpu
