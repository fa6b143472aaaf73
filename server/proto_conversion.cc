#include "server/proto_conversion.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "engine/tokenizer/utf8.h"

namespace gqa {

SamplingParams SamplingFromProto(const v1::SamplingParams& p, int top_logprobs) {
  SamplingParams s;  // the defaults
  if (p.has_temperature()) s.temperature = p.temperature();
  if (p.has_top_k()) s.top_k = p.top_k();
  if (p.has_top_p()) s.top_p = p.top_p();
  if (p.has_min_p()) s.min_p = p.min_p();
  if (p.has_repetition_penalty()) s.repetition_penalty = p.repetition_penalty();
  if (p.has_presence_penalty()) s.presence_penalty = p.presence_penalty();
  if (p.has_frequency_penalty()) s.frequency_penalty = p.frequency_penalty();
  if (p.has_seed()) s.seed = p.seed();
  s.top_logprobs = top_logprobs;
  return s;
}

v1::FinishReason FinishReasonToProto(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return v1::FINISH_REASON_LENGTH;
    case FinishReason::kStop:
      return v1::FINISH_REASON_STOP;
    case FinishReason::kEos:
      return v1::FINISH_REASON_EOS;
    case FinishReason::kAborted:
      return v1::FINISH_REASON_ABORTED;
    case FinishReason::kError:  // the call's status says what failed
      return v1::FINISH_REASON_ERROR;
    case FinishReason::kNone:
      break;
  }
  return v1::FINISH_REASON_UNSPECIFIED;
}

const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kEos:
      return "eos";
    case FinishReason::kAborted:
      return "aborted";
    case FinishReason::kError:
      return "error";
    case FinishReason::kNone:
      break;
  }
  return "";
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  // absl::StatusCode and grpc::StatusCode share their numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

std::string StatusCodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

std::string TokenText(const Tokenizer* tokenizer, int token_id) {
  if (!tokenizer) return "";
  return Utf8ReplaceInvalid(tokenizer->TokenString(token_id));
}

void AppendTokenLogprob(const TokenOutput& token, const Tokenizer* tokenizer,
                        v1::TokenLogprob* out) {
  out->set_token_id(token.token_id);
  out->set_logprob(token.logprob);
  out->set_token(TokenText(tokenizer, token.token_id));
  for (const TokenLogprob& top : token.top_logprobs) {
    v1::TopLogprob* t = out->add_top_logprobs();
    t->set_token_id(top.token_id);
    t->set_logprob(top.logprob);
    t->set_token(TokenText(tokenizer, top.token_id));
  }
}

void FillUsage(const RequestDelta& d, int completion_tokens, v1::Usage* usage) {
  usage->set_prompt_tokens(d.num_prompt_tokens);
  usage->set_completion_tokens(completion_tokens);
  usage->set_cached_prompt_tokens(d.num_cached_prompt_tokens);
  usage->set_queue_seconds(std::max(0.0, d.queue_seconds));
  usage->set_time_to_first_token_seconds(std::max(0.0, d.ttft_seconds));
  usage->set_num_preemptions(d.num_preemptions);
  usage->set_e2e_seconds(std::max(0.0, d.e2e_seconds));
}

void FillModelInfo(const EngineInfo& info, const Tokenizer* tokenizer,
                   std::string_view backend_name, std::string_view description,
                   v1::ModelInfo* out) {
  const ModelConfig& m = info.model;
  out->set_name(m.name);
  out->set_vocab_size(m.vocab_size);
  out->set_context_length(info.config.max_model_len);
  out->set_n_heads(m.n_heads);
  out->set_n_kv_heads(m.n_kv_heads);
  out->set_dtype(std::string(DTypeName(m.dtype)));
  out->set_backend(std::string(backend_name));
  out->set_block_size(info.config.block_size);
  out->set_n_layers(m.n_layers);
  out->set_dim(m.dim);
  out->set_head_dim(m.head_dim);
  out->set_num_kv_blocks(info.num_kv_blocks);
  out->set_kv_cache_tokens(static_cast<int64_t>(info.num_kv_blocks) * info.config.block_size);
  out->set_max_num_seqs(info.config.max_num_seqs);
  out->set_max_num_batched_tokens(info.config.max_num_batched_tokens);
  out->set_has_tokenizer(tokenizer != nullptr);
  out->set_description(std::string(description));
  for (int id : m.eos_token_ids) out->add_eos_token_ids(id);
  out->set_bos_token_id(m.bos_token_id);
  out->set_prefix_caching_enabled(info.config.enable_prefix_caching);
}

void FillLoad(const ServiceStats& s, v1::Load* out) {
  out->set_num_running_requests(s.num_running);
  // Accepted and not in the running batch: still in the request queue, or
  // in the scheduler's waiting list (new or preempted). Both counts come
  // from one snapshot, so the difference is never negative in practice.
  out->set_num_waiting_requests(std::max(0, s.num_active - s.num_running));
  out->set_num_waiting_prompt_tokens(s.num_queued_tokens);
  const int used = s.num_kv_blocks_total - s.num_kv_blocks_free;
  out->set_num_kv_blocks_total(s.num_kv_blocks_total);
  out->set_num_kv_blocks_used(used);
  out->set_num_kv_blocks_cached(s.num_kv_blocks_cached);
  out->set_kv_cache_usage(
      s.num_kv_blocks_total > 0 ? static_cast<double>(used) / s.num_kv_blocks_total : 0.0);
  out->set_prefix_cache_queries_tokens(s.prefix_cache_queries_tokens);
  out->set_prefix_cache_hits_tokens(s.prefix_cache_hits_tokens);
  out->set_draining(s.draining);
}

}  // namespace gqa
