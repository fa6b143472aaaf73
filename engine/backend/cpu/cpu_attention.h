// Paged causal GQA attention of the CPU backend.
#pragma once

#include "engine/backend/backend.h"

namespace gqa::cpu {

// For each sequence s and each query row i of it (position
// context_lens[s] - q_len(s) + i), attends each query head h to the cached
// positions 0 .. that position of KV head h / G (G = n_heads / n_kv_heads):
//   out[row, h] = softmax(scale * q[row, h] . K[0..pos]) V[0..pos].
//   q    [meta.num_tokens, n_heads * head_dim] f32 (row stride may be wider)
//   kv.k/v [num_blocks, n_kv_heads, block_size, head_dim] f32, already
//        holding every token of every sequence (RopeAndCacheWrite ran first)
//   out  [meta.num_tokens, n_heads * head_dim] f32
// Work is split over (sequence, KV head, chunk of query rows) on num_threads
// OpenMP threads. Each work item walks its sequence's blocks once and computes
// all G query heads of every row in the chunk from each loaded K/V block, with
// an fp32 online softmax (running max, rescaled sums).
void PagedAttention(const Tensor& q, const KvCacheLayer& kv, const AttentionMetadata& meta,
                    const AttentionShape& shape, float scale, Tensor out, int num_threads);

}  // namespace gqa::cpu
