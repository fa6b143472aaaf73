// y = x * w^T (+ bias) through cuBLASLt: the shape of every linear layer
// (w is a weight, [out, in] row-major). fp32 accumulation always: fp32
// operands use CUBLAS_COMPUTE_32F (no TF32), bf16/f16 operands accumulate in
// fp32 and split-K partial sums are reduced in fp32 too (unless cuBLASLt
// offers no such algorithm for a shape; then it chooses). The bias joins in
// cuBLASLt's epilogue. Plans (descriptors, layouts and the heuristic's
// algorithm) are cached per shape, dtypes and pointer alignment. A shape
// cuBLASLt has no algorithm for (e.g. rows not 4-byte aligned) falls back to
// cublasGemmEx (same fp32 compute type), the bias then written into y first.
//
// Thread ownership: the owning CudaBackend's thread.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>

#include "absl/status/statusor.h"

namespace gqa::cuda {

struct GemmOperands {
  const void* x = nullptr;  // [m, k], row stride ldx
  cudaDataType_t x_type = CUDA_R_32F;
  const void* w = nullptr;  // [n, k], row stride ldw
  cudaDataType_t w_type = CUDA_R_32F;
  const void* bias = nullptr;  // [n] of y_type, or null
  void* y = nullptr;           // [m, n], row stride ldy
  cudaDataType_t y_type = CUDA_R_32F;
  int64_t m = 0, n = 0, k = 0;
  int64_t ldx = 0, ldw = 0, ldy = 0;
};

class CublasLtGemm {
 public:
  static absl::StatusOr<std::unique_ptr<CublasLtGemm>> Create(size_t workspace_bytes);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm&) = delete;
  CublasLtGemm& operator=(const CublasLtGemm&) = delete;

  // Enqueues the product on `stream`. Shapes are the caller's to validate.
  absl::Status Run(const GemmOperands& op, cudaStream_t stream);

  size_t num_cached_plans() const { return plans_.size(); }

 private:
  struct Plan {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t w_layout = nullptr, x_layout = nullptr, y_layout = nullptr;
    cublasLtMatmulAlgo_t algo{};
    bool gemm_ex = false;  // no cuBLASLt algorithm: cublasGemmEx
  };
  using Key = std::array<int64_t, 14>;

  CublasLtGemm() = default;
  absl::StatusOr<Plan> MakePlan(const GemmOperands& op, const Key& key);
  absl::Status RunGemmEx(const GemmOperands& op, cudaStream_t stream);
  static void DestroyPlan(Plan& plan);

  cublasLtHandle_t handle_ = nullptr;
  cublasHandle_t blas_ = nullptr;  // the fallback
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  std::map<Key, Plan> plans_;
};

}  // namespace gqa::cuda
