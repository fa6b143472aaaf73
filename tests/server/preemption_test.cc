// A KV pool too small for the load: the scheduler preempts (and recomputes)
// sequences, yet every request completes with exactly the tokens it gets
// when it runs alone, and every block is free afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;

TEST(PreemptionTest, OutputsUnderPreemptionEqualSoloRuns) {
  ServerOptions options = TestServerOptions();
  options.engine.num_kv_blocks = 12;  // 192 tokens; six requests want 6 * 80
  StepGate gate;
  auto app = StartTestServer(options, &gate);
  ASSERT_NE(app, nullptr);
  auto stub = NewStub(*app);

  constexpr int kRequests = 6;
  auto request_for = [](int i) {
    // 1 + 19 prompt tokens, 60 generated: 5 blocks each, so one fits alone.
    v1::GenerateRequest r =
        GreedyTextRequest("request " + std::to_string(i) + std::string(9, 'a' + i), 60);
    if (i % 2) {
      r.mutable_sampling()->set_temperature(0.8f);
      r.mutable_sampling()->set_seed(100 + i);
    }
    return r;
  };
  std::vector<v1::GenerateResponse> solo(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(Generate(*stub, request_for(i), &solo[i]).ok());
    ASSERT_EQ(solo[i].token_ids_size(), 60);
    EXPECT_EQ(solo[i].usage().num_preemptions(), 0);
  }
  ASSERT_EQ(app->engine()->Stats().num_preemptions, 0);

  // Hold the engine after a one-token request, queue all six, then let go:
  // they are admitted together and must outgrow the pool.
  gate.CloseOnFirstToken();
  std::thread holder([&] {
    auto s = NewStub(*app);
    v1::GenerateResponse r;
    EXPECT_TRUE(Generate(*s, GreedyTextRequest("hold", 1), &r).ok());
  });
  ASSERT_TRUE(gate.WaitUntilHeld());
  std::vector<v1::GenerateResponse> together(kRequests);
  std::vector<grpc::Status> statuses(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      auto s = NewStub(*app);
      std::vector<v1::GenerateResponse> messages;
      statuses[i] = Stream(*s, request_for(i), &messages);
      together[i] = Join(messages);
    });
  }
  ASSERT_TRUE(app->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_queued_requests == kRequests; }, kWait));
  gate.Open();
  for (std::thread& t : threads) t.join();
  holder.join();

  int preempted = 0;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_THAT(together[i].token_ids(), ElementsAreArray(solo[i].token_ids())) << i;
    EXPECT_EQ(together[i].text(), solo[i].text()) << i;
    preempted += together[i].usage().num_preemptions();
  }
  EXPECT_GT(preempted, 0);
  EXPECT_GT(app->engine()->Stats().num_preemptions, 0);
  EXPECT_TRUE(app->engine()->WaitFor(
      [](const ServiceStats& s) {
        return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total;
      },
      kWait));
}

}  // namespace
}  // namespace gqa::testing
