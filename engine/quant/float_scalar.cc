// The scalar bf16 / f16 kernels: the reference every SIMD kernel is tested
// against (float_kernels.h). One fp32 accumulator, elements in order.
#include <cstring>

#include "engine/common/dtype.h"
#include "engine/quant/float_kernels.h"

namespace gqa::quant::internal {
namespace {

float Bf16DotScalar(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const uint16_t*>(w_row);
  const auto* x = static_cast<const float*>(xq);
  float sum = 0.0f;
  for (int64_t i = 0; i < k; ++i) sum += Bf16ToF32(w[i]) * x[i];
  return sum;
}

float F16DotScalar(const void* w_row, const void* xq, int64_t k) {
  const auto* w = static_cast<const uint16_t*>(w_row);
  const auto* x = static_cast<const float*>(xq);
  float sum = 0.0f;
  for (int64_t i = 0; i < k; ++i) sum += F16ToF32(w[i]) * x[i];
  return sum;
}

}  // namespace

size_t F32ActivationRowBytes(int64_t k) { return static_cast<size_t>(k) * sizeof(float); }

void CopyF32Activation(const float* x, void* xq, int64_t k) {
  if (k > 0) std::memcpy(xq, x, F32ActivationRowBytes(k));
}

const VecDotKernel kBf16Scalar = {"bf16/scalar", DType::kBF16, F32ActivationRowBytes,
                                  CopyF32Activation, Bf16DotScalar};
const VecDotKernel kF16Scalar = {"f16/scalar", DType::kF16, F32ActivationRowBytes,
                                 CopyF32Activation, F16DotScalar};

}  // namespace gqa::quant::internal
