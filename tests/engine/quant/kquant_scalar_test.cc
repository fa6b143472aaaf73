// The scalar K-quant kernels: the BlockQ8K activation quantizer exactly on
// hand-made rows, and each dtype's scalar dot product against a
// double-precision dot of the dequantized weights with the fp32 activations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/quant/block_formats.h"
#include "engine/quant/vec_dot.h"
#include "tests/engine/quant/kquant_test_util.h"

namespace gqa::quant {
namespace {

using testing::DequantRow;
using testing::RandomActivations;
using testing::RandomBlocks;
using testing::RoundingBound;

constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

const VecDotKernel& Scalar(DType t) {
  const std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(t);
  EXPECT_FALSE(kernels.empty());
  return *kernels.front();
}

std::vector<BlockQ8K> Quantize(const VecDotKernel& kernel, const std::vector<float>& x) {
  const int64_t k = static_cast<int64_t>(x.size());
  EXPECT_EQ(kernel.activation_row_bytes(k), sizeof(BlockQ8K) * (k / kBlockK));
  std::vector<BlockQ8K> xq(k / kBlockK);
  kernel.quantize_activation(x.data(), xq.data(), k);
  return xq;
}

TEST(KQuantScalar, QuantizeActivationHandMade) {
  std::vector<float> x(4 * kBlockK, 0.0f);
  // Block 0: amax 127, so d = 1 and qs = x rounded half to even.
  const float b0[] = {127.0f, -63.5f, 0.5f, 1.5f, 2.5f, -0.5f, -126.6f, 3.49f};
  std::memcpy(x.data(), b0, sizeof(b0));
  x[16] = 4.0f;  // bsums[1]
  x[255] = -127.0f;
  // Block 1: all zero. Block 2: amax 254 (d = 2, 127 / amax = 0.5 exactly).
  const float b2[] = {3.0f, 1.0f, 5.0f, -7.0f, -254.0f, 253.0f, 0.9f};
  std::memcpy(x.data() + 2 * kBlockK, b2, sizeof(b2));
  // Block 3: amax 1e-31, below kQ8KMinAmax (127 / amax would overflow): zero.
  x[3 * kBlockK + 5] = -1e-31f;
  x[3 * kBlockK + 9] = 1e-32f;

  for (DType t : kTypes) {
    const std::vector<BlockQ8K> xq = Quantize(Scalar(t), x);
    EXPECT_EQ(xq[0].d, 1.0f);
    const int8_t q0[] = {127, -64, 0, 2, 2, 0, -127, 3};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(xq[0].qs[i], q0[i]) << i;
    for (int i = 8; i < 255; ++i) EXPECT_EQ(xq[0].qs[i], i == 16 ? 4 : 0) << i;
    EXPECT_EQ(xq[0].qs[255], -127);
    EXPECT_EQ(xq[0].bsums[0], 127 - 64 + 0 + 2 + 2 + 0 - 127 + 3);
    EXPECT_EQ(xq[0].bsums[1], 4);
    for (int j = 2; j < 15; ++j) EXPECT_EQ(xq[0].bsums[j], 0);
    EXPECT_EQ(xq[0].bsums[15], -127);

    EXPECT_EQ(xq[1].d, 0.0f);
    for (int i = 0; i < kBlockK; ++i) EXPECT_EQ(xq[1].qs[i], 0);
    for (int j = 0; j < 16; ++j) EXPECT_EQ(xq[1].bsums[j], 0);

    EXPECT_EQ(xq[2].d, 2.0f);
    // 1.5 -> 2, 0.5 -> 0, 2.5 -> 2, -3.5 -> -4, -127, 126.5 -> 126, 0.45 -> 0.
    const int8_t q2[] = {2, 0, 2, -4, -127, 126, 0};
    for (int i = 0; i < 7; ++i) EXPECT_EQ(xq[2].qs[i], q2[i]) << i;
    EXPECT_EQ(xq[2].bsums[0], 2 + 0 + 2 - 4 - 127 + 126 + 0);

    EXPECT_EQ(xq[3].d, 0.0f);
    for (int i = 0; i < kBlockK; ++i) EXPECT_EQ(xq[3].qs[i], 0);
    for (int j = 0; j < 16; ++j) EXPECT_EQ(xq[3].bsums[j], 0);
  }
}

// Scalar kernel vs sum_i w[i] x[i] in double, w from quant::DequantizeRow
// (within DequantBound of the exact weights) and x the fp32 input.
//
// The kernel computes the exact dot of the exact weights with x' = a.d * qs
// (its integer sums are exact) up to fp32 rounding (RoundingBound). The
// quantizer gives |x[i] - x'[i]| <= a.d * (1/2 + 127 * 4 * 2^-24): qs[i] is
// within 1/2 of fl(x[i] * fl(127 / amax)), which is within 127 * 3 ulps of
// x[i] / a.d (a.d = fl(amax / 127)). So
//   |kernel - ref| <= sum_blocks a.d * (1/2 + 1e-4) * sum_{i in block} |w[i]|
//                     + RoundingBound + DequantBound(x),
// plus the double sum's own rounding (1e-12 of sum |w x|).
TEST(KQuantScalar, MatchesDoubleDotWithinQuantizationBound) {
  std::mt19937 rng(14);
  for (DType t : kTypes) {
    const VecDotKernel& kernel = Scalar(t);
    for (int64_t k : {256, 512, 1536, 4096}) {
      for (int row = 0; row < 8; ++row) {
        const std::vector<uint8_t> w = RandomBlocks(t, k / kBlockK, rng);
        const std::vector<float> x = RandomActivations(k, rng);
        const std::vector<BlockQ8K> xq = Quantize(kernel, x);
        const std::vector<double> wd = DequantRow(t, w.data(), k);
        double ref = 0.0, abs_wx = 0.0, quant_bound = 0.0;
        for (int64_t i = 0; i < k; ++i) {
          ref += wd[i] * x[i];
          abs_wx += std::fabs(wd[i] * x[i]);
          quant_bound += xq[i / kBlockK].d * (0.5 + 1e-4) * std::fabs(wd[i]);
        }
        const double bound = quant_bound + RoundingBound(t, w.data(), xq.data(), k) +
                             testing::DequantBound(t, w.data(), x.data(), k) + 1e-12 * abs_wx;
        const float got = kernel.vec_dot(w.data(), xq.data(), k);
        EXPECT_LE(std::fabs(got - ref), bound)
            << kernel.name << " k=" << k << " row=" << row << " ref=" << ref;
        // That bound grows with k while a wrong index only adds a random
        // walk, so also: against w times the dequantized activations
        // a.d * qs, the kernel's only error is its fp32 rounding.
        double ref_q = 0.0;
        std::vector<double> x_q(k);
        for (int64_t i = 0; i < k; ++i) {
          x_q[i] = static_cast<double>(xq[i / kBlockK].d) * xq[i / kBlockK].qs[i % kBlockK];
          ref_q += wd[i] * x_q[i];
        }
        EXPECT_LE(std::fabs(got - ref_q), RoundingBound(t, w.data(), xq.data(), k) +
                                              testing::DequantBound(t, w.data(), x_q.data(), k) +
                                              1e-12 * abs_wx)
            << kernel.name << " k=" << k << " row=" << row << " ref_q=" << ref_q;
      }
    }
  }
}

// Activations that quantize exactly and weights for which every fp32 step is
// exact (MakeExactRow): the kernel must equal the double dot exactly.
TEST(KQuantScalar, ExactOnExactlyRepresentableInputs) {
  std::mt19937 rng(15);
  for (DType t : kTypes) {
    const VecDotKernel& kernel = Scalar(t);
    for (int64_t k : {256, 2048}) {
      std::vector<uint8_t> w;
      std::vector<float> x;
      testing::MakeExactRow(t, k, rng, &w, &x);
      const std::vector<BlockQ8K> xq = Quantize(kernel, x);
      const std::vector<double> wd = DequantRow(t, w.data(), k);
      double ref = 0.0;
      for (int64_t i = 0; i < k; ++i) ref += wd[i] * x[i];
      EXPECT_EQ(kernel.vec_dot(w.data(), xq.data(), k), ref) << kernel.name << " k=" << k;
    }
  }
}

}  // namespace
}  // namespace gqa::quant
