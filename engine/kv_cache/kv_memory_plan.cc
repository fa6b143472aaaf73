#include "engine/kv_cache/kv_memory_plan.h"

#include "absl/strings/str_format.h"

namespace gqa {
namespace {

double GiB(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

absl::StatusOr<KvMemoryPlan> PlanKvCache(const KvMemoryPlanInputs& in) {
  if (!(in.gpu_memory_utilization > 0.0 && in.gpu_memory_utilization <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("gpu_memory_utilization: %g is not in (0, 1]", in.gpu_memory_utilization));
  }
  if (in.block_size <= 0 || in.kv_bytes_per_block == 0) {
    return absl::InvalidArgumentError("block_size and kv_bytes_per_block must be positive");
  }
  if (in.free_bytes > in.total_bytes) {
    return absl::InvalidArgumentError("free_bytes exceeds total_bytes");
  }
  KvMemoryPlan plan;
  plan.budget_bytes =
      static_cast<size_t>(static_cast<double>(in.total_bytes) * in.gpu_memory_utilization);
  plan.used_before_bytes = in.total_bytes - in.free_bytes;
  const size_t claimed = plan.used_before_bytes + in.weight_bytes + in.workspace_bytes;
  const size_t left = plan.budget_bytes > claimed ? plan.budget_bytes - claimed : 0;
  plan.num_blocks = static_cast<int64_t>(left / in.kv_bytes_per_block);
  plan.num_tokens = plan.num_blocks * in.block_size;
  plan.kv_bytes = static_cast<size_t>(plan.num_blocks) * in.kv_bytes_per_block;
  if (plan.num_blocks == 0) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "no room for the KV cache: budget %.2f GiB (%.2f x %.2f GiB) minus %.2f GiB already in "
        "use, %.2f GiB of weights and %.2f GiB of workspace leaves %.3f GiB, less than one block "
        "(%zu bytes); raise --gpu-memory-utilization or use a smaller model",
        GiB(plan.budget_bytes), in.gpu_memory_utilization, GiB(in.total_bytes),
        GiB(plan.used_before_bytes), GiB(in.weight_bytes), GiB(in.workspace_bytes), GiB(left),
        in.kv_bytes_per_block));
  }
  return plan;
}

std::string DescribeKvMemoryPlan(const KvMemoryPlanInputs& in, const KvMemoryPlan& plan) {
  return absl::StrFormat(
      "KV cache: %d blocks x %d = %d tokens (%.2f GiB, %zu bytes per block); budget %.2f GiB = "
      "%.2f x %.2f GiB; in use before %.2f GiB, weights %.2f GiB, workspace %.2f GiB",
      plan.num_blocks, in.block_size, plan.num_tokens, GiB(plan.kv_bytes), in.kv_bytes_per_block,
      GiB(plan.budget_bytes), in.gpu_memory_utilization, GiB(in.total_bytes),
      GiB(plan.used_before_bytes), GiB(in.weight_bytes), GiB(in.workspace_bytes));
}

}  // namespace gqa
