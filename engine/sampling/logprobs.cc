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
  return LogSumExp(logits, max_logit);
}

double LogSumExp(std::span<const float> logits, float max_logit) {
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
  // (TokenLogprob::logprob holds the logit until the end.)
  std::vector<TokenLogprob> best;
  best.reserve(keep);
  const auto insert = [&](size_t i) {
    auto pos = std::upper_bound(best.begin(), best.end(), logits[i],
                                [](float v, const TokenLogprob& t) { return v > t.logprob; });
    best.insert(pos, TokenLogprob{static_cast<int>(i), logits[i]});
  };
  // Once full, a logit enters only if > the current n-th best (NaN never is).
  const auto consider = [&](size_t i) {
    if (!(logits[i] > best.back().logprob)) return;
    best.pop_back();
    insert(i);
  };
  // Fill with the first `keep` non-NaN logits. Afterwards either best is full or the scan
  // is over.
  size_t i = 0;
  for (; i < logits.size() && best.size() < keep; ++i) {
    if (!std::isnan(logits[i])) insert(i);
  }
  // Scan the rest, skipping aligned blocks with nothing above the n-th best.
  for (; i < logits.size() && i % kBlockLanes != 0; ++i) consider(i);
  for (; i + kBlockLanes <= logits.size(); i += kBlockLanes) {
    if (!AnyGreater(logits.data() + i, best.back().logprob)) continue;
    for (size_t j = i; j < i + kBlockLanes; ++j) consider(j);
  }
  for (; i < logits.size(); ++i) consider(i);
  for (TokenLogprob& t : best) {
    t.logprob = static_cast<float>(static_cast<double>(t.logprob) - log_sum_exp);
  }
  return best;
}

}  // namespace gqa
