#include "engine/scheduler/sequence.h"

namespace gqa {

Sequence::Sequence(GenerationRequest request, int64_t arrival, uint64_t fallback_seed)
    : request_(std::move(request)),
      arrival_(arrival),
      fallback_seed_(fallback_seed),
      token_ids_(request_.prompt_token_ids),
      num_prompt_tokens_(static_cast<int>(token_ids_.size())) {}

void Sequence::ResetForRecompute() {
  num_computed_tokens = 0;
  block_table.clear();
  cache_state.ResetTable();
  status = SequenceStatus::kWaiting;
  ++num_preemptions;
}

}  // namespace gqa
