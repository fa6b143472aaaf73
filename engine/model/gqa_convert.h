// MHA -> GQA (or GQA -> fewer KV heads) checkpoint conversion by mean-pooling,
// as in the GQA paper (Ainslie et al. 2023, arXiv 2305.13245, section 2.1).
#pragma once

#include "absl/status/statusor.h"
#include "engine/model/model_weights.h"

namespace gqa {

// Returns `in` with `new_kv_heads` KV heads: new KV head g is the mean of old
// KV heads [g*k, (g+1)*k), k = old/new, for the K and V projection rows and
// the k/v biases, every layer. Consecutive grouping keeps query head h on its
// old KV head's group (h / G). Means are accumulated in double, so a group of
// identical heads gives back exactly that head, and written in each tensor's
// own dtype (rounded once). Every other tensor is shared with `in` (no copy).
// `new_kv_heads` must be >= 1 and divide the current count; equal is the identity.
// The result usually needs uptraining (~5% of pre-training) to recover quality.
absl::StatusOr<ModelWeights> ConvertKvHeads(const ModelWeights& in, int new_kv_heads);

}  // namespace gqa
