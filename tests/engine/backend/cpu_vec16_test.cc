// The vector-extension helpers of the CPU kernels: the bf16 load against the
// scalar widening, Exp2 over its whole domain (x <= 0) and Silu over both
// signs against the C library in double, lane by lane, with the edge cases
// their comments promise.
#include "engine/backend/cpu/cpu_vec16.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/common/dtype.h"
#include "gtest/gtest.h"

namespace gqa::cpu {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// f applied to `xs` 16 at a time (the count a multiple of kLanes).
template <typename F>
std::vector<float> Lanewise(const std::vector<float>& xs, F f) {
  std::vector<float> out(xs.size());
  for (size_t i = 0; i < xs.size(); i += kLanes) {
    const Vec16 y = f(LoadUnaligned(&xs[i]));
    std::memcpy(&out[i], &y, sizeof(y));
  }
  return out;
}

// n evenly spaced floats from lo to hi (n a multiple of kLanes).
std::vector<float> Range(float lo, float hi, int n) {
  std::vector<float> xs(n);
  for (int i = 0; i < n; ++i) xs[i] = lo + (hi - lo) * static_cast<float>(i) / (n - 1);
  return xs;
}

// Every bf16 bit pattern widens to the float Bf16ToF32 gives, bit for bit
// (NaN payloads, infinities, subnormals and -0 included), from any alignment.
TEST(CpuVec16Test, Bf16LoadWidensEveryPatternExactly) {
  std::vector<uint16_t> all(65536 + 1);
  for (uint32_t i = 0; i < 65536; ++i) all[i + 1] = static_cast<uint16_t>(i);
  for (size_t i = 1; i < all.size(); i += kLanes) {  // all.data() + 1: 2-byte aligned
    const Vec16 v = LoadUnaligned(&all[i]);
    for (int l = 0; l < kLanes; ++l) {
      const float want = Bf16ToF32(all[i + l]);
      ASSERT_EQ(std::memcmp(&v[l], &want, sizeof(float)), 0) << "bits " << all[i + l];
    }
  }
}

TEST(CpuVec16Test, Exp2MatchesTheLibraryOnItsDomain) {
  const std::vector<float> xs = Range(-126.0f, 0.0f, 16 * 4096);
  const std::vector<float> got = Lanewise(xs, [](Vec16 x) { return Exp2(x); });
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double ref = std::exp2(double{xs[i]});
    worst = std::max(worst, std::abs(got[i] - ref) / ref);
  }
  EXPECT_LT(worst, 2e-7);  // measured 7.2e-8
}

TEST(CpuVec16Test, Exp2EdgeCases) {
  std::vector<float> xs(kLanes, 0.0f);
  xs[1] = -127.0f;  // below the clamp: 0
  xs[2] = -std::numeric_limits<float>::infinity();
  xs[3] = kNaN;
  xs[4] = -1.0f;
  const std::vector<float> got = Lanewise(xs, [](Vec16 x) { return Exp2(x); });
  EXPECT_EQ(got[0], 1.0f);
  EXPECT_EQ(got[1], 0.0f);
  EXPECT_EQ(got[2], 0.0f);
  EXPECT_TRUE(std::isnan(got[3]));
  EXPECT_EQ(got[4], 0.5f);
}

// Relative error of Silu against x / (1 + e^-x) in double; the rounding of
// x log2(e) to float makes it grow with |x| (measured 1.0e-6 at 16, 3.8e-6
// at 80).
TEST(CpuVec16Test, SiluMatchesTheDefinition) {
  for (const float limit : {16.0f, 80.0f}) {
    const std::vector<float> xs = Range(-limit, limit, 16 * 4096);
    const std::vector<float> got = Lanewise(xs, [](Vec16 x) { return Silu(x); });
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double x = xs[i], ref = x / (1.0 + std::exp(-x));
      if (ref != 0) worst = std::max(worst, std::abs(got[i] - ref) / std::abs(ref));
    }
    EXPECT_LT(worst, limit <= 16.0f ? 2e-6 : 8e-6) << "|x| <= " << limit;
  }
}

TEST(CpuVec16Test, SiluEdgeCases) {
  std::vector<float> xs(kLanes, 0.0f);
  xs[1] = -200.0f;  // e^-200 underflows: -0, true value -3e-85
  xs[2] = 200.0f;   // sigmoid 1
  xs[3] = kNaN;
  xs[4] = std::numeric_limits<float>::infinity();
  xs[5] = -0.0f;
  const std::vector<float> got = Lanewise(xs, [](Vec16 x) { return Silu(x); });
  EXPECT_EQ(got[0], 0.0f);
  EXPECT_EQ(got[1], 0.0f);
  EXPECT_EQ(got[2], 200.0f);
  EXPECT_TRUE(std::isnan(got[3]));
  EXPECT_EQ(got[4], std::numeric_limits<float>::infinity());
  EXPECT_EQ(got[5], 0.0f);
}

}  // namespace
}  // namespace gqa::cpu
