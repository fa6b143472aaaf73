#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics/histogram.h"

namespace gqa::metrics {
namespace {

using ::testing::ElementsAre;

HistogramSnapshot Snapshot(const Histogram& h) {
  SeriesSnapshot s;
  h.Collect(&s);
  return s.histogram;
}

TEST(HistogramTest, BucketsAreLessOrEqualAndCumulative) {
  Histogram h({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, -1.0}) h.Observe(v);
  const HistogramSnapshot s = Snapshot(h);
  EXPECT_THAT(s.upper_bounds, ElementsAre(1, 2, 4));
  // le=1: 0.5 1 -1; le=2: +1.5 2; le=4: +3 4; +Inf: +5.
  EXPECT_THAT(s.cumulative_counts, ElementsAre(3, 5, 7, 8));
  EXPECT_EQ(s.count, 8u);
  EXPECT_EQ(s.sum, 16.0);
}

TEST(HistogramTest, NanIsIgnoredInfinityCountsInLastBucket) {
  Histogram h({1});
  h.Observe(std::nan(""));
  h.Observe(std::numeric_limits<double>::infinity());
  const HistogramSnapshot s = Snapshot(h);
  EXPECT_THAT(s.cumulative_counts, ElementsAre(0, 1));
  EXPECT_EQ(s.count, 1u);
  EXPECT_TRUE(std::isinf(s.sum));
}

TEST(HistogramTest, NoBoundsMeansOnlyInf) {
  Histogram h({});
  h.Observe(3);
  EXPECT_THAT(Snapshot(h).cumulative_counts, ElementsAre(1));
}

TEST(HistogramTest, ValidateBounds) {
  EXPECT_TRUE(Histogram::ValidateBounds({}).ok());
  EXPECT_TRUE(Histogram::ValidateBounds({-1, 0, 0.5}).ok());
  EXPECT_FALSE(Histogram::ValidateBounds({1, 1}).ok());
  EXPECT_FALSE(Histogram::ValidateBounds({2, 1}).ok());
  EXPECT_FALSE(Histogram::ValidateBounds({1, std::numeric_limits<double>::infinity()}).ok());
  EXPECT_FALSE(Histogram::ValidateBounds({std::nan("")}).ok());
}

TEST(HistogramTest, BucketLayouts) {
  EXPECT_THAT(PowersOfTwoBuckets(16), ElementsAre(1, 2, 4, 8, 16));
  EXPECT_THAT(PowersOfTwoBuckets(20), ElementsAre(1, 2, 4, 8, 16));
  EXPECT_THAT(ExponentialBuckets(0.5, 2, 4), ElementsAre(0.5, 1, 2, 4));
}

}  // namespace
}  // namespace gqa::metrics
