#include "engine/serving/request_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gqa {
namespace {

using ::testing::HasSubstr;

PendingRequest Request(const std::string& id, int prompt_len) {
  PendingRequest p;
  p.request.request_id = id;
  p.request.prompt_token_ids.assign(prompt_len, 5);
  p.channel = std::make_shared<RequestChannel>([] {});
  return p;
}

TEST(RequestQueueTest, RequestLimitIsResourceExhausted) {
  RequestQueue q({.max_queued_requests = 2, .max_queued_tokens = 0});
  EXPECT_TRUE(q.Submit(Request("a", 10)).ok());
  EXPECT_TRUE(q.Submit(Request("b", 10)).ok());
  absl::Status s = q.Submit(Request("c", 10));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--max-queued-requests 2"));
  EXPECT_EQ(q.Stats().num_queued_requests, 2);
  EXPECT_EQ(q.Stats().num_queued_tokens, 20);
  // One starts: room for one more.
  RequestQueue::Work w = q.Take(false);
  EXPECT_EQ(w.submissions.size(), 2u);
  q.Publish({}, 1, 10, 0);
  EXPECT_TRUE(q.Submit(Request("c", 10)).ok());
}

TEST(RequestQueueTest, TokenLimitAdmitsALoneRequestOfAnySize) {
  RequestQueue q({.max_queued_requests = 0, .max_queued_tokens = 16});
  EXPECT_TRUE(q.Submit(Request("big", 100)).ok());  // alone: accepted
  EXPECT_EQ(q.Submit(Request("small", 1)).code(), absl::StatusCode::kResourceExhausted);
  q.Publish({}, 1, 100, 0);
  EXPECT_TRUE(q.Submit(Request("a", 10)).ok());
  EXPECT_TRUE(q.Submit(Request("b", 6)).ok());
  EXPECT_EQ(q.Submit(Request("c", 1)).code(), absl::StatusCode::kResourceExhausted);
}

// Ids are the engine's business (its request table; engine_test.cc): the
// queue counts what is active and passes aborts on with their reason.
TEST(RequestQueueTest, CountsActiveRequestsUntilTheyFinish) {
  RequestQueue q({});
  EXPECT_TRUE(q.Submit(Request("a", 1)).ok());
  EXPECT_TRUE(q.Submit(Request("b", 1)).ok());
  EXPECT_EQ(q.Stats().num_active, 2);
  q.Take(false);
  q.Publish({}, 2, 2, 1);
  EXPECT_EQ(q.Stats().num_active, 1);
  EXPECT_EQ(q.Stats().num_queued_requests, 0);
}

TEST(RequestQueueTest, AbortsArePassedOnWithTheirReason) {
  RequestQueue q({});
  EXPECT_TRUE(q.Submit(Request("a", 1)).ok());
  q.Abort("a", FinishReason::kStop);
  EXPECT_EQ(q.Stats().num_aborts_pending, 1);
  RequestQueue::Work w = q.Take(false);
  ASSERT_EQ(w.aborts.size(), 1u);
  EXPECT_EQ(w.aborts[0].reason, FinishReason::kStop);
  EXPECT_EQ(q.Stats().num_aborts_pending, 0);
}

TEST(RequestQueueTest, DrainAndStopRefuseNewRequests) {
  RequestQueue q({});
  q.StartDrain();
  absl::Status s = q.Submit(Request("a", 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(q.Stats().draining);
  RequestQueue q2({});
  q2.Stop();
  EXPECT_EQ(q2.Submit(Request("a", 1)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(q2.Take(/*engine_idle=*/true).stop);  // does not wait once stopped
}

TEST(RequestQueueTest, WaitForSeesChanges) {
  RequestQueue q({});
  EXPECT_FALSE(q.WaitFor([](const ServiceStats& s) { return s.num_active == 1; },
                         std::chrono::milliseconds(1)));
  EXPECT_TRUE(q.Submit(Request("a", 1)).ok());
  EXPECT_TRUE(
      q.WaitFor([](const ServiceStats& s) { return s.num_active == 1; }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace gqa
