// ModelRunner: turns a SchedulerOutput (plain data) into one forward pass of
// the model over the paged KV cache, then samples. Builds the ragged batch's
// index arrays (token ids, positions, KV slots, block tables, which rows need
// logits) on the host, copies them to the backend in one transfer, runs
// LlamaModel, and samples each request that ends its known tokens with its
// own sampler. The runner owns the samplers (parameters, penalty history,
// random stream): created from the plan's new_requests, dropped with its
// finished_request_ids, and each sampled token is accepted at once.
// On a device backend, greedy rows are decoded on the device
// (Backend::ArgMaxRows) and only their token ids and logprobs come back; other
// rows copy their logits to the host sampler.
//
// Thread ownership: the engine thread.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/model/llama_model.h"
#include "engine/runner/kv_cache_storage.h"
#include "engine/scheduler/scheduler_output.h"

namespace gqa {

struct RunnerLimits {
  int max_num_tokens = 512;  // rows per step (the scheduler's token budget)
  int max_num_seqs = 64;
  int max_model_len = 0;    // context length
  int max_logit_rows = 64;  // rows per logits GEMM; more are done in chunks
};

class ModelRunner {
 public:
  static absl::StatusOr<std::unique_ptr<ModelRunner>> Create(const ModelWeights& weights,
                                                             std::unique_ptr<Backend> backend,
                                                             const RunnerLimits& limits,
                                                             int block_size, int num_kv_blocks);

  ModelOutput Execute(const SchedulerOutput& plan);

  const ModelConfig& config() const { return model_->config(); }
  const KvCacheStorage& kv_cache() const { return kv_cache_; }
  const LlamaModel& model() const { return *model_; }
  Backend& backend() { return *backend_; }
  absl::Status backend_status() const { return backend_->status(); }

 private:
  // What one logits row is for.
  struct LogitUse {
    int seq_index;       // into SchedulerOutput::requests
    int32_t next_token;  // prompt token scored by this row, or -1: sample here
  };
  ModelRunner() = default;
  // Fills the host index arrays for `batch`, copies them to the backend and
  // returns the forward inputs pointing at the device copies.
  ForwardBatch PrepareInputs(const SchedulerOutput& plan, std::vector<LogitUse>& uses);
  // Samplers of the plan's sampling requests, by request index (null otherwise).
  void UpdateSamplers(const SchedulerOutput& plan);
  void ConsumeLogits(const std::vector<LogitUse>& uses, const Tensor& hidden, ModelOutput& out);

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<LlamaModel> model_;
  KvCacheStorage kv_cache_;
  RunnerLimits limits_;
  int max_blocks_per_seq_ = 0;
  std::unordered_map<std::string, SequenceSampler> samplers_;  // by request id
  std::vector<SequenceSampler*> row_samplers_;                 // this step's, by request index

  // Index arrays: host staging and its device twin (one copy per step).
  std::vector<int32_t> host_i32_;  // token_ids | positions | query_start | context_lens |
                                   // block_tables | logit_rows
  std::vector<int64_t> host_slots_;
  DeviceBuffer device_i32_;
  DeviceBuffer device_slots_;
  std::vector<float> host_logits_;  // [max_logit_rows, vocab]
  // Greedy rows decoded on the device (Backend::greedy_on_device).
  DeviceBuffer device_argmax_;               // tokens | logprobs, [max_logit_rows] each
  std::vector<int32_t> host_argmax_tokens_;  // [max_logit_rows]
  std::vector<float> host_argmax_logprobs_;  // [max_logit_rows]
  std::vector<char> on_device_;              // per row of a logits chunk
};

}  // namespace gqa
