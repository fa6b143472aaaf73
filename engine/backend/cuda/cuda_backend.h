// The CUDA backend: the fast implementation of Backend on an NVIDIA GPU.
// This header is free of CUDA types, so the rest of the engine (tools, the
// runner, tests) can include it; the kernels and the class live in the .cu
// and .cc files beside it, the only files of the engine that include CUDA.
//
// Activations and the KV cache are bf16, fp16 or fp32 (fp32: for exact
// comparison with the CPU backend); every reduction (GEMMs, norms, softmax)
// accumulates in fp32. GEMMs go through cuBLASLt; attention, norms, RoPE and
// the element-wise ops are this module's own kernels (engine/backend/cuda/README.md).
//
// Errors: ops return void (Backend's contract), so the first failing CUDA or
// cuBLAS call, or a shape the kernels do not support, is latched: it is
// printed once to stderr, Backend::status() returns it from then on, later
// ops do nothing, and CopyToHost fills its destination with NaN bytes, so a
// failure never hangs and never passes for a result.
//
// Thread ownership: as Backend (one thread at a time, ops in call order); all
// work runs in order on one CUDA stream owned by the backend.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"

namespace gqa {

struct CudaBackendOptions {
  int device = 0;
  DType activation_dtype = DType::kBF16;           // kBF16, kF16 or kF32
  size_t gemm_workspace_bytes = size_t{32} << 20;  // cuBLASLt scratch
  // Debugging and tuning: run every attention through the portable
  // CUDA-core kernel instead of the tensor-core decode/prefill kernels.
  bool force_generic_attention = false;
  // Decode split-KV: 0 picks the number of splits per step from the batch
  // and context; > 0 forces it (benchmarks, tests of the combine step).
  int decode_num_splits = 0;
};

absl::StatusOr<std::unique_ptr<Backend>> MakeCudaBackend(const CudaBackendOptions& options);

// Devices the CUDA runtime sees; 0 when there is no driver or no GPU (never
// an error, so tests can skip on it).
int CudaDeviceCount();

struct CudaDeviceInfo {
  std::string name;
  int compute_capability = 0;  // 90 for sm_90
  int num_sms = 0;
  size_t l2_bytes = 0;
  size_t total_bytes = 0;  // device memory
  size_t free_bytes = 0;   // free now (cudaMemGetInfo)
};
absl::StatusOr<CudaDeviceInfo> GetCudaDeviceInfo(int device);

// ---- helpers for benchmarks and tests (they take a CUDA backend) ----

// Median over `reps` runs of the device time of `enqueue` (which issues work
// on `backend`), measured with CUDA events after `warmup` untimed runs, in
// milliseconds. InvalidArgument if `backend` is not a CUDA backend.
absl::StatusOr<double> TimeOnDeviceMs(Backend& backend, const std::function<void()>& enqueue,
                                      int warmup, int reps);

// Fills `count` elements of `dtype` at device address `data` with uniform
// random values in [lo, hi) from `seed` (benchmarks must not run on zeros).
absl::Status FillRandomOnDevice(Backend& backend, void* data, size_t count, DType dtype,
                                uint64_t seed, float lo, float hi);

// Device-to-device copy bandwidth, counting bytes read plus bytes written,
// in GB/s: median of `reps` copies of `bytes` bytes (cudaMemcpyAsync).
absl::StatusOr<double> MeasureCopyBandwidthGBs(Backend& backend, size_t bytes, int reps);

}  // namespace gqa
