// MHA -> GQA (or GQA -> fewer KV heads) checkpoint conversion by mean-pooling,
// as in the GQA paper (Ainslie et al. 2023, arXiv 2305.13245, section 2.1),
// or by the two initializations the paper compares it with (its Figure 4):
// the first head of each group, or random heads.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/model_weights.h"

namespace gqa {

// How each new K/V head is made from the old heads of its group.
enum class KvHeadInit {
  kMean,    // the mean of the group's heads (the paper's choice)
  kFirst,   // the group's first head, copied
  kRandom,  // N(0, sigma^2), sigma the RMS of the old tensor; seeded, platform-independent
};

struct KvConvertOptions {
  KvHeadInit init = KvHeadInit::kMean;
  uint64_t seed = 0;  // kRandom only
};

// "mean" | "first" | "random"; INVALID_ARGUMENT naming --method otherwise.
absl::StatusOr<KvHeadInit> ParseKvHeadInit(std::string_view name);

// Returns `in` with `new_kv_heads` KV heads: new KV head g is the mean of old
// KV heads [g*k, (g+1)*k), k = old/new, for the K and V projection rows and
// the k/v biases, every layer. Consecutive grouping keeps query head h on its
// old KV head's group (h / G). Means are accumulated in double, so a group of
// identical heads gives back exactly that head, and written in each tensor's
// own dtype (rounded once). Every other tensor is shared with `in` (no copy).
// `new_kv_heads` must be >= 1 and divide the current count; equal is the identity.
// The result usually needs uptraining (~5% of pre-training) to recover quality.
// `options` picks another initialization (kFirst: head g is old head g*k;
// kRandom: every K/V weight and bias entry drawn afresh, even at an equal count).
absl::StatusOr<ModelWeights> ConvertKvHeads(const ModelWeights& in, int new_kv_heads,
                                            const KvConvertOptions& options = {});

}  // namespace gqa
