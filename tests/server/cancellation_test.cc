// A client that cancels, or whose deadline passes, gets its request aborted
// before the engine's next step, and every KV block comes back.
//
// The StepGate holds the engine thread right after the step that produced
// the request's first token, so "within one step" is exact: the gate opens
// only once the abort is queued, and the request must end with one token.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

bool AllFree(const ServiceStats& s) {
  return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total;
}

class CancellationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartTestServer(TestServerOptions(), &gate_);
    ASSERT_NE(app_, nullptr);
    stub_ = NewStub(*app_);
  }
  void TearDown() override { gate_.Open(); }  // never leave the engine held

  StepGate gate_;
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::Generation::Stub> stub_;
};

TEST_F(CancellationTest, CancelMidStreamAbortsWithinOneStepAndFreesEveryBlock) {
  gate_.CloseOnFirstToken();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  auto reader = stub_->GenerateStream(&ctx, GreedyTextRequest(std::string(40, 'a'), 200));
  v1::GenerateResponse first;
  ASSERT_TRUE(reader->Read(&first));  // sent while the engine is held
  EXPECT_EQ(first.token_ids_size(), 1);
  ASSERT_TRUE(gate_.WaitUntilHeld());
  EXPECT_LT(app_->engine()->Stats().num_kv_blocks_free,
            app_->engine()->Stats().num_kv_blocks_total);

  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server saw the cancellation and queued the abort; only then may the engine go on.
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_aborts_pending == 1; }, kWait));
  gate_.Open();
  ASSERT_TRUE(app_->engine()->WaitFor(AllFree, kWait));
  const std::vector<StepGate::Finished> finished = gate_.finished();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].reason, FinishReason::kAborted);
  EXPECT_EQ(finished[0].generation_tokens, 1);  // no step ran after the cancel
}

TEST_F(CancellationTest, UnaryCancelAbortsToo) {
  gate_.CloseOnFirstToken();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  const v1::GenerateRequest request = GreedyTextRequest("abc", 200);
  v1::GenerateResponse response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub_->async()->Generate(&ctx, &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = s;
    done = true;
    cv.notify_all();
  });
  ASSERT_TRUE(gate_.WaitUntilHeld());
  ctx.TryCancel();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return done; }));
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_aborts_pending == 1; }, kWait));
  gate_.Open();
  ASSERT_TRUE(app_->engine()->WaitFor(AllFree, kWait));
  ASSERT_EQ(gate_.finished().size(), 1u);
  EXPECT_EQ(gate_.finished()[0].generation_tokens, 1);
}

TEST_F(CancellationTest, DeadlineExpiryAbortsAndFreesEveryBlock) {
  gate_.CloseOnFirstToken();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::milliseconds(1500));
  auto reader = stub_->GenerateStream(&ctx, GreedyTextRequest(std::string(40, 'b'), 200));
  v1::GenerateResponse m;
  int messages = 0;
  while (reader->Read(&m)) ++messages;  // the engine is held: ends at the deadline
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server's deadline fires too (OnCancel): the abort is queued, unless
  // the deadline passed before the request even started.
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_aborts_pending == 1 || s.num_active == 0; }, kWait));
  gate_.Open();
  ASSERT_TRUE(app_->engine()->WaitFor(AllFree, kWait));
  ASSERT_EQ(gate_.finished().size(), 1u);
  EXPECT_EQ(gate_.finished()[0].reason, FinishReason::kAborted);
  EXPECT_LE(gate_.finished()[0].generation_tokens, 1);
  EXPECT_LE(messages, 1);
}

TEST_F(CancellationTest, ManyCancelledAndFinishedRequestsLeaveEveryBlockFree) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto stub = NewStub(*app_);
      grpc::ClientContext ctx;
      SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
      auto reader = stub->GenerateStream(&ctx, GreedyTextRequest("req" + std::to_string(t), 60));
      v1::GenerateResponse m;
      int n = 0;
      while (reader->Read(&m)) {
        if (t % 2 == 0 && ++n == 1 + t) ctx.TryCancel();  // even threads cancel early
      }
      reader->Finish();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(app_->engine()->WaitFor(AllFree, kWait));
}

}  // namespace
}  // namespace gqa::testing
