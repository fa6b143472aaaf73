#include "engine/backend/cpu/cpu_backend.h"

#include <cblas.h>
#ifdef _OPENMP  // GQA_USE_OPENMP=OFF (the tsan preset): the parallel pragmas are ignored
#include <omp.h>
#endif

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/cpu/cpu_attention.h"
#include "engine/backend/cpu/cpu_gemm.h"
#include "engine/backend/cpu/cpu_gemm_quant.h"
#include "engine/backend/cpu/cpu_rope.h"
#include "engine/backend/cpu/cpu_util.h"
#include "engine/backend/cpu/cpu_vec16.h"
#include "engine/quant/dequantize.h"
#include "engine/sampling/logprobs.h"
#include "engine/sampling/token_distribution.h"

namespace gqa {
namespace {

using cpu::kMinParallelElems;
using cpu::RowF32;
using cpu::RowStride;

constexpr size_t kAlignment = 64;

// 1 / rms(x) for one row of `dim` floats, as HF LlamaRMSNorm: fp32 mean of squares.
float InverseRms(const float* x, int64_t dim, float eps) {
  float sum_sq = 0.0f;
#pragma omp simd reduction(+ : sum_sq)
  for (int64_t i = 0; i < dim; ++i) sum_sq += x[i] * x[i];
  return 1.0f / std::sqrt(sum_sq / static_cast<float>(dim) + eps);
}

void ScaleRow(const float* x, const float* weight, float inv_rms, int64_t dim, float* out) {
#pragma omp simd
  for (int64_t i = 0; i < dim; ++i) out[i] = x[i] * inv_rms * weight[i];
}

// out = silu(gate) * up over one row of n floats, 16 lanes at a time; the
// last partial vector goes through a zero-padded copy, so every element is
// computed the same way whatever its column.
void SiluMulRow(const float* gate, const float* up, int64_t n, float* out) {
  using cpu::kLanes;
  using cpu::Vec16;
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    const Vec16 y = cpu::Silu(cpu::LoadUnaligned(gate + j)) * cpu::LoadUnaligned(up + j);
    std::memcpy(out + j, &y, sizeof(y));
  }
  if (j == n) return;
  const size_t tail = static_cast<size_t>(n - j) * sizeof(float);
  Vec16 g{}, u{};
  std::memcpy(&g, gate + j, tail);
  std::memcpy(&u, up + j, tail);
  const Vec16 y = cpu::Silu(g) * u;
  std::memcpy(out + j, &y, tail);
}

// Online cores: OpenMP's count where it is on, the standard library's otherwise.
#ifdef _OPENMP
int NumProcs() { return omp_get_num_procs(); }
#else
int NumProcs() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }
#endif

}  // namespace

CpuBackend::CpuBackend(int num_threads, CpuWeights weights, DType kv_cache_dtype)
    : num_threads_(num_threads > 0 ? num_threads : NumProcs()),
      weights_(weights),
      kv_cache_dtype_(kv_cache_dtype) {
  assert(kv_cache_dtype == DType::kF32 || kv_cache_dtype == DType::kBF16);
  // Process-wide settings. Every parallel region of this backend also names its
  // team size, so it holds on threads other than the constructing one.
  // OpenBLAS runs single-threaded inside OpenMP threads (cpu::GemmBlas splits
  // the work itself), so only one thread pool ever spins on the cores.
#ifdef _OPENMP
  omp_set_num_threads(num_threads_);
#endif
  openblas_set_num_threads(1);
}

absl::StatusOr<DeviceBuffer> CpuBackend::Allocate(size_t bytes) {
  // aligned_alloc wants a multiple of the alignment; never ask for 0 bytes.
  const size_t rounded = std::max<size_t>(kAlignment, (bytes + kAlignment - 1) & ~(kAlignment - 1));
  void* data = std::aligned_alloc(kAlignment, rounded);
  if (data == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cpu backend: cannot allocate ", bytes, " bytes of host memory"));
  }
  return DeviceBuffer(data, bytes, [](void* p) { std::free(p); });
}

void CpuBackend::CopyToDevice(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

void CpuBackend::CopyToHost(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

DType CpuBackend::MatrixWeightDType(DType stored) const {
  const bool has_kernel = cpu::GemmKernelFor(stored) != nullptr;
  switch (weights_) {
    case CpuWeights::kF32:
      return DType::kF32;
    case CpuWeights::kBF16:
      if ((stored == DType::kBF16 || stored == DType::kF16) && has_kernel) return stored;
      return cpu::GemmKernelFor(DType::kBF16) != nullptr ? DType::kBF16 : DType::kF32;
    case CpuWeights::kAuto:
      break;
  }
  return stored == DType::kF32 || has_kernel ? stored : DType::kF32;
}

DType CpuBackend::MatrixLayoutDType(DType kept, int64_t rows) const {
  // Packed only where a SIMD kernel computes from it (quant::BestPackedGemmKernel);
  // EmbeddingLookup reads any packed table (quant::UnpackRow).
  const DType packed = quant::PackedDType(kept);
  const bool fits = rows % quant::kPackRows == 0;
  return packed != kept && fits && cpu::PackedGemmKernelFor(packed) != nullptr ? packed : kept;
}

void CpuBackend::EmbeddingLookup(const Tensor& table, const int32_t* ids, Tensor out) {
  assert(out.dtype == DType::kF32 && out.cols() == table.cols());
  const int64_t n = out.rows(), dim = table.cols(), vocab = table.rows();
#pragma omp parallel for num_threads(num_threads_) if (n * dim >= kMinParallelElems)
  for (int64_t i = 0; i < n; ++i) {
    float* dst = RowF32(out, i);
    // Token ids are validated before they reach the model; a bad one gives a
    // zero row here rather than a read out of bounds.
    if (ids[i] < 0 || ids[i] >= vocab) {
      std::memset(dst, 0, dim * sizeof(float));
      continue;
    }
    const DType row_major = quant::RowMajorDType(table.dtype);
    if (row_major != table.dtype) {  // packed (packed_blocks.h): the row's blocks gathered first
      thread_local std::vector<char> row;
      row.resize(DTypeBytes(row_major, dim));
      quant::UnpackRow(table.dtype, table.data, ids[i], dim, row.data());
      quant::DequantizeRow(row_major, row.data(), dst, dim);
      continue;
    }
    // Any other dtype: f32/f16/bf16, or a row of quantized blocks.
    const char* row =
        static_cast<const char*>(table.data) + DTypeBytes(table.dtype, ids[i] * RowStride(table));
    quant::DequantizeRow(table.dtype, row, dst, dim);
  }
}

void CpuBackend::RmsNorm(const Tensor& x, const Tensor& weight, float eps, Tensor out) {
  const int64_t n = x.rows(), dim = x.cols();
  const float* w = weight.as<float>();
#pragma omp parallel for num_threads(num_threads_) if (n * dim >= kMinParallelElems)
  for (int64_t i = 0; i < n; ++i) {
    const float* xr = RowF32(x, i);
    ScaleRow(xr, w, InverseRms(xr, dim, eps), dim, RowF32(out, i));
  }
}

void CpuBackend::AddRmsNorm(Tensor residual, const Tensor& x, const Tensor& weight, float eps,
                            Tensor out) {
  const int64_t n = x.rows(), dim = x.cols();
  const float* w = weight.as<float>();
#pragma omp parallel for num_threads(num_threads_) if (n * dim >= kMinParallelElems)
  for (int64_t i = 0; i < n; ++i) {
    float* res = RowF32(residual, i);
    const float* xr = RowF32(x, i);
#pragma omp simd
    for (int64_t j = 0; j < dim; ++j) res[j] += xr[j];
    ScaleRow(res, w, InverseRms(res, dim, eps), dim, RowF32(out, i));
  }
}

void CpuBackend::Gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y) {
  cpu::Gemm(x, w, bias, y, num_threads_);
}

void CpuBackend::RopeAndCacheWrite(Tensor qkv, const RopeTables& rope, const AttentionShape& shape,
                                   const AttentionMetadata& meta, KvCacheLayer kv) {
  cpu::RopeAndCacheWrite(qkv, rope, shape, meta, kv, num_threads_);
}

void CpuBackend::PagedAttention(const Tensor& q, const KvCacheLayer& kv,
                                const AttentionMetadata& meta, const AttentionShape& shape,
                                float scale, Tensor out) {
  cpu::PagedAttention(q, kv, meta, shape, scale, out, num_threads_);
}

void CpuBackend::SiluMul(const Tensor& gate_up, Tensor out) {
  const int64_t n = out.rows(), hidden = out.cols();
  assert(gate_up.cols() == 2 * hidden);
#pragma omp parallel for num_threads(num_threads_) if (n * hidden >= kMinParallelElems)
  for (int64_t i = 0; i < n; ++i) {
    const float* gate = RowF32(gate_up, i);
    SiluMulRow(gate, gate + hidden, hidden, RowF32(out, i));
  }
}

void CpuBackend::GatherRows(const Tensor& x, const int32_t* rows, Tensor out) {
  assert(x.dtype == out.dtype && x.cols() == out.cols());
  const int64_t m = out.rows();
  const size_t elem = DTypeSize(x.dtype);
  const size_t row_bytes = out.cols() * elem;
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(out.data);
  for (int64_t i = 0; i < m; ++i) {
    std::memcpy(dst + i * RowStride(out) * elem, src + rows[i] * RowStride(x) * elem, row_bytes);
  }
}

void CpuBackend::ArgMaxRows(const Tensor& logits, int32_t* tokens, float* logprobs) {
  assert(logits.dtype == DType::kF32);
  const int64_t m = logits.rows(), vocab = logits.cols();
#pragma omp parallel for num_threads(num_threads_) if (m * vocab >= kMinParallelElems)
  for (int64_t i = 0; i < m; ++i) {
    // The host sampler's own greedy rule and logprob (engine/sampling), so the
    // two paths agree exactly on the CPU.
    const std::span<const float> row(RowF32(logits, i), vocab);
    tokens[i] = ArgMax(row);
    logprobs[i] = LogSoftmaxAt(row, tokens[i]);
  }
}

std::unique_ptr<Backend> MakeCpuBackend(int num_threads, CpuWeights weights, DType kv_cache_dtype) {
  return std::make_unique<CpuBackend>(num_threads, weights, kv_cache_dtype);
}

}  // namespace gqa
