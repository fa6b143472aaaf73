#include "client/loadgen/axis_ticks.h"

#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace gqa::loadgen {
namespace {

// Ticks are built as integer / 10^k, so they equal the decimal literals exactly.
using Ticks = std::vector<double>;

TEST(LinearTicksTest, RoundsOutToNiceSteps) {
  AxisTicks axis = LinearTicks(0, 97);
  EXPECT_EQ(axis.ticks, (Ticks{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(axis.lo, 0);
  EXPECT_EQ(axis.hi, 100);
  EXPECT_EQ(axis.resolution, 20);
  EXPECT_TRUE(axis.minor.empty());

  EXPECT_EQ(LinearTicks(0, 1).ticks, (Ticks{0, 0.2, 0.4, 0.6, 0.8, 1}));
  EXPECT_EQ(LinearTicks(0.25, 1).ticks, (Ticks{0.2, 0.4, 0.6, 0.8, 1}));
  EXPECT_EQ(LinearTicks(0, 1.1).ticks, (Ticks{0, 0.2, 0.4, 0.6, 0.8, 1, 1.2}));
  EXPECT_EQ(LinearTicks(-3, 7).ticks, (Ticks{-4, -2, 0, 2, 4, 6, 8}));
  EXPECT_EQ(LinearTicks(1000, 1010).ticks, (Ticks{1000, 1002, 1004, 1006, 1008, 1010}));
}

TEST(LinearTicksTest, StepGivesTheTickCountClosestToSix) {
  EXPECT_EQ(LinearTicks(0, 5).ticks, (Ticks{0, 1, 2, 3, 4, 5}));           // step 1: 6
  EXPECT_EQ(LinearTicks(0, 7).ticks, (Ticks{0, 2, 4, 6, 8}));              // 1: 8, 2: 5
  EXPECT_EQ(LinearTicks(0, 9).ticks, (Ticks{0, 2, 4, 6, 8, 10}));          // 1: 10, 2: 6
  EXPECT_EQ(LinearTicks(0, 11).ticks, (Ticks{0, 2, 4, 6, 8, 10, 12}));     // 2: 7, 5: 4
  EXPECT_EQ(LinearTicks(0, 30).ticks, (Ticks{0, 5, 10, 15, 20, 25, 30}));  // 5: 7, 10: 4
  EXPECT_EQ(LinearTicks(0, 3.5).ticks, (Ticks{0, 1, 2, 3, 4}));            // 0.5: 8, 1: 5
  EXPECT_EQ(LinearTicks(0.1, 14.9).ticks, (Ticks{0, 5, 10, 15}));          // 2: 9, 5: 4
  EXPECT_EQ(LinearTicks(0.001, 0.0042).ticks, (Ticks{0.001, 0.002, 0.003, 0.004, 0.005}));
  // A tie: step 2 -> 0..14, 8 ticks; step 5 -> 0..15, 4 ticks. The larger step wins.
  EXPECT_EQ(LinearTicks(0, 12.5).ticks, (Ticks{0, 5, 10, 15}));
}

TEST(LinearTicksTest, DegenerateRangeGetsAnAxis) {
  AxisTicks axis = LinearTicks(5, 5);  // widened to [4.5, 5.5]
  EXPECT_EQ(axis.ticks, (Ticks{4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6}));
  EXPECT_EQ(axis.lo, 4.4);
  EXPECT_EQ(axis.hi, 5.6);
  EXPECT_EQ(LinearTicks(0, 0).ticks, (Ticks{-1, -0.5, 0, 0.5, 1}));
  EXPECT_EQ(LinearTicks(-2e6, -2e6).ticks.size(), 5u);
}

TEST(LinearTicksTest, RangeAlwaysCoversTheDataAndIsNonEmpty) {
  const double cases[][2] = {
      {0, 97},          {1e-12, 3e-12}, {1e6, 1e6 + 1e-4},     {-1e300, 1e300},
      {5e-324, 5e-324}, {3, 3},         {123456789, 123456790}};
  for (const auto& c : cases) {
    AxisTicks axis = LinearTicks(c[0], c[1]);
    EXPECT_LE(axis.lo, c[0]) << c[0] << " " << c[1];
    EXPECT_GE(axis.hi, c[1]) << c[0] << " " << c[1];
    EXPECT_LT(axis.lo, axis.hi) << c[0] << " " << c[1];
    ASSERT_GE(axis.ticks.size(), 2u) << c[0] << " " << c[1];
    EXPECT_LE(axis.ticks.size(), 10u) << c[0] << " " << c[1];
  }
}

TEST(LogTicksTest, WideRangesGetDecades) {
  AxisTicks axis = LogTicks(0.3, 4000);
  EXPECT_EQ(axis.ticks, (Ticks{0.1, 1, 10, 100, 1000, 10000}));
  EXPECT_EQ(axis.lo, 0.1);
  EXPECT_EQ(axis.hi, 10000);
  EXPECT_EQ(axis.resolution, 0);
  ASSERT_EQ(axis.minor.size(), 5u * 8u);  // 2..9 in each of 5 decades
  EXPECT_EQ(axis.minor.front(), 0.2);
  EXPECT_EQ(axis.minor[7], 0.9);
  EXPECT_EQ(axis.minor[8], 2);
  EXPECT_EQ(axis.minor.back(), 9000);

  // Exactly 3 whole decades.
  EXPECT_EQ(LogTicks(1, 1000).ticks, (Ticks{1, 10, 100, 1000}));
}

TEST(LogTicksTest, ManyDecadesLabelEveryOther) {
  AxisTicks axis = LogTicks(1e-3, 1e12);  // 15 decades: every 2nd, at even powers
  EXPECT_EQ(axis.ticks, (Ticks{1e-4, 1e-2, 1, 1e2, 1e4, 1e6, 1e8, 1e10, 1e12}));
  EXPECT_EQ(axis.lo, 1e-4);
  EXPECT_EQ(axis.hi, 1e12);
  EXPECT_EQ(axis.minor, (Ticks{1e-3, 1e-1, 10, 1e3, 1e5, 1e7, 1e9, 1e11}));  // decades only
}

TEST(LogTicksTest, NarrowRangesLabel125) {
  AxisTicks axis = LogTicks(12, 35);
  EXPECT_EQ(axis.ticks, (Ticks{10, 20, 50}));
  EXPECT_EQ(axis.minor, (Ticks{30, 40}));
  EXPECT_EQ(axis.lo, 10);
  EXPECT_EQ(axis.hi, 50);

  axis = LogTicks(1.5, 95);
  EXPECT_EQ(axis.ticks, (Ticks{1, 2, 5, 10, 20, 50, 100}));
  EXPECT_EQ(axis.lo, 1);
  EXPECT_EQ(axis.hi, 100);

  axis = LogTicks(0.03, 0.07);
  EXPECT_EQ(axis.ticks, (Ticks{0.02, 0.05, 0.1}));
  EXPECT_EQ(axis.minor, (Ticks{0.03, 0.04, 0.06, 0.07, 0.08, 0.09}));
}

TEST(LogTicksTest, DegenerateRangeGetsAnAxis) {
  AxisTicks axis = LogTicks(100, 100);  // widened to [50, 200]
  EXPECT_EQ(axis.ticks, (Ticks{50, 100, 200}));
  EXPECT_EQ(axis.lo, 50);
  EXPECT_EQ(axis.hi, 200);
  axis = LogTicks(1e-320, 1e-320);  // clamped to 1e-300, still an axis
  EXPECT_LT(axis.lo, axis.hi);
  EXPECT_GE(axis.ticks.size(), 2u);
}

TEST(FormatTickTest, CompactLabels) {
  EXPECT_EQ(FormatTick(0, 20), "0");
  EXPECT_EQ(FormatTick(-0.0, 0.2), "0");
  EXPECT_EQ(FormatTick(0.5, 0.5), "0.5");
  EXPECT_EQ(FormatTick(1, 0.5), "1");
  EXPECT_EQ(FormatTick(0.6, 0.2), "0.6");
  EXPECT_EQ(FormatTick(0.0045, 0.0005), "0.0045");
  EXPECT_EQ(FormatTick(10, 2), "10");
  EXPECT_EQ(FormatTick(-20, 20), "-20");
  EXPECT_EQ(FormatTick(500, 500), "500");
  EXPECT_EQ(FormatTick(1000, 500), "1k");
  EXPECT_EQ(FormatTick(1500, 500), "1.5k");
  EXPECT_EQ(FormatTick(1002, 2), "1.002k");
  EXPECT_EQ(FormatTick(2500000, 500000), "2.5M");
  EXPECT_EQ(FormatTick(-3e9, 1e9), "-3G");
  EXPECT_EQ(FormatTick(4e12, 1e12), "4T");
  // Log ticks (resolution 0): the shortest exact form.
  EXPECT_EQ(FormatTick(0.001, 0), "0.001");
  EXPECT_EQ(FormatTick(1e-4, 0), "0.0001");
  EXPECT_EQ(FormatTick(1e-4, 1e-4), "0.0001");
  EXPECT_EQ(FormatTick(0.02, 0), "0.02");
  EXPECT_EQ(FormatTick(10000, 0), "10k");
  EXPECT_EQ(FormatTick(2e5, 0), "200k");
  EXPECT_EQ(FormatTick(1e6, 0), "1M");
  EXPECT_EQ(FormatTick(std::numeric_limits<double>::quiet_NaN(), 1), "");
}

}  // namespace
}  // namespace gqa::loadgen
