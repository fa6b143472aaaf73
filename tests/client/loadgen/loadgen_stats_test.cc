// Percentiles and summaries (numpy's linear interpolation), and the
// per-request and per-run metrics on synthetic request records.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/loadgen/bench_metrics.h"
#include "client/loadgen/request_record.h"
#include "client/loadgen/stats.h"

namespace gqa::loadgen {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(PercentileTest, LinearInterpolationLikeNumpy) {
  const std::vector<double> v = {1, 2, 3, 4, 5};
  EXPECT_EQ(Percentile(v, 0), 1);
  EXPECT_EQ(Percentile(v, 50), 3);
  EXPECT_EQ(Percentile(v, 100), 5);
  EXPECT_EQ(Percentile(v, 25), 2);
  EXPECT_DOUBLE_EQ(Percentile(v, 90), 4.6);   // np.percentile([1..5], 90)
  EXPECT_DOUBLE_EQ(Percentile(v, 99), 4.96);  // np.percentile([1..5], 99)
  EXPECT_EQ(Percentile({10, 20}, 50), 15);
  EXPECT_EQ(Percentile({7}, 99), 7);
  EXPECT_EQ(Percentile({}, 50), 0);
}

TEST(SummarizeTest, MeanStdAndPercentilesOfUnsortedValues) {
  const Summary s = Summarize({9, 2, 4, 4, 4, 5, 5, 7});
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.mean, 5);
  EXPECT_EQ(s.std, 2);  // population std of the classic example
  EXPECT_EQ(s.min, 2);
  EXPECT_EQ(s.max, 9);
  EXPECT_EQ(s.median, 4.5);
  EXPECT_DOUBLE_EQ(s.p90, 7.6);  // rank 6.3 between 7 and 9
  EXPECT_DOUBLE_EQ(s.p99, 8.86);
  const Summary empty = Summarize({});
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.mean, 0);
  EXPECT_EQ(empty.p99, 0);
}

// Times are multiples of 1/8 s, so every difference below is exact.
RequestRecord Record(double start, std::vector<double> times, std::vector<int> tokens,
                     int input_len) {
  RequestRecord r;
  r.start_s = start;
  r.input_len = input_len;
  r.message_times_s = std::move(times);
  r.message_tokens = std::move(tokens);
  for (int n : r.message_tokens) r.output_len += n;
  r.end_s = r.message_times_s.empty() ? start : r.message_times_s.back() + 0.125;
  return r;
}

RequestRecord Failed(double start, const std::string& code, int status_code) {
  RequestRecord r = Record(start, {}, {}, 5);
  r.status_code = status_code;
  r.status_name = code;
  return r;
}

TEST(RequestLatencyTest, TtftTpotE2eAndItlSpreadOverMessageTokens) {
  // Tokens: 1 at 1.5, 1 at 1.75, 2 at 2.25 (one message after a 0.5 s gap).
  const RequestRecord r = Record(1.0, {1.5, 1.75, 2.25}, {1, 1, 2}, 10);
  EXPECT_EQ(r.output_len, 4);
  EXPECT_EQ(TtftSeconds(r), 0.5);
  EXPECT_EQ(E2eSeconds(r), 1.25);   // the last token, not the trailing status
  EXPECT_EQ(TpotSeconds(r), 0.25);  // (1.25 - 0.5) / 3
  EXPECT_THAT(ItlSeconds(r), ElementsAre(0.25, 0.25, 0.25));

  // Tokens of the first message get no ITL: the values sum to e2e - ttft.
  const RequestRecord first_many = Record(0, {0.5, 1.0}, {3, 1}, 4);
  EXPECT_THAT(ItlSeconds(first_many), ElementsAre(0.5));
  EXPECT_EQ(TpotSeconds(first_many), 0.5 / 3);

  const RequestRecord one = Record(0, {0.25}, {1}, 6);
  EXPECT_EQ(TpotSeconds(one), 0);  // as vLLM: no TPOT for a single token
  EXPECT_TRUE(ItlSeconds(one).empty());

  const RequestRecord none = Failed(2, "UNAVAILABLE", 14);
  EXPECT_EQ(E2eSeconds(none), 0);  // end_s - start_s without tokens
  EXPECT_TRUE(ItlSeconds(none).empty());
}

std::vector<RequestRecord> SyntheticRun() {
  std::vector<RequestRecord> records = {
      Record(1.0, {1.5, 1.75, 2.25}, {1, 1, 2}, 10),  // ttft 500 ms, tpot 250, e2e 1250
      Record(0.0, {0.25}, {1}, 6),                    // ttft 250 ms, single token
      Failed(0.5, "RESOURCE_EXHAUSTED", 8),
      Record(3.0, {3.5}, {2}, 7),  // tokens, then the stream failed
  };
  records[3].status_code = 14;
  records[3].status_name = "UNAVAILABLE";
  return records;
}

TEST(BenchMetricsTest, CountsThroughputsAndLatencies) {
  const BenchmarkMetrics m = ComputeMetrics(SyntheticRun(), /*duration_s=*/4.0,
                                            /*max_concurrency_observed=*/3, SloConfig{});
  EXPECT_EQ(m.num_requests, 4);
  EXPECT_EQ(m.completed, 2);
  EXPECT_EQ(m.failed, 2);
  EXPECT_THAT(m.failures_by_code,
              ElementsAre(Pair("RESOURCE_EXHAUSTED", 1), Pair("UNAVAILABLE", 1)));
  EXPECT_EQ(m.duration_s, 4.0);
  EXPECT_EQ(m.total_input_tokens, 16);  // completed requests only
  EXPECT_EQ(m.total_output_tokens, 5);
  EXPECT_EQ(m.request_throughput, 0.5);
  EXPECT_EQ(m.input_throughput, 4.0);
  EXPECT_EQ(m.output_throughput, 1.25);
  EXPECT_EQ(m.total_token_throughput, 5.25);
  EXPECT_EQ(m.max_concurrency_observed, 3);
  EXPECT_FALSE(m.has_goodput);

  EXPECT_EQ(m.ttft_ms.count, 2);
  EXPECT_EQ(m.ttft_ms.mean, 375);
  EXPECT_EQ(m.ttft_ms.median, 375);
  EXPECT_EQ(m.ttft_ms.min, 250);
  EXPECT_EQ(m.ttft_ms.max, 500);
  EXPECT_EQ(m.ttft_ms.std, 125);
  EXPECT_DOUBLE_EQ(m.ttft_ms.p90, 475);
  EXPECT_DOUBLE_EQ(m.ttft_ms.p99, 497.5);
  EXPECT_EQ(m.tpot_ms.count, 1);  // the single-token request has none
  EXPECT_EQ(m.tpot_ms.mean, 250);
  EXPECT_EQ(m.itl_ms.count, 3);
  EXPECT_EQ(m.itl_ms.mean, 250);
  EXPECT_EQ(m.itl_ms.std, 0);
  EXPECT_EQ(m.e2el_ms.count, 2);
  EXPECT_EQ(m.e2el_ms.mean, 750);  // (1250 + 250) / 2

  // Every token received, failed requests' too, per 1 s bucket.
  EXPECT_THAT(m.output_tokens_per_s, ElementsAre(1, 2, 2, 2));
  EXPECT_EQ(m.peak_output_throughput, 2);
}

TEST(BenchMetricsTest, GoodputCountsRequestsMeetingEverySlo) {
  const std::vector<RequestRecord> run = SyntheticRun();
  BenchmarkMetrics m = ComputeMetrics(run, 4.0, 1, SloConfig{.ttft_ms = 300});
  EXPECT_TRUE(m.has_goodput);
  EXPECT_EQ(m.good_requests, 1);  // only the 250 ms TTFT
  EXPECT_EQ(m.goodput, 0.25);
  m = ComputeMetrics(run, 4.0, 1, SloConfig{.ttft_ms = 600, .tpot_ms = 200});
  EXPECT_EQ(m.good_requests, 1);  // the first misses TPOT (250 ms); TPOT 0 passes
  m = ComputeMetrics(run, 4.0, 1, SloConfig{.ttft_ms = 500, .tpot_ms = 250});
  EXPECT_EQ(m.good_requests, 2);  // limits are inclusive
  EXPECT_EQ(m.goodput, 0.5);
  m = ComputeMetrics(run, 4.0, 1, SloConfig{.e2el_ms = 1000});
  EXPECT_EQ(m.good_requests, 1);
}

TEST(BenchMetricsTest, DurationDefaultsToTheLastEnd) {
  const BenchmarkMetrics m = ComputeMetrics(SyntheticRun(), 0, 1, SloConfig{});
  EXPECT_EQ(m.duration_s, 3.625);  // 3.5 + 0.125
  EXPECT_EQ(m.output_tokens_per_s.size(), 4u);
}

TEST(BenchMetricsTest, EmptyRun) {
  const BenchmarkMetrics m = ComputeMetrics({}, 0, 0, SloConfig{});
  EXPECT_EQ(m.completed, 0);
  EXPECT_EQ(m.request_throughput, 0);
  EXPECT_EQ(m.ttft_ms.count, 0);
  EXPECT_THAT(m.output_tokens_per_s, ElementsAre(0));
}

}  // namespace
}  // namespace gqa::loadgen
