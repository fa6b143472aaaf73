#include "engine/runner/llm_engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace gqa {
namespace {

// Blocks for the KV budget: bytes / bytes-per-block, or, with no budget, what
// max_num_seqs sequences of max_model_len tokens need.
int NumKvBlocks(const EngineConfig& c, const ModelConfig& model, DType kv_dtype) {
  if (c.num_kv_blocks > 0) return c.num_kv_blocks;
  const int full = c.max_num_seqs * ((c.max_model_len + c.block_size - 1) / c.block_size);
  if (c.kv_cache_bytes == 0) return full;
  const size_t per_block = KvCacheStorage::BytesPerBlock(model, c.block_size, kv_dtype);
  return static_cast<int>(std::min<size_t>(full, c.kv_cache_bytes / per_block));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LlmEngine>> LlmEngine::Create(const ModelWeights& weights,
                                                             std::unique_ptr<Backend> backend,
                                                             const EngineConfig& config) {
  GQA_RETURN_IF_ERROR(weights.config.Validate());
  std::unique_ptr<LlmEngine> e(new LlmEngine());
  e->config_ = config;
  EngineConfig& c = e->config_;
  if (c.max_model_len <= 0 || c.max_model_len > weights.config.max_seq_len) {
    c.max_model_len = weights.config.max_seq_len;
  }
  if (c.block_size <= 0 || c.max_num_seqs <= 0 || c.max_num_batched_tokens <= 0 ||
      c.max_logit_rows <= 0) {
    return absl::InvalidArgumentError(
        "block_size, max_num_seqs, max_num_batched_tokens and max_logit_rows must be positive");
  }
  const int num_blocks = NumKvBlocks(c, weights.config, backend->activation_dtype());
  if (num_blocks <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("the KV cache budget of ", c.kv_cache_bytes,
                                                   " bytes holds not even one block"));
  }
  RunnerLimits limits;
  limits.max_num_tokens = c.max_num_batched_tokens;
  limits.max_num_seqs = c.max_num_seqs;
  limits.max_model_len = c.max_model_len;
  limits.max_logit_rows = c.max_logit_rows;
  GQA_ASSIGN_OR_RETURN(e->runner_, ModelRunner::Create(weights, std::move(backend), limits,
                                                       c.block_size, num_blocks));
  e->kv_cache_ = std::make_unique<KvCacheManager>(num_blocks, c.block_size);
  SchedulerConfig sc;
  sc.max_num_seqs = c.max_num_seqs;
  sc.max_num_batched_tokens = c.max_num_batched_tokens;
  sc.max_model_len = c.max_model_len;
  sc.eos_token_ids = weights.config.eos_token_ids;
  e->scheduler_ = std::make_unique<Scheduler>(sc, e->kv_cache_.get());
  return e;
}

absl::Status LlmEngine::ValidateRequest(const GenerationRequest& r) const {
  if (r.prompt_token_ids.empty()) return absl::InvalidArgumentError("prompt: must not be empty");
  const int vocab = model_config().vocab_size;
  for (size_t i = 0; i < r.prompt_token_ids.size(); ++i) {
    const int32_t id = r.prompt_token_ids[i];
    if (id < 0 || id >= vocab) {
      return absl::InvalidArgumentError(absl::StrCat("prompt_token_ids[", i, "]: token id ", id,
                                                     " is outside the vocabulary [0, ", vocab, ")"));
    }
  }
  GQA_RETURN_IF_ERROR(r.sampling.Validate());
  const StoppingCriteria& s = r.stopping;
  if (s.max_tokens < 1) return absl::InvalidArgumentError("stopping.max_tokens: must be >= 1");
  if (s.min_tokens < 0 || s.min_tokens > s.max_tokens) {
    return absl::InvalidArgumentError("stopping.min_tokens: must be in [0, max_tokens]");
  }
  const int64_t total = int64_t{static_cast<int64_t>(r.prompt_token_ids.size())} + s.max_tokens;
  if (total > config_.max_model_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stopping.max_tokens: prompt (", r.prompt_token_ids.size(), " tokens) + max_tokens (",
        s.max_tokens, ") exceeds the context length ", config_.max_model_len));
  }
  if (kv_cache_->BlocksForTokens(static_cast<int>(total)) > kv_cache_->pool().num_blocks_total()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "prompt + max_tokens = ", total, " tokens can never fit the KV cache of ",
        kv_cache_->pool().num_blocks_total() * kv_cache_->block_size(), " tokens"));
  }
  return absl::OkStatus();
}

absl::Status LlmEngine::AddRequest(GenerationRequest request) {
  GQA_RETURN_IF_ERROR(ValidateRequest(request));
  GQA_RETURN_IF_ERROR(status());
  if (sequences_.count(request.request_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: '", request.request_id, "' is already running"));
  }
  const int64_t arrival = next_arrival_++;
  // Unseeded requests still get distinct, reproducible streams per engine seed.
  const uint64_t fallback_seed = config_.seed * 0x9E3779B97F4A7C15ull + uint64_t(arrival);
  auto seq = std::make_unique<Sequence>(std::move(request), arrival, fallback_seed);
  scheduler_->AddWaiting(seq.get());
  sequences_.emplace(seq->request_id(), std::move(seq));
  return absl::OkStatus();
}

bool LlmEngine::Abort(const std::string& request_id) {
  auto it = sequences_.find(request_id);
  if (it == sequences_.end()) return false;
  scheduler_->Abort(it->second.get());
  sequences_.erase(it);
  return true;
}

std::vector<RequestOutput> LlmEngine::Step() {
  if (!status().ok()) return {};
  const ScheduledBatch batch = scheduler_->Schedule();
  last_step_stats_.num_batch_tokens = batch.num_tokens;
  last_step_stats_.num_sampled = 0;
  last_step_stats_.first_scheduled.clear();
  for (const ScheduledSequence& s : batch.seqs) {
    last_step_stats_.num_sampled += s.sample ? 1 : 0;
    if (s.seq->num_computed_tokens == 0 && s.seq->num_preemptions == 0) {
      last_step_stats_.first_scheduled.push_back(s.seq->request_id());
    }
  }
  const StepOutput out = runner_->Execute(batch);
  if (!status().ok()) return {};  // sampled from garbage: keep none of it
  const std::vector<Sequence*> finished = scheduler_->Update(batch, out);
  std::vector<RequestOutput> outputs = MakeOutputs(batch, out);
  for (const Sequence* seq : finished) sequences_.erase(seq->request_id());
  return outputs;
}

RequestOutput LlmEngine::OutputHeader(const Sequence& seq) {
  RequestOutput o;
  o.request_id = seq.request_id();
  o.finished = seq.status == SequenceStatus::kFinished;
  o.finish_reason = seq.finish_reason;
  o.num_prompt_tokens = seq.num_prompt_tokens();
  o.num_output_tokens = seq.num_output_tokens();
  o.num_preemptions = seq.num_preemptions;
  return o;
}

std::vector<RequestOutput> LlmEngine::MakeOutputs(const ScheduledBatch& batch,
                                                  const StepOutput& out) {
  std::vector<RequestOutput> outputs;
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    const ScheduledSequence& s = batch.seqs[i];
    const SequenceStepOutput& so = out.seqs[i];
    if (!s.sample && so.prompt_logprobs.empty()) continue;  // a prompt chunk: nothing to say
    RequestOutput o = OutputHeader(*s.seq);
    o.new_prompt_logprobs = so.prompt_logprobs;
    if (s.sample) {
      o.new_tokens.push_back({so.sample.token_id, so.sample.logprob, so.sample.top_logprobs});
    }
    outputs.push_back(std::move(o));
  }
  return outputs;
}

}  // namespace gqa
