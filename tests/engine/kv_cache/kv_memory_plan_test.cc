// PlanKvCache: the KV pool from --gpu-memory-utilization (plain arithmetic,
// runs without a GPU).
#include "engine/kv_cache/kv_memory_plan.h"

#include <gtest/gtest.h>

#include "engine/model/model_config.h"

namespace gqa {
namespace {

constexpr size_t kGiB = size_t{1} << 30;

TEST(MemoryPlanTest, Llama3_8bOnAn80GiBCard) {
  const ModelConfig c = *PresetConfig("llama-3-8b");
  KvMemoryPlanInputs in;
  in.total_bytes = 80 * kGiB;
  in.free_bytes = 79 * kGiB;  // 1 GiB: the CUDA context and others
  in.gpu_memory_utilization = 0.9;
  in.weight_bytes = 16 * kGiB;
  in.workspace_bytes = 2 * kGiB;
  in.kv_bytes_per_block = c.KvBytesPerToken(DType::kBF16) * 16;  // 128 KiB/token * 16 = 2 MiB
  in.block_size = 16;
  ASSERT_EQ(in.kv_bytes_per_block, size_t{2} << 20);
  const absl::StatusOr<KvMemoryPlan> plan = PlanKvCache(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // 72 GiB budget - 1 - 16 - 2 = 53 GiB of 2 MiB blocks.
  const size_t budget = static_cast<size_t>(80.0 * kGiB * 0.9);
  EXPECT_EQ(plan->budget_bytes, budget);
  EXPECT_EQ(plan->num_blocks, static_cast<int64_t>((budget - 19 * kGiB) / (size_t{2} << 20)));
  EXPECT_EQ(plan->num_tokens, plan->num_blocks * 16);
  EXPECT_EQ(plan->kv_bytes, static_cast<size_t>(plan->num_blocks) * (size_t{2} << 20));
  EXPECT_NE(DescribeKvMemoryPlan(in, *plan).find("blocks x 16"), std::string::npos);
}

TEST(MemoryPlanTest, GqaHoldsGroupSizeTimesTheTokensOfMha) {
  ModelConfig gqa = *PresetConfig("llama-3-8b"), mha = gqa;
  mha.n_kv_heads = mha.n_heads;
  KvMemoryPlanInputs in;
  in.total_bytes = in.free_bytes = 80 * kGiB;
  in.weight_bytes = 16 * kGiB;
  in.kv_bytes_per_block = gqa.KvBytesPerToken(DType::kBF16) * 16;
  const int64_t gqa_tokens = PlanKvCache(in)->num_tokens;
  in.kv_bytes_per_block = mha.KvBytesPerToken(DType::kBF16) * 16;
  const int64_t mha_tokens = PlanKvCache(in)->num_tokens;
  const int g = gqa.group_size();  // 32 query heads / 8 KV heads = 4
  ASSERT_EQ(g, 4);
  EXPECT_GE(gqa_tokens, g * mha_tokens);
  EXPECT_LT(gqa_tokens, g * (mha_tokens + 16));
}

TEST(MemoryPlanTest, NoRoomIsResourceExhaustedNamingTheNumbers) {
  KvMemoryPlanInputs in;
  in.total_bytes = in.free_bytes = 24 * kGiB;
  in.gpu_memory_utilization = 0.9;
  in.weight_bytes = 16 * kGiB;
  in.workspace_bytes = 6 * kGiB;
  in.kv_bytes_per_block = size_t{2} << 20;
  const absl::StatusOr<KvMemoryPlan> plan = PlanKvCache(in);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(plan.status().message().find("gpu-memory-utilization"), std::string::npos);
}

TEST(MemoryPlanTest, RejectsBadInputs) {
  KvMemoryPlanInputs in;
  in.total_bytes = in.free_bytes = kGiB;
  in.kv_bytes_per_block = 1024;
  for (double u : {0.0, -0.5, 1.5}) {
    in.gpu_memory_utilization = u;
    EXPECT_EQ(PlanKvCache(in).status().code(), absl::StatusCode::kInvalidArgument) << u;
  }
  in.gpu_memory_utilization = 0.5;
  in.block_size = 0;
  EXPECT_EQ(PlanKvCache(in).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gqa
