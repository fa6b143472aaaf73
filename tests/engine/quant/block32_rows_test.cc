// VecDotKernel::vec_dot_rows of the SIMD Q8_0 / Q4_0 / Q4_1 kernels (one weight
// row against n activation rows) against the same kernel's vec_dot, row by
// row: the same float operations in the same order, so equal bit for bit, for
// every row count (groups of 4 and each remainder), every tail of k and every
// weight pattern, with padded activation and output strides (the entries
// between outputs stay untouched); and vec_dot_wrows (n weight rows against
// one activation row) the same way.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/quant/block_formats.h"
#include "engine/quant/vec_dot.h"
#include "tests/engine/quant/block32_test_util.h"

namespace gqa::quant {
namespace {

using testing::Fill;

constexpr DType kTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1};
constexpr int64_t kLengths[] = {32, 64, 96, 160, 224, 576, 1536};  // every tail
constexpr Fill kFills[] = {Fill::kRandom,    Fill::kZero,      Fill::kExtreme,
                           Fill::kHugeScale, Fill::kTinyScale, Fill::kUnitScale};

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(Block32Rows, ScalarKernelsLeaveItToTheCaller) {
  for (DType t : kTypes) {
    EXPECT_EQ(VecDotKernelsFor(t).front()->vec_dot_rows, nullptr);
    EXPECT_EQ(VecDotKernelsFor(t).front()->vec_dot_wrows, nullptr);
  }
}

TEST(Block32Rows, EveryRowEqualsVecDotBitForBit) {
  std::mt19937 rng(14);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> exponent(-3.0f, 2.0f);
  int checked = 0;
  for (DType t : kTypes) {
    for (const VecDotKernel* kernel : VecDotKernelsFor(t)) {
      if (kernel->vec_dot_rows == nullptr) continue;
      SCOPED_TRACE(std::string(kernel->name));
      for (int64_t k : kLengths) {
        for (Fill fill : kFills) {
          const std::vector<uint8_t> w = testing::MakeWeightRow(t, k, fill, rng);
          constexpr int64_t kMaxRows = 11;
          const size_t row_bytes = kernel->activation_row_bytes(k);
          const size_t xq_stride = row_bytes + 40;  // padded: rows need not be adjacent
          std::vector<uint8_t> xq(xq_stride * kMaxRows, 0xAB);
          for (int64_t i = 0; i < kMaxRows; ++i) {
            std::vector<float> x(k);
            const float scale = std::pow(10.0f, exponent(rng));
            for (float& v : x) v = scale * normal(rng);
            if (i == 2) std::fill(x.begin(), x.end(), 0.0f);  // an all-zero row
            kernel->quantize_activation(x.data(), xq.data() + i * xq_stride, k);
          }
          for (int64_t n = 1; n <= kMaxRows; ++n) {
            constexpr int64_t kOutStride = 3;
            std::vector<float> out(n * kOutStride, -7.0f);
            kernel->vec_dot_rows(w.data(), xq.data(), xq_stride, n, k, out.data(), kOutStride);
            for (int64_t i = 0; i < n; ++i) {
              const float want = kernel->vec_dot(w.data(), xq.data() + i * xq_stride, k);
              ASSERT_EQ(Bits(out[i * kOutStride]), Bits(want))
                  << "k " << k << " fill " << static_cast<int>(fill) << " n " << n << " row " << i
                  << ": " << out[i * kOutStride] << " vs " << want;
              EXPECT_EQ(out[i * kOutStride + 1], -7.0f);
              EXPECT_EQ(out[i * kOutStride + 2], -7.0f);
              ++checked;
            }
          }
        }
      }
    }
  }
  std::printf("vec_dot_rows results checked: %d\n", checked);
}

TEST(Block32Rows, WeightRowsEqualVecDotBitForBit) {
  std::mt19937 rng(15);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int checked = 0;
  for (DType t : kTypes) {
    for (const VecDotKernel* kernel : VecDotKernelsFor(t)) {
      if (kernel->vec_dot_wrows == nullptr) continue;
      SCOPED_TRACE(std::string(kernel->name));
      for (int64_t k : kLengths) {
        constexpr int64_t kMaxRows = 9;
        const size_t w_bytes = DTypeBytes(t, k), w_stride = w_bytes + 2 * DTypeBlockBytes(t);
        std::vector<uint8_t> w(w_stride * kMaxRows, 0xCD);
        for (int64_t j = 0; j < kMaxRows; ++j) {
          const std::vector<uint8_t> row =
              testing::MakeWeightRow(t, k, kFills[j % std::size(kFills)], rng);
          std::memcpy(w.data() + j * w_stride, row.data(), w_bytes);
        }
        std::vector<float> x(k);
        for (float& v : x) v = normal(rng);
        std::vector<uint8_t> xq(kernel->activation_row_bytes(k));
        kernel->quantize_activation(x.data(), xq.data(), k);
        for (int64_t n = 1; n <= kMaxRows; ++n) {
          std::vector<float> out(n + 1, -7.0f);
          kernel->vec_dot_wrows(w.data(), w_stride, n, xq.data(), k, out.data());
          for (int64_t j = 0; j < n; ++j) {
            const float want = kernel->vec_dot(w.data() + j * w_stride, xq.data(), k);
            ASSERT_EQ(Bits(out[j]), Bits(want)) << "k " << k << " n " << n << " row " << j;
            ++checked;
          }
          EXPECT_EQ(out[n], -7.0f);
        }
      }
    }
  }
  std::printf("vec_dot_wrows results checked: %d\n", checked);
}

}  // namespace
}  // namespace gqa::quant
