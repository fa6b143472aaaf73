// The Q8_0, Q4_0, Q4_1 family of the registry: scalar first, then the SIMD
// kernels this CPU runs, slowest to fastest (block32_kernels.h).
#include "engine/quant/block32_kernels.h"

#include "engine/quant/cpu_features.h"

namespace gqa::quant::internal {

std::vector<const VecDotKernel*> Block32Kernels(DType weight) {
  std::vector<const VecDotKernel*> kernels;
  switch (weight) {
    case DType::kQ8_0:
      kernels.push_back(&kQ8_0Scalar);
      break;
    case DType::kQ4_0:
      kernels.push_back(&kQ4_0Scalar);
      break;
    case DType::kQ4_1:
      kernels.push_back(&kQ4_1Scalar);
      break;
    default:
      return {};
  }
#if defined(__x86_64__)
  // Slowest to fastest; every kernel needs AVX2 + FMA + F16C. The VNNI ones
  // run the same instruction (VEX or EVEX encoded), equally fast: both are
  // listed where both exist so that both are tested.
  const CpuFeatures& cpu = HostCpuFeatures();
  if (!cpu.avx2) return kernels;
  auto pick = [weight](const VecDotKernel& q8_0, const VecDotKernel& q4_0,
                       const VecDotKernel& q4_1) {
    return weight == DType::kQ8_0 ? &q8_0 : weight == DType::kQ4_0 ? &q4_0 : &q4_1;
  };
  kernels.push_back(pick(kQ8_0Avx2, kQ4_0Avx2, kQ4_1Avx2));
  if (cpu.avx_vnni) kernels.push_back(pick(kQ8_0AvxVnni, kQ4_0AvxVnni, kQ4_1AvxVnni));
  if (cpu.avx512_vnni) kernels.push_back(pick(kQ8_0Avx512Vnni, kQ4_0Avx512Vnni, kQ4_1Avx512Vnni));
#endif
  return kernels;
}

}  // namespace gqa::quant::internal
