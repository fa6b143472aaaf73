// Paged causal GQA attention of the CPU backend.
#pragma once

#include "engine/backend/backend.h"

namespace gqa::cpu {

// For each sequence s and each query row i of it (position
// context_lens[s] - q_len(s) + i), attends each query head h to the cached
// positions 0 .. that position of KV head h / G (G = n_heads / n_kv_heads):
//   out[row, h] = softmax(scale * q[row, h] . K[0..pos]) V[0..pos].
//   q    [meta.num_tokens, n_heads * head_dim] f32 (row stride may be wider)
//   kv.k/v [num_blocks, n_kv_heads, block_size, head_dim] f32 or bf16 (both
//        the same), already holding every token of every sequence
//        (RopeAndCacheWrite ran first); bf16 rows are widened to f32 one key
//        tile at a time
//   out  [meta.num_tokens, n_heads * head_dim] f32
// Flash-attention style (cpu_attention_tile.h): the work is cut into tiles
// of (sequence, KV head, up to ~48 queries = rows x the G query heads of the
// group); each tile walks its keys in tiles of 64 read straight from the
// cache, once for all its queries, with an online softmax (running max and
// sum, rescaled), masking only the tiles on the causal diagonal. Tiles run on
// num_threads OpenMP threads, longest first; when there are fewer than 8 per
// thread (batch-1 decode at depth), long key ranges are split into parts run
// as separate tiles and merged at the end.
void PagedAttention(const Tensor& q, const KvCacheLayer& kv, const AttentionMetadata& meta,
                    const AttentionShape& shape, float scale, Tensor out, int num_threads);

}  // namespace gqa::cpu
