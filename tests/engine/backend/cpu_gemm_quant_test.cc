// cpu::GemmQuant from compact weights, for every dtype and every kernel this
// CPU runs (scalar and SIMD), both paths (the per-row dot path for small m,
// the dequantized-tile sgemm path for large m), m from 1 to past the
// crossover, with and without bias, x and y as strided column views:
//  - the dot path equals, bit for bit, the kernel's own quantize_activation +
//    vec_dot for every element (the driver only schedules them);
//  - both paths agree with a double-precision GEMM of the dequantized weights
//    within the error the activations' quantization allows: an int8 block
//    with scale amax/127 moves each x by at most amax/254, so element j errs
//    by at most sum over blocks b of amax_b/254 * sum_{i in b} |w_ji| (block
//    of 32 for Q8_0/Q4_0/Q4_1, 256 for the K-quants); a bf16/f16 kernel
//    rounds x to at worst bf16, 2^-8 * sum |w x|; plus fp32 summation.
#include "engine/backend/cpu/cpu_gemm_quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/backend/cpu/cpu_gemm.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/vec_dot.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa {
namespace {

using testing::RandomFloats;

constexpr DType kDTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ4_K,
                             DType::kQ5_K, DType::kQ6_K, DType::kBF16, DType::kF16};

// Byte offsets of the fp16 scale fields in a block (random bytes elsewhere
// are valid quants and sub-block scales).
std::vector<int> HalfFields(DType t) {
  switch (t) {
    case DType::kQ4_1:
    case DType::kQ4_K:
    case DType::kQ5_K:
      return {0, 2};
    case DType::kQ6_K:
      return {208};
    default:
      return {0};
  }
}

// n rows of k random elements of `t`: plain types from uniform floats, block
// types from random bytes with fp16 scales of a sane size (no inf/NaN).
std::vector<uint8_t> RandomWeights(DType t, int64_t n, int64_t k, uint32_t seed) {
  std::vector<uint8_t> bytes(DTypeBytes(t, n * k));
  if (!IsQuantized(t)) {
    const std::vector<float> f = RandomFloats(n * k, seed);
    ConvertFromF32(f.data(), t, bytes.data(), n * k);
    return bytes;
  }
  std::mt19937 rng(seed);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(0.001f, 0.02f);
  for (size_t off = 0; off < bytes.size(); off += DTypeBlockBytes(t)) {
    for (int f : HalfFields(t)) {
      const uint16_t h = F32ToF16(scale(rng));
      std::memcpy(&bytes[off + f], &h, 2);
    }
  }
  return bytes;
}

int ActivationBlock(DType t) {
  if (t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K) return 256;
  return IsQuantized(t) ? 32 : 0;  // 0: a float kernel
}

struct Case {
  int64_t m;
  bool bias;
};

class GemmQuantTest : public ::testing::TestWithParam<DType> {};

TEST_P(GemmQuantTest, BothPathsMatchDequantizedGemmWithinActivationError) {
  const DType t = GetParam();
  const std::vector<const quant::VecDotKernel*> kernels = quant::VecDotKernelsFor(t);
  if (kernels.empty()) GTEST_SKIP() << "no kernel computes from " << DTypeName(t) << " yet";
  const int64_t k = 512, n = 37, x_stride = k + 24, y_stride = n + 5;
  const std::vector<uint8_t> w_bytes = RandomWeights(t, n, k, 11);
  const Tensor w = Tensor::Make(const_cast<uint8_t*>(w_bytes.data()), t, {n, k});
  std::vector<float> wf(n * k);
  quant::DequantizeRow(t, w_bytes.data(), wf.data(), n * k);
  const std::vector<float> bias = RandomFloats(n, 12);
  const int64_t big = cpu::QuantDotMaxRows(t) + 9;
  const std::vector<Case> cases = {{1, false},
                                   {1, true},
                                   {3, true},
                                   {cpu::QuantDotMaxRows(t), false},
                                   {cpu::QuantDotMaxRows(t) + 1, true},
                                   {big, false},
                                   {big, true}};
  for (const quant::VecDotKernel* kernel : kernels) {
    for (const Case& c : cases) {
      SCOPED_TRACE(::testing::Message() << kernel->name << " m=" << c.m << " bias=" << c.bias);
      std::vector<float> xs = RandomFloats(c.m * x_stride, 13 + c.m);
      const Tensor x = Tensor::Make(xs.data(), DType::kF32, {c.m, x_stride}).Cols(0, k);
      const Tensor b =
          c.bias ? Tensor::Make(const_cast<float*>(bias.data()), DType::kF32, {n}) : Tensor{};
      std::vector<float> dot(c.m * y_stride, testing::kNaN), tiled = dot;
      const Tensor y_dot = Tensor::Make(dot.data(), DType::kF32, {c.m, y_stride}).Cols(0, n);
      const Tensor y_tiled = Tensor::Make(tiled.data(), DType::kF32, {c.m, y_stride}).Cols(0, n);
      cpu::GemmQuantDot(x, w, b, y_dot, *kernel, 2);
      cpu::GemmQuantTiled(x, w, b, y_tiled, 2);

      std::vector<char> xq(kernel->activation_row_bytes(k));
      for (int64_t i = 0; i < c.m; ++i) {
        const float* xi = xs.data() + i * x_stride;
        kernel->quantize_activation(xi, xq.data(), k);
        for (int64_t j = 0; j < n; ++j) {
          const float* wj = wf.data() + j * k;
          // The dot path: the kernel's own result, exactly.
          const float expect =
              kernel->vec_dot(w_bytes.data() + DTypeBytes(t, j * k), xq.data(), k) +
              (c.bias ? bias[j] : 0.0f);
          ASSERT_EQ(dot[i * y_stride + j], expect) << i << "," << j;
          // Both paths against the double reference.
          double ref = c.bias ? bias[j] : 0.0, abs_sum = std::abs(ref), act_err = 0;
          const int block = ActivationBlock(t);
          for (int64_t p0 = 0; p0<k; p0 += block> 0 ? block : k) {
            const int64_t p1 = block > 0 ? p0 + block : k;
            double amax = 0, wsum = 0;
            for (int64_t p = p0; p < p1; ++p) {
              ref += static_cast<double>(wj[p]) * xi[p];
              abs_sum += std::abs(static_cast<double>(wj[p]) * xi[p]);
              amax = std::max(amax, std::abs(static_cast<double>(xi[p])));
              wsum += std::abs(wj[p]);
            }
            act_err += block > 0 ? amax / 254 * wsum : 0;
          }
          if (block == 0) act_err = std::ldexp(abs_sum, -8);
          const double fp32_err = 2 * k * std::ldexp(abs_sum, -24);
          EXPECT_NEAR(dot[i * y_stride + j], ref, act_err + fp32_err) << i << "," << j;
          EXPECT_NEAR(tiled[i * y_stride + j], ref, fp32_err) << i << "," << j;
        }
        // Columns past n (the strided view's gap) are untouched.
        for (int64_t j = n; j < y_stride; ++j) {
          EXPECT_TRUE(std::isnan(dot[i * y_stride + j]));
          EXPECT_TRUE(std::isnan(tiled[i * y_stride + j]));
        }
      }
    }
  }
}

// cpu::Gemm dispatches on the weight's dtype: the best kernel's dot path for
// small m, the tiled path above the crossover.
TEST_P(GemmQuantTest, GemmDispatchesCompactWeights) {
  const DType t = GetParam();
  const quant::VecDotKernel* kernel = cpu::GemmKernelFor(t);
  if (kernel == nullptr) GTEST_SKIP() << "no kernel computes from " << DTypeName(t) << " yet";
  const int64_t k = 256, n = 20;
  const std::vector<uint8_t> w_bytes = RandomWeights(t, n, k, 21);
  const Tensor w = Tensor::Make(const_cast<uint8_t*>(w_bytes.data()), t, {n, k});
  for (int64_t m : {int64_t{1}, int64_t{cpu::QuantDotMaxRows(t) + 3}}) {
    std::vector<float> xs = RandomFloats(m * k, 22);
    const Tensor x = Tensor::Make(xs.data(), DType::kF32, {m, k});
    std::vector<float> got(m * n), want(m * n);
    cpu::Gemm(x, w, Tensor{}, Tensor::Make(got.data(), DType::kF32, {m, n}), 2);
    const Tensor y_want = Tensor::Make(want.data(), DType::kF32, {m, n});
    if (m <= cpu::QuantDotMaxRows(t)) {
      cpu::GemmQuantDot(x, w, Tensor{}, y_want, *kernel, 2);
    } else {
      cpu::GemmQuantTiled(x, w, Tensor{}, y_want, 2);
    }
    EXPECT_EQ(got, want) << "m=" << m;
  }
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, GemmQuantTest, ::testing::ValuesIn(kDTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

}  // namespace
}  // namespace gqa
