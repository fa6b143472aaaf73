// Overload: past --max-queued-requests / --max-queued-tokens a request is
// refused with RESOURCE_EXHAUSTED at once (while the engine is held), and the
// requests already admitted still finish.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

class OverloadTest : public ::testing::Test {
 protected:
  void Start(const ServerOptions& options) {
    app_ = StartTestServer(options, &gate_);
    ASSERT_NE(app_, nullptr);
    stub_ = NewStub(*app_);
  }
  void TearDown() override { gate_.Open(); }

  // Holds the engine with one running request (`running_` finishes later).
  void HoldEngine() {
    gate_.CloseOnFirstToken();
    running_ = std::thread([this] {
      auto stub = NewStub(*app_);
      running_status_ = Generate(*stub, GreedyTextRequest("running", 20), &running_response_);
    });
    ASSERT_TRUE(gate_.WaitUntilHeld());
  }
  // Starts a request on its own thread; it waits in the queue.
  void Enqueue(const std::string& prompt) {
    const size_t i = queued_.size();
    queued_status_.emplace_back();
    queued_.emplace_back([this, prompt, i] {
      auto stub = NewStub(*app_);
      v1::GenerateResponse r;
      grpc::Status s = Generate(*stub, GreedyTextRequest(prompt, 8), &r);
      std::lock_guard<std::mutex> lock(mu_);
      queued_status_[i] = s;
    });
  }
  void ReleaseAndJoin() {
    gate_.Open();
    running_.join();
    for (std::thread& t : queued_) t.join();
    EXPECT_TRUE(running_status_.ok()) << running_status_.error_message();
    EXPECT_EQ(running_response_.token_ids_size(), 20);
    for (const grpc::Status& s : queued_status_) EXPECT_TRUE(s.ok()) << s.error_message();
  }

  StepGate gate_;
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::Generation::Stub> stub_;
  std::thread running_;
  grpc::Status running_status_;
  v1::GenerateResponse running_response_;
  std::mutex mu_;
  std::vector<std::thread> queued_;
  std::vector<grpc::Status> queued_status_;
};

TEST_F(OverloadTest, FullRequestQueueIsResourceExhaustedWhileAdmittedOnesFinish) {
  ServerOptions options = TestServerOptions();
  options.queue.max_queued_requests = 2;
  Start(options);
  HoldEngine();
  queued_status_.reserve(2);
  Enqueue("first");
  Enqueue("second");
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_queued_requests == 2; }, kWait));

  v1::GenerateResponse r;
  grpc::Status s = Generate(*stub_, GreedyTextRequest("third", 8), &r);  // engine still held
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("--max-queued-requests 2"));
  std::vector<v1::GenerateResponse> messages;
  EXPECT_EQ(Stream(*stub_, GreedyTextRequest("fourth", 8), &messages).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(messages.empty());

  ReleaseAndJoin();
  // Room again once the queue drained.
  EXPECT_TRUE(Generate(*stub_, GreedyTextRequest("fifth", 8), &r).ok());
  EXPECT_THAT(app_->metrics()->Render(),
              HasSubstr("gqa_requests_rejected_total{code=\"RESOURCE_EXHAUSTED\"} 2"));
}

TEST_F(OverloadTest, QueuedPromptTokensAreBoundedToo) {
  ServerOptions options = TestServerOptions();
  options.queue.max_queued_requests = 0;  // no request limit
  options.queue.max_queued_tokens = 20;
  Start(options);
  HoldEngine();
  queued_status_.reserve(1);
  Enqueue(std::string(15, 'q'));  // 16 tokens
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_queued_tokens == 16; }, kWait));
  v1::GenerateResponse r;
  grpc::Status s = Generate(*stub_, GreedyTextRequest("12345", 8), &r);  // 6 more: 22 > 20
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("--max-queued-tokens 20"));
  ReleaseAndJoin();
  // A request alone in the queue is accepted however long its prompt.
  EXPECT_TRUE(Generate(*stub_, GreedyTextRequest(std::string(40, 'z'), 4), &r).ok());
}

TEST_F(OverloadTest, RequestLargerThanTheKvCacheIsResourceExhausted) {
  ServerOptions options = TestServerOptions();
  options.engine.num_kv_blocks = 4;  // 64 tokens, context 256
  Start(options);
  v1::GenerateResponse r;
  grpc::Status s = Generate(*stub_, GreedyTextRequest("hello", 100), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("can never fit the KV cache"));
  EXPECT_TRUE(Generate(*stub_, GreedyTextRequest("hello", 20), &r).ok());
}

}  // namespace
}  // namespace gqa::testing
