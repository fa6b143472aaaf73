#include "engine/sampling/vocab_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ExpNonPositiveTest, AccurateOverTheWholeRange) {
  double worst = 0.0;
  for (int i = 0; i <= 8700000; ++i) {
    const float x = -static_cast<float>(i) * 1e-5f;
    const double expected = std::exp(static_cast<double>(x));
    const double rel = std::abs(ExpNonPositive(x) - expected) / expected;
    worst = std::max(worst, rel);
  }
  EXPECT_LT(worst, 2.5e-7);
}

TEST(ExpNonPositiveTest, ExactPointsAndFlushToZero) {
  EXPECT_EQ(ExpNonPositive(0.0f), 1.0f);  // the top token's weight is exactly 1
  EXPECT_EQ(ExpNonPositive(-0.0f), 1.0f);
  EXPECT_EQ(ExpNonPositive(-kInf), 0.0f);
  EXPECT_EQ(ExpNonPositive(-87.5f), 0.0f);
  EXPECT_EQ(ExpNonPositive(-1e30f), 0.0f);
  EXPECT_GT(ExpNonPositive(-86.9f), 0.0f);
}

// Sizes around the 16-lane blocks, so the tails are covered.
class VocabKernelsTest : public ::testing::TestWithParam<int> {};

TEST_P(VocabKernelsTest, MatchScalarReferences) {
  const int n = GetParam();
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = std::sin(static_cast<float>(i) * 0.37f) * 5.0f;
  double ref_max = -kInf;
  for (float v : x) ref_max = std::max<double>(ref_max, v);
  bool has_nan = true;
  const float max = MaxIgnoringNaN(x, &has_nan);
  EXPECT_FALSE(has_nan);
  EXPECT_EQ(max, ref_max);

  double ref_sum = 0.0, ref_at_least = 0.0;
  size_t ref_count = 0;
  std::vector<int> ref_ids;
  for (int i = 0; i < n; ++i) {
    ref_sum += std::exp((static_cast<double>(x[i]) - max) * 0.5);
    if (x[i] >= 1.0f) {
      ref_at_least += x[i];
      ++ref_count;
      ref_ids.push_back(i);
    }
  }
  std::vector<float> out(n);
  EXPECT_NEAR(SumExpShifted(x, max, 0.5f), ref_sum, 1e-6 * (ref_sum + 1));
  EXPECT_EQ(ExpShifted(x, max, 0.5f, out), SumExpShifted(x, max, 0.5f));
  for (int i = 0; i < n; ++i) EXPECT_EQ(out[i], ExpNonPositive((x[i] - max) * 0.5f));
  EXPECT_NEAR(SumAtLeast(x, 1.0f), ref_at_least, 1e-9 * (ref_at_least + 1));
  EXPECT_EQ(CountAtLeast(x, 1.0f), ref_count);
  std::vector<int> ids(n);
  ids.resize(CollectAtLeast(x, 1.0f, ids.data()));
  EXPECT_EQ(ids, ref_ids);

  // FirstIndexOf finds the first occurrence in any block, or nothing.
  for (int i = 0; i < n; ++i) {
    const int first = static_cast<int>(std::find(x.begin(), x.end(), x[i]) - x.begin());
    ASSERT_EQ(FirstIndexOf(x, x[i]), first) << i;
  }
  EXPECT_EQ(FirstIndexOf(x, 100.0f), -1);
}

INSTANTIATE_TEST_SUITE_P(Sizes, VocabKernelsTest, ::testing::Values(0, 1, 15, 16, 17, 33, 1000));

TEST(VocabKernelsTest, MaxSkipsNaNAndReportsIt) {
  std::vector<float> x(40, -1.0f);
  x[7] = kNaN;
  x[33] = 3.0f;
  bool has_nan = false;
  EXPECT_EQ(MaxIgnoringNaN(x, &has_nan), 3.0f);
  EXPECT_TRUE(has_nan);
  EXPECT_EQ(MaxIgnoringNaN(std::vector<float>{kNaN}, &has_nan), -kInf);
  EXPECT_EQ(MaxIgnoringNaN(std::vector<float>{}, &has_nan), -kInf);
  EXPECT_FALSE(has_nan);
}

TEST(VocabKernelsTest, SumInDoubleIsExactForSmallIntegers) {
  std::vector<float> x(100);
  for (int i = 0; i < 100; ++i) x[i] = static_cast<float>(i);
  EXPECT_EQ(SumInDouble(x), 4950.0);
  std::vector<int> ids(3);
  EXPECT_EQ(CollectAtLeast(std::vector<float>{-kInf, 0.0f, -kInf}, -kInf, ids.data()), 3u);
  EXPECT_THAT(ids, ElementsAre(0, 1, 2));
}

TEST(VocabKernelsTest, AnyGreaterAndFirstIndexOfEdgeCases) {
  std::vector<float> x(kBlockLanes, 1.0f);
  EXPECT_FALSE(AnyGreater(x.data(), 1.0f));
  x[kBlockLanes - 1] = 1.5f;
  EXPECT_TRUE(AnyGreater(x.data(), 1.0f));
  x[3] = kNaN;
  EXPECT_FALSE(AnyGreater(x.data(), 2.0f));
  EXPECT_EQ(FirstIndexOf(x, kNaN), -1);  // NaN equals nothing
  EXPECT_EQ(FirstIndexOf(std::vector<float>{}, 0.0f), -1);
  std::vector<float> y(100, 0.0f);
  y[40] = y[90] = 2.0f;
  EXPECT_EQ(FirstIndexOf(y, 2.0f), 40);
}

}  // namespace
}  // namespace gqa
