// Q8_0, Q4_0, Q4_1 kernels (placeholder until the family lands: none yet).
#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

std::vector<const VecDotKernel*> Block32Kernels(DType) { return {}; }

}  // namespace gqa::quant::internal
