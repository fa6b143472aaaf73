// The scalar Q8_0 / Q4_0 / Q4_1 kernels: the activation quantizer exactly on
// hand-made blocks, and vec_dot against a double-precision dot of the
// dequantized weights with the fp32 x, within the error activation
// quantization and fp32 rounding allow (derived at ErrorBound).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/vec_dot.h"
#include "tests/engine/quant/block32_test_util.h"

namespace gqa::quant {
namespace {

using testing::Fill;

constexpr double kU = 1.0 / (1 << 24);  // fp32 unit roundoff
constexpr DType kTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1};
constexpr int64_t kLengths[] = {32, 64, 576, 1536, 4096};

std::vector<BlockQ8x32> Quantize(const std::vector<float>& x) {
  std::vector<BlockQ8x32> xq(x.size() / kBlock32);
  internal::QuantizeQ8x32(x.data(), xq.data(), static_cast<int64_t>(x.size()));
  return xq;
}

TEST(QuantizeQ8x32, UnitScaleBlockRoundsTiesToEven) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;   // max |x|: d = 1 exactly
  x[1] = -63.5f;   // tie -> -64 (even)
  x[2] = 0.5f;     // tie -> 0
  x[3] = 1.5f;     // tie -> 2
  x[4] = 2.5f;     // tie -> 2
  x[5] = -0.5f;    // tie -> 0
  x[6] = 3.49f;    // -> 3
  x[7] = -126.6f;  // -> -127
  x[31] = 0.51f;   // -> 1
  const std::vector<BlockQ8x32> xq = Quantize(x);
  EXPECT_EQ(xq[0].d, 1.0f);
  const int8_t want[32] = {127, -64, 0, 2, 2, 0, 3, -127, 0, 0, 0, 0, 0, 0, 0, 0,
                           0,   0,   0, 0, 0, 0, 0, 0,    0, 0, 0, 0, 0, 0, 0, 1};
  for (int i = 0; i < 32; ++i) EXPECT_EQ(xq[0].qs[i], want[i]) << i;
  EXPECT_EQ(xq[0].sum, 127.0f - 64 + 2 + 2 + 3 - 127 + 1);
}

TEST(QuantizeQ8x32, NegativeMaxAndPowerOfTwoScale) {
  std::vector<float> x(64, 0.0f);
  // Block 0: max |x| = 254 at a negative element: d = 2.
  x[0] = 1.0f;     // 0.5 -> 0
  x[1] = 3.0f;     // 1.5 -> 2
  x[2] = 5.0f;     // 2.5 -> 2
  x[3] = -254.0f;  // -127
  x[4] = 100.0f;   // 50
  // Block 1: max 1: d = 1 / 127 (rounded); 0.3 * 127 = 38.1 -> 38.
  for (int i = 32; i < 64; ++i) x[i] = (i % 2 ? 0.3f : -0.3f);
  x[40] = 1.0f;
  const std::vector<BlockQ8x32> xq = Quantize(x);
  EXPECT_EQ(xq[0].d, 2.0f);
  EXPECT_EQ(xq[0].qs[0], 0);
  EXPECT_EQ(xq[0].qs[1], 2);
  EXPECT_EQ(xq[0].qs[2], 2);
  EXPECT_EQ(xq[0].qs[3], -127);
  EXPECT_EQ(xq[0].qs[4], 50);
  for (int i = 5; i < 32; ++i) EXPECT_EQ(xq[0].qs[i], 0);
  EXPECT_EQ(xq[0].sum, 2.0f * (2 + 2 - 127 + 50));
  EXPECT_EQ(xq[1].d, 1.0f / 127.0f);
  for (int i = 0; i < 32; ++i) {
    const int want = i == 8 ? 127 : (i % 2 ? 38 : -38);  // x[40] is element 8
    EXPECT_EQ(xq[1].qs[i], want) << i;
  }
  // 16 x 38, 15 x -38 (element 8 is the 127): 38 + 127.
  EXPECT_EQ(xq[1].sum, (1.0f / 127.0f) * 165.0f);
}

TEST(QuantizeQ8x32, ZeroBlockHasZeroScale) {
  std::vector<float> x(160, 0.0f);
  // Blocks 3 and 4: max |x| below 127 FLT_MIN (d would be subnormal): zero.
  x[96] = 1e-40f;
  x[97] = -1e-40f;
  x[128] = 127.0f * std::numeric_limits<float>::min() * 0.99f;
  x[129] = 1e-38f;
  x[40] = -0.0f;
  x[64] = 1e-30f;  // tiny but not zero: d > 0, this element 127
  const std::vector<BlockQ8x32> xq = Quantize(x);
  for (int b = 0; b < 2; ++b) {
    EXPECT_EQ(xq[b].d, 0.0f);
    EXPECT_EQ(xq[b].sum, 0.0f);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(xq[b].qs[i], 0);
  }
  for (int b = 3; b < 5; ++b) {
    EXPECT_EQ(xq[b].d, 0.0f) << b;
    EXPECT_EQ(xq[b].sum, 0.0f) << b;
    for (int i = 0; i < 32; ++i) EXPECT_EQ(xq[b].qs[i], 0) << b;
  }
  EXPECT_EQ(xq[2].d, 1e-30f / 127.0f);
  EXPECT_EQ(xq[2].qs[0], 127);
  EXPECT_EQ(xq[2].sum, xq[2].d * 127.0f);
}

// Random activations whose blocks span magnitudes 1e-3 .. 1e2.
std::vector<float> RandomActivations(int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> exponent(-3.0f, 2.0f);
  std::vector<float> x(k);
  for (int64_t b = 0; b < k / kBlock32; ++b) {
    const float scale = std::pow(10.0f, exponent(rng));
    for (int i = 0; i < kBlock32; ++i) x[b * kBlock32 + i] = scale * normal(rng);
  }
  return x;
}

// |vec_dot(w, quantize(x)) - sum_i w_i x_i| <= ErrorBound:
// - activation quantization: q_i = round(fl(x_i / d)), and fl(x_i / d) is
//   within 127 u of x_i / d (u = 2^-24, |x_i / d| <= 127), so
//   |x_i - d q_i| <= d (1/2 + 128 u), and the dot moves by at most
//   sum_b d_b (1/2 + 128 u) sum_{i in b} |w_i|;
// - fp32 arithmetic on the quantized terms: the integer sums are exact; each
//   block's term has at most 5 roundings (scale products, the offset term,
//   the conversion of a partial sum), each within u of a value bounded by
//   S_b = sum_{i in b} Magnitude_i |d q_i| (testing::Magnitudes), and adding
//   nb terms in any order (sequential, lanes, tree) adds at most (nb + 4) u
//   sum_b S_b: in all (nb + 10) u sum_i Magnitude_i |d q_i|.
double QuantizationBound(const std::vector<double>& w, const std::vector<BlockQ8x32>& xq) {
  double bound = 0;
  for (size_t i = 0; i < w.size(); ++i) bound += xq[i / 32].d * (0.5 + 128 * kU) * std::fabs(w[i]);
  return bound;
}
double RoundingBound(const std::vector<double>& magnitudes, const std::vector<BlockQ8x32>& xq) {
  const std::vector<double> xd = testing::DequantizeQ8x32(xq.data(), magnitudes.size());
  double m = 0;
  for (size_t i = 0; i < xd.size(); ++i) m += magnitudes[i] * std::fabs(xd[i]);
  return (static_cast<double>(magnitudes.size() / 32) + 10) * kU * m;
}

const VecDotKernel& Scalar(DType t) { return *VecDotKernelsFor(t).front(); }

TEST(Block32Scalar, MatchesDoubleDotWithinQuantizationBound) {
  std::mt19937 rng(7);
  for (DType t : kTypes) {
    for (int64_t k : kLengths) {
      for (Fill fill :
           {Fill::kRandom, Fill::kZero, Fill::kExtreme, Fill::kHugeScale, Fill::kTinyScale}) {
        const std::vector<uint8_t> w = testing::MakeWeightRow(t, k, fill, rng);
        const std::vector<float> x = RandomActivations(k, rng);
        const std::vector<BlockQ8x32> xq = Quantize(x);
        const float got = Scalar(t).vec_dot(w.data(), xq.data(), k);
        const std::vector<double> wd = testing::Dequantize(t, w.data(), k);
        const std::vector<double> xd = testing::DequantizeQ8x32(xq.data(), k);
        double exact = 0, exact_q = 0;  // with x, with the quantized x
        for (int64_t i = 0; i < k; ++i) {
          exact += wd[i] * x[i];
          exact_q += wd[i] * xd[i];
        }
        const double rounding = RoundingBound(testing::Magnitudes(t, w.data(), k), xq);
        const std::string what = std::string(DTypeName(t)) + " k=" + std::to_string(k) +
                                 " fill=" + std::to_string(static_cast<int>(fill));
        // The kernel's own arithmetic, against the quantized activations.
        EXPECT_LE(std::fabs(got - exact_q), rounding) << what;
        // Against the fp32 activations the caller passed.
        EXPECT_LE(std::fabs(got - exact), QuantizationBound(wd, xq) + rounding) << what;
        if (fill == Fill::kZero) {
          EXPECT_EQ(got, 0.0f) << what;
        }
      }
    }
  }
}

// Unit weight scales and integer activations with max |x| = 127 in every
// block: every term is an integer below 2^24, so the result is exact.
TEST(Block32Scalar, IntegerRowsAreExact) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> q(-127, 127);
  for (DType t : kTypes) {
    for (int64_t k : kLengths) {
      const std::vector<uint8_t> w = testing::MakeWeightRow(t, k, Fill::kUnitScale, rng);
      std::vector<float> x(k);
      for (float& v : x) v = static_cast<float>(q(rng));
      for (int64_t b = 0; b < k / 32; ++b) x[b * 32 + b % 32] = b % 2 ? 127.0f : -127.0f;
      const std::vector<BlockQ8x32> xq = Quantize(x);
      const std::vector<double> wd = testing::Dequantize(t, w.data(), k);
      double exact = 0;
      for (int64_t i = 0; i < k; ++i) exact += wd[i] * x[i];
      ASSERT_LT(std::fabs(exact), 1 << 24);
      EXPECT_EQ(Scalar(t).vec_dot(w.data(), xq.data(), k), exact) << DTypeName(t) << " k=" << k;
    }
  }
}

TEST(Block32Scalar, RegistryEntries) {
  for (DType t : kTypes) {
    const VecDotKernel& s = Scalar(t);
    EXPECT_EQ(s.name, std::string(DTypeName(t)) + "/scalar");
    EXPECT_EQ(s.activation_row_bytes(576), 18 * sizeof(BlockQ8x32));
    EXPECT_EQ(s.quantize_activation, &internal::QuantizeQ8x32);
  }
}

}  // namespace
}  // namespace gqa::quant
