// The public entry points of cuda_backend.h: construction, device queries,
// and the timing/filling helpers benchmarks and tests use.
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "engine/backend/cuda/cuda_backend_impl.h"

namespace gqa {

using cuda::CudaBackend;

absl::StatusOr<std::unique_ptr<Backend>> MakeCudaBackend(const CudaBackendOptions& options) {
  if (options.activation_dtype != DType::kBF16 && options.activation_dtype != DType::kF16 &&
      options.activation_dtype != DType::kF32) {
    return absl::InvalidArgumentError("cuda backend: activation dtype must be bf16, f16 or f32");
  }
  absl::StatusOr<std::unique_ptr<CudaBackend>> b = CudaBackend::Create(options);
  if (!b.ok()) return b.status();
  return std::unique_ptr<Backend>(std::move(*b));
}

int CudaDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver / no device: not an error for the caller
    return 0;
  }
  return count;
}

absl::StatusOr<CudaDeviceInfo> GetCudaDeviceInfo(int device) {
  if (device < 0 || device >= CudaDeviceCount()) {
    return absl::UnavailableError(absl::StrCat("cuda: no device ", device));
  }
  cudaDeviceProp prop{};
  GQA_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, device));
  CudaDeviceInfo info;
  info.name = prop.name;
  info.compute_capability = prop.major * 10 + prop.minor;
  info.num_sms = prop.multiProcessorCount;
  info.l2_bytes = static_cast<size_t>(prop.l2CacheSize);
  GQA_CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
  GQA_CUDA_RETURN_IF_ERROR(cudaMemGetInfo(&info.free_bytes, &info.total_bytes));
  return info;
}

namespace {

absl::StatusOr<CudaBackend*> AsCuda(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (cuda == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected the cuda backend, got '", std::string(backend.name()), "'"));
  }
  if (!cuda->Ready()) return cuda->status();
  return cuda;
}

}  // namespace

absl::StatusOr<double> TimeOnDeviceMs(Backend& backend, const std::function<void()>& enqueue,
                                      int warmup, int reps) {
  absl::StatusOr<CudaBackend*> cuda = AsCuda(backend);
  if (!cuda.ok()) return cuda.status();
  if (reps < 1) return absl::InvalidArgumentError("TimeOnDeviceMs: reps must be >= 1");
  cudaStream_t stream = (*cuda)->stream();
  for (int i = 0; i < warmup; ++i) enqueue();
  cudaEvent_t start = nullptr, stop = nullptr;
  GQA_CUDA_RETURN_IF_ERROR(cudaEventCreate(&start));
  GQA_CUDA_RETURN_IF_ERROR(cudaEventCreate(&stop));
  std::vector<float> times;
  absl::Status status = [&]() -> absl::Status {
    for (int i = 0; i < reps; ++i) {
      GQA_CUDA_RETURN_IF_ERROR(cudaEventRecord(start, stream));
      enqueue();
      GQA_CUDA_RETURN_IF_ERROR(cudaEventRecord(stop, stream));
      GQA_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(stop));
      float ms = 0;
      GQA_CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, start, stop));
      times.push_back(ms);
    }
    return backend.status();
  }();
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  if (!status.ok()) return status;
  std::sort(times.begin(), times.end());
  return static_cast<double>(times[times.size() / 2]);
}

absl::Status FillRandomOnDevice(Backend& backend, void* data, size_t count, DType dtype,
                                uint64_t seed, float lo, float hi) {
  absl::StatusOr<CudaBackend*> cuda = AsCuda(backend);
  if (!cuda.ok()) return cuda.status();
  const cuda::KernelDType kd = dtype == DType::kF32   ? cuda::KernelDType::kF32
                               : dtype == DType::kF16 ? cuda::KernelDType::kF16
                                                      : cuda::KernelDType::kBF16;
  GQA_CUDA_RETURN_IF_ERROR(
      cuda::LaunchFillRandom(data, count, kd, seed, lo, hi, (*cuda)->stream()));
  return backend.status();
}

absl::StatusOr<double> MeasureCopyBandwidthGBs(Backend& backend, size_t bytes, int reps) {
  absl::StatusOr<CudaBackend*> cuda = AsCuda(backend);
  if (!cuda.ok()) return cuda.status();
  absl::StatusOr<DeviceBuffer> src = backend.Allocate(bytes), dst = backend.Allocate(bytes);
  if (!src.ok()) return src.status();
  if (!dst.ok()) return dst.status();
  absl::Status filled =
      FillRandomOnDevice(backend, src->data(), bytes / 4, DType::kF32, 1, -1.0f, 1.0f);
  if (!filled.ok()) return filled;
  cudaStream_t stream = (*cuda)->stream();
  cuda::ErrorLatch& errors = (*cuda)->errors();
  absl::StatusOr<double> ms = TimeOnDeviceMs(
      backend,
      [&] {
        GQA_CUDA_LATCH(errors, cudaMemcpyAsync(dst->data(), src->data(), bytes,
                                               cudaMemcpyDeviceToDevice, stream));
      },
      3, reps);
  if (!ms.ok()) return ms.status();
  return 2.0 * static_cast<double>(bytes) / (*ms * 1e-3) / 1e9;
}

}  // namespace gqa
