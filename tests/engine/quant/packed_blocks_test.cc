// The packed layout and GEMM kernels (engine/quant/packed_blocks.h):
//  - PackRows moves every byte where block_formats.h's formula says, for
//    Q8_0, Q4_0 and Q4_1, and UnpackRow brings every row back;
//  - the scalar kernel's sums match a double-precision reference written from
//    the row-major format (block32_test_util.h) within fp32 rounding;
//  - every SIMD kernel gives the scalar kernel's bits, for every row count
//    (passes of 8, 4, 2, 1 and their remainders), every length and weight
//    pattern, with padded activation and output strides (entries between the
//    outputs untouched), and a row's result does not depend on the batch.
#include "engine/quant/packed_blocks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"
#include "tests/engine/quant/block32_test_util.h"

namespace gqa::quant {
namespace {

using testing::Fill;

constexpr DType kTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1};
constexpr int64_t kLengths[] = {32, 64, 96, 576, 1536};
constexpr Fill kFills[] = {Fill::kRandom,    Fill::kZero,      Fill::kExtreme,
                           Fill::kHugeScale, Fill::kTinyScale, Fill::kUnitScale};

// 16 * groups random rows of type t, row-major, one weight pattern.
std::vector<uint8_t> MakeRows(DType t, int64_t rows, int64_t k, Fill fill, std::mt19937& rng) {
  std::vector<uint8_t> out;
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<uint8_t> row = testing::MakeWeightRow(t, k, fill, rng);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

// n activation rows of k, quantized by `kernel`, xq_stride apart.
std::vector<uint8_t> MakeActivations(const PackedGemmKernel& kernel, int64_t n, int64_t k,
                                     size_t xq_stride, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint8_t> xq(xq_stride * n, 0xAB);
  std::vector<float> x(k);
  for (int64_t i = 0; i < n; ++i) {
    for (float& v : x) v = normal(rng);
    kernel.quantize_activation(x.data(), xq.data() + i * xq_stride, k);
  }
  return xq;
}

// Equal bits, or both NaN (a NaN's sign and payload may differ by path).
bool SameFloat(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, 4) == 0;
}

TEST(PackedQ4, DTypes) {
  EXPECT_EQ(PackedDType(DType::kQ4_0), DType::kQ4_0x16);
  EXPECT_EQ(PackedDType(DType::kQ4_1), DType::kQ4_1x16);
  EXPECT_EQ(PackedDType(DType::kQ8_0), DType::kQ8_0x16);
  EXPECT_EQ(PackedDType(DType::kQ4_K), DType::kQ4_K);
  for (DType t : kTypes) EXPECT_EQ(RowMajorDType(PackedDType(t)), t);
  EXPECT_EQ(DTypeBytes(DType::kQ8_0x16, 16 * 64), DTypeBytes(DType::kQ8_0, 16 * 64));
  EXPECT_EQ(DTypeBytes(DType::kQ4_1x16, 16 * 64), DTypeBytes(DType::kQ4_1, 16 * 64));
  EXPECT_EQ(DTypeBytes(DType::kQ4_0x16, 16 * 64), DTypeBytes(DType::kQ4_0, 16 * 64));
  EXPECT_TRUE(PackedGemmKernelsFor(DType::kQ4_1).empty());
  EXPECT_EQ(PackedGemmKernelsFor(DType::kQ4_1x16).front()->name, "q4_1x16/scalar");
  EXPECT_EQ(PackedGemmKernelsFor(DType::kQ4_0x16).front()->name, "q4_0x16/scalar");
}

TEST(PackedQ4, PackRowsMovesEveryByteByTheLayout) {
  std::mt19937 rng(1);
  for (DType t : kTypes) {
    const int64_t rows = 32, k = 96, nb = k / 32;
    const size_t block = DTypeBlockBytes(t);
    const std::vector<uint8_t> src = MakeRows(t, rows, k, Fill::kRandom, rng);
    std::vector<uint8_t> dst(src.size(), 0);
    PackRows(t, src.data(), dst.data(), rows, k);
    // Packed block (g, b) is 16 * block bytes: d[16], (m[16]), qs[16 * 16 or 32].
    const size_t qs_off = t == DType::kQ4_1 ? 64 : 32;
    const int groups = t == DType::kQ8_0 ? 8 : 4;
    for (int64_t g = 0; g < rows / 16; ++g) {
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* p = dst.data() + (g * nb + b) * 16 * block;
        for (int r = 0; r < 16; ++r) {
          const uint8_t* s = src.data() + ((g * 16 + r) * nb + b) * block;
          EXPECT_EQ(std::memcmp(p + 2 * r, s, 2), 0) << "d of row " << r;
          if (t == DType::kQ4_1) EXPECT_EQ(std::memcmp(p + 32 + 2 * r, s + 2, 2), 0);
          const uint8_t* qs = s + (t == DType::kQ4_1 ? 4 : 2);
          for (int c = 0; c < groups; ++c) {
            for (int j = 0; j < 4; ++j) {
              ASSERT_EQ(p[qs_off + 64 * c + 4 * r + j], qs[4 * c + j]);
            }
          }
        }
      }
    }
    std::vector<uint8_t> row(DTypeBytes(t, k));
    for (int64_t r = 0; r < rows; ++r) {
      UnpackRow(PackedDType(t), dst.data(), r, k, row.data());
      ASSERT_EQ(std::memcmp(row.data(), src.data() + r * row.size(), row.size()), 0) << r;
    }
  }
}

TEST(PackedQ4, ScalarKernelMatchesADoubleReference) {
  std::mt19937 rng(2);
  for (DType t : kTypes) {
    const PackedGemmKernel& kernel = *PackedGemmKernelsFor(PackedDType(t)).front();
    for (int64_t k : kLengths) {
      const int64_t rows = 16, m = 3;
      const size_t row_bytes = kernel.activation_row_bytes(k);
      const std::vector<uint8_t> w = MakeRows(t, rows, k, Fill::kRandom, rng);
      std::vector<uint8_t> packed(w.size());
      PackRows(t, w.data(), packed.data(), rows, k);
      const std::vector<uint8_t> xq = MakeActivations(kernel, m, k, row_bytes, rng);
      std::vector<float> y(m * rows);
      kernel.gemm16(packed.data(), k, xq.data(), row_bytes, m, y.data(), rows);
      for (int64_t i = 0; i < m; ++i) {
        const std::vector<double> x =
            testing::PackedActivationValues(t, xq.data() + i * row_bytes, k);
        for (int64_t r = 0; r < rows; ++r) {
          const uint8_t* row = w.data() + r * DTypeBytes(t, k);
          const std::vector<double> wd = testing::Dequantize(t, row, k);
          const std::vector<double> mag = testing::Magnitudes(t, row, k);
          double want = 0, bound = 0;
          for (int64_t e = 0; e < k; ++e) {
            want += wd[e] * x[e];
            bound += mag[e] * std::fabs(x[e]);
          }
          EXPECT_NEAR(y[i * rows + r], want, 1e-5 * bound + 1e-30)
              << DTypeName(t) << " k " << k << " row " << r << " x " << i;
        }
      }
    }
  }
}

TEST(PackedQ4, QuantizersWriteTheScalarBytes) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (DType t : kTypes) {
    for (const PackedGemmKernel* kernel : PackedGemmKernelsFor(PackedDType(t))) {
      const int64_t k = 576;
      std::vector<float> x(k);
      for (float& v : x) v = normal(rng);
      std::vector<uint8_t> want(kernel->activation_row_bytes(k)), got(want.size());
      internal::QuantizeQ8x32(x.data(), want.data(), k);
      if (t == DType::kQ8_0) {  // stored plus 128: the sign bit flipped
        for (size_t b = 0; b < want.size(); b += sizeof(BlockQ8x32)) {
          for (size_t i = 8; i < sizeof(BlockQ8x32); ++i) want[b + i] ^= 0x80;
        }
      }
      kernel->quantize_activation(x.data(), got.data(), k);
      EXPECT_EQ(want, got) << kernel->name;
    }
  }
}

TEST(PackedQ4, EverySimdKernelGivesTheScalarBitsAtEveryRowCount) {
  std::mt19937 rng(4);
  int checked = 0;
  for (DType t : kTypes) {
    const std::vector<const PackedGemmKernel*> kernels = PackedGemmKernelsFor(PackedDType(t));
    const PackedGemmKernel& scalar = *kernels.front();
    for (size_t kk = 1; kk < kernels.size(); ++kk) {
      const PackedGemmKernel& simd = *kernels[kk];
      SCOPED_TRACE(std::string(simd.name));
      for (int64_t k : kLengths) {
        for (Fill fill : kFills) {
          const std::vector<uint8_t> w = MakeRows(t, 16, k, fill, rng);
          std::vector<uint8_t> packed(w.size());
          PackRows(t, w.data(), packed.data(), 16, k);
          constexpr int64_t kMaxRows = 19;  // 8 + 8 + 2 + 1: every pass size
          const size_t xq_stride = scalar.activation_row_bytes(k) + 40;  // padded
          const std::vector<uint8_t> xq = MakeActivations(scalar, kMaxRows, k, xq_stride, rng);
          constexpr int64_t kYStride = 21;  // 16 outputs, 5 untouched
          std::vector<float> want(kMaxRows * kYStride, -1.0f);
          scalar.gemm16(packed.data(), k, xq.data(), xq_stride, kMaxRows, want.data(), kYStride);
          for (int64_t m = 1; m <= kMaxRows; ++m) {
            std::vector<float> got(kMaxRows * kYStride, -1.0f);
            simd.gemm16(packed.data(), k, xq.data(), xq_stride, m, got.data(), kYStride);
            for (int64_t i = 0; i < kMaxRows; ++i) {
              for (int64_t r = 0; r < kYStride; ++r) {
                const float expect = i < m && r < 16 ? want[i * kYStride + r] : -1.0f;
                ASSERT_TRUE(SameFloat(got[i * kYStride + r], expect))
                    << "k " << k << " fill " << static_cast<int>(fill) << " m " << m << " row " << i
                    << " col " << r << ": " << got[i * kYStride + r] << " vs " << expect;
              }
            }
            ++checked;
          }
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no SIMD packed kernel on this CPU";
}

}  // namespace
}  // namespace gqa::quant
