// cpu::GemmQuantPacked from Q8_0 / Q4_0 / Q4_1 weights packed 16 rows interleaved
// (engine/quant/packed_blocks.h), with every packed kernel this CPU runs, m across
// the kernel's passes and the driver's row chunks, with and without bias, x
// and y as strided column views:
//  - every element equals, bit for bit, the kernel's own quantize_activation +
//    gemm16 of that one x row (the driver only schedules them, so a row's
//    result does not depend on the batch it is in);
//  - and is within fp32 rounding of a double-precision product of the
//    dequantized weights with the quantized activations;
// and cpu::Gemm and CpuBackend::MatrixLayoutDType choose the packed path where
// a SIMD kernel exists.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/cpu_gemm.h"
#include "engine/backend/cpu/cpu_gemm_quant.h"
#include "engine/quant/packed_blocks.h"
#include "tests/engine/backend/op_test_util.h"
#include "tests/engine/quant/block32_test_util.h"

namespace gqa {
namespace {

using testing::RandomFloats;

// n rows of k: row-major blocks of `t` and the same blocks packed.
struct Weights {
  std::vector<uint8_t> row_major, packed;
};

Weights MakeWeights(DType t, int64_t n, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  Weights w;
  for (int64_t r = 0; r < n; ++r) {
    const std::vector<uint8_t> row =
        quant::testing::MakeWeightRow(t, k, quant::testing::Fill::kRandom, rng);
    w.row_major.insert(w.row_major.end(), row.begin(), row.end());
  }
  w.packed.resize(w.row_major.size());
  quant::PackRows(t, w.row_major.data(), w.packed.data(), n, k);
  return w;
}

class GemmPackedTest : public ::testing::TestWithParam<DType> {};

TEST_P(GemmPackedTest, EveryElementIsTheKernelsOwnRowResult) {
  const DType t = GetParam(), packed_t = quant::PackedDType(t);
  const int64_t k = 512, n = 48, x_stride = k + 24, y_stride = n + 5;
  const Weights wb = MakeWeights(t, n, k, 31);
  const Tensor w = Tensor::Make(const_cast<uint8_t*>(wb.packed.data()), packed_t, {n, k});
  const std::vector<float> bias = RandomFloats(n, 32);
  const size_t row_bytes = DTypeBytes(t, k);
  // Each weight row in double and its magnitudes (the error bound), once.
  std::vector<std::vector<double>> wd(n), mag(n);
  for (int64_t j = 0; j < n; ++j) {
    wd[j] = quant::testing::Dequantize(t, wb.row_major.data() + j * row_bytes, k);
    mag[j] = quant::testing::Magnitudes(t, wb.row_major.data() + j * row_bytes, k);
  }
  for (const quant::PackedGemmKernel* kernel : quant::PackedGemmKernelsFor(packed_t)) {
    for (int64_t m : {1, 3, 8, 15, 32, 33, 70}) {
      for (bool with_bias : {false, true}) {
        SCOPED_TRACE(::testing::Message() << kernel->name << " m=" << m << " bias=" << with_bias);
        std::vector<float> xs = RandomFloats(m * x_stride, 33 + m);
        const Tensor x = Tensor::Make(xs.data(), DType::kF32, {m, x_stride}).Cols(0, k);
        const Tensor b =
            with_bias ? Tensor::Make(const_cast<float*>(bias.data()), DType::kF32, {n}) : Tensor{};
        std::vector<float> got(m * y_stride, testing::kNaN);
        cpu::GemmQuantPacked(
            x, w, b, Tensor::Make(got.data(), DType::kF32, {m, y_stride}).Cols(0, n), *kernel, 2);
        std::vector<char> xq(kernel->activation_row_bytes(k));
        for (int64_t i = 0; i < m; ++i) {
          kernel->quantize_activation(xs.data() + i * x_stride, xq.data(), k);
          const std::vector<double> xd = quant::testing::PackedActivationValues(t, xq.data(), k);
          for (int64_t g = 0; g < n / 16; ++g) {
            float one[16];
            kernel->gemm16(wb.packed.data() + g * 16 * row_bytes, k, xq.data(), 0, 1, one, 16);
            for (int r = 0; r < 16; ++r) {
              const int64_t j = g * 16 + r;
              const float bj = with_bias ? bias[j] : 0.0f;
              ASSERT_EQ(got[i * y_stride + j], one[r] + bj) << i << "," << j;
              double want = bj, bound = std::fabs(bj);
              for (int64_t e = 0; e < k; ++e) {
                want += wd[j][e] * xd[e];
                bound += mag[j][e] * std::fabs(xd[e]);
              }
              EXPECT_NEAR(got[i * y_stride + j], want, 1e-5 * bound) << i << "," << j;
            }
          }
          for (int64_t j = n; j < y_stride; ++j) EXPECT_TRUE(std::isnan(got[i * y_stride + j]));
        }
      }
    }
  }
}

TEST_P(GemmPackedTest, GemmAndTheBackendChooseThePackedPathWhereASimdKernelRunsIt) {
  const DType t = GetParam(), packed_t = quant::PackedDType(t);
  const quant::PackedGemmKernel* kernel = cpu::PackedGemmKernelFor(packed_t);
  CpuBackend backend(2);
  EXPECT_EQ(backend.MatrixLayoutDType(t, 20), t);  // not a multiple of 16 rows
  EXPECT_EQ(backend.MatrixLayoutDType(DType::kQ4_K, 32), DType::kQ4_K);
  if (kernel == nullptr) {
    EXPECT_EQ(backend.MatrixLayoutDType(t, 32), t);
    GTEST_SKIP() << "no SIMD packed kernel on this CPU: the backend keeps the row-major layout";
  }
  EXPECT_EQ(backend.MatrixLayoutDType(t, 32), packed_t);
  const int64_t k = 256, n = 32, m = 5;
  const Weights wb = MakeWeights(t, n, k, 41);
  const Tensor w = Tensor::Make(const_cast<uint8_t*>(wb.packed.data()), packed_t, {n, k});
  std::vector<float> xs = RandomFloats(m * k, 42), got(m * n), want(m * n);
  const Tensor x = Tensor::Make(xs.data(), DType::kF32, {m, k});
  cpu::Gemm(x, w, Tensor{}, Tensor::Make(got.data(), DType::kF32, {m, n}), 2);
  cpu::GemmQuantPacked(x, w, Tensor{}, Tensor::Make(want.data(), DType::kF32, {m, n}), *kernel, 2);
  EXPECT_EQ(got, want);
}

INSTANTIATE_TEST_SUITE_P(Block32, GemmPackedTest,
                         ::testing::Values(DType::kQ8_0, DType::kQ4_0, DType::kQ4_1),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

}  // namespace
}  // namespace gqa
