// The contract between libgqa_cuda_plugin.so (cuda_plugin.cc) and its loader
// (engine/runner/cuda_plugin_loader.cc): the entry points' names and types.
// Bump kGqaCudaPluginAbi when any of them, or a type they pass
// (CudaBackendOptions, CudaDeviceInfo, Backend), changes.
#pragma once

#include "absl/status/status.h"
#include "engine/backend/backend.h"
#include "engine/backend/cuda/cuda_backend.h"

namespace gqa {

inline constexpr int kGqaCudaPluginAbi = 2;  // 2: Backend gained MatrixLayoutDType, kv_cache_dtype
inline constexpr char kGqaCudaPluginFile[] = "libgqa_cuda_plugin.so";

using GqaCudaPluginAbiFn = int (*)();
using GqaCudaDeviceCountFn = int (*)();
using GqaCudaDeviceInfoFn = bool (*)(int device, CudaDeviceInfo* info, absl::Status* error);
using GqaMakeCudaBackendFn = Backend* (*)(const CudaBackendOptions* options, absl::Status* error);

}  // namespace gqa
