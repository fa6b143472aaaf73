// The GPU benchmarks of issue 5 (see bench/gpu/README.md): ceilings, decode
// attention alone, whole decode step, prefill, and the GQA comparison. Each
// writes CSV rows (header first) to `csv` and a markdown table to stdout.
// They take a CUDA backend; timings are device time from CUDA events
// (TimeOnDeviceMs), medians over repetitions.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/backend/backend.h"
#include "engine/model/model_config.h"

namespace gqa::bench {

struct Ceilings {
  double copy_gbs = 0;     // device-to-device copy, bytes read + written per second / 1e9
  double gemm_tflops = 0;  // 8192^3 bf16 GEMM through Backend::Gemm
};
absl::Status MeasureCeilings(Backend& backend, Ceilings& out, std::FILE* csv);

struct AttentionBenchOptions {
  std::vector<int> batches = {1, 8, 64, 256};
  std::vector<int> contexts = {512, 2048, 8192, 32768};
  std::vector<int> kv_heads = {32, 8, 4, 1};
  int n_heads = 32, head_dim = 128, block_size = 16;
  int reps = 20;
  double kv_budget_fraction = 0.6;  // of free device memory, for the K and V pools
};
absl::Status RunAttentionBench(Backend& backend, const AttentionBenchOptions& options,
                               const Ceilings& ceilings, std::FILE* csv);

struct ModelBenchOptions {
  std::vector<int> batches = {1, 8, 64, 256};
  std::vector<int> contexts = {1024, 8192};
  int block_size = 16;
  int reps = 10;
  double gpu_memory_utilization = 0.9;
  int prompt_len = 2048;  // prefill
  std::vector<int> gqa_kv_heads = {32, 8, 1};
  int gqa_context = 4096;
  int gqa_max_batch = 1024;  // MQA at 4k fits ~850 sequences on an 80 GB H100 (estimate)
};
// One load of `config` (dummy bf16 weights), then:
//  decode: Forward + Logits + ArgMaxRows (greedy on the device, as the
//    engine) of `batch` decode rows at each context: device time, tokens/s,
//    model-bandwidth utilization ((weights read + KV read) / time / copy
//    bandwidth), and the wall time of a synchronous host loop (index arrays
//    built and copied, token ids and logprobs copied back);
//  prefill: one prompt of prompt_len tokens: time and MFU against the
//    measured GEMM rate.
absl::Status RunModelBench(Backend& backend, const ModelConfig& config,
                           const ModelBenchOptions& options, const Ceilings& ceilings,
                           std::FILE* decode_csv, std::FILE* prefill_csv);
// `config` with each of options.gqa_kv_heads KV heads: largest batch at
// gqa_context that fits, decode tokens/s there and at batch 16.
absl::Status RunGqaBench(Backend& backend, const ModelConfig& config,
                         const ModelBenchOptions& options, const Ceilings& ceilings,
                         std::FILE* csv);

}  // namespace gqa::bench
