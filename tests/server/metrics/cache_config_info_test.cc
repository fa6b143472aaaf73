// gqa_cache_config_info: the KV cache layout in vLLM's cache_config_info shape
// (labels block_size and num_gpu_blocks, value 1), which the Gateway API
// Inference Extension's endpoint picker reads (deploy/k8s/epp.yaml names it).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/metrics/serving_metrics.h"
#include "tests/server/metrics/exposition_test_util.h"

namespace gqa {
namespace {

using testing::FamilyBlock;
using testing::SampleLines;
using testing::SampleValue;

ModelInfoLabels Info() { return {"m", "cpu", "fp32", 9, 3, 16}; }

TEST(CacheConfigInfoTest, AbsentUntilThePoolSizeIsKnown) {
  ServingMetrics m(Info());
  EXPECT_EQ(FamilyBlock(m.Render(), "gqa_cache_config_info"), "");
  m.SetKvCacheBlocks(0, 0);
  EXPECT_EQ(FamilyBlock(m.Render(), "gqa_cache_config_info"), "");
}

TEST(CacheConfigInfoTest, OneSeriesWithBlockSizeAndPoolSize) {
  ServingMetrics m(Info());
  m.SetKvCacheBlocks(512, 0);
  m.SetKvCacheBlocks(512, 100);  // same pool: the same series
  const std::string block = FamilyBlock(m.Render(), "gqa_cache_config_info");
  EXPECT_NE(block.find("\n# TYPE gqa_cache_config_info gauge\n"), std::string::npos) << block;
  EXPECT_EQ(SampleLines(block),
            (std::vector<std::string>{
                "gqa_cache_config_info{block_size=\"16\",num_gpu_blocks=\"512\"} 1"}));
}

TEST(CacheConfigInfoTest, APoolSizeChangeReplacesTheSeries) {
  ServingMetrics m(Info());
  m.SetKvCacheBlocks(512, 0);
  m.SetKvCacheBlocks(256, 0);
  const std::string block = FamilyBlock(m.Render(), "gqa_cache_config_info");
  EXPECT_EQ(SampleLines(block),
            (std::vector<std::string>{
                "gqa_cache_config_info{block_size=\"16\",num_gpu_blocks=\"256\"} 1"}));
}

// The three gauges the endpoint picker's model server protocol requires, with
// its semantics: queued and running request counts, KV cache use as a 0-1
// fraction (0 while the pool is empty, never NaN).
TEST(CacheConfigInfoTest, ProtocolGaugesHaveTheProtocolsSemantics) {
  ServingMetrics m(Info());
  m.SetKvCacheBlocks(0, 0);
  EXPECT_EQ(SampleValue(m.Render(), "gqa_kv_cache_usage_ratio"), 0);
  m.SetRequestCounts(3, 7);
  m.SetKvCacheBlocks(200, 50);
  const std::string text = m.Render();
  EXPECT_EQ(SampleValue(text, "gqa_requests_waiting"), 7);
  EXPECT_EQ(SampleValue(text, "gqa_requests_running"), 3);
  EXPECT_EQ(SampleValue(text, "gqa_kv_cache_usage_ratio"), 0.25);
  m.SetKvCacheBlocks(200, 200);
  EXPECT_EQ(SampleValue(m.Render(), "gqa_kv_cache_usage_ratio"), 1);
}

}  // namespace
}  // namespace gqa
