// SetUpBackend / ResolveBackend: flag values checked, "auto" falls back to the
// CPU where there is no GPU, and the CPU path leaves the KV budget alone.
#include "engine/runner/backend_setup.h"

#include <gtest/gtest.h>

#include <sstream>

#include "engine/model/dummy_weights.h"
#include "engine/quant/vec_dot.h"
#include "engine/runner/cuda_plugin_loader.h"
#include "tests/engine/runner/engine_test_util.h"

namespace gqa::testing {
namespace {

TEST(BackendSetupTest, UnknownBackendNamesTheFlag) {
  absl::StatusOr<std::string> r = ResolveBackend("tpu");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--backend"), std::string_view::npos);
}

TEST(BackendSetupTest, CpuIsAlwaysCpu) { EXPECT_EQ(*ResolveBackend("cpu"), "cpu"); }

TEST(BackendSetupTest, AutoAndCudaFollowTheBuildAndTheDevice) {
  absl::StatusOr<std::string> automatic = ResolveBackend("auto");
  ASSERT_TRUE(automatic.ok());
  absl::StatusOr<std::string> cuda = ResolveBackend("cuda");
  if (*automatic == "cuda") {
    EXPECT_TRUE(BuiltWithCuda());
    EXPECT_EQ(*cuda, "cuda");
  } else {
    EXPECT_EQ(*automatic, "cpu");  // no CUDA build, or no GPU visible
    EXPECT_EQ(cuda.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(cuda.status().message().find("--backend cuda"), std::string_view::npos);
  }
}

// The plugin loads in every CUDA build, GPU or not: dlopen of the CUDA runtime
// and cuBLAS works, and its entry points answer.
TEST(CudaPluginTest, LoadsWhereBuiltAndAnswersWithoutAGpu) {
  absl::StatusOr<const CudaPlugin*> plugin = CudaPlugin::Load();
  if (!BuiltWithCuda()) {
    EXPECT_EQ(plugin.status().code(), absl::StatusCode::kFailedPrecondition);
    return;
  }
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  const int devices = (*plugin)->DeviceCount();
  EXPECT_GE(devices, 0);
  if (devices == 0) {
    EXPECT_FALSE((*plugin)->DeviceInfo(0).ok());
    EXPECT_FALSE((*plugin)->MakeBackend(CudaBackendOptions{}).ok());
  } else {
    absl::StatusOr<std::unique_ptr<Backend>> b = (*plugin)->MakeBackend(CudaBackendOptions{});
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ((*b)->name(), "cuda");
  }
}

TEST(BackendSetupTest, AutoDTypeIsF32OnTheCpuAndBf16OnCuda) {
  EXPECT_EQ(ResolveDType("auto", "cpu"), "f32");
  EXPECT_EQ(ResolveDType("auto", "cuda"), "bf16");
  EXPECT_EQ(ResolveDType("f16", "cuda"), "f16");
}

TEST(BackendSetupTest, CpuBackendKeepsTheKvBudget) {
  EngineConfig engine;
  engine.kv_cache_bytes = 12345;
  BackendSetupOptions o;
  o.backend = "cpu";
  o.threads = 1;
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<Backend>> b = SetUpBackend(o, TinyConfig(2), &engine, log);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->name(), "cpu");
  EXPECT_EQ((*b)->activation_dtype(), DType::kF32);
  EXPECT_EQ(engine.kv_cache_bytes, 12345u);
  EXPECT_EQ(log.str(),
            "backend: cpu (computes in f32; weight matrices: the checkpoint's dtype where a "
            "kernel computes from it, else f32; KV cache: f32)\n");
}

// The CPU backend of --dtype `dtype` and --kv-cache-dtype `kv_dtype`, one thread.
absl::StatusOr<std::unique_ptr<Backend>> SetUpCpu(const std::string& dtype,
                                                  const std::string& kv_dtype) {
  EngineConfig engine;
  BackendSetupOptions o;
  o.backend = "cpu";
  o.threads = 1;
  o.dtype = dtype;
  o.kv_cache_dtype = kv_dtype;
  std::ostringstream log;
  return SetUpBackend(o, TinyConfig(2), &engine, log);
}

// --kv-cache-dtype on the CPU: auto and f32 cache in f32, bf16 in bf16 (the
// engine sizes and allocates the pool by Backend::kv_cache_dtype); anything
// else is refused naming the flag.
TEST(BackendSetupTest, CpuKvCacheDTypeIsF32OrBf16) {
  auto make = [](const std::string& kv_dtype) { return SetUpCpu("auto", kv_dtype); };
  for (auto [name, dtype] :
       {std::pair{"auto", DType::kF32}, std::pair{"f32", DType::kF32},
        std::pair{"bf16", DType::kBF16}, std::pair{"bfloat16", DType::kBF16}}) {
    absl::StatusOr<std::unique_ptr<Backend>> b = make(name);
    ASSERT_TRUE(b.ok()) << name << ": " << b.status();
    EXPECT_EQ((*b)->kv_cache_dtype(), dtype) << name;
    EXPECT_EQ((*b)->activation_dtype(), DType::kF32) << name;
  }
  for (const char* bad : {"f16", "q8_0", "int8", ""}) {
    absl::StatusOr<std::unique_ptr<Backend>> b = make(bad);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(b.status().message().find("--kv-cache-dtype"), std::string_view::npos) << bad;
  }
}

// --dtype on the CPU says how weight matrices are stored
// (Backend::MatrixWeightDType): auto keeps what a kernel computes from, f32
// dequantizes everything, bf16 needs a bf16 kernel, anything else is refused.
TEST(BackendSetupTest, CpuDTypeChoosesHowWeightsAreStored) {
  auto make = [](const std::string& dtype) { return SetUpCpu(dtype, "auto"); };
  absl::StatusOr<std::unique_ptr<Backend>> automatic = make("auto"), f32 = make("f32");
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  ASSERT_TRUE(f32.ok()) << f32.status();
  for (DType t : {DType::kF32, DType::kQ8_0, DType::kQ4_1, DType::kQ6_K, DType::kBF16}) {
    SCOPED_TRACE(DTypeName(t));
    const bool kernel = quant::BestVecDotKernel(t) != nullptr;
    EXPECT_EQ((*automatic)->MatrixWeightDType(t), t == DType::kF32 || kernel ? t : DType::kF32);
    EXPECT_EQ((*f32)->MatrixWeightDType(t), DType::kF32);
  }
  absl::StatusOr<std::unique_ptr<Backend>> bf16 = make("bf16");
  if (quant::BestVecDotKernel(DType::kBF16) != nullptr) {
    ASSERT_TRUE(bf16.ok()) << bf16.status();
    EXPECT_EQ((*bf16)->MatrixWeightDType(DType::kF32), DType::kBF16);
    EXPECT_EQ((*bf16)->MatrixWeightDType(DType::kQ4_1), DType::kBF16);
    EXPECT_EQ((*bf16)->MatrixWeightDType(DType::kBF16), DType::kBF16);
  } else {
    EXPECT_EQ(bf16.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  absl::StatusOr<std::unique_ptr<Backend>> f16 = make("f16");
  EXPECT_EQ(f16.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f16.status().message().find("--dtype"), std::string_view::npos);
}

}  // namespace
}  // namespace gqa::testing
