// Several threads observe at once while another renders; totals stay exact.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/metrics/serving_metrics.h"
#include "tests/server/metrics/exposition_test_util.h"

namespace gqa {
namespace {

using testing::SampleValue;

TEST(ServingMetricsConcurrencyTest, TotalsAreExact) {
  ServingMetrics m({"m", "cpu", "fp32", 4, 1, 16});
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;
  const char* kReasons[] = {"length", "stop", "eos", "aborted", "error"};

  std::atomic<bool> done{false};
  std::atomic<int> renders{0};
  // Renders race the observers; every render must still be self-consistent:
  // the +Inf bucket is always the count.
  std::thread renderer([&] {
    do {
      const std::string text = m.Render();
      const auto inf = SampleValue(text, "gqa_inter_token_latency_seconds_bucket{le=\"+Inf\"}");
      const auto count = SampleValue(text, "gqa_inter_token_latency_seconds_count");
      ASSERT_TRUE(inf.has_value() && count.has_value());
      EXPECT_EQ(*inf, *count);
      renders.fetch_add(1);
    } while (!done.load());
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        m.ObserveRequestFinished(0.5, 3, 2, kReasons[(t + i) % 5]);
        m.ObserveInterTokenLatency(0.25);
        m.ObserveStep(0.001, 4, 1, 3);
        m.CountRejected(i % 2 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT");
        m.CountPreemptions(1);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  done.store(true);
  renderer.join();

  const std::string text = m.Render();
  constexpr double kTotal = static_cast<double>(kThreads) * kIterations;
  for (const char* reason : kReasons) {
    EXPECT_EQ(
        SampleValue(text, std::string("gqa_requests_finished_total{reason=\"") + reason + "\"}"),
        kTotal / 5)
        << reason;
  }
  EXPECT_EQ(SampleValue(text, "gqa_requests_rejected_total{code=\"RESOURCE_EXHAUSTED\"}"),
            kTotal / 2);
  EXPECT_EQ(SampleValue(text, "gqa_requests_rejected_total{code=\"INVALID_ARGUMENT\"}"),
            kTotal / 2);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_count"), kTotal);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_sum"), kTotal * 0.25);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_bucket{le=\"0.2\"}"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_bucket{le=\"0.3\"}"), kTotal);
  EXPECT_EQ(SampleValue(text, "gqa_e2e_request_latency_seconds_sum"), kTotal * 0.5);
  EXPECT_EQ(SampleValue(text, "gqa_request_prompt_tokens_sum"), kTotal * 3);
  EXPECT_EQ(SampleValue(text, "gqa_step_batch_tokens_bucket{le=\"4\"}"), kTotal);
  EXPECT_EQ(SampleValue(text, "gqa_prompt_tokens_total"), kTotal);
  EXPECT_EQ(SampleValue(text, "gqa_generation_tokens_total"), kTotal * 3);
  EXPECT_EQ(SampleValue(text, "gqa_preemptions_total"), kTotal);
  EXPECT_GT(renders.load(), 0);
}

}  // namespace
}  // namespace gqa
