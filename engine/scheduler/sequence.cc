#include "engine/scheduler/sequence.h"

namespace gqa {

Sequence::Sequence(GenerationRequest request, int64_t arrival, uint64_t fallback_seed)
    : sampler(request.sampling, request.prompt_token_ids, fallback_seed),
      request_(std::move(request)),
      arrival_(arrival),
      token_ids_(request_.prompt_token_ids),
      num_prompt_tokens_(static_cast<int>(token_ids_.size())) {}

void Sequence::AppendOutputToken(int32_t token) {
  token_ids_.push_back(token);
  sampler.Accept(token);
}

void Sequence::ResetForRecompute() {
  num_computed_tokens = 0;
  block_table.clear();
  status = SequenceStatus::kWaiting;
  ++num_preemptions;
}

}  // namespace gqa
