// Every SIMD Q8_0 / Q4_0 / Q4_1 kernel this CPU runs, against the scalar
// reference of its dtype: the same activation bytes, exact integer parts
// (rows whose every term is an integer below 2^24 give identical floats),
// and on random rows a result within the fp32 rounding bound of both kernels
// (block32_scalar_test.cc derives it). Kernels the CPU lacks are not listed by
// the registry, so on an older CPU this covers fewer of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/quant/block_formats.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/vec_dot.h"
#include "tests/engine/quant/block32_test_util.h"

namespace gqa::quant {
namespace {

using testing::Fill;

constexpr double kU = 1.0 / (1 << 24);
constexpr DType kTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1};
constexpr int64_t kLengths[] = {32, 64, 96, 160, 224, 576, 1536, 4096};  // every tail

// (scalar, simd) pairs of every dtype.
std::vector<std::pair<const VecDotKernel*, const VecDotKernel*>> SimdKernels() {
  std::vector<std::pair<const VecDotKernel*, const VecDotKernel*>> out;
  for (DType t : kTypes) {
    const std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(t);
    for (size_t i = 1; i < kernels.size(); ++i) out.emplace_back(kernels[0], kernels[i]);
  }
  return out;
}

std::vector<uint8_t> Quantize(const VecDotKernel& kernel, const std::vector<float>& x) {
  const int64_t k = static_cast<int64_t>(x.size());
  std::vector<uint8_t> xq(kernel.activation_row_bytes(k));
  kernel.quantize_activation(x.data(), xq.data(), k);
  return xq;
}

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

// Weight scales 1 (and Q4_1's m -3): every term an integer.
void SetUnitScales(DType t, std::vector<uint8_t>& row) {
  const size_t block_bytes = DTypeBlockBytes(t);
  const uint16_t one = F32ToF16(1.0f), m = F32ToF16(-3.0f);
  for (size_t off = 0; off < row.size(); off += block_bytes) {
    std::memcpy(&row[off], &one, 2);
    if (t == DType::kQ4_1) std::memcpy(&row[off + 2], &m, 2);
  }
}

double ExactDot(DType t, const std::vector<uint8_t>& w, const std::vector<float>& x) {
  const std::vector<double> wd = testing::Dequantize(t, w.data(), static_cast<int64_t>(x.size()));
  double exact = 0;
  for (size_t i = 0; i < x.size(); ++i) exact += wd[i] * x[i];
  return exact;
}

TEST(Block32Simd, ListsTheKernelsThisCpuRuns) {
  for (const auto& [scalar, simd] : SimdKernels()) {
    EXPECT_EQ(simd->weight, scalar->weight);
    EXPECT_NE(simd->name.find('/'), std::string_view::npos);
  }
  std::printf("SIMD block32 kernels on this CPU: %zu\n", SimdKernels().size());
}

TEST(Block32Simd, QuantizesToTheSameBytes) {
  std::mt19937 rng(3);
  std::vector<std::vector<float>> rows;
  for (int64_t k : kLengths) rows.push_back(RandomActivations(k, rng));
  std::vector<float> edge(160, 0.0f);  // zero block, ties, tiny, huge
  for (int i = 32; i < 64; ++i) edge[i] = static_cast<float>(i - 48) + 0.5f;  // ties at d = 1...
  edge[63] = 127.0f;                                                          // ...given max 127
  for (int i = 64; i < 96; ++i) edge[i] = (i % 3 - 1) * 1e-30f;
  for (int i = 96; i < 128; ++i) edge[i] = (i % 5 - 2) * 1e30f;
  for (int i = 128; i < 160; ++i) edge[i] = i == 130 ? -3.0f : 0.0f;
  rows.push_back(edge);
  // Subnormal x (zero blocks), max |x| just above and below 127 FLT_MIN, and
  // subnormal x next to a normal max.
  std::vector<float> denormal(128);
  for (int i = 0; i < 128; ++i) denormal[i] = (i % 7 - 3) * (i < 32 ? 1e-40f : 1e-3f);
  for (int i = 64; i < 128; ++i) denormal[i] = (i % 5 - 2) * 1e-39f;
  denormal[64] = 127.0f * std::numeric_limits<float>::min();  // d = FLT_MIN: kept
  denormal[96] = 126.0f * std::numeric_limits<float>::min();  // d < FLT_MIN: zero
  rows.push_back(denormal);
  // Exact ties x / d = n + 0.5 at every magnitude: d = 2^e, max |x| = 127 d.
  std::vector<float> ties(32 * 40);
  for (int b = 0; b < 40; ++b) {
    const float d = std::ldexp(1.0f, b - 20);
    for (int i = 0; i < 32; ++i) ties[b * 32 + i] = d * ((i * 37 % 253) - 126.5f);
    ties[b * 32 + 5] = -127.0f * d;
  }
  rows.push_back(ties);
  for (const auto& [scalar, simd] : SimdKernels()) {
    for (const std::vector<float>& x : rows) {
      EXPECT_EQ(Quantize(*simd, x), Quantize(*scalar, x)) << simd->name << " k=" << x.size();
    }
  }
}

// A non-finite x makes its own block's bytes unspecified (block32_kernels.h),
// never the other blocks', and never undefined behaviour.
TEST(Block32Simd, NonFiniteActivationsStayInTheirBlock) {
  std::vector<float> x(128);
  for (int i = 0; i < 128; ++i) x[i] = static_cast<float>(i % 11) - 5.0f;
  x[40] = std::numeric_limits<float>::infinity();
  x[70] = std::numeric_limits<float>::quiet_NaN();
  for (DType t : kTypes) {
    for (const VecDotKernel* kernel : VecDotKernelsFor(t)) {
      const std::vector<uint8_t> got = Quantize(*kernel, x);
      const std::vector<uint8_t> want = Quantize(*VecDotKernelsFor(t).front(), x);
      const size_t block = sizeof(BlockQ8x32);
      EXPECT_TRUE(std::equal(got.begin(), got.begin() + block, want.begin())) << kernel->name;
      EXPECT_TRUE(std::equal(got.begin() + 3 * block, got.end(), want.begin() + 3 * block))
          << kernel->name;
    }
  }
}

TEST(Block32Simd, RandomRowsAgreeWithScalarWithinRounding) {
  std::mt19937 rng(5);
  for (const auto& [scalar, simd] : SimdKernels()) {
    const DType t = simd->weight;
    for (int64_t k : kLengths) {
      for (Fill fill :
           {Fill::kRandom, Fill::kZero, Fill::kExtreme, Fill::kHugeScale, Fill::kTinyScale}) {
        const std::vector<uint8_t> w = testing::MakeWeightRow(t, k, fill, rng);
        const std::vector<float> x = RandomActivations(k, rng);
        const std::vector<uint8_t> xq = Quantize(*scalar, x);
        const float want = scalar->vec_dot(w.data(), xq.data(), k);
        const float got = simd->vec_dot(w.data(), xq.data(), k);
        // Both within (nb + 10) u M of the exact dot of the quantized values.
        const std::vector<double> mag = testing::Magnitudes(t, w.data(), k);
        const std::vector<double> xd = testing::DequantizeQ8x32(xq.data(), k);
        double m = 0;
        for (int64_t i = 0; i < k; ++i) m += mag[i] * std::fabs(xd[i]);
        const double bound = 2 * (static_cast<double>(k / 32) + 10) * kU * m;
        EXPECT_LE(std::fabs(static_cast<double>(got) - want), bound)
            << simd->name << " k=" << k << " fill=" << static_cast<int>(fill);
        if (fill == Fill::kZero) {
          EXPECT_EQ(got, 0.0f) << simd->name;
        }
      }
    }
  }
}

// Integer activations with max |x| = 127 per block (so dx = 1) and unit weight
// scales: exact in every kernel. Random and extreme quants.
TEST(Block32Simd, IntegerRowsAreExact) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> q(-127, 127);
  for (const auto& [scalar, simd] : SimdKernels()) {
    const DType t = simd->weight;
    for (int64_t k : kLengths) {
      for (Fill fill : {Fill::kUnitScale, Fill::kExtreme}) {
        std::vector<uint8_t> w = testing::MakeWeightRow(t, k, fill, rng);
        SetUnitScales(t, w);
        std::vector<float> x(k);
        for (float& v : x) v = static_cast<float>(q(rng));
        for (int64_t b = 0; b < k / 32; ++b) x[b * 32 + (b * 7) % 32] = b % 2 ? 127.0f : -127.0f;
        const double exact = ExactDot(t, w, x);
        ASSERT_LT(std::fabs(exact), 1 << 24);
        const std::vector<uint8_t> xq = Quantize(*scalar, x);
        EXPECT_EQ(simd->vec_dot(w.data(), xq.data(), k), exact) << simd->name << " k=" << k;
        EXPECT_EQ(scalar->vec_dot(w.data(), xq.data(), k), exact) << scalar->name << " k=" << k;
      }
    }
  }
}

// The largest products of every format, all of one sign (no int16 saturation
// in the u8 x s8 pair sums): weights -128 (Q8_0) or nibble 15, x = +-127.
TEST(Block32Simd, LargestProductsOfOneSignAreExact) {
  std::mt19937 rng(1);
  for (const auto& [scalar, simd] : SimdKernels()) {
    const DType t = simd->weight;
    for (int64_t k : {32, 64, 96, 1024}) {  // sums below 2^24
      std::vector<uint8_t> w = testing::MakeWeightRow(t, k, Fill::kZero, rng);
      const size_t block_bytes = DTypeBlockBytes(t);
      const size_t q_off = t == DType::kQ4_1 ? 4 : 2;
      for (size_t off = 0; off < w.size(); off += block_bytes) {
        std::memset(&w[off + q_off], t == DType::kQ8_0 ? 0x80 : 0xFF, block_bytes - q_off);
      }
      SetUnitScales(t, w);
      for (float sign : {1.0f, -1.0f}) {
        const std::vector<float> x(k, sign * 127.0f);
        const double exact = ExactDot(t, w, x);
        const std::vector<uint8_t> xq = Quantize(*scalar, x);
        EXPECT_EQ(simd->vec_dot(w.data(), xq.data(), k), exact) << simd->name << " k=" << k;
        EXPECT_EQ(scalar->vec_dot(w.data(), xq.data(), k), exact) << scalar->name << " k=" << k;
      }
    }
  }
}

// dequantize_row: every SIMD kernel has one, and it writes the floats
// DequantizeRow writes, bit for bit, on every fill (fp16 subnormal and huge
// scales, extreme quants, Q4_1 mins of either sign) and every length.
TEST(Block32Simd, DequantizesRowsBitForBit) {
  std::mt19937 rng(11);
  for (const auto& [scalar, simd] : SimdKernels()) {
    ASSERT_NE(simd->dequantize_row, nullptr) << simd->name;
    const DType t = simd->weight;
    for (int64_t k : kLengths) {
      for (Fill fill : {Fill::kRandom, Fill::kZero, Fill::kExtreme, Fill::kHugeScale,
                        Fill::kTinyScale, Fill::kUnitScale}) {
        const std::vector<uint8_t> w = testing::MakeWeightRow(t, k, fill, rng);
        std::vector<float> want(k), got(k, -1.0f);
        DequantizeRow(t, w.data(), want.data(), k);
        simd->dequantize_row(w.data(), got.data(), k);
        EXPECT_EQ(std::memcmp(got.data(), want.data(), k * sizeof(float)), 0)
            << simd->name << " k=" << k << " fill=" << static_cast<int>(fill);
      }
    }
  }
}

}  // namespace
}  // namespace gqa::quant
