// Random weights with a model's real shapes, for benchmarks and tests
// (`--load-format dummy`): speed does not depend on the values.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "engine/model/model_weights.h"

namespace gqa {

// Deterministic in (config shapes, dtype, seed), whatever the thread count,
// CPU or standard library: every 64K-element chunk of every tensor has its own
// counter-based hash stream keyed by splitmix64. Values are uniform with
// mean/std chosen so activations stay sane: matrices (the embedding too) mean
// 0, std 1/sqrt(in); norm weights 1 +- 0.125; biases +-0.125. A tied lm_head is the embedding.
// config.dtype is set to `dtype`. Fills in parallel (OpenMP): llama-3.2-1b in bf16 takes seconds.
absl::StatusOr<ModelWeights> MakeDummyWeights(const ModelConfig& config, DType dtype,
                                              uint64_t seed);

}  // namespace gqa
