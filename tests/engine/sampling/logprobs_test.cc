#include "engine/sampling/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(LogprobsTest, LogSoftmaxMatchesHandComputedValues) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  // log(e + e^2 + e^3) = 3 + log(1 + e^-1 + e^-2) = 3.40760596444438...
  EXPECT_NEAR(LogSumExp(logits), 3.40760596444438, 3e-7);  // float exp terms
  EXPECT_FLOAT_EQ(LogSoftmaxAt(logits, 0), -2.40760596444438f);
  EXPECT_FLOAT_EQ(LogSoftmaxAt(logits, 1), -1.40760596444438f);
  EXPECT_FLOAT_EQ(LogSoftmaxAt(logits, 2), -0.40760596444438f);
  // Probabilities sum to one.
  double sum = 0.0;
  for (int t = 0; t < 3; ++t) sum += std::exp(static_cast<double>(LogSoftmaxAt(logits, t)));
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(LogprobsTest, UniformLogitsGiveMinusLogVocab) {
  const std::vector<float> logits(1000, 0.25f);
  EXPECT_FLOAT_EQ(LogSoftmaxAt(logits, 999), static_cast<float>(-std::log(1000.0)));
}

TEST(LogprobsTest, StableForHugeAndTinyLogits) {
  const std::vector<float> big = {1000.0f, 1000.0f};
  EXPECT_FLOAT_EQ(LogSoftmaxAt(big, 1), static_cast<float>(-std::log(2.0)));
  const std::vector<float> spread = {-1000.0f, 0.0f};
  EXPECT_FLOAT_EQ(LogSoftmaxAt(spread, 0), -1000.0f);
  EXPECT_EQ(LogSoftmaxAt(spread, 1), 0.0f);
  const std::vector<float> masked = {-kInf, 0.0f, 0.0f};
  EXPECT_EQ(LogSoftmaxAt(masked, 0), -kInf);
  EXPECT_FLOAT_EQ(LogSoftmaxAt(masked, 2), static_cast<float>(-std::log(2.0)));
}

TEST(LogprobsTest, EdgeCasesNeverCrash) {
  const std::vector<float> logits = {1.0f, 2.0f};
  EXPECT_EQ(LogSoftmaxAt(logits, -1), -kInf);
  EXPECT_EQ(LogSoftmaxAt(logits, 2), -kInf);
  EXPECT_EQ(LogSumExp(std::span<const float>()), -kInf);
  EXPECT_EQ(LogSoftmaxAt(std::span<const float>(), 0), -kInf);
  EXPECT_TRUE(std::isnan(LogSumExp(std::vector<float>{1.0f, kNaN})));
  EXPECT_EQ(LogSumExp(std::vector<float>{1.0f, kInf}), kInf);
  EXPECT_TRUE(TopLogprobs(std::span<const float>(), 3).empty());
}

TEST(LogprobsTest, TopLogprobsOrderCountAndTies) {
  const std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f, 3.0f};
  const double lse = LogSumExp(logits);
  const auto lp = [&](int t) { return static_cast<float>(logits[t] - lse); };
  // Most likely first; the tie 1 vs 2 goes to the lower id.
  EXPECT_THAT(TopLogprobs(logits, 3),
              ElementsAre(TokenLogprob{4, lp(4)}, TokenLogprob{1, lp(1)}, TokenLogprob{2, lp(2)}));
  EXPECT_THAT(TopLogprobs(logits, 2), ElementsAre(TokenLogprob{4, lp(4)}, TokenLogprob{1, lp(1)}));
  EXPECT_TRUE(TopLogprobs(logits, 0).empty());
  // n beyond the vocab lists the whole vocab, sorted.
  EXPECT_THAT(TopLogprobs(logits, 20),
              ElementsAre(TokenLogprob{4, lp(4)}, TokenLogprob{1, lp(1)}, TokenLogprob{2, lp(2)},
                          TokenLogprob{0, lp(0)}, TokenLogprob{3, lp(3)}));
  // Values agree with LogSoftmaxAt.
  for (const TokenLogprob& t : TopLogprobs(logits, 5)) {
    EXPECT_EQ(t.logprob, LogSoftmaxAt(logits, t.token_id));
  }
}

TEST(LogprobsTest, TopLogprobsSkipsNaN) {
  const std::vector<float> logits = {kNaN, 1.0f, kNaN, 0.0f};
  const auto top = TopLogprobs(logits, 4, /*log_sum_exp=*/0.0);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0], (TokenLogprob{1, 1.0f}));
  EXPECT_EQ(top[1], (TokenLogprob{3, 0.0f}));
}

TEST(LogprobsTest, TopLogprobsMatchFullSortOnLargeVocab) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(128256);
  for (float& x : logits) x = std::round(normal(gen) * 8.0f) / 8.0f;  // many exact ties
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  const auto top = TopLogprobs(logits, 20);
  ASSERT_EQ(top.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(top[i].token_id, order[i]) << i;
    EXPECT_EQ(top[i].logprob, LogSoftmaxAt(logits, order[i])) << i;
  }
}

}  // namespace
}  // namespace gqa
