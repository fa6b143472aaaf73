#include "engine/sampling/sequence_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "engine/sampling/token_distribution.h"
#include "engine/sampling/vocab_kernels.h"

namespace gqa {
namespace {

// Scratch shared by all samplers of a thread (see the header's "Memory").
struct Workspace {
  std::vector<float> logits;  // [vocab] penalized logits, NaN -> -inf
  TokenDistribution distribution;
};

Workspace& ThreadWorkspace() {
  thread_local Workspace workspace;
  return workspace;
}

FilterParams FiltersOf(const SamplingParams& params) {
  return FilterParams{.temperature = params.temperature,
                      .top_k = params.top_k,
                      .top_p = params.top_p,
                      .min_p = params.min_p};
}

}  // namespace

SequenceSampler::SequenceSampler(const SamplingParams& params,
                                 std::span<const int> prompt_token_ids, uint64_t fallback_seed)
    : params_(params), penalties_(prompt_token_ids), rng_(params.seed.value_or(fallback_seed)) {}

std::span<const float> SequenceSampler::Penalize(std::span<const float> logits) const {
  std::vector<float>& out = ThreadWorkspace().logits;
  out.resize(logits.size());
  // NaN -> -inf: a NaN would break the strict ordering the top-k/top-p sorts rely on.
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    out[i] = std::isnan(logits[i]) ? kNegInf : logits[i];
  }
  penalties_.Apply(params_, out);
  return out;
}

int SequenceSampler::PickToken(std::span<const float> logits, double u,
                               std::optional<double>* raw_log_sum_exp) const {
  // The raw logits are used in place unless penalties change them (or they hold NaN).
  std::span<const float> work = penalties_.Changes(params_) ? Penalize(logits) : logits;
  const bool raw = work.data() == logits.data();
  if (params_.greedy()) {
    bool has_nan = false;
    const float max = MaxIgnoringNaN(work, &has_nan);
    if (raw && !has_nan) *raw_log_sum_exp = LogSumExp(logits, max);
    return std::max(FirstIndexOf(work, max), 0);  // lowest id on ties; all NaN: 0
  }
  TokenDistribution& distribution = ThreadWorkspace().distribution;
  if (!distribution.Build(work, FiltersOf(params_))) {  // NaN
    work = Penalize(logits);
    distribution.Build(work, FiltersOf(params_));
  }
  if (work.data() == logits.data()) {
    // Build already found the raw max; at T = 1 its exp pass also summed the raw softmax.
    const float max = distribution.max_logit();
    const std::optional<double> mass = distribution.vocab_mass();
    *raw_log_sum_exp = params_.temperature == 1.0f && mass.has_value() ? max + std::log(*mass)
                                                                       : LogSumExp(logits, max);
  }
  return distribution.Sample(u);
}

SampleResult SequenceSampler::Sample(std::span<const float> logits) {
  // The one draw of this token, taken first so that no branch below can skip or repeat it.
  const double u = rng_.UniformDouble();
  SampleResult result;
  if (logits.empty()) {
    result.logprob = -std::numeric_limits<float>::infinity();
    return result;
  }
  std::optional<double> raw_log_sum_exp;
  result.token_id = PickToken(logits, u, &raw_log_sum_exp);
  const double log_sum_exp = raw_log_sum_exp ? *raw_log_sum_exp : LogSumExp(logits);
  result.logprob = LogSoftmaxAt(logits, result.token_id, log_sum_exp);
  if (params_.top_logprobs > 0) {
    result.top_logprobs = TopLogprobs(logits, params_.top_logprobs, log_sum_exp);
  }
  return result;
}

bool SequenceSampler::IsPlainArgMax() const {
  return params_.greedy() && params_.top_logprobs == 0 && !penalties_.Changes(params_);
}

SampleResult SequenceSampler::TakeArgMax(int token_id, float logprob) {
  rng_.UniformDouble();  // the one draw of this token, unused by greedy
  SampleResult result;
  result.token_id = token_id;
  result.logprob = logprob;
  return result;
}

void SequenceSampler::Accept(int token_id) {
  penalties_.Accept(token_id);
  ++num_output_tokens_;
}

std::vector<float> SequenceSampler::ComputeProbs(std::span<const float> logits) const {
  std::vector<float> probs(logits.size(), 0.0f);
  if (logits.empty()) return probs;
  const std::span<const float> penalized = Penalize(logits);
  if (params_.greedy()) {
    probs[ArgMax(penalized)] = 1.0f;
    return probs;
  }
  TokenDistribution& distribution = ThreadWorkspace().distribution;
  distribution.Build(penalized, FiltersOf(params_));
  distribution.Scatter(probs);
  return probs;
}

std::vector<float> SequenceSampler::PenalizedLogits(std::span<const float> logits) const {
  const std::span<const float> penalized = Penalize(logits);
  return std::vector<float>(penalized.begin(), penalized.end());
}

}  // namespace gqa
