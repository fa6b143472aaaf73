// The Q4_K / Q5_K / Q6_K kernel family's registry entry (kquant_kernels.h):
// the scalar reference, then the SIMD kernels this CPU runs, fastest last.
#include "engine/quant/kquant_kernels.h"

#include "engine/quant/cpu_features.h"
#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

std::vector<const VecDotKernel*> KQuantKernels(DType weight) {
  std::vector<const VecDotKernel*> kernels;
  switch (weight) {
    case DType::kQ4_K:
      kernels.push_back(&kQ4KScalar);
      break;
    case DType::kQ5_K:
      kernels.push_back(&kQ5KScalar);
      break;
    case DType::kQ6_K:
      kernels.push_back(&kQ6KScalar);
      break;
    default:
      return {};
  }
  return kernels;
}

}  // namespace gqa::quant::internal
