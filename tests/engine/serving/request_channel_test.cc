#include "engine/serving/request_channel.h"

#include <gtest/gtest.h>

namespace gqa {
namespace {

RequestDelta Tokens(std::initializer_list<int> ids) {
  RequestDelta d;
  for (int id : ids) d.tokens.push_back({id, -1.0f, {}});
  return d;
}

TEST(RequestChannelTest, WakesOnceAfterArmingAndMergesDeltas) {
  int wakes = 0;
  RequestChannel channel([&] { ++wakes; });
  RequestDelta d;
  channel.Push(Tokens({1}));  // not armed: no wake
  EXPECT_EQ(wakes, 0);
  ASSERT_TRUE(channel.TakeOrArm(&d));
  EXPECT_EQ(d.tokens.size(), 1u);
  EXPECT_FALSE(channel.TakeOrArm(&d));  // nothing: armed
  channel.Push(Tokens({2}));
  EXPECT_EQ(wakes, 1);
  channel.Push(Tokens({3, 4}));  // already woken: merged, no second wake
  EXPECT_EQ(wakes, 1);
  RequestDelta fin;
  fin.finished = true;
  fin.finish_reason = FinishReason::kLength;
  fin.num_prompt_tokens = 7;
  fin.e2e_seconds = 0.5;
  channel.Push(std::move(fin));
  ASSERT_TRUE(channel.TakeOrArm(&d));
  ASSERT_EQ(d.tokens.size(), 3u);
  EXPECT_EQ(d.tokens[0].token_id, 2);
  EXPECT_EQ(d.tokens[2].token_id, 4);
  EXPECT_TRUE(d.finished);
  EXPECT_EQ(d.finish_reason, FinishReason::kLength);
  EXPECT_EQ(d.num_prompt_tokens, 7);
  EXPECT_EQ(d.e2e_seconds, 0.5);
  EXPECT_EQ(wakes, 1);
}

TEST(RequestDeltaTest, MergeKeepsKnownTimesAndErrors) {
  RequestDelta a;
  a.queue_seconds = 0.1;
  a.prompt_logprobs = {-1.0f};
  RequestDelta b;
  b.prompt_logprobs = {-2.0f};
  b.ttft_seconds = 0.2;
  b.status = absl::UnavailableError("x");
  a.MergeFrom(std::move(b));
  EXPECT_EQ(a.queue_seconds, 0.1);
  EXPECT_EQ(a.ttft_seconds, 0.2);
  EXPECT_EQ(a.prompt_logprobs, (std::vector<float>{-1.0f, -2.0f}));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gqa
