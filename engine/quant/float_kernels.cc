// The bf16 / f16 kernel family's registry entry (float_kernels.h): the scalar
// reference, then the SIMD kernels this CPU runs, fastest last.
#include "engine/quant/float_kernels.h"

#include "engine/quant/cpu_features.h"
#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

std::vector<const VecDotKernel*> FloatKernels(DType weight) {
  if (weight != DType::kBF16 && weight != DType::kF16) return {};
  const bool bf16 = weight == DType::kBF16;
  std::vector<const VecDotKernel*> kernels = {bf16 ? &kBf16Scalar : &kF16Scalar};
#if defined(__x86_64__)
  const CpuFeatures& cpu = HostCpuFeatures();
  if (cpu.avx2) kernels.push_back(bf16 ? &kBf16Avx2 : &kF16Avx2);
  if (cpu.avx512) kernels.push_back(bf16 ? &kBf16Avx512 : &kF16Avx512);
  if (bf16 && cpu.avx512_bf16) kernels.push_back(&kBf16Avx512Bf16);
#endif
  return kernels;
}

}  // namespace gqa::quant::internal
