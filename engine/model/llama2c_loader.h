// llama2.c legacy .bin checkpoints (format: ../shared/models/README.md):
//   int32 header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//   (vocab_size < 0: the classifier is stored, not shared with the embedding)
//   then fp32 arrays: embedding [vocab, dim], attn norms [L, dim], wq [L, dim, dim],
//   wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim], ffn norms [L, dim],
//   w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim], final norm [dim],
//   two unused RoPE tables [seq_len * head_dim / 2] each, classifier [vocab, dim]
//   when not shared. RoPE rotates interleaved pairs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/model_weights.h"

namespace gqa {

// Maps `path` and returns fp32 views into it. The header is checked before any
// size is computed, and the file must be exactly as long as the header implies.
// config: rope_style kInterleaved, rms_norm_eps 1e-5, rope_theta 10000,
// bos 1, eos {2}, dtype f32, name "llama2c".
absl::StatusOr<ModelWeights> LoadLlama2c(std::string_view path);
// The same from bytes that must outlive the result (a fuzzer or test calls
// this; the weights hold no storage then); `name` stands for the path in errors.
absl::StatusOr<ModelWeights> Llama2cFromBytes(std::span<const uint8_t> bytes,
                                              std::string_view name);

// Writes `weights` as a legacy llama2.c file: fp32, RoPE rows re-ordered to the
// interleaved layout when needed, zeros in the unused RoPE tables, a positive
// vocab_size when tied. Fails for a model the format cannot express exactly
// (biases, head_dim * n_heads != dim, RoPE theta/scaling or RMSNorm eps other
// than llama2.c's fixed ones).
absl::Status SaveLlama2c(const ModelWeights& weights, std::string_view path);

}  // namespace gqa
