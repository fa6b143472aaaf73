#include "server/metrics/serving_metrics.h"

#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/server/metrics/exposition_test_util.h"

namespace gqa {
namespace {

using testing::FamilyBlock;
using testing::SampleLines;
using testing::SampleValue;
using testing::SortedFamilyLines;
using Lines = std::vector<std::string>;

ModelInfoLabels TestInfo() { return {"tiny \"llama\"\\v2\nx", "cpu", "fp32", 8, 2, 16}; }

TEST(ServingMetricsTest, EveryFamilyHasHelpAndTheRightType) {
  const std::string text = ServingMetrics(TestInfo()).Render();
  const std::map<std::string, std::string> families = {
      {"gqa_time_to_first_token_seconds", "histogram"},
      {"gqa_inter_token_latency_seconds", "histogram"},
      {"gqa_e2e_request_latency_seconds", "histogram"},
      {"gqa_request_queue_time_seconds", "histogram"},
      {"gqa_request_prompt_tokens", "histogram"},
      {"gqa_request_generation_tokens", "histogram"},
      {"gqa_step_duration_seconds", "histogram"},
      {"gqa_step_batch_tokens", "histogram"},
      {"gqa_requests_running", "gauge"},
      {"gqa_requests_waiting", "gauge"},
      {"gqa_kv_cache_blocks_total", "gauge"},
      {"gqa_kv_cache_blocks_used", "gauge"},
      {"gqa_kv_cache_usage_ratio", "gauge"},
      {"gqa_kv_cache_blocks_cached", "gauge"},
      {"gqa_memory_bytes", "gauge"},
      {"gqa_model_info", "gauge"},
      {"gqa_prompt_tokens_total", "counter"},
      {"gqa_generation_tokens_total", "counter"},
      {"gqa_requests_finished_total", "counter"},
      {"gqa_requests_rejected_total", "counter"},
      {"gqa_engine_failures_total", "counter"},
      {"gqa_preemptions_total", "counter"},
      {"gqa_prefix_cache_queries_total", "counter"},
      {"gqa_prefix_cache_hits_total", "counter"},
  };
  size_t num_type_lines = 0;
  for (size_t pos = 0; (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos) {
    ++num_type_lines;
  }
  EXPECT_EQ(num_type_lines, families.size());
  for (const auto& [name, type] : families) {
    const std::string block = FamilyBlock(text, name);
    ASSERT_FALSE(block.empty()) << name;
    EXPECT_NE(block.find(absl::StrCat("\n# TYPE ", name, " ", type, "\n")), std::string::npos)
        << block;
  }
}

TEST(ServingMetricsTest, FreshRenderHasZeroSeries) {
  const std::string text = ServingMetrics(TestInfo()).Render();
  EXPECT_EQ(SortedFamilyLines(text, "gqa_requests_finished_total"),
            (Lines{"# HELP gqa_requests_finished_total Requests finished, by reason (length, stop, "
                   "eos, aborted, error).",
                   "# TYPE gqa_requests_finished_total counter",
                   "gqa_requests_finished_total{reason=\"aborted\"} 0",
                   "gqa_requests_finished_total{reason=\"eos\"} 0",
                   "gqa_requests_finished_total{reason=\"error\"} 0",
                   "gqa_requests_finished_total{reason=\"length\"} 0",
                   "gqa_requests_finished_total{reason=\"stop\"} 0"}));
  EXPECT_EQ(SortedFamilyLines(text, "gqa_requests_rejected_total"),
            (Lines{"# HELP gqa_requests_rejected_total Requests refused before running, by gRPC "
                   "status code.",
                   "# TYPE gqa_requests_rejected_total counter",
                   "gqa_requests_rejected_total{code=\"INVALID_ARGUMENT\"} 0",
                   "gqa_requests_rejected_total{code=\"RESOURCE_EXHAUSTED\"} 0",
                   "gqa_requests_rejected_total{code=\"UNAVAILABLE\"} 0"}));
  // Labels in name order; the model name escaped (backslash, quote, newline).
  EXPECT_EQ(SortedFamilyLines(text, "gqa_model_info"),
            (Lines{"# HELP gqa_model_info The served model; the value is always 1.",
                   "# TYPE gqa_model_info gauge",
                   "gqa_model_info{backend=\"cpu\",block_size=\"16\",dtype=\"fp32\","
                   "model=\"tiny \\\"llama\\\"\\\\v2\\nx\",n_heads=\"8\",n_kv_heads=\"2\"} 1"}));
  EXPECT_EQ(
      SortedFamilyLines(text, "gqa_memory_bytes"),
      (Lines{"# HELP gqa_memory_bytes Device memory held, by kind (weights, kv_cache, "
             "activations).",
             "# TYPE gqa_memory_bytes gauge", "gqa_memory_bytes{kind=\"activations\"} 0",
             "gqa_memory_bytes{kind=\"kv_cache\"} 0", "gqa_memory_bytes{kind=\"weights\"} 0"}));
  EXPECT_EQ(SampleValue(text, "gqa_e2e_request_latency_seconds_bucket{le=\"+Inf\"}"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_e2e_request_latency_seconds_count"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_preemptions_total"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_kv_cache_usage_ratio"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_kv_cache_blocks_cached"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_prefix_cache_queries_total"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_prefix_cache_hits_total"), 0);
}

TEST(ServingMetricsTest, BucketsSpanLlmLatenciesAndTokenCounts) {
  const std::string text = ServingMetrics(TestInfo()).Render();
  // Sub-millisecond inter-token latency on a GPU ...
  EXPECT_TRUE(SampleValue(text, "gqa_inter_token_latency_seconds_bucket{le=\"0.0005\"}"));
  EXPECT_TRUE(SampleValue(text, "gqa_step_duration_seconds_bucket{le=\"0.0005\"}"));
  // ... to 10+ minutes end to end.
  EXPECT_TRUE(SampleValue(text, "gqa_e2e_request_latency_seconds_bucket{le=\"960\"}"));
  EXPECT_TRUE(SampleValue(text, "gqa_request_queue_time_seconds_bucket{le=\"960\"}"));
  EXPECT_TRUE(SampleValue(text, "gqa_time_to_first_token_seconds_bucket{le=\"640\"}"));
  for (int tokens = 1; tokens <= 131072; tokens *= 2) {
    EXPECT_TRUE(
        SampleValue(text, absl::StrCat("gqa_request_prompt_tokens_bucket{le=\"", tokens, "\"}")))
        << tokens;
    EXPECT_TRUE(SampleValue(
        text, absl::StrCat("gqa_request_generation_tokens_bucket{le=\"", tokens, "\"}")))
        << tokens;
  }
  EXPECT_TRUE(SampleValue(text, "gqa_step_batch_tokens_bucket{le=\"32768\"}"));
}

TEST(ServingMetricsTest, RendersKnownObservations) {
  ServingMetrics m(TestInfo());
  m.ObserveRequestFinished(2.0, 100, 7, "stop");
  m.ObserveRequestFinished(0.75, 3, 1, "eos");
  m.ObserveRequestFinished(1.0, 5, 200, "stop");
  m.ObserveRequestFinished(700, 5, 200, "my_reason");
  m.CountRejected("RESOURCE_EXHAUSTED");
  m.CountRejected("RESOURCE_EXHAUSTED");
  m.CountRejected("INVALID_ARGUMENT");
  m.ObserveInterTokenLatency(0.0004);
  m.ObserveInterTokenLatency(0.0005);
  m.ObserveInterTokenLatency(0.002);
  m.ObserveStep(0.01, 64, 60, 4);
  m.ObserveStep(0.02, 8, 0, 8);
  m.SetRequestCounts(3, 5);
  m.SetKvCacheBlocks(64, 16);
  m.CountPreemptions(2);
  m.SetMemoryBytes(1.5e9, 268435456, 1024);
  m.SetKvCacheBlocksCached(9);
  m.SetKvCacheBlocksCached(7);  // a gauge: the latest
  m.CountPrefixCache(40, 32);
  m.CountPrefixCache(100, 0);
  const std::string text = m.Render();

  EXPECT_EQ(SampleValue(text, "gqa_requests_finished_total{reason=\"stop\"}"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_requests_finished_total{reason=\"eos\"}"), 1);
  EXPECT_EQ(SampleValue(text, "gqa_requests_finished_total{reason=\"length\"}"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_requests_finished_total{reason=\"my_reason\"}"), 1);
  EXPECT_EQ(SortedFamilyLines(text, "gqa_requests_rejected_total"),
            (Lines{"# HELP gqa_requests_rejected_total Requests refused before running, by gRPC "
                   "status code.",
                   "# TYPE gqa_requests_rejected_total counter",
                   "gqa_requests_rejected_total{code=\"INVALID_ARGUMENT\"} 1",
                   "gqa_requests_rejected_total{code=\"RESOURCE_EXHAUSTED\"} 2",
                   "gqa_requests_rejected_total{code=\"UNAVAILABLE\"} 0"}));
  // e2e: 0.75, 1, 2 and 700; bounds ... 0.5, 1, 2.5 ... 480, 960 ...
  const std::string e2e = "gqa_e2e_request_latency_seconds";
  EXPECT_EQ(SampleValue(text, e2e + "_bucket{le=\"0.5\"}"), 0);
  EXPECT_EQ(SampleValue(text, e2e + "_bucket{le=\"1\"}"), 2);
  EXPECT_EQ(SampleValue(text, e2e + "_bucket{le=\"2.5\"}"), 3);
  EXPECT_EQ(SampleValue(text, e2e + "_bucket{le=\"480\"}"), 3);
  EXPECT_EQ(SampleValue(text, e2e + "_bucket{le=\"960\"}"), 4);
  EXPECT_EQ(SampleValue(text, e2e + "_bucket{le=\"+Inf\"}"), 4);
  EXPECT_EQ(SampleValue(text, e2e + "_sum"), 703.75);
  EXPECT_EQ(SampleValue(text, e2e + "_count"), 4);
  EXPECT_EQ(SampleValue(text, "gqa_request_prompt_tokens_bucket{le=\"4\"}"), 1);
  EXPECT_EQ(SampleValue(text, "gqa_request_prompt_tokens_bucket{le=\"8\"}"), 3);
  EXPECT_EQ(SampleValue(text, "gqa_request_prompt_tokens_bucket{le=\"128\"}"), 4);
  EXPECT_EQ(SampleValue(text, "gqa_request_prompt_tokens_sum"), 113);
  EXPECT_EQ(SampleValue(text, "gqa_request_generation_tokens_bucket{le=\"128\"}"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_request_generation_tokens_bucket{le=\"256\"}"), 4);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_bucket{le=\"0.0005\"}"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_bucket{le=\"0.001\"}"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_bucket{le=\"0.0025\"}"), 3);
  EXPECT_EQ(SampleValue(text, "gqa_step_batch_tokens_bucket{le=\"8\"}"), 1);
  EXPECT_EQ(SampleValue(text, "gqa_step_batch_tokens_bucket{le=\"64\"}"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_step_batch_tokens_sum"), 72);
  EXPECT_EQ(SampleValue(text, "gqa_step_duration_seconds_count"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_prompt_tokens_total"), 60);
  EXPECT_EQ(SampleValue(text, "gqa_generation_tokens_total"), 12);
  EXPECT_EQ(SampleValue(text, "gqa_requests_running"), 3);
  EXPECT_EQ(SampleValue(text, "gqa_requests_waiting"), 5);
  EXPECT_EQ(SampleValue(text, "gqa_kv_cache_blocks_total"), 64);
  EXPECT_EQ(SampleValue(text, "gqa_kv_cache_blocks_used"), 16);
  EXPECT_EQ(SampleValue(text, "gqa_kv_cache_usage_ratio"), 0.25);
  EXPECT_EQ(SampleValue(text, "gqa_preemptions_total"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_kv_cache_blocks_cached"), 7);
  EXPECT_EQ(SampleValue(text, "gqa_prefix_cache_queries_total"), 140);
  EXPECT_EQ(SampleValue(text, "gqa_prefix_cache_hits_total"), 32);
  EXPECT_NE(text.find("\ngqa_memory_bytes{kind=\"weights\"} 1500000000\n"), std::string::npos);
  EXPECT_NE(text.find("\ngqa_memory_bytes{kind=\"kv_cache\"} 268435456\n"), std::string::npos);
  EXPECT_NE(text.find("\ngqa_memory_bytes{kind=\"activations\"} 1024\n"), std::string::npos);
}

TEST(ServingMetricsTest, ErrorFinishesCountUnderTheirOwnReason) {
  ServingMetrics m(TestInfo());
  m.ObserveRequestFinished(0.5, 4, 0, "error");
  m.ObserveRequestFinished(0.5, 4, 2, "error");
  m.ObserveRequestFinished(0.5, 4, 2, "aborted");
  const std::string text = m.Render();
  EXPECT_EQ(SampleValue(text, "gqa_requests_finished_total{reason=\"error\"}"), 2);
  EXPECT_EQ(SampleValue(text, "gqa_requests_finished_total{reason=\"aborted\"}"), 1);
  EXPECT_EQ(SampleValue(text, "gqa_requests_finished_total{reason=\"stop\"}"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_e2e_request_latency_seconds_count"), 3);
}

// A NaN would poison _sum for the life of the process; +Inf lands in +Inf.
TEST(ServingMetricsTest, NanObservationsAreDropped) {
  ServingMetrics m(TestInfo());
  m.ObserveInterTokenLatency(std::nan(""));
  m.ObserveStep(std::nan(""), 4, 4, 0);
  m.ObserveQueueTime(std::numeric_limits<double>::infinity());
  const std::string text = m.Render();
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_count"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_inter_token_latency_seconds_sum"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_step_duration_seconds_count"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_step_batch_tokens_count"), 1);  // the rest of the step counts
  EXPECT_EQ(SampleValue(text, "gqa_request_queue_time_seconds_bucket{le=\"7680\"}"), 0);
  EXPECT_EQ(SampleValue(text, "gqa_request_queue_time_seconds_bucket{le=\"+Inf\"}"), 1);
}

// Prometheus rejects a whole scrape over one invalid UTF-8 byte in a label
// value; the model name is input.
TEST(ServingMetricsTest, InvalidUtf8InLabelsBecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  ModelInfoLabels info = TestInfo();
  info.model = "caf\xC3\xA9 \xFF \xC0\xAF \xED\xA0\x80 \xF0\x9F\x98\x80 \xC3";
  const std::string text = ServingMetrics(info).Render();
  const std::string want = "model=\"caf\xC3\xA9 " + fffd + " " + fffd + fffd + " " + fffd + fffd +
                           fffd + " \xF0\x9F\x98\x80 " + fffd + "\"";
  EXPECT_NE(text.find(want), std::string::npos) << FamilyBlock(text, "gqa_model_info");
}

// Every sample line is `name{label="value",...} number`, and every histogram's
// buckets are cumulative up to le="+Inf" == _count.
TEST(ServingMetricsTest, EveryLineParses) {
  ServingMetrics m(TestInfo());
  for (int i = 0; i < 50; ++i) {
    m.ObserveRequestFinished(0.01 * i * i, i, 3 * i, i % 2 ? "stop" : "length");
    m.ObserveTimeToFirstToken(0.003 * i);
    m.ObserveQueueTime(0.5 * i);
  }
  const std::string text = m.Render();
  ASSERT_EQ(text.back(), '\n');
  const std::regex sample(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? )re"
      R"re((-?[0-9.e+-]+|\+Inf|-Inf|NaN))re");
  std::string last_bucket_series;
  double last_cumulative = 0;
  for (const std::string& line : SampleLines(text)) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(line, match, sample)) << line;
    if (line.find("_bucket{") == std::string::npos) continue;
    // Cumulative within a series (lines of one series are consecutive).
    const std::string series = match[1].str();
    double value;
    ASSERT_TRUE(absl::SimpleAtod(match[5].str(), &value)) << line;
    if (series == last_bucket_series) {
      EXPECT_GE(value, last_cumulative) << line;
    }
    last_bucket_series = series;
    last_cumulative = value;
    if (line.find("le=\"+Inf\"") != std::string::npos) {
      const std::string base = series.substr(0, series.size() - std::string("_bucket").size());
      EXPECT_EQ(SampleValue(text, base + "_count"), value) << base;
    }
  }
}

}  // namespace
}  // namespace gqa
