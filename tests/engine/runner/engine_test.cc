// The Engine on its own thread, without gRPC: requests submitted from several
// threads come out exactly as from the engine driven synchronously; aborts,
// drain and stop always end a request with one final delta and free its
// blocks; failures finish as kError; the observer sees consistent numbers.
#include "engine/runner/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/engine/runner/engine_test_util.h"
#include "tests/engine/runner/channel_collector.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;

std::vector<int32_t> Ids(const RequestDelta& d) {
  std::vector<int32_t> ids;
  for (const TokenOutput& t : d.tokens) ids.push_back(t.token_id);
  return ids;
}

class CountingObserver : public EngineObserver {
 public:
  void OnStep(const StepObservation& s) override {
    batch_tokens += s.num_batch_tokens;
    prompt_tokens += s.num_prompt_tokens;
    generation_tokens += s.num_generation_tokens;
  }
  void OnRequestScheduled(double q) override { ++scheduled; }
  void OnFirstToken(double) override { ++first_tokens; }
  void OnInterTokenLatency(double) override { ++inter_tokens; }
  void OnRequestFinished(double, int, int generated, FinishReason) override {
    ++finished;
    finished_generated += generated;
  }
  // Written on the engine thread; read after Engine::Stop joined it.
  int64_t batch_tokens = 0, prompt_tokens = 0, generation_tokens = 0;
  int scheduled = 0, first_tokens = 0, inter_tokens = 0, finished = 0, finished_generated = 0;
};

std::unique_ptr<LlmEngine> MakeEngine(const ModelWeights& w, EngineConfig config = {}) {
  absl::StatusOr<std::unique_ptr<LlmEngine>> e = LlmEngine::Create(w, MakeCpuBackend(2), config);
  EXPECT_TRUE(e.ok()) << e.status();
  return *std::move(e);
}

std::unique_ptr<Engine> MakeService(const ModelWeights& w, EngineConfig config = {},
                                    EngineObserver* observer = nullptr,
                                    std::unique_ptr<Backend> backend = nullptr) {
  if (!backend) backend = MakeCpuBackend(2);
  absl::StatusOr<std::unique_ptr<Engine>> e =
      Engine::Create(w, std::move(backend), config, QueueLimits{}, observer);
  EXPECT_TRUE(e.ok()) << e.status();
  return *std::move(e);
}

ModelWeights Weights() {
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(TinyConfig(2), DType::kF32, 7);
  EXPECT_TRUE(w.ok()) << w.status();
  return *std::move(w);
}

bool Idle(const ServiceStats& s) {
  return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total &&
         s.num_queued_requests == 0 && s.num_queued_tokens == 0;
}

TEST(EngineTest, ConcurrentSubmissionsMatchTheEngineAlone) {
  const ModelWeights w = Weights();
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < 8; ++i) {
    requests.push_back(
        GreedyRequest("r" + std::to_string(i), MakePrompt(5 + 7 * i, i), 10 + 3 * i));
  }
  auto alone = MakeEngine(w);
  std::map<std::string, Completion> expected = RunToCompletion(*alone, requests);

  CountingObserver observer;
  EngineConfig config;
  config.num_kv_blocks = 16;  // tight: some preemption, same tokens
  std::unique_ptr<Engine> engine = MakeService(w, config, &observer);
  Engine& service = *engine;
  service.Start();
  std::vector<RequestDelta> results(requests.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i) {
    threads.emplace_back([&, i] {
      Collector c;
      ASSERT_TRUE(service.Submit(requests[i], c.channel()).ok());
      results[i] = c.CollectAll();
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(service.WaitFor(Idle, kWait));
  const int64_t num_preemptions = service.Stats().num_preemptions;
  service.Stop();  // the engine thread is done with the observer (OnStep comes last)

  int64_t prompt_total = 0, generated_total = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const RequestDelta& r = results[i];
    EXPECT_THAT(Ids(r), ElementsAreArray(expected[requests[i].request_id].tokens)) << i;
    EXPECT_TRUE(r.finished);
    EXPECT_TRUE(r.status.ok());
    EXPECT_EQ(r.finish_reason, FinishReason::kLength);
    EXPECT_EQ(r.num_prompt_tokens, static_cast<int>(requests[i].prompt_token_ids.size()));
    EXPECT_GE(r.queue_seconds, 0);
    EXPECT_GE(r.ttft_seconds, r.queue_seconds);
    EXPECT_GE(r.e2e_seconds, r.ttft_seconds);
    prompt_total += r.num_prompt_tokens;
    generated_total += static_cast<int64_t>(r.tokens.size());
  }
  EXPECT_EQ(observer.scheduled, 8);
  EXPECT_EQ(observer.first_tokens, 8);
  EXPECT_EQ(observer.finished, 8);
  EXPECT_EQ(observer.prompt_tokens, prompt_total);
  EXPECT_EQ(observer.generation_tokens, generated_total);
  EXPECT_EQ(observer.finished_generated, generated_total);
  EXPECT_EQ(observer.inter_tokens, generated_total - 8);
  if (num_preemptions == 0) {
    // Without recompute every token is computed once, the last of each not at all.
    EXPECT_EQ(observer.batch_tokens, prompt_total + generated_total - 8);
  }
}

TEST(EngineTest, AbortEndsWithTheGivenReasonAndFreesBlocks) {
  const ModelWeights w = Weights();
  std::unique_ptr<Engine> engine = MakeService(w);
  Engine& service = *engine;
  service.Start();
  Collector c;
  GenerationRequest r = GreedyRequest("long", MakePrompt(20, 1), 130);
  ASSERT_TRUE(service.Submit(r, c.channel()).ok());
  service.Abort("long", FinishReason::kStop);
  service.Abort("nobody");  // ignored
  const RequestDelta d = c.CollectAll();
  EXPECT_TRUE(d.finished);
  EXPECT_EQ(d.finish_reason, FinishReason::kStop);
  EXPECT_TRUE(d.status.ok());
  EXPECT_LT(d.tokens.size(), 130u);
  EXPECT_TRUE(service.WaitFor(Idle, kWait));
}

TEST(EngineTest, EngineRejectionArrivesAsAFinalError) {
  const ModelWeights w = Weights();
  std::unique_ptr<Engine> engine = MakeService(w);
  Engine& service = *engine;
  service.Start();
  Collector c;
  GenerationRequest r = GreedyRequest("bad", {1, 2, 500}, 4);  // 500 is outside the vocabulary
  EXPECT_EQ(service.Validate(r).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(service.Submit(r, c.channel()).ok());  // Submit does not validate...
  const RequestDelta d = c.CollectAll();             // ...the engine thread does
  EXPECT_TRUE(d.finished);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(service.WaitFor(Idle, kWait));
}

TEST(EngineTest, DrainWaitsForRunningRequestsAndRefusesNewOnes) {
  const ModelWeights w = Weights();
  std::unique_ptr<Engine> engine = MakeService(w);
  Engine& service = *engine;
  service.Start();
  Collector c;
  ASSERT_TRUE(service.Submit(GreedyRequest("a", MakePrompt(10, 2), 40), c.channel()).ok());
  EXPECT_TRUE(service.Drain(kWait));
  EXPECT_TRUE(service.draining());
  const RequestDelta d = c.CollectAll();
  EXPECT_TRUE(d.status.ok());
  EXPECT_EQ(d.tokens.size(), 40u);
  Collector late;
  EXPECT_EQ(service.Submit(GreedyRequest("b", MakePrompt(10, 2), 4), late.channel()).code(),
            absl::StatusCode::kUnavailable);
}

TEST(EngineTest, StopEndsWhatIsLeftWithUnavailable) {
  const ModelWeights w = Weights();
  std::unique_ptr<Engine> service = MakeService(w);
  // Not started: the request stays queued until Stop ends it.
  Collector c;
  ASSERT_TRUE(service->Submit(GreedyRequest("a", MakePrompt(10, 2), 40), c.channel()).ok());
  service->Start();
  service->Stop();
  const RequestDelta d = c.CollectAll();
  EXPECT_TRUE(d.finished);
  if (!d.status.ok()) {
    EXPECT_EQ(d.status.code(), absl::StatusCode::kUnavailable);
  }  // else it completed before Stop got in: also one final delta
}

// The drain timeout cuts off what still runs: kError with UNAVAILABLE, and
// the observer (the finished-requests metric) sees an error finish.
TEST(EngineTest, DrainTimeoutFinishesAsError) {
  const ModelWeights w = Weights();
  struct ReasonObserver : EngineObserver {
    void OnRequestFinished(double, int, int, FinishReason reason) override {
      reasons.push_back(reason);
    }
    std::vector<FinishReason> reasons;  // engine thread; read after Stop
  } observer;
  std::unique_ptr<Engine> engine = MakeService(w, EngineConfig{}, &observer);
  // Not started: the request is still queued when the timeout passes.
  Collector c;
  ASSERT_TRUE(engine->Submit(GreedyRequest("a", MakePrompt(10, 2), 40), c.channel()).ok());
  std::thread drain([&] { EXPECT_FALSE(engine->Drain(std::chrono::nanoseconds(0))); });
  ASSERT_TRUE(engine->WaitFor([](const ServiceStats& s) { return s.abort_all_pending; }, kWait));
  engine->Start();
  drain.join();
  const RequestDelta d = c.CollectAll();
  EXPECT_TRUE(d.finished);
  EXPECT_EQ(d.finish_reason, FinishReason::kError);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(d.tokens.empty());
  engine->Stop();
  EXPECT_THAT(observer.reasons, ::testing::ElementsAre(FinishReason::kError));
}

// Ids are checked in the one request table: a second request with an active
// id gets a final INVALID_ARGUMENT; the first runs on; the id is free again
// once it finished.
TEST(EngineTest, DuplicateActiveIdIsRefusedUntilItFinishes) {
  const ModelWeights w = Weights();
  std::unique_ptr<Engine> engine = MakeService(w);
  Collector first, second, third;
  ASSERT_TRUE(engine->Submit(GreedyRequest("a", MakePrompt(5, 1), 6), first.channel()).ok());
  ASSERT_TRUE(engine->Submit(GreedyRequest("a", MakePrompt(5, 2), 6), second.channel()).ok());
  engine->Start();
  const RequestDelta d2 = second.CollectAll();
  EXPECT_EQ(d2.finish_reason, FinishReason::kError);
  EXPECT_EQ(d2.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(d2.status.message()), ::testing::HasSubstr("request_id"));
  const RequestDelta d1 = first.CollectAll();
  EXPECT_TRUE(d1.status.ok());
  EXPECT_EQ(d1.tokens.size(), 6u);
  ASSERT_TRUE(engine->WaitFor(Idle, kWait));
  ASSERT_TRUE(engine->Submit(GreedyRequest("a", MakePrompt(5, 3), 2), third.channel()).ok());
  EXPECT_TRUE(third.CollectAll().status.ok());
}

}  // namespace
}  // namespace gqa::testing
