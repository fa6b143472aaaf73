#include "engine/sampling/token_distribution.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/sampling/vocab_kernels.h"

namespace gqa {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Most likely first; ties to the lower id. A strict total order on ids (no NaN logits),
// so sorted prefixes are the same with every standard library.
struct MoreLikely {
  const float* logits;
  bool operator()(int a, int b) const {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  }
};

// Weight thresholds (relative to the top token's 1) tried in turn to narrow the top-p
// candidates before sorting; the last takes everything.
constexpr float kNucleusWeightThresholds[] = {0x1.0p-8f, 0x1.0p-16f, 0x1.0p-24f, kNegInf};

// Logit distances below the max tried in turn to narrow the top-k candidates.
constexpr float kTopKLogitMargins[] = {1.0f, 2.0f, 4.0f, 8.0f, 16.0f, 32.0f, 64.0f};

// Number of leading weights to keep so that the mass strictly before each kept one is
// < target (the top-p rule). weights: most likely first. At least 1 when target > 0.
size_t CutAtMass(std::span<const float> weights, double target) {
  double before = 0.0;
  for (size_t j = 0; j < weights.size(); ++j) {
    if (before >= target) return j;
    before += weights[j];
  }
  return weights.size();
}

}  // namespace

int ArgMax(std::span<const float> values) {
  if (values.empty()) return -1;
  bool has_nan = false;
  const float max = MaxIgnoringNaN(values, &has_nan);
  // The first index holding the max is the lowest on ties; all NaN: no match, 0.
  const auto it = std::find(values.begin(), values.end(), max);
  return it == values.end() ? 0 : static_cast<int>(it - values.begin());
}

void TokenDistribution::Build(std::span<const float> logits, const FilterParams& params) {
  vocab_ = logits.size();
  dense_ = false;
  ids_.clear();
  weights_.clear();
  total_ = 0.0;
  if (vocab_ == 0) return;

  bool has_nan = false;
  const float max_logit = MaxIgnoringNaN(logits, &has_nan);
  if (!std::isfinite(max_logit)) {  // all -inf, or +inf present: no proper softmax
    ids_.push_back(ArgMax(logits));
    weights_.push_back(1.0f);
    total_ = 1.0;
    return;
  }
  // 1/T can overflow for a tiny T; FLT_MAX keeps (x - max) * inv_t at 0 for the top token.
  const float inv_t = std::min(1.0f / params.temperature, std::numeric_limits<float>::max());
  const bool top_k_on = params.top_k > 0 && static_cast<size_t>(params.top_k) < vocab_;
  const bool top_p_on = params.top_p < 1.0f;

  if (!top_k_on && !top_p_on) {
    dense_ = true;
    dense_weights_.resize(vocab_);
    total_ = ExpShifted(logits, max_logit, inv_t, dense_weights_);
    if (params.min_p > 0.0f) {  // a weight is p / p_max
      for (float& w : dense_weights_) w = w < params.min_p ? 0.0f : w;
      total_ = SumInDouble(dense_weights_);
    }
    return;
  }

  if (top_k_on) {
    SelectTopK(logits, max_logit, static_cast<size_t>(params.top_k));
    weights_.resize(ids_.size());
    for (size_t j = 0; j < ids_.size(); ++j) {
      weights_[j] = ExpNonPositive((logits[ids_[j]] - max_logit) * inv_t);
    }
    if (top_p_on) {
      const double mass = SumInDouble(weights_);
      const size_t keep = CutAtMass(weights_, static_cast<double>(params.top_p) * mass);
      ids_.resize(keep);
      weights_.resize(keep);
    }
  } else {
    // top-p over the whole vocab: the normalizer needs every weight.
    dense_weights_.resize(vocab_);
    const double mass = ExpShifted(logits, max_logit, inv_t, dense_weights_);
    const double target = static_cast<double>(params.top_p) * mass;
    for (float t : kNucleusWeightThresholds) {
      // The candidates {w >= t} are a most-likely-first prefix (ties included); once their
      // mass reaches the target they contain the nucleus.
      if (t == kNegInf || SumAtLeast(dense_weights_, t) >= target) {
        CollectAtLeast(dense_weights_, t, &ids_);
        break;
      }
    }
    KeepNucleus(logits, target);
  }

  if (params.min_p > 0.0f) {  // weights_ is non-increasing and weights_[0] == 1
    size_t keep = weights_.size();
    while (keep > 1 && weights_[keep - 1] < params.min_p) --keep;
    ids_.resize(keep);
    weights_.resize(keep);
  }
  total_ = SumInDouble(weights_);
}

void TokenDistribution::SelectTopK(std::span<const float> logits, float max_logit, size_t k) {
  // Candidates: {x >= max - margin} for the first margin that lets >= k through: an upper
  // set, so it holds the top k with all their ties. Each try is one cheap counting pass.
  float threshold = kNegInf;
  for (float margin : kTopKLogitMargins) {
    if (CountAtLeast(logits, max_logit - margin) >= k) {
      threshold = max_logit - margin;
      break;
    }
  }
  ids_.clear();
  CollectAtLeast(logits, threshold, &ids_);
  const MoreLikely more_likely{logits.data()};
  if (ids_.size() > k) std::nth_element(ids_.begin(), ids_.begin() + k, ids_.end(), more_likely);
  ids_.resize(k);
  std::sort(ids_.begin(), ids_.end(), more_likely);
}

void TokenDistribution::KeepNucleus(std::span<const float> logits, double top_p_mass) {
  const MoreLikely more_likely{logits.data()};
  weights_.resize(ids_.size());
  size_t sorted = 0;
  size_t chunk = 64;  // grows 4x: a peaked distribution sorts ~64 ids, a flat one O(V log V)
  double before = 0.0;
  size_t j = 0;
  for (; j < ids_.size() && before < top_p_mass; ++j) {
    if (j == sorted) {
      const size_t end = std::min(ids_.size(), sorted + chunk);
      if (end < ids_.size()) {
        std::nth_element(ids_.begin() + sorted, ids_.begin() + end, ids_.end(), more_likely);
      }
      std::sort(ids_.begin() + sorted, ids_.begin() + end, more_likely);
      sorted = end;
      chunk *= 4;
    }
    weights_[j] = dense_weights_[ids_[j]];
    before += weights_[j];
  }
  ids_.resize(j);
  weights_.resize(j);
}

int TokenDistribution::Sample(double u) const {
  if (vocab_ == 0) return -1;
  const std::span<const float> weights =
      dense_ ? std::span<const float>(dense_weights_) : std::span<const float>(weights_);
  const auto id_at = [&](size_t j) { return dense_ ? static_cast<int>(j) : ids_[j]; };
  const double target = u * total_;
  // Skip whole blocks by their (vectorized) sums, then walk the block that crosses the
  // target. 'cum > target' (strict) never lands on a zero-weight token. Rounding can leave
  // the walk short of target at the very end: the last token with weight takes it.
  constexpr size_t kBlock = 256;
  double cum = 0.0;
  for (size_t begin = 0; begin < weights.size(); begin += kBlock) {
    const std::span<const float> block =
        weights.subspan(begin, std::min(kBlock, weights.size() - begin));
    const double block_sum = SumInDouble(block);
    if (cum + block_sum > target) {
      double walk = cum;
      for (size_t j = 0; j < block.size(); ++j) {
        walk += block[j];
        if (walk > target) return id_at(begin + j);
      }
    }
    cum += block_sum;
  }
  for (size_t j = weights.size(); j-- > 0;) {
    if (weights[j] > 0.0f) return id_at(j);
  }
  return id_at(0);
}

void TokenDistribution::Scatter(std::span<float> probs) const {
  std::fill(probs.begin(), probs.end(), 0.0f);
  const size_t n = dense_ ? vocab_ : ids_.size();
  for (size_t j = 0; j < n; ++j) {
    const size_t id = dense_ ? j : static_cast<size_t>(ids_[j]);
    const float w = dense_ ? dense_weights_[j] : weights_[j];
    if (id < probs.size()) probs[id] = static_cast<float>(w / total_);
  }
}

size_t TokenDistribution::num_kept() const {
  const std::vector<float>& weights = dense_ ? dense_weights_ : weights_;
  return static_cast<size_t>(
      std::count_if(weights.begin(), weights.end(), [](float w) { return w > 0.0f; }));
}

}  // namespace gqa
