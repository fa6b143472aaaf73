// GetLoad: exact numbers in states the StepGate holds still (requests waiting
// behind a full batch, the KV blocks they hold), and back to idle.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::UnorderedElementsAre;

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options = TestServerOptions();
    options.engine.max_num_seqs = 2;  // the batch is full with two
    app_ = StartTestServer(options, &gate_);
    ASSERT_NE(app_, nullptr);
    stub_ = NewStub(*app_);
    v1::ModelInfo info;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetModelInfo(&ctx, v1::GetModelInfoRequest(), &info).ok());
    num_kv_blocks_ = info.num_kv_blocks();
    ASSERT_GT(num_kv_blocks_, 8);
  }
  void TearDown() override { gate_.Open(); }

  v1::Load GetLoad() {
    v1::Load load;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
    grpc::Status s = stub_->GetLoad(&ctx, v1::GetLoadRequest(), &load);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return load;
  }
  bool WaitForActive(int n) {
    return app_->engine()->WaitFor([n](const ServiceStats& s) { return s.num_active == n; }, kWait);
  }
  void ExpectIdle(const v1::Load& load) {
    EXPECT_EQ(load.num_running_requests(), 0);
    EXPECT_EQ(load.num_waiting_requests(), 0);
    EXPECT_EQ(load.num_waiting_prompt_tokens(), 0);
    EXPECT_EQ(load.num_kv_blocks_total(), num_kv_blocks_);
    EXPECT_EQ(load.num_kv_blocks_used(), 0);
    EXPECT_EQ(load.kv_cache_usage(), 0.0);
    EXPECT_FALSE(load.draining());
  }

  StepGate gate_;
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::Generation::Stub> stub_;
  int num_kv_blocks_ = 0;
};

// 20 prompt tokens (BOS + 19 bytes), in 2 blocks of 16; distinct first bytes,
// so no two prompts share a KV block.
v1::GenerateRequest Prompt20(char first, const std::string& id) {
  v1::GenerateRequest r = GreedyTextRequest(first + std::string(18, 'x'), 200);
  r.set_request_id(id);
  return r;
}

TEST_F(LoadTest, CountsRunningAndWaitingRequestsTheirPromptTokensAndKvBlocks) {
  {
    SCOPED_TRACE("before any request");
    const v1::Load idle = GetLoad();
    ExpectIdle(idle);
    EXPECT_EQ(idle.num_kv_blocks_cached(), 0);
    EXPECT_EQ(idle.prefix_cache_queries_tokens(), 0);
    EXPECT_EQ(idle.prefix_cache_hits_tokens(), 0);
  }
  gate_.CloseEveryStep();
  grpc::ClientContext ca, cb, cc;
  for (grpc::ClientContext* c : {&ca, &cb, &cc}) {
    SetDeadline(c, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  }
  auto a = stub_->GenerateStream(&ca, Prompt20('A', "a"));
  ASSERT_TRUE(gate_.WaitForHolds(1));  // a prefilled: 20 tokens of KV, one token out
  auto b = stub_->GenerateStream(&cb, Prompt20('B', "b"));
  ASSERT_TRUE(WaitForActive(2));
  auto c = stub_->GenerateStream(&cc, Prompt20('C', "c"));
  ASSERT_TRUE(WaitForActive(3));
  {
    SCOPED_TRACE("a running, b and c not started");
    const v1::Load load = GetLoad();
    EXPECT_EQ(load.num_running_requests(), 1);
    EXPECT_EQ(load.num_waiting_requests(), 2);
    EXPECT_EQ(load.num_waiting_prompt_tokens(), 40);
    EXPECT_EQ(load.num_kv_blocks_total(), num_kv_blocks_);
    EXPECT_EQ(load.num_kv_blocks_used(), 2);
    EXPECT_EQ(load.num_kv_blocks_cached(), 0);
    EXPECT_DOUBLE_EQ(load.kv_cache_usage(), 2.0 / num_kv_blocks_);
    EXPECT_EQ(load.prefix_cache_hits_tokens(), 0);
    EXPECT_FALSE(load.draining());
  }
  gate_.ReleaseOneStep();  // a decodes, b prefills, c waits behind the full batch
  ASSERT_TRUE(gate_.WaitForHolds(2));
  {
    SCOPED_TRACE("a and b running, c waiting in the scheduler");
    const v1::Load load = GetLoad();
    EXPECT_EQ(load.num_running_requests(), 2);
    EXPECT_EQ(load.num_waiting_requests(), 1);
    EXPECT_EQ(load.num_waiting_prompt_tokens(), 20);
    EXPECT_EQ(load.num_kv_blocks_used(), 4);  // a: 21 tokens, b: 20 tokens
    EXPECT_EQ(load.num_kv_blocks_cached(), 0);
    EXPECT_DOUBLE_EQ(load.kv_cache_usage(), 4.0 / num_kv_blocks_);
    EXPECT_EQ(load.prefix_cache_hits_tokens(), 0);
  }

  v1::AbortRequest abort;
  for (const char* id : {"a", "b", "c"}) abort.add_request_ids(id);
  v1::AbortResponse aborted;
  grpc::ClientContext actx;
  ASSERT_TRUE(stub_->Abort(&actx, abort, &aborted).ok());
  EXPECT_THAT(aborted.aborted_request_ids(), UnorderedElementsAre("a", "b", "c"));
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_aborts_pending == 3; }, kWait));
  gate_.Open();
  for (auto* reader : {a.get(), b.get(), c.get()}) {
    v1::GenerateResponse m, last;
    while (reader->Read(&m)) last = m;
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_ABORTED);
  }
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) {
        return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total;
      },
      kWait));
  {
    SCOPED_TRACE("idle again");
    ExpectIdle(GetLoad());
  }
  app_->engine()->StartDrain();
  EXPECT_TRUE(GetLoad().draining());
}

}  // namespace
}  // namespace gqa::testing
