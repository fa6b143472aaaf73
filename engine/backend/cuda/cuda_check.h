// Turning CUDA runtime and cuBLAS return codes into absl::Status, and the
// latch that keeps the first error of a backend whose ops return void.
// Included only by this module's .cc files (it needs CUDA headers).
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "absl/status/status.h"

namespace gqa::cuda {

// "cuda: <expr> failed at file:line: <name>: <description>".
absl::Status CudaError(cudaError_t err, const char* expr, const char* file, int line);
absl::Status CublasError(cublasStatus_t err, const char* expr, const char* file, int line);

// Keeps the first error; later ones are dropped (they are usually echoes of
// the first: a faulted context fails every call after). Printed once.
class ErrorLatch {
 public:
  void Record(absl::Status status);
  bool failed() const { return !status_.ok(); }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

}  // namespace gqa::cuda

// In a function returning absl::Status.
#define GQA_CUDA_RETURN_IF_ERROR(expr)                                         \
  do {                                                                         \
    const cudaError_t gqa_cuda_err_ = (expr);                                  \
    if (gqa_cuda_err_ != cudaSuccess)                                          \
      return ::gqa::cuda::CudaError(gqa_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define GQA_CUBLAS_RETURN_IF_ERROR(expr)                                           \
  do {                                                                             \
    const cublasStatus_t gqa_cublas_err_ = (expr);                                 \
    if (gqa_cublas_err_ != CUBLAS_STATUS_SUCCESS)                                  \
      return ::gqa::cuda::CublasError(gqa_cublas_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// Records a failure of `expr` in `latch` (an ErrorLatch) and evaluates to
// true when the call succeeded.
#define GQA_CUDA_LATCH(latch, expr) \
  ::gqa::cuda::LatchCuda((latch), (expr), #expr, __FILE__, __LINE__)

namespace gqa::cuda {

inline bool LatchCuda(ErrorLatch& latch, cudaError_t err, const char* expr, const char* file,
                      int line) {
  if (err == cudaSuccess) return true;
  latch.Record(CudaError(err, expr, file, line));
  return false;
}

inline bool LatchCuda(ErrorLatch& latch, cublasStatus_t err, const char* expr, const char* file,
                      int line) {
  if (err == CUBLAS_STATUS_SUCCESS) return true;
  latch.Record(CublasError(err, expr, file, line));
  return false;
}

inline bool LatchCuda(ErrorLatch& latch, const absl::Status& status, const char*, const char*,
                      int) {
  if (status.ok()) return true;
  latch.Record(status);
  return false;
}

}  // namespace gqa::cuda
