// TokenDistribution: turns (penalized) logits into the distribution a token is drawn from:
// temperature, then top-k, then top-p, then min-p, then softmax over what is left, then an
// inverse-CDF lookup of one uniform number.
//
//   top-k  keeps the k largest logits (ties: lower token id first).
//   top-p  keeps the shortest prefix of the top-k survivors, most likely first (ties: lower
//          id first), whose probability (renormalized over the survivors) is >= top_p: a
//          token is kept iff the mass strictly before it is < top_p, so the token that
//          crosses top_p is kept (vLLM's rule). At least one token always survives.
//   min-p  keeps tokens with p >= min_p * p_max. The test is a ratio to the top token, so it
//          does not matter over which set p is normalized.
// The inverse CDF visits the kept tokens in increasing token id, whatever the filters.
//
// Cost for vocab V: a few vectorized passes over V (max, exp-and-sum, threshold counts);
// never a sort of V.
//   top-k: narrows candidates with logit thresholds (max - 1, max - 2, max - 4, ...) until
//     at least k pass, then nth_element + sort of those.
//   top-p: narrows candidates with weight thresholds until their mass reaches top_p, then
//     buckets them by weight (16 buckets per octave) and sorts only the bucket where the
//     cumulative mass crosses top_p. A flat 128k distribution costs about as much as a
//     peaked one.
//
// Thread ownership: none; it is scratch space. Reusing one object across calls (and
// sequences) avoids per-call allocation once its buffers have grown to the vocab size.
#pragma once

#include <cstddef>
#include <optional>
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
  // Builds the distribution over logits [vocab]. Returns false, building nothing usable,
  // when a logit is NaN: map NaN to -inf and build again. When no logit is finite-and-
  // largest (all -inf, or a +inf present) the distribution is all on ArgMax(logits).
  bool Build(std::span<const float> logits, const FilterParams& params);

  // The token at cumulative probability u in [0, 1), visiting kept tokens in increasing id.
  // Never returns a token of probability 0 (unless there is no other). -1 for an empty
  // vocab.
  int Sample(double u) const;

  // The final probabilities, scattered into probs [vocab] (0 for filtered tokens).
  void Scatter(std::span<float> probs) const;

  // Number of tokens with non-zero probability.
  size_t num_kept() const;

  // When the last Build summed exp((x - max) / T) over the whole vocab before filtering
  // (no top-k), that sum, computed exactly as SumExpShifted would: with T = 1 it gives the
  // raw log-normalizer max + log(sum) without another pass. Else nullopt.
  std::optional<double> vocab_mass() const { return vocab_mass_; }
  float max_logit() const { return max_logit_; }

 private:
  // Fills ids_/weights_ with the top k tokens, most likely first.
  void SelectTopK(std::span<const float> logits, size_t k, float inv_temperature);
  // Fills ids_/weights_ (id order) with the top-p nucleus, min-p applied, from
  // dense_weights_.
  void SelectNucleus(std::span<const float> logits, double top_p_mass, float min_p);

  // dense_: the distribution is dense_weights_ over the whole vocab. Otherwise ids_[j]
  // (increasing) is a kept token with weight weights_[j]. Weights are exp((logit - max) / T)
  // in [0, 1], the top token's exactly 1; total_ is their sum.
  bool dense_ = false;
  std::vector<float> dense_weights_;  // [vocab]
  std::vector<int> ids_;
  std::vector<float> weights_;
  std::vector<int> boundary_;        // top-p: ids in the bucket that crosses top_p
  std::vector<double> bucket_mass_;  // top-p: mass per weight bucket
  double total_ = 0.0;
  size_t vocab_ = 0;
  float max_logit_ = 0.0f;
  std::optional<double> vocab_mass_;
};

}  // namespace gqa
