// Every SIMD bf16 / f16 kernel this CPU runs against the scalar reference of
// its dtype on random rows of every length class (vector tails included), at
// unaligned addresses, and their NaN / inf behaviour (float_kernels.h).
// Kernels this CPU lacks are not listed by VecDotKernelsFor and not tested.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/quant/vec_dot.h"
#include "tests/engine/quant/float_test_rows.h"

namespace gqa::quant {
namespace {

using testing::DotInDouble;
using testing::RandomActivations;
using testing::RandomRow;
using testing::TestLengths;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The activations as `kernel` sees them: x itself for the fp32 kernels, x
// rounded to bf16 for a kernel whose activation rows are 2 bytes an element.
std::vector<float> AsKernelSeesThem(const VecDotKernel& kernel, const std::vector<float>& x) {
  const int64_t k = static_cast<int64_t>(x.size());
  if (k == 0 || kernel.activation_row_bytes(k) == k * sizeof(float)) return x;
  EXPECT_EQ(kernel.activation_row_bytes(k), k * sizeof(uint16_t)) << kernel.name;
  std::vector<float> rounded(k);
  for (int64_t i = 0; i < k; ++i) rounded[i] = Bf16ToF32(F32ToBf16(x[i]));
  return rounded;
}

// quantize_activation then vec_dot, with the weights and activations placed
// `offset` elements into their buffers (unaligned for offset 1).
float RunKernel(const VecDotKernel& kernel, const std::vector<uint16_t>& w,
                const std::vector<float>& x, int offset = 0) {
  const int64_t k = static_cast<int64_t>(w.size());
  std::vector<uint16_t> w_buf(k + offset);
  std::copy(w.begin(), w.end(), w_buf.begin() + offset);
  std::vector<unsigned char> xq(kernel.activation_row_bytes(k) + 64);
  kernel.quantize_activation(x.data(), xq.data() + 4 * offset, k);
  return kernel.vec_dot(w_buf.data() + offset, xq.data() + 4 * offset, k);
}

class FloatSimd : public ::testing::TestWithParam<DType> {
 protected:
  std::vector<const VecDotKernel*> Simd() const {
    std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(GetParam());
    if (!kernels.empty()) kernels.erase(kernels.begin());
    return kernels;
  }
  const VecDotKernel& Scalar() const { return *VecDotKernelsFor(GetParam()).front(); }
};

TEST_P(FloatSimd, AgreesWithScalarOnRandomRows) {
  const DType t = GetParam();
  if (Simd().empty()) GTEST_SKIP() << "no SIMD kernel for " << DTypeName(t) << " on this CPU";
  std::mt19937 rng(11);
  for (const VecDotKernel* kernel : Simd()) {
    for (int64_t k : TestLengths()) {
      for (int offset : {0, 1}) {
        const std::vector<uint16_t> w = RandomRow(t, k, rng);
        const std::vector<float> x = AsKernelSeesThem(*kernel, RandomActivations(k, rng));
        const float got = RunKernel(*kernel, w, x, offset);
        const float scalar = RunKernel(Scalar(), w, x);
        // Both are within Bound of the double dot; so within 2 Bound of each other.
        const testing::DoubleDot ref = DotInDouble(t, w, x);
        EXPECT_NEAR(got, ref.value, ref.Bound(k)) << kernel->name << " k=" << k;
        EXPECT_NEAR(got, scalar, 2 * ref.Bound(k)) << kernel->name << " k=" << k;
      }
    }
  }
}

TEST_P(FloatSimd, BitExactOnSmallIntegers) {
  // Small integers: every product and partial sum is exact, in any order.
  const DType t = GetParam();
  for (const VecDotKernel* kernel : VecDotKernelsFor(t)) {
    for (int64_t k : TestLengths()) {
      std::vector<uint16_t> w(k);
      std::vector<float> x(k);
      double expected = 0;
      for (int64_t i = 0; i < k; ++i) {
        w[i] = testing::FromF32(t, static_cast<float>(i % 7 - 3));
        x[i] = static_cast<float>(i % 5 - 2);
        expected += (i % 7 - 3) * (i % 5 - 2);
      }
      EXPECT_EQ(RunKernel(*kernel, w, x, 1), static_cast<float>(expected))
          << kernel->name << " k=" << k;
    }
  }
}

// One row of k ones (weights and activations) with w[at] = wv and x[at] = xv.
float Special(const VecDotKernel& kernel, int64_t k, int64_t at, float wv, float xv) {
  const DType t = kernel.weight;
  std::vector<uint16_t> w(k, testing::FromF32(t, 1.0f));
  std::vector<float> x(k, 1.0f);
  w[at] = testing::FromF32(t, wv);
  x[at] = xv;
  return RunKernel(kernel, w, x);
}

TEST_P(FloatSimd, NanAndInfFollowIeeeInEveryKernel) {
  for (const VecDotKernel* kernel : VecDotKernelsFor(GetParam())) {
    // k = 100: position 5 is in the unrolled body of every kernel, 99 in its tail.
    for (int64_t at : {int64_t{5}, int64_t{99}}) {
      SCOPED_TRACE(std::string(kernel->name) + " at " + std::to_string(at));
      EXPECT_TRUE(std::isnan(Special(*kernel, 100, at, kNaN, 1.0f)));
      EXPECT_TRUE(std::isnan(Special(*kernel, 100, at, 1.0f, kNaN)));
      EXPECT_EQ(Special(*kernel, 100, at, kInf, 2.0f), kInf);
      EXPECT_EQ(Special(*kernel, 100, at, kInf, -2.0f), -kInf);
      EXPECT_EQ(Special(*kernel, 100, at, 1.0f, -kInf), -kInf);
      EXPECT_TRUE(std::isnan(Special(*kernel, 100, at, kInf, 0.0f)));
    }
    // +inf and -inf products in one row.
    const DType t = kernel->weight;
    std::vector<uint16_t> w(100, testing::FromF32(t, 1.0f));
    std::vector<float> x(100, 1.0f);
    w[3] = testing::FromF32(t, kInf);
    w[97] = testing::FromF32(t, -kInf);
    EXPECT_TRUE(std::isnan(RunKernel(*kernel, w, x))) << kernel->name;
  }
}

TEST(FloatSimdBf16Activations, RoundToNearestEvenLikeF32ToBf16) {
  for (const VecDotKernel* kernel : VecDotKernelsFor(DType::kBF16)) {
    if (kernel->activation_row_bytes(10) != 10 * sizeof(uint16_t)) continue;
    std::mt19937 rng(3);
    const std::vector<float> x = RandomActivations(1000, rng);
    std::vector<uint16_t> xq(1000);
    kernel->quantize_activation(x.data(), xq.data(), 1000);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(xq[i], F32ToBf16(x[i])) << kernel->name << " " << i;
    // Above bf16's largest finite value, rounding gives inf (finite in fp32 kernels).
    const float big = 3.4e38f;
    uint16_t out = 0;
    kernel->quantize_activation(&big, &out, 1);
    EXPECT_EQ(Bf16ToF32(out), kInf);
  }
}

INSTANTIATE_TEST_SUITE_P(BothTypes, FloatSimd, ::testing::Values(DType::kBF16, DType::kF16),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

}  // namespace
}  // namespace gqa::quant
