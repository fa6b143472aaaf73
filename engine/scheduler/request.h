// GenerationRequest: what a caller asks the engine for, in token ids, and
// FinishReason: how it ended. (Text, stop strings and detokenization live in
// the layer above.) What comes back, per step, is a RequestDelta
// (engine/serving/request_channel.h) of TokenOutputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampling/sampling_params.h"
#include "engine/sampling/sequence_sampler.h"

namespace gqa {

struct StoppingCriteria {
  // Output tokens at most; unset: as many as fit the context and the KV
  // cache (Engine::Validate fills it in).
  std::optional<int> max_tokens = 16;
  int min_tokens = 0;                   // EOS and stop tokens are ignored before this many
  std::vector<int32_t> stop_token_ids;  // finish with kStop when sampled
  bool ignore_eos = false;              // keep going past EOS (exact output lengths)
};

struct GenerationRequest {
  std::string request_id;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams sampling;
  StoppingCriteria stopping;
  int priority = 0;              // lower runs first (as in vLLM), then earlier arrival
  bool prompt_logprobs = false;  // also return log p(prompt[i] | prompt[:i]) for i >= 1
};

// kAborted: cancelled (by the client, or a stop string the server matched).
// kError: cut off by a failure: the backend failed, the drain timeout passed,
// or the engine refused it at admission; its final delta carries the status.
enum class FinishReason { kNone, kLength, kStop, kEos, kAborted, kError };

// One generated token: the sampler's result, unchanged on its way to the
// client (ModelOutput -> RequestDelta -> GenerateResponse): token id, raw
// logprob, top_logprobs.
using TokenOutput = SampleResult;

}  // namespace gqa
