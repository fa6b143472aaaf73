#include "engine/runner/model_runner.h"

#include <algorithm>

#include "engine/common/status_macros.h"
#include "engine/sampling/logprobs.h"

namespace gqa {

absl::StatusOr<std::unique_ptr<ModelRunner>> ModelRunner::Create(const ModelWeights& weights,
                                                                 std::unique_ptr<Backend> backend,
                                                                 const RunnerLimits& limits,
                                                                 int block_size,
                                                                 int num_kv_blocks) {
  std::unique_ptr<ModelRunner> r(new ModelRunner());
  r->backend_ = std::move(backend);
  r->limits_ = limits;
  GQA_ASSIGN_OR_RETURN(r->model_, LlamaModel::Create(weights, r->backend_.get(),
                                                     limits.max_num_tokens, limits.max_logit_rows));
  GQA_ASSIGN_OR_RETURN(r->kv_cache_, KvCacheStorage::Allocate(*r->backend_, weights.config,
                                                              block_size, num_kv_blocks));
  r->max_blocks_per_seq_ = (limits.max_model_len + block_size - 1) / block_size;
  const size_t i32_capacity = 3 * size_t(limits.max_num_tokens) + 2 * limits.max_num_seqs + 1 +
                              size_t(limits.max_num_seqs) * r->max_blocks_per_seq_;
  r->host_i32_.reserve(i32_capacity);
  r->host_slots_.reserve(limits.max_num_tokens);
  GQA_ASSIGN_OR_RETURN(r->device_i32_, r->backend_->Allocate(i32_capacity * sizeof(int32_t)));
  GQA_ASSIGN_OR_RETURN(r->device_slots_,
                       r->backend_->Allocate(limits.max_num_tokens * sizeof(int64_t)));
  r->host_logits_.resize(size_t(limits.max_logit_rows) * weights.config.vocab_size);
  // Backend::ArgMaxRows' output: tokens [max_logit_rows] i32 | logprobs [max_logit_rows] f32.
  GQA_ASSIGN_OR_RETURN(r->device_argmax_,
                       r->backend_->Allocate(size_t(limits.max_logit_rows) * 2 * sizeof(int32_t)));
  r->host_argmax_tokens_.resize(limits.max_logit_rows);
  r->host_argmax_logprobs_.resize(limits.max_logit_rows);
  return r;
}

void ModelRunner::UpdateSamplers(const SchedulerOutput& plan) {
  for (const std::string& id : plan.finished_request_ids) samplers_.erase(id);
  for (const NewRequestData& r : plan.new_requests) {
    samplers_.insert_or_assign(r.request_id,
                               SequenceSampler(r.sampling, r.prompt_token_ids, r.fallback_seed));
  }
  row_samplers_.assign(plan.requests.size(), nullptr);
  for (size_t i = 0; i < plan.requests.size(); ++i) {
    if (!plan.requests[i].sample) continue;
    auto it = samplers_.find(plan.requests[i].request_id);
    // A plan that samples a request it never introduced is a scheduler bug;
    // give it a default sampler rather than crash the server.
    if (it == samplers_.end()) {
      it = samplers_.emplace(plan.requests[i].request_id, SequenceSampler(SamplingParams(), {}, 0))
               .first;
    }
    row_samplers_[i] = &it->second;
  }
}

ForwardBatch ModelRunner::PrepareInputs(const SchedulerOutput& plan, std::vector<LogitUse>& uses) {
  const int num_seqs = static_cast<int>(plan.requests.size());
  const int num_tokens = plan.num_tokens;
  const int block_size = kv_cache_.block_size();
  // Sections of host_i32_, in order; sizes are this step's, so one copy moves them all.
  std::vector<int32_t> token_ids, positions, query_start{0}, context_lens, logit_rows;
  std::vector<int32_t> block_tables(size_t(num_seqs) * max_blocks_per_seq_, 0);
  host_slots_.clear();
  int max_query_len = 0, max_context_len = 0;
  for (int s = 0; s < num_seqs; ++s) {
    const ScheduledRequest& r = plan.requests[s];
    const int start = r.start_position;
    const int end = start + r.num_new_tokens();
    for (int pos = start; pos < end; ++pos) {
      const int row = static_cast<int>(token_ids.size());
      const int i = pos - start;
      token_ids.push_back(r.token_ids[i]);
      positions.push_back(pos);
      host_slots_.push_back(int64_t{r.block_table[pos / block_size]} * block_size +
                            pos % block_size);
      const int j = i - r.prompt_logprob_row;  // into prompt_logprob_targets
      if (j >= 0 && j < static_cast<int>(r.prompt_logprob_targets.size())) {
        logit_rows.push_back(row);
        uses.push_back({s, r.prompt_logprob_targets[j]});
      }
    }
    if (r.sample) {
      logit_rows.push_back(static_cast<int>(token_ids.size()) - 1);
      uses.push_back({s, -1});
    }
    query_start.push_back(static_cast<int>(token_ids.size()));
    context_lens.push_back(end);
    std::copy(r.block_table.begin(), r.block_table.end(),
              block_tables.begin() + size_t(s) * max_blocks_per_seq_);
    max_query_len = std::max(max_query_len, r.num_new_tokens());
    max_context_len = std::max(max_context_len, end);
  }

  host_i32_.clear();
  std::vector<size_t> offsets;
  for (const std::vector<int32_t>* section :
       {&token_ids, &positions, &query_start, &context_lens, &block_tables, &logit_rows}) {
    offsets.push_back(host_i32_.size());
    host_i32_.insert(host_i32_.end(), section->begin(), section->end());
  }
  backend_->CopyToDevice(device_i32_.data(), host_i32_.data(), host_i32_.size() * sizeof(int32_t));
  backend_->CopyToDevice(device_slots_.data(), host_slots_.data(),
                         host_slots_.size() * sizeof(int64_t));

  const auto* dev = static_cast<const int32_t*>(device_i32_.data());
  ForwardBatch fb;
  fb.token_ids = dev + offsets[0];
  fb.attn.num_seqs = num_seqs;
  fb.attn.num_tokens = num_tokens;
  fb.attn.max_query_len = max_query_len;
  fb.attn.max_context_len = max_context_len;
  fb.attn.max_blocks_per_seq = max_blocks_per_seq_;
  fb.attn.positions = dev + offsets[1];
  fb.attn.query_start = dev + offsets[2];
  fb.attn.context_lens = dev + offsets[3];
  fb.attn.block_tables = dev + offsets[4];
  fb.attn.slot_mapping = static_cast<const int64_t*>(device_slots_.data());
  fb.logit_rows = dev + offsets[5];
  fb.num_logit_rows = static_cast<int>(logit_rows.size());
  return fb;
}

void ModelRunner::ConsumeLogits(const std::vector<LogitUse>& uses, const Tensor& hidden,
                                ModelOutput& out) {
  const int vocab = config().vocab_size;
  const bool greedy_on_device = backend_->greedy_on_device();
  auto* device_tokens = static_cast<int32_t*>(device_argmax_.data());
  auto* device_logprobs = reinterpret_cast<float*>(device_tokens + limits_.max_logit_rows);
  for (size_t begin = 0; begin < uses.size(); begin += limits_.max_logit_rows) {
    const size_t end = std::min(uses.size(), begin + limits_.max_logit_rows);
    const size_t n = end - begin;
    const Tensor logits = model_->Logits(hidden.Rows(begin, end));
    // Rows the device decodes (greedy, no penalty, no top_logprobs) send back
    // a token id and a logprob; the others their whole row.
    on_device_.assign(n, 0);
    bool any_on_device = false;
    for (size_t i = 0; i < n; ++i) {
      const LogitUse& use = uses[begin + i];
      on_device_[i] =
          greedy_on_device && use.next_token < 0 && row_samplers_[use.seq_index]->IsPlainArgMax();
      any_on_device |= on_device_[i] != 0;
    }
    if (any_on_device) {
      backend_->ArgMaxRows(logits, device_tokens, device_logprobs);
      backend_->CopyToHost(host_argmax_tokens_.data(), device_tokens, n * sizeof(int32_t));
      backend_->CopyToHost(host_argmax_logprobs_.data(), device_logprobs, n * sizeof(float));
    }
    for (size_t i = 0; i < n;) {  // each run of host rows in one transfer
      if (on_device_[i]) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < n && !on_device_[j]) ++j;
      const Tensor run = logits.Rows(static_cast<int64_t>(i), static_cast<int64_t>(j));
      backend_->CopyToHost(host_logits_.data() + i * vocab, run.data, run.nbytes());
      i = j;
    }
    for (size_t i = 0; i < n; ++i) {
      const LogitUse& use = uses[begin + i];
      RequestModelOutput& ro = out.requests[use.seq_index];
      const std::span<const float> row(host_logits_.data() + i * vocab, vocab);
      if (use.next_token >= 0) {
        ro.prompt_logprobs.push_back(LogSoftmaxAt(row, use.next_token));
        continue;
      }
      SequenceSampler& sampler = *row_samplers_[use.seq_index];
      ro.sample = on_device_[i]
                      ? sampler.TakeArgMax(host_argmax_tokens_[i], host_argmax_logprobs_[i])
                      : sampler.Sample(row);
      // The scheduler appends every sampled token: the penalties count it from now on.
      sampler.Accept(ro.sample.token_id);
    }
  }
}

ModelOutput ModelRunner::Execute(const SchedulerOutput& plan) {
  ModelOutput out;
  out.requests.resize(plan.requests.size());
  UpdateSamplers(plan);
  if (plan.empty()) return out;
  std::vector<LogitUse> uses;
  const ForwardBatch inputs = PrepareInputs(plan, uses);
  const Tensor hidden = model_->Forward(inputs, kv_cache_.layers());
  ConsumeLogits(uses, hidden, out);
  return out;
}

}  // namespace gqa
