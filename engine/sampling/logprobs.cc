#include "engine/sampling/logprobs.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "engine/sampling/vocab_kernels.h"

namespace gqa {

double LogSumExp(std::span<const float> logits) {
  bool has_nan = false;
  const float max_logit = MaxIgnoringNaN(logits, &has_nan);
  if (has_nan) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(max_logit)) return max_logit;  // empty, all -inf, or some +inf
  // Each term is in [0, 1] and the max's is exactly 1, so the sum is in [1, vocab].
  return static_cast<double>(max_logit) + std::log(SumExpShifted(logits, max_logit, 1.0f));
}

float LogSoftmaxAt(std::span<const float> logits, int token) {
  if (token < 0 || static_cast<size_t>(token) >= logits.size()) {
    return -std::numeric_limits<float>::infinity();
  }
  return LogSoftmaxAt(logits, token, LogSumExp(logits));
}

float LogSoftmaxAt(std::span<const float> logits, int token, double log_sum_exp) {
  if (token < 0 || static_cast<size_t>(token) >= logits.size()) {
    return -std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(static_cast<double>(logits[token]) - log_sum_exp);
}

std::vector<TokenLogprob> TopLogprobs(std::span<const float> logits, int n) {
  if (n <= 0) return {};
  return TopLogprobs(logits, n, LogSumExp(logits));
}

std::vector<TokenLogprob> TopLogprobs(std::span<const float> logits, int n, double log_sum_exp) {
  if (n <= 0 || logits.empty()) return {};
  const size_t keep = std::min(static_cast<size_t>(n), logits.size());
  // best[0..size) holds the best tokens so far, sorted by logit descending, id ascending.
  // Scanning ids in increasing order, a later token only displaces on a strictly greater
  // logit, which gives the lower-id-first tie rule without comparing ids.
  std::vector<TokenLogprob> best;
  best.reserve(keep + 1);
  for (size_t i = 0; i < logits.size(); ++i) {
    const float x = logits[i];
    if (std::isnan(x)) continue;
    if (best.size() == keep && !(x > best.back().logprob)) continue;
    auto pos = std::upper_bound(best.begin(), best.end(), x,
                                [](float v, const TokenLogprob& t) { return v > t.logprob; });
    best.insert(pos, TokenLogprob{static_cast<int>(i), x});  // logprob holds the logit here
    if (best.size() > keep) best.pop_back();
  }
  for (TokenLogprob& t : best) {
    t.logprob = static_cast<float>(static_cast<double>(t.logprob) - log_sum_exp);
  }
  return best;
}

}  // namespace gqa
