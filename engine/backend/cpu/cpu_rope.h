// RoPE and the paged KV cache write of the CPU backend.
#pragma once

#include "engine/backend/backend.h"

namespace gqa::cpu {

// Rotates the Q (shape.n_heads heads) and K (shape.n_kv_heads heads) parts of
// qkv in place, each row r at position meta.positions[r], then copies that
// row's K and V heads into kv at slot meta.slot_mapping[r] (block = slot /
// block_size, offset = slot % block_size), rounded to nearest even where the
// cache is bf16. A negative slot (a padding row) writes nothing.
//   qkv    [meta.num_tokens, (n_heads + 2 * n_kv_heads) * head_dim] f32, Q | K | V
//   rope   cos, sin [max_pos, head_dim / 2] f32; every position < max_pos
//   kv.k/v [num_blocks, n_kv_heads, block_size, head_dim] f32 or bf16 (both the same)
// Rows run in parallel on num_threads OpenMP threads.
void RopeAndCacheWrite(Tensor qkv, const RopeTables& rope, const AttentionShape& shape,
                       const AttentionMetadata& meta, KvCacheLayer kv, int num_threads);

// Rotates one head x [head_dim] in place by the angles whose cosines and sines
// are cos, sin [head_dim / 2]:
//  kHalves      (HF rotate_half) pairs (i, i + head_dim/2);
//  kInterleaved (llama2.c)       pairs (2i, 2i + 1);
// pair (a, b) with angle i becomes (a cos_i - b sin_i, b cos_i + a sin_i).
void RotateHead(float* x, const float* cos, const float* sin, int head_dim, RopeStyle style);

}  // namespace gqa::cpu
