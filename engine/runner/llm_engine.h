// LlmEngine: the serving loop over one model. Callers add requests (token
// ids in, token ids out) and call Step() repeatedly; each step schedules a
// ragged batch, runs one forward pass, samples and applies stop rules:
//
//   ScheduledBatch batch = scheduler_.Schedule();
//   StepOutput out = runner_->Execute(batch);
//   finished = scheduler_.Update(batch, out);
//   return MakeOutputs(batch, out);
//
// gqa-generate drives it directly; the gRPC server runs it on its engine thread.
//
// Thread ownership: one thread (the engine thread) calls every method.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/runner/model_runner.h"
#include "engine/scheduler/scheduler.h"

namespace gqa {

struct EngineConfig {
  int block_size = 16;
  int max_num_seqs = 64;
  int max_num_batched_tokens = 512;
  int max_model_len = 0;         // 0: the model's context length
  size_t kv_cache_bytes = 0;     // KV pool budget; 0: what max_num_seqs full contexts need
  int num_kv_blocks = 0;         // > 0 overrides kv_cache_bytes (tests)
  int max_logit_rows = 64;       // rows per logits GEMM chunk
  uint64_t seed = 0;             // base of per-request seeds when a request sets none
};

struct TokenOutput {
  int32_t token_id;
  float logprob;  // of the raw model distribution
  std::vector<TokenLogprob> top_logprobs;
};

// What one request gained in one step.
struct RequestOutput {
  std::string request_id;
  std::vector<TokenOutput> new_tokens;
  std::vector<float> new_prompt_logprobs;  // continues the previous steps' values
  bool finished = false;
  FinishReason finish_reason = FinishReason::kNone;
  int num_prompt_tokens = 0;
  int num_output_tokens = 0;
  int num_preemptions = 0;
};

// What the last Step() did, for serving metrics and queue accounting.
struct StepStats {
  int num_batch_tokens = 0;  // tokens computed (rows of the ragged batch)
  int num_sampled = 0;       // tokens sampled
  // Requests whose first tokens were scheduled in this step (they left the
  // waiting queue for the first time; recomputes after preemption excluded).
  std::vector<std::string> first_scheduled;
};

class LlmEngine {
 public:
  static absl::StatusOr<std::unique_ptr<LlmEngine>> Create(const ModelWeights& weights,
                                                           std::unique_ptr<Backend> backend,
                                                           const EngineConfig& config);

  // INVALID_ARGUMENT naming the field for a bad request (empty prompt, token
  // ids outside the vocabulary, prompt + max_tokens beyond the context, bad
  // sampling values, a duplicate id); RESOURCE_EXHAUSTED when it could never
  // fit in the KV pool.
  absl::Status AddRequest(GenerationRequest request);
  // The checks of AddRequest that need no engine state: everything but the
  // duplicate id. Reads only configuration fixed at Create, so any thread may
  // call it while the engine thread steps (the server validates on its
  // reactor threads and answers at once).
  absl::Status ValidateRequest(const GenerationRequest& request) const;
  // Finishes a request with kAborted and frees its blocks; false if unknown.
  bool Abort(const std::string& request_id);

  // Runs one step. When the backend fails during it (a CUDA error, say), the
  // step's results are dropped and nothing is returned: see status().
  std::vector<RequestOutput> Step();
  // OK until the backend reports a failure; from then on the device's state is
  // unknown, so every later step does nothing and AddRequest returns this
  // error. The caller aborts what is running (EngineService does).
  absl::Status status() const { return runner_->backend_status(); }
  bool HasUnfinished() const { return scheduler_->HasUnfinished(); }
  const StepStats& last_step_stats() const { return last_step_stats_; }

  const ModelConfig& model_config() const { return runner_->config(); }
  const EngineConfig& config() const { return config_; }
  const KvCacheManager& kv_cache() const { return *kv_cache_; }
  const Scheduler& scheduler() const { return *scheduler_; }
  const ModelRunner& runner() const { return *runner_; }

 private:
  LlmEngine() = default;
  std::vector<RequestOutput> MakeOutputs(const ScheduledBatch& batch, const StepOutput& out);
  static RequestOutput OutputHeader(const Sequence& seq);

  EngineConfig config_;
  std::unique_ptr<ModelRunner> runner_;
  std::unique_ptr<KvCacheManager> kv_cache_;
  std::unique_ptr<Scheduler> scheduler_;
  std::map<std::string, std::unique_ptr<Sequence>> sequences_;  // every unfinished request
  int64_t next_arrival_ = 0;
  StepStats last_step_stats_;
};

}  // namespace gqa
