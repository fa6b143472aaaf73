// The CUDA backend as a run-time plugin (libgqa_cuda_plugin.so): the C entry
// points engine/runner/cuda_plugin_loader.cc finds with dlsym. Only the plugin
// links the CUDA runtime and cuBLAS, so the server and tools load them only
// when a CUDA backend is asked for (see cuda_plugin_loader.h for why).
//
// The plugin and its loader are built together from one tree, so C++ types
// cross the boundary as they are; kGqaCudaPluginAbi guards against a stale
// plugin from another build.
#include "engine/backend/cuda/cuda_backend.h"
#include "engine/backend/cuda/cuda_plugin_abi.h"

extern "C" {

int GqaCudaPluginAbi() { return gqa::kGqaCudaPluginAbi; }

int GqaCudaDeviceCount() { return gqa::CudaDeviceCount(); }

// Fills *info, or returns false with *error set.
bool GqaCudaDeviceInfo(int device, gqa::CudaDeviceInfo* info, absl::Status* error) {
  absl::StatusOr<gqa::CudaDeviceInfo> r = gqa::GetCudaDeviceInfo(device);
  if (!r.ok()) {
    *error = r.status();
    return false;
  }
  *info = *std::move(r);
  return true;
}

// A new backend the caller owns, or null with *error set.
gqa::Backend* GqaMakeCudaBackend(const gqa::CudaBackendOptions* options, absl::Status* error) {
  absl::StatusOr<std::unique_ptr<gqa::Backend>> r = gqa::MakeCudaBackend(*options);
  if (!r.ok()) {
    *error = r.status();
    return nullptr;
  }
  return r->release();
}

}  // extern "C"
