// The Q4_K / Q5_K / Q6_K kernel family's registry entry (kquant_kernels.h):
// the scalar reference, then the SIMD kernels this CPU runs, fastest last.
#include "engine/quant/kquant_kernels.h"

#include "engine/quant/cpu_features.h"
#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

namespace {

struct Family {
  const VecDotKernel* scalar;
#if defined(__x86_64__)
  const VecDotKernel* avx2;
  const VecDotKernel* avx512vnni;
#endif
};

#if defined(__x86_64__)
constexpr Family kQ4K = {&kQ4KScalar, &kQ4KAvx2, &kQ4KAvx512Vnni};
constexpr Family kQ5K = {&kQ5KScalar, &kQ5KAvx2, &kQ5KAvx512Vnni};
constexpr Family kQ6K = {&kQ6KScalar, &kQ6KAvx2, &kQ6KAvx512Vnni};
#else
constexpr Family kQ4K = {&kQ4KScalar};
constexpr Family kQ5K = {&kQ5KScalar};
constexpr Family kQ6K = {&kQ6KScalar};
#endif

}  // namespace

std::vector<const VecDotKernel*> KQuantKernels(DType weight) {
  const Family* family = weight == DType::kQ4_K   ? &kQ4K
                         : weight == DType::kQ5_K ? &kQ5K
                         : weight == DType::kQ6_K ? &kQ6K
                                                  : nullptr;
  if (family == nullptr) return {};
  std::vector<const VecDotKernel*> kernels = {family->scalar};
#if defined(__x86_64__)
  const CpuFeatures& cpu = HostCpuFeatures();
  if (cpu.avx2) kernels.push_back(family->avx2);
  if (cpu.avx512_vnni) kernels.push_back(family->avx512vnni);
#endif
  return kernels;
}

}  // namespace gqa::quant::internal
