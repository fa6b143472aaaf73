// The kernel registry: every dtype's kernels are its own, scalar first, and the
// choice the backend gets is one of them.
#include <gtest/gtest.h>

#include "engine/quant/cpu_features.h"
#include "engine/quant/vec_dot.h"

namespace gqa::quant {
namespace {

constexpr DType kAll[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                          DType::kQ4_1, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

TEST(VecDotRegistry, KernelsBelongToTheirDtypeAndScalarComesFirst) {
  for (DType t : kAll) {
    const std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(t);
    for (const VecDotKernel* k : kernels) {
      ASSERT_NE(k, nullptr);
      EXPECT_EQ(k->weight, t) << k->name;
      EXPECT_EQ(k->name.substr(0, k->name.find('/')), DTypeName(t)) << k->name;
    }
    if (!kernels.empty()) {
      EXPECT_EQ(kernels.front()->name.substr(kernels.front()->name.find('/') + 1), "scalar");
      EXPECT_EQ(BestVecDotKernel(t), kernels.back());
    } else {
      EXPECT_EQ(BestVecDotKernel(t), nullptr);
    }
  }
}

TEST(VecDotRegistry, ScalarOnRequest) {
  setenv("GQA_CPU_KERNELS", "scalar", 1);
  for (DType t : kAll) {
    const std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(t);
    EXPECT_EQ(BestVecDotKernel(t), kernels.empty() ? nullptr : kernels.front());
  }
  unsetenv("GQA_CPU_KERNELS");
}

TEST(CpuFeatures, ImpliedFeaturesAreConsistent) {
  const CpuFeatures& f = HostCpuFeatures();
  if (f.avx512_vnni || f.avx512_bf16) EXPECT_TRUE(f.avx512);
  if (f.avx_vnni) EXPECT_TRUE(f.avx2);
}

}  // namespace
}  // namespace gqa::quant
