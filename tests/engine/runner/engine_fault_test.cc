// Faults inside the engine, injected by FaultInjectingBackend: a forward pass
// that fails (a CUDA error), a device allocation that fails (only at Create:
// nothing is allocated at run time), and a step that hangs past the
// StepWatchdog's limit. The engine thread, not the test, meets each fault;
// the test waits on channels, WaitFor and the watchdog's callback, never on
// a clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "engine/runner/engine.h"
#include "engine/runner/kv_cache_storage.h"
#include "engine/runner/step_watchdog.h"
#include "tests/engine/runner/channel_collector.h"
#include "tests/engine/runner/engine_test_util.h"
#include "tests/support/fault_injecting_backend.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

ModelWeights Weights() {
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(TinyConfig(2), DType::kF32, 7);
  EXPECT_TRUE(w.ok()) << w.status();
  return *std::move(w);
}

std::unique_ptr<Engine> MakeEngine(const ModelWeights& w, const EngineConfig& config,
                                   std::unique_ptr<Backend> backend,
                                   EngineObserver* observer = nullptr) {
  absl::StatusOr<std::unique_ptr<Engine>> e =
      Engine::Create(w, std::move(backend), config, QueueLimits{}, observer);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *std::move(e) : nullptr;
}

bool Idle(const ServiceStats& s) {
  return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total &&
         s.num_queued_requests == 0 && s.num_queued_tokens == 0;
}

struct FailureObserver : EngineObserver {
  void OnEngineFailed(const absl::Status& s) override {
    ++failures;
    status = s;
  }
  void OnRequestFinished(double, int, int, FinishReason reason) override {
    reasons.push_back(reason);
  }
  int failures = 0;  // engine thread; read after Stop or between RunOnce calls
  absl::Status status;
  std::vector<FinishReason> reasons;
};

// A failed forward pass (what the CUDA backend latches on a CUDA error):
// every running and waiting request ends with the backend's error (kError,
// INTERNAL) and no token of the failed step, every block is freed, the
// observer hears it once, and Submit refuses what comes later with
// UNAVAILABLE. Driven with RunOnce, so which request is where is exact.
TEST(EngineFaultTest, FailedForwardPassFailsRunningAndWaitingRequests) {
  const ModelWeights w = Weights();
  FailureObserver observer;
  EngineConfig config;
  config.max_num_seqs = 3;  // a fourth request waits
  // 2 layers: SiluMul call 9 is in the 5th step.
  std::unique_ptr<Engine> engine =
      MakeEngine(w, config, std::make_unique<FaultInjectingBackend>(/*fail_at=*/9), &observer);
  ASSERT_NE(engine, nullptr);
  std::vector<Collector> running(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(engine
                    ->Submit(GreedyRequest("r" + std::to_string(i), MakePrompt(6, i), 50),
                             running[i].channel())
                    .ok());
  }
  for (int step = 1; step <= 4; ++step) ASSERT_TRUE(engine->RunOnce());
  Collector waiting;
  ASSERT_TRUE(engine->Submit(GreedyRequest("w", MakePrompt(5, 7), 5), waiting.channel()).ok());
  EXPECT_FALSE(engine->RunOnce());  // step 5 fails: nothing is left active
  EXPECT_EQ(observer.failures, 1);
  EXPECT_EQ(observer.status.code(), absl::StatusCode::kInternal);

  for (Collector& c : running) {
    const RequestDelta d = c.CollectAll();
    EXPECT_TRUE(d.finished);
    EXPECT_EQ(d.finish_reason, FinishReason::kError);
    EXPECT_EQ(d.status.code(), absl::StatusCode::kInternal) << d.status;
    EXPECT_THAT(d.status.message(), HasSubstr("injected device fault"));
    EXPECT_EQ(d.tokens.size(), 4u);  // one per step in steps 1..4; step 5's are dropped
  }
  const RequestDelta wd = waiting.CollectAll();
  EXPECT_EQ(wd.finish_reason, FinishReason::kError);
  EXPECT_EQ(wd.status.code(), absl::StatusCode::kInternal) << wd.status;
  EXPECT_TRUE(wd.tokens.empty());

  const ServiceStats stats = engine->Stats();
  EXPECT_TRUE(Idle(stats));  // every block back in the pool, nothing queued
  EXPECT_TRUE(stats.failed);
  EXPECT_EQ(stats.num_steps, 4);  // the failed step is not counted

  // Refused at once: nothing is ever pushed to the channel.
  Collector late;
  const absl::Status s = engine->Submit(GreedyRequest("late", MakePrompt(4, 9), 5), late.channel());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr("injected device fault"));
  EXPECT_FALSE(engine->RunOnce());
  RequestDelta nothing;
  EXPECT_FALSE(late.channel()->TakeOrArm(&nothing));
  EXPECT_EQ(observer.failures, 1);
  EXPECT_EQ(observer.reasons, std::vector<FinishReason>(4, FinishReason::kError));
}

// The same on the engine's own thread, as the server runs it.
TEST(EngineFaultTest, FailedForwardPassOnTheEngineThread) {
  const ModelWeights w = Weights();
  FailureObserver observer;
  std::unique_ptr<Engine> engine = MakeEngine(
      w, EngineConfig{}, std::make_unique<FaultInjectingBackend>(/*fail_at=*/9), &observer);
  ASSERT_NE(engine, nullptr);
  std::vector<Collector> collectors(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(engine
                    ->Submit(GreedyRequest("r" + std::to_string(i), MakePrompt(6, i), 50),
                             collectors[i].channel())
                    .ok());
  }
  engine->Start();
  for (Collector& c : collectors) {
    const RequestDelta d = c.CollectAll();
    EXPECT_EQ(d.finish_reason, FinishReason::kError);
    EXPECT_EQ(d.status.code(), absl::StatusCode::kInternal) << d.status;
    EXPECT_EQ(d.tokens.size(), 4u);
  }
  ASSERT_TRUE(engine->WaitFor([](const ServiceStats& s) { return Idle(s) && s.failed; }, kWait));
  Collector late;
  EXPECT_EQ(engine->Submit(GreedyRequest("late", MakePrompt(4, 9), 5), late.channel()).code(),
            absl::StatusCode::kUnavailable);
  engine->Stop();
  EXPECT_EQ(observer.failures, 1);
  EXPECT_EQ(observer.reasons, std::vector<FinishReason>(3, FinishReason::kError));
}

// The KV pool is one device allocation at Create; when the device can't give
// it, Create fails cleanly with the backend's code and says what to lower.
// (At run time no allocation happens: blocks come from the pool by id and
// admission checks capacity, so a full pool makes requests wait or preempts,
// never fails a step.)
TEST(EngineFaultTest, KvCacheAllocationFailureIsAStartupError) {
  const ModelWeights w = Weights();
  EngineConfig config;
  config.num_kv_blocks = 37;
  const size_t kv_bytes =
      KvCacheStorage::BytesPerBlock(w.config, config.block_size, DType::kF32) * size_t{37};
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(
      w, std::make_unique<FaultInjectingBackend>(FaultPlan{.fail_allocation_of_bytes = kv_bytes}),
      config);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted) << e.status();
  EXPECT_THAT(e.status().message(),
              HasSubstr(absl::StrCat("cannot allocate the KV cache (37 blocks, ", kv_bytes,
                                     " bytes): injected out of device memory")));
  // The same engine with one block less allocates other bytes and starts.
  config.num_kv_blocks = 36;
  EXPECT_TRUE(Engine::Create(w,
                             std::make_unique<FaultInjectingBackend>(
                                 FaultPlan{.fail_allocation_of_bytes = kv_bytes}),
                             config)
                  .ok());
}

// A step that hangs (a kernel that never completes): the watchdog calls back
// once, from its own thread, with how long the step had run; the engine
// reports the step as running; MarkFailed then refuses new requests. When
// the device comes back the step completes and the request finishes.
TEST(EngineFaultTest, WatchdogNoticesAHungStep) {
  const ModelWeights w = Weights();
  // The first step hangs in its first layer.
  auto backend = std::make_unique<FaultInjectingBackend>(FaultPlan{.hang_silu_at = 1});
  FaultInjectingBackend* device = backend.get();
  std::unique_ptr<Engine> engine = MakeEngine(w, EngineConfig{}, std::move(backend));
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->step_running_for(), std::nullopt);

  constexpr std::chrono::milliseconds kLimit{20};
  std::mutex mu;
  std::condition_variable cv;
  int num_timeouts = 0;
  std::chrono::nanoseconds ran_for{0};
  std::optional<StepWatchdog> watchdog;
  watchdog.emplace(engine.get(), kLimit, [&](std::chrono::nanoseconds t, StepWatchdog&) {
    std::lock_guard<std::mutex> lock(mu);
    ++num_timeouts;
    ran_for = t;
    cv.notify_all();
  });
  Collector c;
  ASSERT_TRUE(engine->Submit(GreedyRequest("r", MakePrompt(6, 1), 3), c.channel()).ok());
  engine->Start();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return num_timeouts > 0; }));
  }
  EXPECT_TRUE(device->WaitUntilHung(kWait));
  EXPECT_GT(ran_for, kLimit);
  const std::optional<std::chrono::nanoseconds> running = engine->step_running_for();
  ASSERT_TRUE(running.has_value());  // still stuck in step 1
  EXPECT_GE(*running, ran_for);
  EXPECT_EQ(engine->Stats().num_steps, 0);

  engine->MarkFailed(absl::UnavailableError("a step ran past the watchdog"));
  Collector late;
  const absl::Status s = engine->Submit(GreedyRequest("late", MakePrompt(4, 9), 5), late.channel());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("a step ran past the watchdog"));

  device->Release();
  const RequestDelta d = c.CollectAll();
  EXPECT_EQ(d.finish_reason, FinishReason::kLength);
  EXPECT_TRUE(d.status.ok());
  EXPECT_EQ(d.tokens.size(), 3u);
  ASSERT_TRUE(engine->WaitFor(Idle, kWait));
  EXPECT_EQ(engine->step_running_for(), std::nullopt);
  watchdog.reset();
  engine->Stop();
  EXPECT_EQ(num_timeouts, 1);  // once, then it stops watching
}

}  // namespace
}  // namespace gqa::testing
