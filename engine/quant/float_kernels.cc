// BF16, F16 kernels (placeholder until the family lands: none yet).
#include "engine/quant/vec_dot.h"

namespace gqa::quant::internal {

std::vector<const VecDotKernel*> FloatKernels(DType) { return {}; }

}  // namespace gqa::quant::internal
