// TokenDistribution: turns (penalized) logits into the distribution a token is drawn from:
// temperature, then top-k, then top-p, then min-p, then softmax over what is left, then an
// inverse-CDF lookup of one uniform number.
//
//   top-k  keeps the k largest logits (ties: lower token id first).
//   top-p  keeps the shortest prefix of the top-k survivors, most likely first, whose
//          probability (renormalized over the survivors) is >= top_p: a token is kept iff
//          the mass strictly before it is < top_p, so the token that crosses top_p is kept
//          (vLLM's rule). At least one token always survives.
//   min-p  keeps tokens with p >= min_p * p_max. The test is a ratio to the top token, so it
//          does not matter over which set p is normalized.
//
// Cost for vocab V: a few vectorized passes over V (max, exp-and-sum, threshold counts);
// never a full sort of V. top-k first narrows the candidates with a logit threshold
// (max - 1, max - 2, max - 4, ...) until at least k pass, then nth_element + sort on those.
// top-p narrows them with weight thresholds until they surely hold the nucleus, then sorts
// only the prefix it walks, in growing chunks (nth_element + sort).
//
// Thread ownership: none; it is scratch space. Reusing one object across calls (and
// sequences) avoids per-call allocation once its buffers have grown to the vocab size.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace gqa {

// The filters of SamplingParams after validation, for a non-greedy draw.
struct FilterParams {
  float temperature = 1.0f;  // > 0
  int top_k = 0;             // <= 0 or >= vocab: off
  float top_p = 1.0f;        // >= 1: off
  float min_p = 0.0f;        // <= 0: off
};

// Index of the largest value; the lowest such index on ties; NaN never wins. 0 when every
// value is NaN; -1 for an empty span.
int ArgMax(std::span<const float> values);

class TokenDistribution {
 public:
  // Builds the distribution over logits [vocab]. Precondition: no NaN in logits (map NaN to
  // -inf first). When no logit is finite-and-largest (all -inf, or a +inf present) the
  // distribution is all on ArgMax(logits).
  void Build(std::span<const float> logits, const FilterParams& params);

  // The token at cumulative probability u in [0, 1). Tokens are visited in token-id order
  // when no top-k/top-p filter ran, else most likely first. Never returns a token of
  // probability 0 unless every kept token has probability 0. -1 for an empty vocab.
  int Sample(double u) const;

  // The final probabilities, scattered into probs [vocab] (0 for filtered tokens).
  void Scatter(std::span<float> probs) const;

  // Number of tokens with non-zero probability.
  size_t num_kept() const;

 private:
  // Keeps the top-p prefix of ids_ (any order on entry, sorted on exit) and fills weights_
  // from dense_weights_.
  void KeepNucleus(std::span<const float> logits, double top_p_mass);
  // Fills ids_ with the top k tokens, sorted.
  void SelectTopK(std::span<const float> logits, float max_logit, size_t k);

  // dense_: the distribution is dense_weights_ over the whole vocab, visited in id order.
  // Otherwise ids_[j] is a kept token, most likely first, with weight weights_[j].
  // Weights are exp((logit - max) / T), in [0, 1], the top token's exactly 1; total_ is
  // their sum.
  bool dense_ = false;
  std::vector<float> dense_weights_;  // [vocab]
  std::vector<int> ids_;
  std::vector<float> weights_;
  double total_ = 0.0;
  size_t vocab_ = 0;
};

}  // namespace gqa
