// The scalar bf16 / f16 kernels against a double-precision dot of the same
// weights and activations, and their activation format (an fp32 copy).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/quant/vec_dot.h"
#include "tests/engine/quant/float_test_rows.h"

namespace gqa::quant {
namespace {

using testing::DotInDouble;
using testing::RandomActivations;
using testing::RandomRow;
using testing::TestLengths;

const VecDotKernel& Scalar(DType t) {
  const std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(t);
  EXPECT_FALSE(kernels.empty());
  return *kernels.front();
}

class FloatScalar : public ::testing::TestWithParam<DType> {};

TEST_P(FloatScalar, NamedForItsDtype) {
  EXPECT_EQ(Scalar(GetParam()).name, std::string(DTypeName(GetParam())) + "/scalar");
}

TEST_P(FloatScalar, ActivationIsAnFp32Copy) {
  const VecDotKernel& kernel = Scalar(GetParam());
  std::mt19937 rng(1);
  const std::vector<float> x = RandomActivations(77, rng);
  ASSERT_EQ(kernel.activation_row_bytes(77), 77 * sizeof(float));
  std::vector<float> xq(77);
  kernel.quantize_activation(x.data(), xq.data(), 77);
  EXPECT_EQ(std::memcmp(x.data(), xq.data(), 77 * sizeof(float)), 0);
}

TEST_P(FloatScalar, MatchesDoubleDotWithinRounding) {
  const DType t = GetParam();
  const VecDotKernel& kernel = Scalar(t);
  std::mt19937 rng(7);
  for (int64_t k : TestLengths()) {
    for (int trial = 0; trial < 4; ++trial) {
      const std::vector<uint16_t> w = RandomRow(t, k, rng);
      const std::vector<float> x = RandomActivations(k, rng);
      std::vector<float> xq(k);
      kernel.quantize_activation(x.data(), xq.data(), k);
      const float got = kernel.vec_dot(w.data(), xq.data(), k);
      const testing::DoubleDot ref = DotInDouble(t, w, x);
      EXPECT_NEAR(got, ref.value, ref.Bound(k)) << "k=" << k << " trial " << trial;
    }
  }
}

TEST_P(FloatScalar, ExactOnSmallIntegers) {
  // Small integers: every product and partial sum is exact in fp32.
  const DType t = GetParam();
  const VecDotKernel& kernel = Scalar(t);
  const int64_t k = 100;
  std::vector<uint16_t> w(k);
  std::vector<float> x(k);
  double expected = 0;
  for (int64_t i = 0; i < k; ++i) {
    w[i] = testing::FromF32(t, static_cast<float>(i % 7 - 3));
    x[i] = static_cast<float>(i % 5 - 2);
    expected += (i % 7 - 3) * (i % 5 - 2);
  }
  EXPECT_EQ(kernel.vec_dot(w.data(), x.data(), k), static_cast<float>(expected));
}

INSTANTIATE_TEST_SUITE_P(BothTypes, FloatScalar, ::testing::Values(DType::kBF16, DType::kF16),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

}  // namespace
}  // namespace gqa::quant
