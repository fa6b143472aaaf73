// Every SIMD K-quant kernel this CPU runs against the scalar reference of the
// same dtype: the same activation bytes, exactly the same result where every
// fp32 step is exact (so the integer parts agree exactly), and within twice
// the fp32 rounding bound on random and extreme blocks.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/quant/block_formats.h"
#include "engine/quant/cpu_features.h"
#include "engine/quant/kquant_kernels.h"
#include "engine/quant/vec_dot.h"
#include "tests/engine/quant/kquant_test_util.h"

namespace gqa::quant {
namespace {

using testing::RandomActivations;
using testing::RandomBlocks;
using testing::RoundingBound;

constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

std::vector<BlockQ8K> Quantize(const VecDotKernel& kernel, const std::vector<float>& x) {
  std::vector<BlockQ8K> xq(x.size() / kBlockK);
  kernel.quantize_activation(x.data(), xq.data(), static_cast<int64_t>(x.size()));
  return xq;
}

// The SIMD kernels of `t` (all but the scalar first); skips when there are none.
std::vector<const VecDotKernel*> SimdKernels(DType t) {
  std::vector<const VecDotKernel*> kernels = VecDotKernelsFor(t);
  kernels.erase(kernels.begin());
  return kernels;
}

TEST(KQuantSimd, KernelsMatchTheCpuFeatures) {
  const CpuFeatures& cpu = HostCpuFeatures();
  for (DType t : kTypes) {
    std::vector<std::string> expected = {std::string(DTypeName(t)) + "/scalar"};
    // AVX2 last: the fastest on the CPUs measured (kquant_kernels.cc).
    if (cpu.avx512_vnni) expected.push_back(std::string(DTypeName(t)) + "/avx512vnni");
    if (cpu.avx2) expected.push_back(std::string(DTypeName(t)) + "/avx2");
    std::vector<std::string> names;
    for (const VecDotKernel* k : VecDotKernelsFor(t)) names.emplace_back(k->name);
    EXPECT_EQ(names, expected);
  }
}

// The SIMD quantizers write exactly the scalar one's bytes: random blocks,
// ties (half-integers after scaling), an all-zero block, a block too small to
// scale (amax < kQ8KMinAmax), one just above it, and denormals.
TEST(KQuantSimd, SameActivationBytes) {
  std::mt19937 rng(21);
  const int64_t k = 7 * kBlockK;
  std::vector<float> x = RandomActivations(k, rng);
  for (int i = 0; i < kBlockK; ++i) {
    x[i] = static_cast<float>(i % 255 - 127) + 0.5f * (i % 2);  // amax 127: ties at .5
    x[2 * kBlockK + i] = 0.0f;
    x[3 * kBlockK + i] = (i % 2 ? 1e-31f : -1e-32f);
    x[4 * kBlockK + i] = (i % 3 ? 2e-30f : -1e-30f) * static_cast<float>(i % 7);
    x[5 * kBlockK + i] = (i % 2 ? 1.0f : -1.0f) * 1e-40f * static_cast<float>(i);
  }
  x[0] = -127.0f;
  for (DType t : kTypes) {
    const VecDotKernel& scalar = *VecDotKernelsFor(t).front();
    const std::vector<BlockQ8K> want = Quantize(scalar, x);
    EXPECT_EQ(want[3].d, 0.0f);
    EXPECT_GT(want[4].d, 0.0f);
    for (const VecDotKernel* kernel : SimdKernels(t)) {
      ASSERT_EQ(kernel->activation_row_bytes(k), scalar.activation_row_bytes(k));
      const std::vector<BlockQ8K> got = Quantize(*kernel, x);
      for (size_t b = 0; b < want.size(); ++b) {
        EXPECT_EQ(std::memcmp(&got[b], &want[b], sizeof(BlockQ8K)), 0)
            << kernel->name << " block " << b;
      }
    }
  }
}

TEST(KQuantSimd, ScalesMinsWordsMatchTheBytes) {
  std::mt19937 rng(24);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int trial = 0; trial < 1000; ++trial) {
    uint8_t packed[12];
    for (uint8_t& v : packed) v = static_cast<uint8_t>(trial == 0 ? 0xFF : byte(rng));
    uint8_t bytes[16];
    internal::UnpackScalesMinsK4(packed, bytes);
    uint64_t words[2];
    internal::UnpackScalesMinsK4Words(packed, words);
    for (int j = 0; j < 16; ++j) {
      EXPECT_EQ(static_cast<uint8_t>(words[j / 8] >> (8 * (j % 8))), bytes[j]) << j;
    }
  }
}

TEST(KQuantSimd, ExactWhereEveryStepIsExact) {
  std::mt19937 rng(22);
  for (DType t : kTypes) {
    const VecDotKernel& scalar = *VecDotKernelsFor(t).front();
    for (int64_t k : {256, 512, 1536, 2048}) {
      for (int row = 0; row < 4; ++row) {
        std::vector<uint8_t> w;
        std::vector<float> x;
        testing::MakeExactRow(t, k, rng, &w, &x);
        const std::vector<BlockQ8K> xq = Quantize(scalar, x);
        const float want = scalar.vec_dot(w.data(), xq.data(), k);
        for (const VecDotKernel* kernel : SimdKernels(t)) {
          EXPECT_EQ(kernel->vec_dot(w.data(), xq.data(), k), want)
              << kernel->name << " k=" << k << " row=" << row;
        }
      }
    }
  }
}

// Both kernels are within RoundingBound of the exact value of the same
// integer sums, so within twice that of each other.
void ExpectClose(DType t, const std::vector<uint8_t>& w, const std::vector<BlockQ8K>& xq, int64_t k,
                 const std::string& what) {
  const VecDotKernel& scalar = *VecDotKernelsFor(t).front();
  const float want = scalar.vec_dot(w.data(), xq.data(), k);
  const double bound = 2.0 * RoundingBound(t, w.data(), xq.data(), k);
  for (const VecDotKernel* kernel : SimdKernels(t)) {
    const float got = kernel->vec_dot(w.data(), xq.data(), k);
    EXPECT_LE(std::fabs(static_cast<double>(got) - want), bound)
        << kernel->name << " " << what << " got=" << got << " want=" << want;
  }
}

TEST(KQuantSimd, RandomBlocksWithinRounding) {
  std::mt19937 rng(23);
  for (DType t : kTypes) {
    for (int64_t k : {256, 512, 1536, 4096}) {
      for (int row = 0; row < 16; ++row) {
        const std::vector<uint8_t> w = RandomBlocks(t, k / kBlockK, rng);
        const std::vector<BlockQ8K> xq =
            Quantize(*VecDotKernelsFor(t).front(), RandomActivations(k, rng));
        ExpectClose(t, w, xq, k, "k=" + std::to_string(k) + " row=" + std::to_string(row));
      }
    }
  }
}

// Extremes: every weight byte 0x00 or 0xFF (all quants, scales and mins at
// their limits; Q6_K's scales -1), 0x80 (Q6_K scales -128), against
// activations all +127, all -127 or alternating, with d = 1 or tiny.
TEST(KQuantSimd, ExtremeBlocks) {
  const int64_t k = 1024;
  for (DType t : kTypes) {
    for (uint8_t fill : {0x00, 0xFF, 0x80, 0x7F}) {
      for (float d : {1.0f, -1.0f, 6.1e-5f}) {
        std::vector<uint8_t> w(DTypeBytes(t, k), fill);
        for (int64_t b = 0; b < k / kBlockK; ++b) {
          uint8_t* blk = w.data() + b * DTypeBlockBytes(t);
          testing::SetHalf(blk + testing::DOffset(t), d);
          if (t != DType::kQ6_K) testing::SetHalf(blk + 2, std::fabs(d));
        }
        for (int pattern = 0; pattern < 3; ++pattern) {
          std::vector<BlockQ8K> xq(k / kBlockK);
          for (BlockQ8K& a : xq) {
            a.d = 1.0f;
            for (int i = 0; i < kBlockK; ++i) {
              a.qs[i] = static_cast<int8_t>(pattern == 0   ? 127
                                            : pattern == 1 ? -127
                                                           : (i % 2 ? 127 : -127));
            }
            for (int j = 0; j < 16; ++j) {
              int s = 0;
              for (int i = 0; i < 16; ++i) s += a.qs[16 * j + i];
              a.bsums[j] = static_cast<int16_t>(s);
            }
          }
          ExpectClose(t, w, xq, k,
                      "fill=" + std::to_string(fill) + " d=" + std::to_string(d) +
                          " pattern=" + std::to_string(pattern));
        }
      }
    }
  }
}

}  // namespace
}  // namespace gqa::quant
