#include "engine/sampling/sequence_sampler.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/sampling/logprobs.h"
#include "engine/sampling/token_distribution.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

SamplingParams Params(float temperature, uint64_t seed) {
  SamplingParams p;
  p.temperature = temperature;
  p.seed = seed;
  return p;
}

// A fixed, different logits vector for every step, so sequences depend on the step.
std::vector<std::vector<float>> RandomSteps(int steps, int vocab, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> out(steps, std::vector<float>(vocab));
  for (auto& logits : out) {
    for (float& x : logits) x = normal(gen);
  }
  return out;
}

std::vector<int> SampleAll(SequenceSampler& sampler, const std::vector<std::vector<float>>& steps) {
  std::vector<int> tokens;
  for (const auto& logits : steps) {
    const int t = sampler.Sample(logits).token_id;
    sampler.Accept(t);
    tokens.push_back(t);
  }
  return tokens;
}

TEST(SequenceSamplerTest, GreedyPicksArgmaxLowestIdOnTies) {
  SequenceSampler sampler(Params(0.0f, 1), {}, 0);
  EXPECT_EQ(sampler.Sample(std::vector<float>{0.1f, 0.9f, 0.3f}).token_id, 1);
  EXPECT_EQ(sampler.Sample(std::vector<float>{0.5f, 2.0f, 2.0f, -1.0f}).token_id, 1);
  EXPECT_EQ(sampler.Sample(std::vector<float>{kNaN, 1.0f, 1.0f}).token_id, 1);
  EXPECT_THAT(sampler.ComputeProbs(std::vector<float>{3.0f, 3.0f}), ElementsAre(1.0f, 0.0f));
}

TEST(SequenceSamplerTest, LogprobsAreOfTheRawLogits) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  SamplingParams p = Params(0.0f, 1);
  p.repetition_penalty = 100.0f;  // pushes token 2 below token 1
  p.top_logprobs = 2;
  SequenceSampler sampler(p, std::vector<int>{2}, 0);
  const SampleResult r = sampler.Sample(logits);
  EXPECT_EQ(r.token_id, 1);
  // log_softmax([1, 2, 3]) = [-2.4076, -1.4076, -0.4076]: before penalties and temperature.
  EXPECT_FLOAT_EQ(r.logprob, -1.40760596444438f);
  ASSERT_EQ(r.top_logprobs.size(), 2u);
  EXPECT_EQ(r.top_logprobs[0].token_id, 2);
  EXPECT_FLOAT_EQ(r.top_logprobs[0].logprob, -0.40760596444438f);
  EXPECT_EQ(r.top_logprobs[1].token_id, 1);
  EXPECT_FLOAT_EQ(r.top_logprobs[1].logprob, -1.40760596444438f);
}

TEST(SequenceSamplerTest, LogprobEqualsLogSoftmaxOnEveryPath) {
  // Some paths reuse a pass (greedy: the max; T = 1 without top-k: the exp sum); the result
  // must be exactly LogSoftmaxAt's.
  const auto steps = RandomSteps(8, 5000, 9);
  SamplingParams greedy = Params(0.0f, 1), plain = Params(1.0f, 1), cold = Params(0.5f, 1);
  SamplingParams top_p = Params(1.0f, 1), top_k = Params(1.0f, 1), penalized = Params(1.0f, 1);
  top_p.top_p = 0.9f;
  top_k.top_k = 10;
  penalized.presence_penalty = 1.0f;
  for (const SamplingParams& p : {greedy, plain, cold, top_p, top_k, penalized}) {
    SequenceSampler sampler(p, {}, 0);
    for (const auto& logits : steps) {
      const SampleResult r = sampler.Sample(logits);
      sampler.Accept(r.token_id);
      EXPECT_EQ(r.logprob, LogSoftmaxAt(logits, r.token_id));
    }
  }
}

TEST(SequenceSamplerTest, TopLogprobsCountFollowsParams) {
  const std::vector<float> logits = {0.0f, 4.0f, 1.0f, 3.0f, 2.0f};
  for (int n : {0, 1, 3, 5}) {
    SamplingParams p = Params(0.7f, 3);
    p.top_logprobs = n;
    SequenceSampler sampler(p, {}, 0);
    const SampleResult r = sampler.Sample(logits);
    ASSERT_EQ(r.top_logprobs.size(), static_cast<size_t>(n));
    const int expected_order[] = {1, 3, 4, 2, 0};
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(r.top_logprobs[i].token_id, expected_order[i]);
      EXPECT_EQ(r.top_logprobs[i].logprob, LogSoftmaxAt(logits, expected_order[i]));
    }
    EXPECT_EQ(r.logprob, LogSoftmaxAt(logits, r.token_id));
  }
}

TEST(SequenceSamplerTest, PenaltiesTrackPromptAndAcceptedTokens) {
  SamplingParams p = Params(1.0f, 1);
  p.repetition_penalty = 2.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  SequenceSampler sampler(p, std::vector<int>{0}, 0);
  const std::vector<float> logits = {2.0f, 2.0f, -2.0f, 4.0f};
  EXPECT_THAT(sampler.PenalizedLogits(logits), ElementsAre(1.0f, 2.0f, -2.0f, 4.0f));
  sampler.Accept(3);
  sampler.Accept(3);
  sampler.Accept(2);
  EXPECT_EQ(sampler.num_output_tokens(), 3);
  // 3: 4 / 2 - 0.5 - 0.25 * 2;  2: -2 * 2 - 0.5 - 0.25
  EXPECT_THAT(sampler.PenalizedLogits(logits), ElementsAre(1.0f, 2.0f, -4.75f, 1.0f));
}

TEST(SequenceSamplerTest, GreedyFollowsPenalizedLogits) {
  SamplingParams p = Params(0.0f, 1);
  p.frequency_penalty = 1.5f;
  SequenceSampler sampler(p, {}, 0);
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f};
  // Penalized logits before each step: [2, 1, 0] -> 0; [0.5, 1, 0] -> 1;
  // [0.5, -0.5, 0] -> 0; [-1, -0.5, 0] -> 2.
  EXPECT_THAT(SampleAll(sampler, {logits, logits, logits, logits}), ElementsAre(0, 1, 0, 2));
}

TEST(SequenceSamplerTest, ComputeProbsIsTheFilteredDistribution) {
  SamplingParams p = Params(0.5f, 1);
  p.top_k = 3;
  p.top_p = 0.9f;
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f, -1.0f};
  SequenceSampler sampler(p, {}, 0);
  TokenDistribution d;
  d.Build(logits, {.temperature = 0.5f, .top_k = 3, .top_p = 0.9f});
  std::vector<float> expected(logits.size());
  d.Scatter(expected);
  EXPECT_EQ(sampler.ComputeProbs(logits), expected);
  // T = 0.5 over the top 3: e^6, e^4, e^2 -> 0.867, 0.117, 0.016; 0.867 < 0.9 <= 0.984.
  EXPECT_EQ(d.num_kept(), 2u);
}

TEST(SequenceSamplerTest, TakesExactlyOneDrawPerToken) {
  const auto steps = RandomSteps(50, 64, 1);
  SamplingParams p = Params(0.9f, 77);
  p.top_k = 20;
  p.top_p = 0.8f;
  p.min_p = 0.05f;
  SequenceSampler sampler(p, {}, 0);
  Rng rng(77);
  TokenDistribution d;
  for (const auto& logits : steps) {
    d.Build(logits, {.temperature = 0.9f, .top_k = 20, .top_p = 0.8f, .min_p = 0.05f});
    const int expected = d.Sample(rng.UniformDouble());
    EXPECT_EQ(sampler.Sample(logits).token_id, expected);
  }
}

TEST(SequenceSamplerTest, PlainArgMaxOnlyWhileNothingButTheArgmaxMatters) {
  EXPECT_TRUE(SequenceSampler(Params(0.0f, 1), std::vector<int>{4, 5}, 0).IsPlainArgMax());
  EXPECT_FALSE(SequenceSampler(Params(0.7f, 1), {}, 0).IsPlainArgMax());
  SamplingParams top = Params(0.0f, 1);
  top.top_logprobs = 1;
  EXPECT_FALSE(SequenceSampler(top, {}, 0).IsPlainArgMax());
  SamplingParams repetition = Params(0.0f, 1);
  repetition.repetition_penalty = 1.2f;
  EXPECT_FALSE(SequenceSampler(repetition, std::vector<int>{4}, 0).IsPlainArgMax());
  // Presence counts output tokens only: plain until the first one is accepted.
  SamplingParams presence = Params(0.0f, 1);
  presence.presence_penalty = 0.5f;
  SequenceSampler sampler(presence, std::vector<int>{4}, 0);
  EXPECT_TRUE(sampler.IsPlainArgMax());
  sampler.Accept(4);
  EXPECT_FALSE(sampler.IsPlainArgMax());
}

TEST(SequenceSamplerTest, TakeArgMaxIsSampleOfAPlainArgMaxRow) {
  const auto steps = RandomSteps(20, 64, 3);
  SequenceSampler host(Params(0.0f, 5), {}, 0), device(Params(0.0f, 5), {}, 0);
  for (const auto& logits : steps) {
    const SampleResult want = host.Sample(logits);
    const int token = ArgMax(logits);
    const SampleResult got = device.TakeArgMax(token, LogSoftmaxAt(logits, token));
    EXPECT_EQ(got.token_id, want.token_id);
    EXPECT_FLOAT_EQ(got.logprob, want.logprob);
    EXPECT_TRUE(got.top_logprobs.empty());
    host.Accept(want.token_id);
    device.Accept(got.token_id);
  }
  EXPECT_EQ(device.num_output_tokens(), 20);
}

TEST(SequenceSamplerTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  const auto steps = RandomSteps(64, 16, 2);
  SequenceSampler a(Params(1.0f, 5), {}, 0), b(Params(1.0f, 5), {}, 0), c(Params(1.0f, 6), {}, 0);
  const std::vector<int> tokens_a = SampleAll(a, steps);
  EXPECT_EQ(SampleAll(b, steps), tokens_a);
  const std::vector<int> tokens_c = SampleAll(c, steps);
  int differ = 0;
  for (size_t i = 0; i < steps.size(); ++i) differ += tokens_a[i] != tokens_c[i];
  EXPECT_GT(differ, 16);
}

TEST(SequenceSamplerTest, FallbackSeedIsUsedOnlyWhenSeedIsUnset) {
  const auto steps = RandomSteps(32, 16, 3);
  SamplingParams unseeded;
  SequenceSampler fallback_5(unseeded, {}, 5), seeded_5(Params(1.0f, 5), {}, 99);
  SequenceSampler fallback_6(unseeded, {}, 6);
  const std::vector<int> tokens = SampleAll(fallback_5, steps);
  EXPECT_EQ(SampleAll(seeded_5, steps), tokens);
  EXPECT_NE(SampleAll(fallback_6, steps), tokens);
}

TEST(SequenceSamplerTest, InterleavedSamplersEqualEachAlone) {
  // Different vocab sizes and paths, sharing the thread's workspace between calls.
  const auto steps_a = RandomSteps(40, 1000, 4);
  const auto steps_b = RandomSteps(40, 50, 5);
  SamplingParams pa = Params(1.2f, 10);
  pa.top_p = 0.9f;
  SamplingParams pb = Params(0.8f, 20);
  pb.repetition_penalty = 1.3f;
  pb.min_p = 0.1f;
  SequenceSampler alone_a(pa, std::vector<int>{1, 2}, 0), alone_b(pb, std::vector<int>{3}, 0);
  const std::vector<int> tokens_a = SampleAll(alone_a, steps_a);
  const std::vector<int> tokens_b = SampleAll(alone_b, steps_b);
  SequenceSampler a(pa, std::vector<int>{1, 2}, 0), b(pb, std::vector<int>{3}, 0);
  std::vector<int> mixed_a, mixed_b;
  for (size_t i = 0; i < steps_a.size(); ++i) {
    mixed_b.push_back(b.Sample(steps_b[i]).token_id);
    b.Accept(mixed_b.back());
    mixed_a.push_back(a.Sample(steps_a[i]).token_id);
    a.Accept(mixed_a.back());
    if (i % 3 == 0) (void)b.ComputeProbs(steps_b[i]);  // draws nothing
  }
  EXPECT_EQ(mixed_a, tokens_a);
  EXPECT_EQ(mixed_b, tokens_b);
}

TEST(SequenceSamplerTest, EmpiricalFrequenciesMatchTemperedProbabilities) {
  // softmax([0, ln 2, ln 4] / 0.5) = [1, 4, 16] / 21. Fixed seed: deterministic; the bound
  // is ~8 standard deviations at 100k draws.
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(4.0f)};
  SequenceSampler sampler(Params(0.5f, 2024), {}, 0);
  constexpr int kDraws = 100000;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < kDraws; ++i) ++counts[sampler.Sample(logits).token_id];
  EXPECT_NEAR(counts[0] / double{kDraws}, 1 / 21.0, 0.006);
  EXPECT_NEAR(counts[1] / double{kDraws}, 4 / 21.0, 0.01);
  EXPECT_NEAR(counts[2] / double{kDraws}, 16 / 21.0, 0.011);
}

TEST(SequenceSamplerTest, FilteredTokensAreNeverDrawn) {
  SamplingParams p = Params(1.0f, 9);
  p.top_k = 2;
  SequenceSampler sampler(p, {}, 0);
  const std::vector<float> logits = {1.0f, 0.9f, 0.8f, 1.1f};
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 2000; ++i) ++counts[sampler.Sample(logits).token_id];
  EXPECT_EQ(counts[1] + counts[2], 0);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[3], 0);
}

TEST(SequenceSamplerTest, BadLogitsNeverCrash) {
  SequenceSampler sampler(Params(1.0f, 1), std::vector<int>{-5, 70000}, 0);
  for (int i = 0; i < 100; ++i) {
    const SampleResult r = sampler.Sample(std::vector<float>{kNaN, 1.0f, kNaN, 2.0f});
    EXPECT_TRUE(r.token_id == 1 || r.token_id == 3) << r.token_id;
  }
  const SampleResult empty = sampler.Sample(std::span<const float>());
  EXPECT_EQ(empty.token_id, -1);
  EXPECT_EQ(sampler.Sample(std::vector<float>{kNaN, kNaN}).token_id, 0);
}

}  // namespace
}  // namespace gqa
