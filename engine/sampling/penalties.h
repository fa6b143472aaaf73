// Token-history penalties of one sequence (repetition, presence, frequency).
//
// Rules (as in vLLM, whose order SequenceSampler follows):
//   repetition (HF/CTRL): every token seen in the prompt OR the output, once per token
//     however often it occurs:  logit = logit > 0 ? logit / p : logit * p
//   presence / frequency (OpenAI): output tokens only, count = occurrences in the output:
//     logit -= presence * (count > 0) + frequency * count
// Repetition is applied first, then presence/frequency.
//
// Cost: O(distinct seen tokens) per step, never O(vocab); memory O(distinct seen tokens),
// so hundreds of live sequences don't each hold a vocab-sized mask.
//
// Thread ownership: the thread that owns the sequence (the engine thread).
#pragma once

#include <span>
#include <unordered_map>
#include <vector>

#include "engine/sampling/sampling_params.h"

namespace gqa {

class PenaltyTracker {
 public:
  explicit PenaltyTracker(std::span<const int> prompt_token_ids);

  // Records one output token.
  void Accept(int token_id);

  // Whether Apply(params, ...) may change a logit (false: it would leave them untouched,
  // and the sampler can skip copying the logits).
  bool Changes(const SamplingParams& params) const;

  // Applies the penalties of `params` to logits [vocab] in place. Token ids outside
  // [0, vocab) (a prompt from a mismatched tokenizer) are ignored. Returns Changes(params).
  bool Apply(const SamplingParams& params, std::span<float> logits) const;

  // How often `token_id` occurs in the output so far.
  int OutputCount(int token_id) const;

 private:
  // Distinct tokens of prompt and output, each once, in first-seen order.
  std::vector<int> seen_tokens_;
  // Distinct prompt tokens, sorted (for membership tests in Accept).
  std::vector<int> prompt_tokens_sorted_;
  // Output token id -> occurrences; and the distinct output tokens in first-seen order,
  // so Apply iterates a vector rather than the hash map (deterministic, cache friendly).
  std::unordered_map<int, int> output_counts_;
  std::vector<int> output_tokens_;
};

}  // namespace gqa
