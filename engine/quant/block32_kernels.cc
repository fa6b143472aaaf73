// The Q8_0, Q4_0, Q4_1 family of the registry: scalar first, then the SIMD
// kernels this CPU runs, slowest to fastest (block32_kernels.h).
#include "engine/quant/block32_kernels.h"

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
  return kernels;
}

}  // namespace gqa::quant::internal
