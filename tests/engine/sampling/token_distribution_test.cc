#include "engine/sampling/token_distribution.h"

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
using ::testing::FloatNear;
using ::testing::Pointwise;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> Log(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

// Most likely: token 1 (0.5), 3 (0.25), then 0 and 2 (0.125 each; 0 wins the tie).
const std::vector<float> kQuarters = Log({0.125, 0.5, 0.125, 0.25});

std::vector<float> Probs(std::span<const float> logits, const FilterParams& params) {
  TokenDistribution distribution;
  distribution.Build(logits, params);
  std::vector<float> probs(logits.size());
  distribution.Scatter(probs);
  return probs;
}

std::vector<float> Softmax(const std::vector<double>& logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (double x : logits) sum += std::exp(x - max);
  std::vector<float> out;
  for (double x : logits) out.push_back(static_cast<float>(std::exp(x - max) / sum));
  return out;
}

auto Near(const std::vector<float>& expected) { return Pointwise(FloatNear(1e-6f), expected); }

TEST(ArgMaxTest, LowestIndexOnTiesAndNaNNeverWins) {
  EXPECT_EQ(ArgMax(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}), 1);
  EXPECT_EQ(ArgMax(std::vector<float>{kNaN, 1.0f, kNaN, 1.0f}), 1);
  EXPECT_EQ(ArgMax(std::vector<float>{-kInf, -kInf}), 0);
  EXPECT_EQ(ArgMax(std::vector<float>{kNaN, kNaN}), 0);
  EXPECT_EQ(ArgMax(std::vector<float>{}), -1);
}

TEST(TokenDistributionTest, NoFiltersIsSoftmax) {
  EXPECT_THAT(Probs(std::vector<float>{1.0f, 2.0f, 3.0f}, {}), Near(Softmax({1, 2, 3})));
}

TEST(TokenDistributionTest, TemperatureScalesLogits) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  EXPECT_THAT(Probs(logits, {.temperature = 0.5f}), Near(Softmax({2, 4, 6})));
  EXPECT_THAT(Probs(logits, {.temperature = 2.0f}), Near(Softmax({0.5, 1, 1.5})));
  // Extremes stay finite: a tiny T is argmax, a huge T is uniform.
  EXPECT_THAT(Probs(logits, {.temperature = 1e-40f}), ElementsAre(0.0f, 0.0f, 1.0f));
  EXPECT_THAT(Probs(logits, {.temperature = 1e30f}), Near({1 / 3.0f, 1 / 3.0f, 1 / 3.0f}));
}

TEST(TokenDistributionTest, TopKKeepsExactlyTheKBest) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.0f};
  const float z = std::exp(3.0f) + std::exp(2.0f);
  EXPECT_THAT(Probs(logits, {.top_k = 2}),
              Near({0.0f, std::exp(3.0f) / z, std::exp(2.0f) / z, 0.0f}));
  EXPECT_THAT(Probs(logits, {.top_k = 1}), ElementsAre(0.0f, 1.0f, 0.0f, 0.0f));
  // k >= vocab, 0 and -1 are all "off".
  for (int k : {4, 100, 0, -1}) {
    EXPECT_THAT(Probs(logits, {.top_k = k}), Near(Softmax({1, 3, 2, 0}))) << k;
  }
}

TEST(TokenDistributionTest, TopKTiesGoToLowerIds) {
  const std::vector<float> logits = {1.0f, 2.0f, 2.0f, 2.0f};
  EXPECT_THAT(Probs(logits, {.top_k = 2}), ElementsAre(0.0f, 0.5f, 0.5f, 0.0f));
}

TEST(TokenDistributionTest, TopPKeepsTheMinimalNucleusIncludingTheCrossingToken) {
  // Below 0.5 the top token alone reaches top_p.
  EXPECT_THAT(Probs(kQuarters, {.top_p = 0.49f}), ElementsAre(0.0f, 1.0f, 0.0f, 0.0f));
  // 0.5 < 0.51: the second token is needed (and is the one crossing top_p).
  EXPECT_THAT(Probs(kQuarters, {.top_p = 0.51f}), Near({0.0f, 2 / 3.0f, 0.0f, 1 / 3.0f}));
  EXPECT_THAT(Probs(kQuarters, {.top_p = 0.7f}), Near({0.0f, 2 / 3.0f, 0.0f, 1 / 3.0f}));
  // 0.75 < 0.8: one of the 0.125 tokens crosses; the tie goes to token 0.
  EXPECT_THAT(Probs(kQuarters, {.top_p = 0.8f}), Near({1 / 7.0f, 4 / 7.0f, 0.0f, 2 / 7.0f}));
  EXPECT_THAT(Probs(kQuarters, {.top_p = 0.9f}), Near({0.125f, 0.5f, 0.125f, 0.25f}));
}

TEST(TokenDistributionTest, TopPIsOverTheRenormalizedTopK) {
  // Without top-k, 0.6 needs two tokens (0.5 < 0.6). After top_k = 2 the top token has
  // 0.5 / 0.75 = 0.67 >= 0.6 of the survivors' mass, so it is alone.
  EXPECT_THAT(Probs(kQuarters, {.top_p = 0.6f}), Near({0.0f, 2 / 3.0f, 0.0f, 1 / 3.0f}));
  EXPECT_THAT(Probs(kQuarters, {.top_k = 2, .top_p = 0.6f}), ElementsAre(0.0f, 1.0f, 0.0f, 0.0f));
  EXPECT_THAT(Probs(kQuarters, {.top_k = 3, .top_p = 0.9f}),
              Near({1 / 7.0f, 4 / 7.0f, 0.0f, 2 / 7.0f}));
}

TEST(TokenDistributionTest, MinPKeepsTokensAboveAFractionOfTheTop) {
  // p_max = 0.5: min_p 0.26 -> threshold 0.13 drops the 0.125 tokens; 0.24 -> 0.12 keeps all.
  EXPECT_THAT(Probs(kQuarters, {.min_p = 0.26f}), Near({0.0f, 2 / 3.0f, 0.0f, 1 / 3.0f}));
  EXPECT_THAT(Probs(kQuarters, {.min_p = 0.24f}), Near({0.125f, 0.5f, 0.125f, 0.25f}));
  EXPECT_THAT(Probs(kQuarters, {.min_p = 0.51f}), ElementsAre(0.0f, 1.0f, 0.0f, 0.0f));
  EXPECT_THAT(Probs(kQuarters, {.min_p = 1.0f}), ElementsAre(0.0f, 1.0f, 0.0f, 0.0f));
  // Same on the sorted path (after a top-p that keeps everything).
  EXPECT_THAT(Probs(kQuarters, {.top_p = 0.99f, .min_p = 0.26f}),
              Near({0.0f, 2 / 3.0f, 0.0f, 1 / 3.0f}));
}

TEST(TokenDistributionTest, TemperatureIsAppliedBeforeFilters) {
  // T = 0.5 squares the probabilities: 0.25, 0.0625, 0.015625 x2 over 0.34375, so the top
  // token alone (0.727) reaches top_p 0.7; at T = 1 it takes two tokens.
  EXPECT_THAT(Probs(kQuarters, {.temperature = 0.5f, .top_p = 0.7f}),
              ElementsAre(0.0f, 1.0f, 0.0f, 0.0f));
  // min_p 0.26 keeps 0.25 at T = 1 but not at T = 0.5 (0.0625 < 0.26 * 0.25).
  EXPECT_THAT(Probs(kQuarters, {.temperature = 0.5f, .min_p = 0.26f}),
              ElementsAre(0.0f, 1.0f, 0.0f, 0.0f));
}

TEST(TokenDistributionTest, SampleIsInverseCdfInDocumentedOrder) {
  TokenDistribution d;
  d.Build(kQuarters, {});  // id order: cumulative 0.125, 0.625, 0.75, 1
  EXPECT_EQ(d.Sample(0.0), 0);
  EXPECT_EQ(d.Sample(0.1), 0);
  EXPECT_EQ(d.Sample(0.2), 1);
  EXPECT_EQ(d.Sample(0.7), 2);
  EXPECT_EQ(d.Sample(0.99), 3);
  EXPECT_EQ(d.Sample(std::nextafter(1.0, 0.0)), 3);
  // Filtered paths visit the kept tokens in id order too: top-p 0.8 keeps 0, 1, 3 with
  // probabilities 1/7, 4/7, 2/7: cumulative 0.143, 0.714, 1.
  for (const FilterParams& p : {FilterParams{.top_p = 0.8f}, FilterParams{.top_k = 3}}) {
    d.Build(kQuarters, p);
    EXPECT_EQ(d.num_kept(), 3u);
    EXPECT_EQ(d.Sample(0.0), 0);
    EXPECT_EQ(d.Sample(0.14), 0);
    EXPECT_EQ(d.Sample(0.15), 1);
    EXPECT_EQ(d.Sample(0.71), 1);
    EXPECT_EQ(d.Sample(0.72), 3);
    EXPECT_EQ(d.Sample(std::nextafter(1.0, 0.0)), 3);
  }
}

TEST(TokenDistributionTest, ZeroProbabilityTokensAreNeverSampled) {
  TokenDistribution d;
  const std::vector<float> masked = {-kInf, 0.0f, -kInf, 0.0f, -kInf};
  d.Build(masked, {});
  EXPECT_EQ(d.Sample(0.0), 1);
  EXPECT_EQ(d.Sample(std::nextafter(1.0, 0.0)), 3);
  d.Build(kQuarters, {.min_p = 0.26f});
  EXPECT_EQ(d.num_kept(), 2u);
  EXPECT_EQ(d.Sample(0.0), 1);
  EXPECT_EQ(d.Sample(std::nextafter(1.0, 0.0)), 3);
}

TEST(TokenDistributionTest, DegenerateLogitsPickTheArgmax) {
  TokenDistribution d;
  d.Build(std::vector<float>{-kInf, -kInf, -kInf}, {});
  EXPECT_EQ(d.Sample(0.9), 0);
  d.Build(std::vector<float>{0.0f, kInf, kInf}, {.top_p = 0.5f});
  EXPECT_EQ(d.Sample(0.9), 1);
  d.Build(std::span<const float>(), {});
  EXPECT_EQ(d.Sample(0.5), -1);
}

// Reference: full sort, double precision, the filters exactly as documented.
std::vector<float> ReferenceProbs(const std::vector<float>& logits, const FilterParams& p) {
  const int vocab = static_cast<int>(logits.size());
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  const double max = logits[order[0]];
  int keep = p.top_k > 0 && p.top_k < vocab ? p.top_k : vocab;
  std::vector<double> w(vocab);
  double mass = 0.0;
  for (int j = 0; j < keep; ++j) mass += w[j] = std::exp((logits[order[j]] - max) / p.temperature);
  double before = 0.0;
  int nucleus = 0;
  while (nucleus < keep && before < p.top_p * mass) before += w[nucleus++];
  if (p.top_p < 1.0f) keep = nucleus;  // 1 is off (tiny weights can't move `before`)
  while (keep > 1 && w[keep - 1] < p.min_p) --keep;
  double total = 0.0;
  for (int j = 0; j < keep; ++j) total += w[j];
  std::vector<float> probs(vocab, 0.0f);
  for (int j = 0; j < keep; ++j) probs[order[j]] = static_cast<float>(w[j] / total);
  return probs;
}

TEST(TokenDistributionTest, MatchesFullSortReferenceOnLlama3SizedVocab) {
  std::mt19937 gen(11);
  std::vector<float> logits(128256);
  const FilterParams cases[] = {
      {},
      {.temperature = 0.7f, .top_k = 50},
      {.temperature = 1.0f, .top_p = 0.9f},
      {.temperature = 2.0f, .top_p = 0.95f},  // flat: the nucleus holds thousands of tokens
      {.temperature = 50.0f, .top_p = 0.5f},  // flatter: most weights share one bucket
      {.temperature = 0.8f, .top_k = 40, .top_p = 0.9f, .min_p = 0.05f},
      {.temperature = 1.3f, .min_p = 0.1f},
      {.temperature = 1.0f, .top_p = 0.8f, .min_p = 0.02f},
      {.temperature = 5.0f, .top_p = 0.999f},
      {.temperature = 0.6f, .top_k = 1000, .top_p = 0.5f},
      {.temperature = 0.3f, .top_k = 100000},
  };
  TokenDistribution d;  // reused across builds, as in the engine
  std::vector<float> probs(logits.size());
  const float sigmas[] = {0.5f, 2.5f, 6.0f};
  for (int trial = 0; trial < 3; ++trial) {
    std::normal_distribution<float> normal(0.0f, sigmas[trial]);
    for (float& x : logits) x = std::round(normal(gen) * 64.0f) / 64.0f;  // with ties
    for (size_t i = 0; i < logits.size(); i += 97) logits[i] = -kInf;     // masked tokens
    for (const FilterParams& p : cases) {
      SCOPED_TRACE(testing::Message() << "trial " << trial << " T " << p.temperature << " k "
                                      << p.top_k << " p " << p.top_p << " min_p " << p.min_p);
      d.Build(logits, p);
      d.Scatter(probs);
      const std::vector<float> expected = ReferenceProbs(logits, p);
      // The same tokens are kept; probabilities below 1e-30 count as 0 (exp flushes
      // weights below e^-87 to 0, where the double reference keeps a denormal).
      size_t kept = 0;
      for (size_t i = 0; i < logits.size(); ++i) {
        ASSERT_EQ(probs[i] > 1e-30f, expected[i] > 1e-30f)
            << "token " << i << " p " << probs[i] << " reference " << expected[i];
        ASSERT_NEAR(probs[i], expected[i], 1e-6f + 1e-5f * expected[i]) << i;
        kept += probs[i] > 0.0f;
      }
      EXPECT_EQ(d.num_kept(), kept);
    }
  }
}

}  // namespace
}  // namespace gqa
