#include "engine/quant/vec_dot.h"

#include <cstdlib>
#include <string_view>

namespace gqa::quant {

std::vector<const VecDotKernel*> VecDotKernelsFor(DType weight) {
  for (auto family : {internal::Block32Kernels, internal::KQuantKernels, internal::FloatKernels}) {
    std::vector<const VecDotKernel*> kernels = family(weight);
    if (!kernels.empty()) return kernels;
  }
  return {};
}

const VecDotKernel* BestVecDotKernel(DType weight) {
  const std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(weight);
  if (kernels.empty()) return nullptr;
  const char* choice = std::getenv("GQA_CPU_KERNELS");
  if (choice != nullptr && std::string_view(choice) == "scalar") return kernels.front();
  return kernels.back();
}

}  // namespace gqa::quant
