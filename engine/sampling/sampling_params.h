// SamplingParams: how one request turns logits into its next token.
// Defaults match OpenAI/vLLM: temperature 1, every filter off.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace gqa {

struct SamplingParams {
  float temperature = 1.0f;         // 0: greedy (argmax)
  int top_k = 0;                    // keep the k most likely tokens; 0 or -1: off
  float top_p = 1.0f;               // keep the smallest set with probability >= top_p; 1: off
  float min_p = 0.0f;               // drop tokens with p < min_p * p_max; 0: off
  float repetition_penalty = 1.0f;  // HF/CTRL: divide positive (multiply negative) logits of
                                    // tokens seen in prompt or output; 1: off
  float presence_penalty = 0.0f;    // OpenAI: subtract once for each token seen in the output
  float frequency_penalty = 0.0f;   // OpenAI: subtract per occurrence in the output
  std::optional<uint64_t> seed;     // fixes the random stream of this request
  int top_logprobs = 0;             // also return the N most likely tokens' logprobs

  // INVALID_ARGUMENT naming the field when a value is out of range.
  absl::Status Validate() const;
  bool greedy() const { return temperature == 0.0f; }
};

}  // namespace gqa
