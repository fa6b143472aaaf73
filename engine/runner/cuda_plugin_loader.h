// CudaPlugin: the CUDA backend, loaded at run time from libgqa_cuda_plugin.so
// (engine/backend/cuda/cuda_plugin.cc) instead of linked into every binary.
//
// Why a plugin: the CUDA runtime and cuBLAS are only needed on a GPU, yet
// linking them makes every process load them at startup, and their static
// thread-local storage (cuBLASLt alone: 94 KiB) is then carved out of every
// thread's stack, so threads created with small stacks fail to start
// (civetweb's metrics threads get 100 KiB). A library loaded with dlopen gets
// dynamic TLS instead, and a CPU host never loads CUDA at all.
//
// Where it is looked for, first found wins: $GQA_CUDA_PLUGIN; next to the
// executable; ../lib/ from it; the path the build put it at.
//
// Thread ownership: Load() is thread-safe (loads once); the plugin stays
// loaded for the process's life (backends it made point into it).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/backend/cuda/cuda_backend.h"

namespace gqa {

class CudaPlugin {
 public:
  // The loaded plugin, or FAILED_PRECONDITION saying why not (this build has
  // none, or dlopen's error for each place tried, e.g. a missing libcudart).
  static absl::StatusOr<const CudaPlugin*> Load();

  int DeviceCount() const;  // 0 without a driver or a GPU
  absl::StatusOr<CudaDeviceInfo> DeviceInfo(int device) const;
  absl::StatusOr<std::unique_ptr<Backend>> MakeBackend(const CudaBackendOptions& options) const;

  const std::string& path() const { return path_; }

  // The entry points of a dlopen'ed plugin at `path` (internal to Load).
  static absl::StatusOr<const CudaPlugin*> FromHandle(const std::string& path, void* handle);

 private:
  CudaPlugin() = default;
  std::string path_;
  int (*device_count_)() = nullptr;
  bool (*device_info_)(int, CudaDeviceInfo*, absl::Status*) = nullptr;
  Backend* (*make_backend_)(const CudaBackendOptions*, absl::Status*) = nullptr;
};

}  // namespace gqa
