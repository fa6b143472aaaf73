// The Q4_K / Q5_K / Q6_K kernel family's registry entry (kquant_kernels.h):
// the scalar reference, then the SIMD kernels this CPU runs, fastest last.
//
// Order by measurement (bench/results/cpu_vec_dot.md, Sapphire Rapids): the
// 256-bit AVX2 kernels are as fast as or faster than the 512-bit VNNI ones
// (q4_K 42 vs 53 ns per 1536-element row in L2, q5_K 60 vs 66, q6_K 44 vs
// 45), since 512-bit VPMADDUBSW / VPDPWSSD / shifts issue on one port where
// their 256-bit forms have two, so avx2 comes last. Out of cache both run at
// the memory's speed.
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
  if (cpu.avx512_vnni) kernels.push_back(family->avx512vnni);
  if (cpu.avx2) kernels.push_back(family->avx2);
#endif
  return kernels;
}

}  // namespace gqa::quant::internal
