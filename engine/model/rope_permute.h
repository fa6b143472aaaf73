// Conversions of Q/K projection rows between the two RoPE layouts.
//
// Within each head of head_dim rows, the interleaved layout (llama2.c, Meta)
// rotates row pairs (2i, 2i+1); the halves layout (HF rotate_half) rotates
// (i, i + head_dim/2). HF's convert_llama_weights_to_hf.py maps the first to
// the second with
//   w.view(n_heads, head_dim/2, 2, in).transpose(1, 2).reshape(n_heads*head_dim, in)
// i.e. halves row j*head_dim/2 + i  <-  interleaved row 2i + j  (j in {0, 1}).
// Only the order of rows changes, so the model computes the same function.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/tensor.h"
#include "engine/model/model_weights.h"

namespace gqa {

// `src`: a weight [n_heads * head_dim, in] or a bias [n_heads * head_dim], any
// dtype. `dst`: the same shape and dtype, dense, not overlapping `src`.
absl::Status PermuteInterleavedToHalves(const Tensor& src, int n_heads, const Tensor& dst);
absl::Status PermuteHalvesToInterleaved(const Tensor& src, int n_heads, const Tensor& dst);

// `w` with wq/wk (and bq/bk) re-ordered for `style` into new buffers and
// config.rope_style set; every other tensor is shared with `w`. Returns a copy
// of `w` when it already has that style.
absl::StatusOr<ModelWeights> WithRopeStyle(const ModelWeights& w, RopeStyle style);

}  // namespace gqa
