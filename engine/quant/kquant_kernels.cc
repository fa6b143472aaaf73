// Q4_K, Q5_K, Q6_K kernels (placeholder until the family lands: none yet).
#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

std::vector<const VecDotKernel*> KQuantKernels(DType) { return {}; }

}  // namespace gqa::quant::internal
