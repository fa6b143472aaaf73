// GenerationRequest: what a caller asks the engine for, in token ids.
// (Text, stop strings and detokenization live in the layer above.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/sampling/sampling_params.h"

namespace gqa {

struct StoppingCriteria {
  int max_tokens = 16;                 // output tokens at most
  int min_tokens = 0;                  // EOS and stop tokens are ignored before this many
  std::vector<int32_t> stop_token_ids; // finish with kStop when sampled
  bool ignore_eos = false;             // keep going past EOS (exact output lengths)
};

struct GenerationRequest {
  std::string request_id;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams sampling;
  StoppingCriteria stopping;
  int priority = 0;              // lower runs first (as in vLLM), then earlier arrival
  bool prompt_logprobs = false;  // also return log p(prompt[i] | prompt[:i]) for i >= 1
};

enum class FinishReason { kNone, kLength, kStop, kEos, kAborted };

}  // namespace gqa
