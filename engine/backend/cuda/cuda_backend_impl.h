// CudaBackend: the class behind MakeCudaBackend (cuda_backend.h). Internal to
// engine/backend/cuda (it includes CUDA headers): everything else uses the
// Backend interface.
//
// Thread ownership: as Backend. Every op enqueues on stream_ and returns;
// CopyToHost and Synchronize wait for the stream.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <string_view>

#include "engine/backend/backend.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "engine/backend/cuda/cuda_check.h"
#include "engine/backend/cuda/cuda_gemm.h"
#include "engine/backend/cuda/kernels.h"

namespace gqa::cuda {

class CudaBackend final : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<CudaBackend>> Create(const CudaBackendOptions& options);
  ~CudaBackend() override;

  std::string_view name() const override { return "cuda"; }
  DType activation_dtype() const override { return options_.activation_dtype; }

  // cudaMalloc'ed device memory (256-byte aligned).
  absl::StatusOr<DeviceBuffer> Allocate(size_t bytes) override;
  // Host memory here is pageable (this engine never pins it), so the copy
  // returns once `src` has been staged and may be reused at once.
  void CopyToDevice(void* dst, const void* src, size_t bytes) override;
  // Waits for the stream; on a latched error fills dst with NaN bytes.
  void CopyToHost(void* dst, const void* src, size_t bytes) override;
  void Synchronize() override;
  absl::Status status() const override { return errors_.status(); }

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
  bool greedy_on_device() const override { return true; }

  cudaStream_t stream() const { return stream_; }
  int num_sms() const { return num_sms_; }
  ErrorLatch& errors() { return errors_; }
  // Makes this backend's device current on the calling thread; false (and
  // nothing to do for the op) once an error is latched.
  bool Ready();

 private:
  explicit CudaBackend(const CudaBackendOptions& options) : options_(options) {}
  // Records an InvalidArgument naming the op; always returns false.
  bool Reject(std::string_view op, std::string_view why);
  bool CheckActivation(std::string_view op, const Tensor& t);
  // Grow-only scratch for the decode partials; null on failure (latched).
  float* DecodeScratch(size_t bytes);

  CudaBackendOptions options_;
  KernelDType kernel_dtype_ = KernelDType::kBF16;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<CublasLtGemm> gemm_;
  int num_sms_ = 0;
  size_t max_smem_per_block_ = 0;  // with the opt-in attribute
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  ErrorLatch errors_;
};

}  // namespace gqa::cuda
