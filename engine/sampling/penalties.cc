#include "engine/sampling/penalties.h"

#include <algorithm>
#include <cstddef>

namespace gqa {

PenaltyTracker::PenaltyTracker(std::span<const int> prompt_token_ids)
    : prompt_tokens_sorted_(prompt_token_ids.begin(), prompt_token_ids.end()) {
  std::sort(prompt_tokens_sorted_.begin(), prompt_tokens_sorted_.end());
  prompt_tokens_sorted_.erase(
      std::unique(prompt_tokens_sorted_.begin(), prompt_tokens_sorted_.end()),
      prompt_tokens_sorted_.end());
  seen_tokens_ = prompt_tokens_sorted_;
}

void PenaltyTracker::Accept(int token_id) {
  int& count = output_counts_[token_id];
  if (count++ > 0) return;
  output_tokens_.push_back(token_id);
  if (!std::binary_search(prompt_tokens_sorted_.begin(), prompt_tokens_sorted_.end(), token_id)) {
    seen_tokens_.push_back(token_id);
  }
}

int PenaltyTracker::OutputCount(int token_id) const {
  auto it = output_counts_.find(token_id);
  return it == output_counts_.end() ? 0 : it->second;
}

bool PenaltyTracker::Changes(const SamplingParams& params) const {
  const bool repetition = params.repetition_penalty != 1.0f && !seen_tokens_.empty();
  const bool presence_or_frequency =
      (params.presence_penalty != 0.0f || params.frequency_penalty != 0.0f) &&
      !output_tokens_.empty();
  return repetition || presence_or_frequency;
}

bool PenaltyTracker::Apply(const SamplingParams& params, std::span<float> logits) const {
  const auto in_vocab = [&](int id) { return id >= 0 && static_cast<size_t>(id) < logits.size(); };
  bool changed = false;
  const float rep = params.repetition_penalty;
  if (rep != 1.0f && !seen_tokens_.empty()) {
    for (int id : seen_tokens_) {
      if (!in_vocab(id)) continue;
      float& x = logits[id];
      x = x > 0.0f ? x / rep : x * rep;
    }
    changed = true;
  }
  const float presence = params.presence_penalty;
  const float frequency = params.frequency_penalty;
  if ((presence != 0.0f || frequency != 0.0f) && !output_tokens_.empty()) {
    for (int id : output_tokens_) {
      if (!in_vocab(id)) continue;
      const int count = output_counts_.at(id);
      logits[id] -= presence + frequency * static_cast<float>(count);
    }
    changed = true;
  }
  return changed;
}

}  // namespace gqa
