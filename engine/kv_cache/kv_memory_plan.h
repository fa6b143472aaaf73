// Sizing the KV block pool from --gpu-memory-utilization: what is left of
// the allowed share of device memory after what others already use, the
// weights and the workspace, in whole blocks. Plain arithmetic (no CUDA), so
// it is testable anywhere; the caller reads the device numbers with
// GetCudaDeviceInfo (cuda_backend.h).
//
// Two ways to use it: before loading (weight_bytes and workspace_bytes
// estimated, free_bytes read at start), or after the model and its
// workspace are allocated (weight_bytes = workspace_bytes = 0, free_bytes
// read then, so they are already counted as used).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace gqa {

struct KvMemoryPlanInputs {
  size_t total_bytes = 0;               // device memory
  size_t free_bytes = 0;                // free when measured (others' use is total - free)
  double gpu_memory_utilization = 0.9;  // share of total_bytes this engine may end up using, (0, 1]
  size_t weight_bytes = 0;              // still to be allocated
  size_t workspace_bytes = 0;     // activations, GEMM and attention scratch, still to be allocated
  size_t kv_bytes_per_block = 0;  // all layers, K and V (KvCacheStorage::BytesPerBlock)
  int block_size = 16;            // tokens per block
};

struct KvMemoryPlan {
  int64_t num_blocks = 0;
  int64_t num_tokens = 0;        // num_blocks * block_size
  size_t kv_bytes = 0;           // num_blocks * kv_bytes_per_block
  size_t budget_bytes = 0;       // total * utilization
  size_t used_before_bytes = 0;  // total - free at measurement
};

// RESOURCE_EXHAUSTED, naming every number, when not even one block fits;
// INVALID_ARGUMENT for a utilization outside (0, 1] or a zero block size.
absl::StatusOr<KvMemoryPlan> PlanKvCache(const KvMemoryPlanInputs& in);

// One line for the startup log: "KV cache: 12345 blocks x 16 = 197520 tokens
// (24.1 GiB); budget 71.6 GiB = 0.90 x 79.6 GiB; weights 15.0 GiB; ...".
std::string DescribeKvMemoryPlan(const KvMemoryPlanInputs& in, const KvMemoryPlan& plan);

}  // namespace gqa
