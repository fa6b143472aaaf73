// CpuBackend: the readable fp32 reference implementation of Backend, and the
// backend that serves where there is no GPU. Activations are fp32 host
// memory, the KV cache fp32 or bf16 (kv_cache_dtype: K/V rows are rounded to
// bf16 when written and widened to fp32 as the attention kernels load them).
// Weight matrices are fp32 or, as MatrixWeightDType decides (CpuWeights),
// kept in a compact dtype a quant::VecDotKernel computes from: the ggml block
// formats of a GGUF file, bf16/f16. Gemm dispatches on the weight's dtype
// (cpu_gemm_quant.h); EmbeddingLookup reads any such table. Q8_0 / Q4_0 /
// Q4_1 matrices take the packed layout, 16 rows interleaved, where a SIMD
// kernel computes from it (MatrixLayoutDType, engine/quant/packed_blocks.h).
//
// The heavy ops live in their own files: cpu_gemm (OpenBLAS sgemm or a
// hand-written matrix-vector kernel, chosen by row count), cpu_attention
// (paged GQA attention), cpu_rope (RoPE + KV cache write). This file holds the
// class, memory, and the small row-wise ops.
//
// Threading: every op runs on the calling thread plus `num_threads` - 1
// OpenMP workers (OpenBLAS runs single-threaded inside them) and returns when
// done, so Synchronize() has nothing to wait for. Thread ownership as for
// Backend: one caller at a time.
#pragma once

#include <string_view>

#include "engine/backend/backend.h"

namespace gqa {

class CpuBackend final : public Backend {
 public:
  // num_threads <= 0: one per core (omp_get_num_procs()).
  // kv_cache_dtype: kF32 or kBF16.
  explicit CpuBackend(int num_threads, CpuWeights weights = CpuWeights::kAuto,
                      DType kv_cache_dtype = DType::kF32);

  int num_threads() const { return num_threads_; }

  std::string_view name() const override { return "cpu"; }
  DType activation_dtype() const override { return DType::kF32; }
  DType kv_cache_dtype() const override { return kv_cache_dtype_; }
  DType MatrixWeightDType(DType stored) const override;
  DType MatrixLayoutDType(DType kept, int64_t rows) const override;

  // 64-byte aligned (one cache line, one AVX-512 vector) host memory.
  absl::StatusOr<DeviceBuffer> Allocate(size_t bytes) override;
  void CopyToDevice(void* dst, const void* src, size_t bytes) override;
  void CopyToHost(void* dst, const void* src, size_t bytes) override;

  void EmbeddingLookup(const Tensor& table, const int32_t* ids, Tensor out) override;
  void RmsNorm(const Tensor& x, const Tensor& weight, float eps, Tensor out) override;
  void AddRmsNorm(Tensor residual, const Tensor& x, const Tensor& weight, float eps,
                  Tensor out) override;
  void Gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y) override;
  void RopeAndCacheWrite(Tensor qkv, const RopeTables& rope, const AttentionShape& shape,
                         const AttentionMetadata& meta, KvCacheLayer kv) override;
  void PagedAttention(const Tensor& q, const KvCacheLayer& kv, const AttentionMetadata& meta,
                      const AttentionShape& shape, float scale, Tensor out) override;
  void SiluMul(const Tensor& gate_up, Tensor out) override;
  void GatherRows(const Tensor& x, const int32_t* rows, Tensor out) override;
  void ArgMaxRows(const Tensor& logits, int32_t* tokens, float* logprobs) override;

 private:
  int num_threads_;
  CpuWeights weights_;
  DType kv_cache_dtype_;
};

}  // namespace gqa
