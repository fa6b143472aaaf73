#include "engine/sampling/token_distribution.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
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
// candidates; the last takes everything.
constexpr float kNucleusWeightThresholds[] = {0x1.0p-8f, 0x1.0p-16f, 0x1.0p-24f, kNegInf};

// Logit distances below the max tried in turn to narrow the top-k candidates.
constexpr float kTopKLogitMargins[] = {1.0f, 2.0f, 4.0f, 8.0f, 16.0f, 32.0f, 64.0f};

// Bucket of a weight in [0, 1]: its float bits without the low 19 mantissa bits, i.e.
// exponent and 4 mantissa bits, 16 buckets per octave. Non-decreasing in the weight, so
// buckets order tokens as likelihood does. 1.0f -> 2032; 0 -> 0.
constexpr int kNumBuckets = 2048;
int BucketOf(float weight) { return static_cast<int>(std::bit_cast<uint32_t>(weight) >> 19); }

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
  return std::max(FirstIndexOf(values, max), 0);
}

bool TokenDistribution::Build(std::span<const float> logits, const FilterParams& params) {
  vocab_ = logits.size();
  dense_ = false;
  ids_.clear();
  weights_.clear();
  total_ = 0.0;
  max_logit_ = kNegInf;
  vocab_mass_.reset();
  if (vocab_ == 0) return true;

  bool has_nan = false;
  max_logit_ = MaxIgnoringNaN(logits, &has_nan);
  // NaN: the caller must map it and build again. All -inf, or a +inf: no proper softmax.
  if (has_nan || !std::isfinite(max_logit_)) {
    ids_.push_back(ArgMax(logits));
    weights_.push_back(1.0f);
    total_ = 1.0;
    return !has_nan;
  }
  // 1/T can overflow for a tiny T; FLT_MAX keeps (x - max) * inv_t at 0 for the top token.
  const float inv_t = std::min(1.0f / params.temperature, std::numeric_limits<float>::max());
  const bool top_k_on = params.top_k > 0 && static_cast<size_t>(params.top_k) < vocab_;
  const bool top_p_on = params.top_p < 1.0f;

  if (top_k_on) {
    SelectTopK(logits, static_cast<size_t>(params.top_k), inv_t);
    size_t keep = ids_.size();
    if (top_p_on) {
      keep = CutAtMass(weights_, static_cast<double>(params.top_p) * SumInDouble(weights_));
    }
    while (keep > 1 && weights_[keep - 1] < params.min_p) --keep;  // a weight is p / p_max
    ids_.resize(keep);
    std::sort(ids_.begin(), ids_.end());  // to id order; recompute the weights to match
    weights_.resize(keep);
    for (size_t j = 0; j < keep; ++j) {
      weights_[j] = ExpNonPositive((logits[ids_[j]] - max_logit_) * inv_t);
    }
    total_ = SumInDouble(weights_);
    return true;
  }

  dense_weights_.resize(vocab_);
  vocab_mass_ = ExpShifted(logits, max_logit_, inv_t, dense_weights_);
  if (top_p_on) {
    SelectNucleus(logits, static_cast<double>(params.top_p) * *vocab_mass_, params.min_p);
    total_ = SumInDouble(weights_);
    return true;
  }
  dense_ = true;
  total_ = *vocab_mass_;
  if (params.min_p > 0.0f) {
    for (float& w : dense_weights_) w = w < params.min_p ? 0.0f : w;
    total_ = SumInDouble(dense_weights_);
  }
  return true;
}

void TokenDistribution::SelectTopK(std::span<const float> logits, size_t k, float inv_temperature) {
  // Candidates: {x >= max - margin} for the first margin that lets >= k through: an upper
  // set, so it holds the top k with all their ties. Each try is one counting pass.
  float threshold = kNegInf;
  for (float margin : kTopKLogitMargins) {
    if (CountAtLeast(logits, max_logit_ - margin) >= k) {
      threshold = max_logit_ - margin;
      break;
    }
  }
  ids_.resize(vocab_);
  ids_.resize(CollectAtLeast(logits, threshold, ids_.data()));
  const MoreLikely more_likely{logits.data()};
  if (ids_.size() > k) std::nth_element(ids_.begin(), ids_.begin() + k, ids_.end(), more_likely);
  ids_.resize(k);
  std::sort(ids_.begin(), ids_.end(), more_likely);
  weights_.resize(k);
  for (size_t j = 0; j < k; ++j) {
    weights_[j] = ExpNonPositive((logits[ids_[j]] - max_logit_) * inv_temperature);
  }
}

void TokenDistribution::SelectNucleus(std::span<const float> logits, double top_p_mass,
                                      float min_p) {
  const std::span<const float> w(dense_weights_);
  // 1. Candidates {w >= t}, ids increasing: a most-likely-first prefix (ties included);
  //    once their mass reaches top_p_mass they contain the nucleus.
  for (float t : kNucleusWeightThresholds) {
    if (t == kNegInf || SumAtLeast(w, t) >= top_p_mass) {
      ids_.resize(vocab_);
      ids_.resize(CollectAtLeast(w, t, ids_.data()));
      break;
    }
  }
  // 2. Mass per bucket; walking buckets from the top finds the one where the cumulative
  //    mass crosses top_p_mass. Buckets above it are kept whole.
  bucket_mass_.assign(kNumBuckets, 0.0);
  for (int id : ids_) bucket_mass_[BucketOf(w[id])] += w[id];
  int crossing = 0;  // if rounding leaves the sum short of the target: keep every candidate
  double before = 0.0;
  for (int b = kNumBuckets - 1; b >= 0; --b) {
    if (before + bucket_mass_[b] >= top_p_mass) {
      crossing = b;
      break;
    }
    before += bucket_mass_[b];
  }
  // 3. Sort only the crossing bucket; `last` is its last kept token (before < target, so
  //    its first token is always kept).
  boundary_.clear();
  for (int id : ids_) {
    if (BucketOf(w[id]) == crossing) boundary_.push_back(id);
  }
  const MoreLikely more_likely{logits.data()};
  std::sort(boundary_.begin(), boundary_.end(), more_likely);
  int last = boundary_.empty() ? -1 : boundary_.back();
  for (size_t j = 0; j < boundary_.size(); ++j) {
    if (before >= top_p_mass) {
      last = boundary_[j - 1];
      break;
    }
    before += w[boundary_[j]];
  }
  // 4. Keep, in id order: higher buckets, the crossing bucket up to `last`, and min-p.
  //    Branch-free (write always, advance on keep): in/out alternate unpredictably by id.
  size_t kept = 0;
  weights_.resize(ids_.size());
  for (int id : ids_) {
    const float weight = w[id];
    const int b = BucketOf(weight);
    const bool in_nucleus = (b > crossing) | ((b == crossing) && !more_likely(last, id));
    ids_[kept] = id;
    weights_[kept] = weight;
    kept += in_nucleus & (weight >= min_p);
  }
  ids_.resize(kept);
  weights_.resize(kept);
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
    const auto block = weights.subspan(begin, std::min(kBlock, weights.size() - begin));
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
