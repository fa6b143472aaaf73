#include "engine/runner/cuda_plugin_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/cuda/cuda_plugin_abi.h"

namespace gqa {
namespace {

std::vector<std::string> Candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("GQA_CUDA_PLUGIN"); env != nullptr && *env != '\0') {
    paths.push_back(env);
  }
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back((exe.parent_path() / kGqaCudaPluginFile).string());
    paths.push_back((exe.parent_path().parent_path() / "lib" / kGqaCudaPluginFile).string());
  }
#ifdef GQA_CUDA_PLUGIN_BUILD_PATH
  paths.push_back(GQA_CUDA_PLUGIN_BUILD_PATH);
#endif
  return paths;
}

template <typename Fn>
Fn Symbol(void* handle, const char* name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

absl::StatusOr<const CudaPlugin*> LoadOnce() {
  std::string tried;
  for (const std::string& path : Candidates()) {
    if (!std::filesystem::exists(path)) continue;
    // RTLD_LOCAL: the plugin's own copies of engine code stay private to it.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      absl::StrAppend(&tried, "; ", path, ": ", dlerror());
      continue;
    }
    auto abi = Symbol<GqaCudaPluginAbiFn>(handle, "GqaCudaPluginAbi");
    if (abi == nullptr || abi() != kGqaCudaPluginAbi) {
      absl::StrAppend(&tried, "; ", path, ": built from another version of gqa-serve");
      dlclose(handle);
      continue;
    }
    return CudaPlugin::FromHandle(path, handle);
  }
  return absl::FailedPreconditionError(
      tried.empty() ? absl::StrCat("the CUDA backend plugin (", kGqaCudaPluginFile,
                                   ") was not built or installed")
                    : absl::StrCat("cannot load the CUDA backend plugin", tried));
}

}  // namespace

absl::StatusOr<const CudaPlugin*> CudaPlugin::FromHandle(const std::string& path, void* handle) {
  std::unique_ptr<CudaPlugin> p(new CudaPlugin());
  p->path_ = path;
  p->device_count_ = Symbol<GqaCudaDeviceCountFn>(handle, "GqaCudaDeviceCount");
  p->device_info_ = Symbol<GqaCudaDeviceInfoFn>(handle, "GqaCudaDeviceInfo");
  p->make_backend_ = Symbol<GqaMakeCudaBackendFn>(handle, "GqaMakeCudaBackend");
  if (!p->device_count_ || !p->device_info_ || !p->make_backend_) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": an entry point is missing"));
  }
  return p.release();  // never unloaded (see the header)
}

absl::StatusOr<const CudaPlugin*> CudaPlugin::Load() {
  static const absl::StatusOr<const CudaPlugin*> plugin = LoadOnce();
  return plugin;
}

int CudaPlugin::DeviceCount() const { return device_count_(); }

absl::StatusOr<CudaDeviceInfo> CudaPlugin::DeviceInfo(int device) const {
  CudaDeviceInfo info;
  absl::Status error;
  if (!device_info_(device, &info, &error)) return error;
  return info;
}

absl::StatusOr<std::unique_ptr<Backend>> CudaPlugin::MakeBackend(
    const CudaBackendOptions& options) const {
  absl::Status error;
  Backend* backend = make_backend_(&options, &error);
  if (backend == nullptr) return error;
  return std::unique_ptr<Backend>(backend);
}

}  // namespace gqa
