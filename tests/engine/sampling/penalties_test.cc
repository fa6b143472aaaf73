#include "engine/sampling/penalties.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;

// Values are sums of powers of two, so every expected logit below is exact.
const std::vector<float> kLogits = {2.0f, -2.0f, 1.0f, -1.0f, 0.0f, 4.0f};

TEST(PenaltiesTest, RepetitionDividesPositiveMultipliesNegativePromptAndOutput) {
  const std::vector<int> prompt = {0, 1, 1, 4};  // duplicate: penalized once
  PenaltyTracker tracker(prompt);
  tracker.Accept(3);
  tracker.Accept(3);
  SamplingParams params;
  params.repetition_penalty = 2.0f;
  std::vector<float> logits = kLogits;
  EXPECT_TRUE(tracker.Apply(params, logits));
  // token: 0 (prompt, >0) 1 (prompt, <0, twice) 2 (unseen) 3 (output, <0) 4 (prompt, 0) 5
  EXPECT_THAT(logits, ElementsAre(1.0f, -4.0f, 1.0f, -2.0f, 0.0f, 4.0f));
}

TEST(PenaltiesTest, RepetitionBelowOneRewardsSeenTokens) {
  PenaltyTracker tracker(std::vector<int>{0, 1});
  SamplingParams params;
  params.repetition_penalty = 0.5f;
  std::vector<float> logits = kLogits;
  tracker.Apply(params, logits);
  EXPECT_THAT(logits, ElementsAre(4.0f, -1.0f, 1.0f, -1.0f, 0.0f, 4.0f));
}

TEST(PenaltiesTest, PresenceAndFrequencyUseOutputCountsOnly) {
  PenaltyTracker tracker(std::vector<int>{0, 1, 2});  // prompt: ignored by these two
  for (int t : {2, 5, 5, 5}) tracker.Accept(t);
  EXPECT_EQ(tracker.OutputCount(5), 3);
  EXPECT_EQ(tracker.OutputCount(2), 1);
  EXPECT_EQ(tracker.OutputCount(0), 0);
  SamplingParams params;
  params.presence_penalty = 0.5f;
  params.frequency_penalty = 0.25f;
  std::vector<float> logits = kLogits;
  EXPECT_TRUE(tracker.Apply(params, logits));
  // token 2: 1 - (0.5 + 0.25 * 1); token 5: 4 - (0.5 + 0.25 * 3)
  EXPECT_THAT(logits, ElementsAre(2.0f, -2.0f, 0.25f, -1.0f, 0.0f, 2.75f));
}

TEST(PenaltiesTest, NegativePresenceAndFrequencyEncourageRepeats) {
  PenaltyTracker tracker(std::span<const int>{});
  tracker.Accept(1);
  tracker.Accept(1);
  SamplingParams params;
  params.presence_penalty = -1.0f;
  params.frequency_penalty = -0.5f;
  std::vector<float> logits = kLogits;
  tracker.Apply(params, logits);
  EXPECT_EQ(logits[1], -2.0f + 1.0f + 0.5f * 2);
}

TEST(PenaltiesTest, RepetitionIsAppliedBeforePresenceAndFrequency) {
  PenaltyTracker tracker(std::span<const int>{});
  tracker.Accept(5);  // logit 4
  SamplingParams params;
  params.repetition_penalty = 2.0f;
  params.presence_penalty = 1.0f;
  params.frequency_penalty = 1.0f;
  std::vector<float> logits = kLogits;
  tracker.Apply(params, logits);
  EXPECT_EQ(logits[5], 4.0f / 2.0f - 1.0f - 1.0f);  // not (4 - 2) / 2
}

TEST(PenaltiesTest, DefaultsChangeNothing) {
  PenaltyTracker tracker(std::vector<int>{0, 1, 2});
  tracker.Accept(5);
  std::vector<float> logits = kLogits;
  EXPECT_FALSE(tracker.Apply(SamplingParams{}, logits));
  EXPECT_EQ(logits, kLogits);
}

TEST(PenaltiesTest, OutOfVocabTokensAreIgnored) {
  PenaltyTracker tracker(std::vector<int>{-3, 1, 1000});
  tracker.Accept(6);
  tracker.Accept(-1);
  SamplingParams params;
  params.repetition_penalty = 2.0f;
  params.frequency_penalty = 1.0f;
  std::vector<float> logits = kLogits;
  tracker.Apply(params, logits);
  EXPECT_THAT(logits, ElementsAre(2.0f, -4.0f, 1.0f, -1.0f, 0.0f, 4.0f));
}

TEST(PenaltiesTest, OutputTokenAlreadyInPromptIsPenalizedOnce) {
  PenaltyTracker tracker(std::vector<int>{0});
  tracker.Accept(0);
  tracker.Accept(0);
  SamplingParams params;
  params.repetition_penalty = 2.0f;
  std::vector<float> logits = kLogits;
  tracker.Apply(params, logits);
  EXPECT_EQ(logits[0], 1.0f);
}

}  // namespace
}  // namespace gqa
