// SequenceSampler: the sampling state of one request: its parameters, its token history
// (for penalties) and its own random stream.
//
// Per sampled token, in this order (vLLM's):
//   1. repetition penalty   (prompt + output tokens; HF rule, see penalties.h)
//   2. presence / frequency penalties (output tokens only; OpenAI rule)
//   3. temperature == 0: argmax of the penalized logits (lowest id on ties); else
//   4. logits / temperature, then top-k, top-p, min-p (token_distribution.h)
//   5. softmax over the survivors and an inverse-CDF lookup of ONE uniform draw (kept
//      tokens in increasing id order).
// Exactly one draw is taken per sampled token whatever the parameters (greedy too), so a
// request's tokens depend only on (seed, its logits): not on the batch it shares a step
// with, nor on how many draws other requests took.
//
// Returned logprobs are those of the RAW model logits, log_softmax before penalties,
// temperature and filters (vLLM's default "raw_logprobs"): they score the model, not the
// sampling settings. A greedy token therefore may have logprob < 0 and need not be the
// top entry of top_logprobs when penalties moved it.
//
// Memory: per-call scratch ([vocab] buffers) lives in one thread-local workspace shared by
// every sampler of the thread, so N live requests cost O(N * distinct seen tokens), not
// O(N * vocab), and nothing is allocated per call once it has grown (except the
// top_logprobs vector itself when requested).
//
// Thread ownership: the engine thread. Not thread-safe; one sampler per request.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/sampling/logprobs.h"
#include "engine/sampling/penalties.h"
#include "engine/sampling/rng.h"
#include "engine/sampling/sampling_params.h"

namespace gqa {

struct SampleResult {
  int token_id = -1;                       // -1 only for an empty logits span
  float logprob = 0.0f;                    // log_softmax(raw logits)[token_id]
  std::vector<TokenLogprob> top_logprobs;  // params.top_logprobs entries, most likely first
};

class SequenceSampler {
 public:
  // params: already validated (SamplingParams::Validate). prompt_token_ids: for the
  // repetition penalty. fallback_seed: the seed when params.seed is unset; the engine
  // passes a value unique to the request.
  SequenceSampler(const SamplingParams& params, std::span<const int> prompt_token_ids,
                  uint64_t fallback_seed);

  // Samples the next token from logits [vocab], fp32, of this sequence's last position.
  // Does not record the token: call Accept with the token the sequence really appends.
  SampleResult Sample(std::span<const float> logits);

  // Whether Sample(logits) is, right now, just the argmax of the raw logits with
  // its log-softmax: greedy, no penalty in effect, no top_logprobs. The runner
  // then lets the backend find it (Backend::ArgMaxRows) and calls TakeArgMax.
  bool IsPlainArgMax() const;

  // Sample's result for a plain-argmax row whose argmax and logprob were
  // computed elsewhere (the device). Takes the token's one draw as Sample
  // does, so the random stream stays in step with a host-sampled run.
  SampleResult TakeArgMax(int token_id, float logprob);

  // Records an output token (the penalties count it from the next Sample on).
  void Accept(int token_id);

  // The distribution Sample would draw from, as probabilities [vocab] (0 for filtered
  // tokens; one-hot for greedy). Takes no draw and changes nothing. For tests and debugging.
  std::vector<float> ComputeProbs(std::span<const float> logits) const;

  // The logits after steps 1-2 (penalties), [vocab]. For tests and debugging.
  std::vector<float> PenalizedLogits(std::span<const float> logits) const;

  const SamplingParams& params() const { return params_; }
  int num_output_tokens() const { return num_output_tokens_; }

 private:
  // Penalized logits (NaN mapped to -inf), in the thread-local workspace.
  std::span<const float> Penalize(std::span<const float> logits) const;
  // Steps 1-5 for the draw u. When the logits were used unpenalized, also sets
  // *raw_log_sum_exp from passes already made (their max; at T = 1 without top-k, the
  // exp sum too), so that the logprob costs at most one more pass.
  int PickToken(std::span<const float> logits, double u,
                std::optional<double>* raw_log_sum_exp) const;

  SamplingParams params_;
  PenaltyTracker penalties_;
  Rng rng_;
  int num_output_tokens_ = 0;
};

}  // namespace gqa
