#include "engine/cli/perplexity_chunks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int32_t> Iota(int n, int first = 100) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

// llama.cpp's default: floor(n / ctx) chunks, BOS substituted first, the
// second half scored from ctx/2 + 1 on.
TEST(PerplexityChunksTest, NonOverlappingChunksScoreTheirSecondHalf) {
  PerplexityPlanOptions o;
  o.context = 8;
  o.bos_id = 1;
  absl::StatusOr<std::vector<PerplexityChunk>> c = PlanPerplexityChunks(Iota(27), o);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 3u);  // 27 / 8; the last 3 tokens are never read
  EXPECT_THAT((*c)[0].tokens, ElementsAre(1, 101, 102, 103, 104, 105, 106, 107));
  EXPECT_THAT((*c)[2].tokens, ElementsAre(1, 117, 118, 119, 120, 121, 122, 123));
  EXPECT_EQ((*c)[2].offset, 16);
  for (const PerplexityChunk& k : *c) {
    EXPECT_EQ(k.first_scored, 5);
    EXPECT_EQ(k.num_scored(), 3);  // 8 - 8/2 - 1
  }
}

TEST(PerplexityChunksTest, NoBosKeepsTheTokensAndOddContextsRoundDown) {
  PerplexityPlanOptions o;
  o.context = 7;
  absl::StatusOr<std::vector<PerplexityChunk>> c = PlanPerplexityChunks(Iota(14), o);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_THAT((*c)[1].tokens, ElementsAre(107, 108, 109, 110, 111, 112, 113));
  EXPECT_EQ((*c)[1].first_scored, 4);  // 7/2 + 1
}

TEST(PerplexityChunksTest, ChunksFlagBoundsTheCount) {
  PerplexityPlanOptions o;
  o.context = 4;
  o.max_chunks = 2;
  absl::StatusOr<std::vector<PerplexityChunk>> c = PlanPerplexityChunks(Iota(40), o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 2u);
}

// llama.cpp --ppl-stride: ceil((n - ctx) / S) windows every S tokens, each
// scoring its last S tokens, no BOS.
TEST(PerplexityChunksTest, StrideWindowsScoreTheirLastStrideTokens) {
  PerplexityPlanOptions o;
  o.context = 8;
  o.stride = 3;
  o.bos_id = 1;
  absl::StatusOr<std::vector<PerplexityChunk>> c = PlanPerplexityChunks(Iota(20), o);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 4u);  // ceil(12 / 3)
  EXPECT_THAT((*c)[1].tokens, ElementsAre(103, 104, 105, 106, 107, 108, 109, 110));
  EXPECT_EQ((*c)[3].offset, 9);
  EXPECT_EQ((*c)[3].tokens.back(), 116);
  EXPECT_EQ((*c)[0].tokens.front(), 100);
  for (const PerplexityChunk& k : *c) EXPECT_EQ(k.first_scored, 5);
}

TEST(PerplexityChunksTest, BadInputsNameTheFlag) {
  PerplexityPlanOptions o;
  o.context = 8;
  EXPECT_THAT(PlanPerplexityChunks(Iota(15), o).status().message(), HasSubstr("needs at least 16"));
  o.stride = 8;
  EXPECT_THAT(PlanPerplexityChunks(Iota(40), o).status().message(), HasSubstr("--stride"));
  o.stride = 0;
  o.context = 2;
  EXPECT_THAT(PlanPerplexityChunks(Iota(40), o).status().message(), HasSubstr("--context"));
}

TEST(PerplexityStatsTest, PerplexityAndErrorAsLlamaCpp) {
  PerplexityStats s;
  EXPECT_EQ(s.Perplexity(), 0);
  const double lp[] = {std::log(0.5), std::log(0.25), std::log(0.125)};
  for (double v : lp) s.Add(v);
  EXPECT_EQ(s.count, 3);
  const double mean = -(lp[0] + lp[1] + lp[2]) / 3;  // 2 ln 2
  EXPECT_DOUBLE_EQ(s.MeanNll(), mean);
  EXPECT_NEAR(s.Perplexity(), 4.0, 1e-12);
  const double var = (lp[0] * lp[0] + lp[1] * lp[1] + lp[2] * lp[2]) / 3 - mean * mean;
  EXPECT_NEAR(s.PerplexityError(), 4.0 * std::sqrt(var / 2), 1e-12);
  PerplexityStats a, b;
  a.Add(lp[0]);
  b.Add(lp[1]);
  b.Add(lp[2]);
  a.Merge(b);
  EXPECT_NEAR(a.Perplexity(), s.Perplexity(), 1e-12);
}

}  // namespace
}  // namespace gqa
