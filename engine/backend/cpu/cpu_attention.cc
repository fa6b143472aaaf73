#include "engine/backend/cpu/cpu_attention.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/backend/cpu/cpu_util.h"

namespace gqa::cpu {
namespace {

// Query rows per work item. Long prefills are split so every core gets work
// and a work item's softmax state (kRowChunk * G * head_dim floats) stays in L2.
constexpr int kRowChunk = 16;

// One (sequence, KV head, rows [row_begin, row_end)) unit of work; rows are
// rows of the ragged batch.
struct WorkItem {
  int seq;
  int kv_head;
  int row_begin;
  int row_end;
  int64_t cost;  // query rows x keys visited, for scheduling the big ones first
};

// Online-softmax state of the queries of one work item; query qi is
// (row row_begin + qi / G, query head kv_head * G + qi % G).
struct SoftmaxState {
  std::vector<float> max;     // [num_queries] running max of the scaled scores
  std::vector<float> sum;     // [num_queries] running sum of exp(score - max)
  std::vector<float> acc;     // [num_queries, head_dim] running sum of exp(score - max) * v
  std::vector<float> scores;  // [key_stride] scratch for one query x one block
  std::vector<float> k_t;     // [head_dim, key_stride] the current K block, transposed

  // key_stride: block_size rounded up to kStrip. transposed_stride: key_stride
  // when the keys are transposed, else 0.
  void Reset(int num_queries, int head_dim, int key_stride, int transposed_stride) {
    max.assign(num_queries, -std::numeric_limits<float>::infinity());
    sum.assign(num_queries, 0.0f);
    acc.assign(static_cast<size_t>(num_queries) * head_dim, 0.0f);
    scores.resize(key_stride);
    // Zeroed: ScoreTransposed reads whole strips, past the keys of a short block.
    k_t.assign(static_cast<size_t>(head_dim) * transposed_stride, 0.0f);
  }
};

std::vector<WorkItem> MakeWorkItems(const AttentionMetadata& meta, int n_kv_heads) {
  std::vector<WorkItem> items;
  for (int s = 0; s < meta.num_seqs; ++s) {
    const int row_first = meta.query_start[s], row_last = meta.query_start[s + 1];
    const int first_pos = meta.context_lens[s] - (row_last - row_first);
    for (int begin = row_first; begin < row_last; begin += kRowChunk) {
      const int end = std::min(begin + kRowChunk, row_last);
      const int64_t num_keys = first_pos + (end - row_first);
      for (int h = 0; h < n_kv_heads; ++h) {
        items.push_back({s, h, begin, end, int64_t{end - begin} * num_keys});
      }
    }
  }
  // Longest first, so the dynamic schedule does not end on one long item.
  std::stable_sort(items.begin(), items.end(),
                   [](const WorkItem& a, const WorkItem& b) { return a.cost > b.cost; });
  return items;
}

// ---- one query x one K/V block ----
//
// Two ways to score a block's keys against a query, chosen by how many
// queries share the block (rows of the chunk x G query heads):
//  - ScoreByDots: a dot product per key straight from the cache layout. Best
//    for few queries (decode with small G): no set-up per block.
//  - ScoreTransposed: from the block's keys transposed once per block into
//    [head_dim, key_stride], so kStrip keys score with one vector
//    multiply-add per dimension. Best when many queries amortize the transpose.
constexpr int kMinQueriesToTranspose = 8;
// Keys per strip in ScoreTransposed: fixed-length inner loops over local
// arrays let the compiler keep them in vector registers.
constexpr int kStrip = 16;

// scores[j] = scale * query . k_j for j < num_keys; k_block [num_keys, head_dim].
void ScoreByDots(const float* query, const float* k_block, int num_keys, int head_dim, float scale,
                 float* scores) {
  int j = 0;
  for (; j + 4 <= num_keys; j += 4) {  // four keys per pass: four independent sums
    const float *k0 = k_block + j * head_dim, *k1 = k0 + head_dim, *k2 = k1 + head_dim,
                *k3 = k2 + head_dim;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int d = 0; d < head_dim; ++d) {
      s0 += query[d] * k0[d];
      s1 += query[d] * k1[d];
      s2 += query[d] * k2[d];
      s3 += query[d] * k3[d];
    }
    scores[j] = s0 * scale;
    scores[j + 1] = s1 * scale;
    scores[j + 2] = s2 * scale;
    scores[j + 3] = s3 * scale;
  }
  for (; j < num_keys; ++j) {
    const float* k = k_block + j * head_dim;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int d = 0; d < head_dim; ++d) s += query[d] * k[d];
    scores[j] = s * scale;
  }
}

// k_t [head_dim, key_stride] = the first num_keys rows of k_block, transposed.
void TransposeKeys(const float* k_block, int num_keys, int head_dim, int key_stride, float* k_t) {
  for (int j = 0; j < num_keys; ++j)
    for (int d = 0; d < head_dim; ++d) k_t[d * key_stride + j] = k_block[j * head_dim + d];
}

// As ScoreByDots, from k_t [head_dim, key_stride] (key_stride a multiple of
// kStrip; scores has key_stride room). Four partial sums over the head
// dimension give four independent FMA chains per strip.
void ScoreTransposed(const float* query, const float* k_t, int key_stride, int num_keys,
                     int head_dim, float scale, float* scores) {
  for (int j0 = 0; j0 < num_keys; j0 += kStrip) {
    float part[4][kStrip] = {};
    for (int d = 0; d < head_dim; ++d) {
      const float q_d = query[d];
      const float* k_d = k_t + d * key_stride + j0;
      float* sum = part[d % 4];
#pragma omp simd
      for (int l = 0; l < kStrip; ++l) sum[l] += q_d * k_d[l];
    }
#pragma omp simd
    for (int l = 0; l < kStrip; ++l)
      scores[j0 + l] = ((part[0][l] + part[1][l]) + (part[2][l] + part[3][l])) * scale;
  }
}

// Folds one block into one query's online-softmax state: scores [num_keys >= 1]
// (overwritten with the weights), v_block [num_keys, head_dim], acc [head_dim].
void FoldBlock(float* scores, int num_keys, const float* v_block, int head_dim, float* max,
               float* sum, float* acc) {
  float block_max = -std::numeric_limits<float>::infinity();
  for (int j = 0; j < num_keys; ++j) block_max = std::max(block_max, scores[j]);
  const float new_max = std::max(*max, block_max);
  const float correction = std::exp(*max - new_max);  // 0 on the first block (max = -inf)
  float block_sum = 0.0f;
  for (int j = 0; j < num_keys; ++j) {
    scores[j] = std::exp(scores[j] - new_max);
    block_sum += scores[j];
  }
  *sum = *sum * correction + block_sum;
  *max = new_max;

  // acc = acc * correction + sum_j scores[j] * v_j, four keys per pass over acc.
#pragma omp simd
  for (int d = 0; d < head_dim; ++d) acc[d] *= correction;
  int j = 0;
  for (; j + 4 <= num_keys; j += 4) {
    const float *v0 = v_block + j * head_dim, *v1 = v0 + head_dim, *v2 = v1 + head_dim,
                *v3 = v2 + head_dim;
    const float p0 = scores[j], p1 = scores[j + 1], p2 = scores[j + 2], p3 = scores[j + 3];
#pragma omp simd
    for (int d = 0; d < head_dim; ++d)
      acc[d] += (p0 * v0[d] + p1 * v1[d]) + (p2 * v2[d] + p3 * v3[d]);
  }
  for (; j < num_keys; ++j) {
    const float p = scores[j];
    const float* v = v_block + j * head_dim;
#pragma omp simd
    for (int d = 0; d < head_dim; ++d) acc[d] += p * v[d];
  }
}

void RunWorkItem(const WorkItem& item, const Tensor& q, const KvCacheLayer& kv,
                 const AttentionMetadata& meta, const AttentionShape& shape, float scale,
                 Tensor& out, SoftmaxState& state) {
  const int group = shape.n_heads / shape.n_kv_heads, head_dim = shape.head_dim;
  const int block_size = static_cast<int>(kv.k.dim(2));
  const int row_first = meta.query_start[item.seq];
  const int q_len = meta.query_start[item.seq + 1] - row_first;
  const int first_pos = meta.context_lens[item.seq] - q_len;  // position of row_first
  const int num_rows = item.row_end - item.row_begin;
  // The last row of the chunk sees the most keys: positions 0 .. its own.
  const int num_keys = first_pos + (item.row_end - 1 - row_first) + 1;
  const int32_t* block_table =
      meta.block_tables + static_cast<int64_t>(item.seq) * meta.max_blocks_per_seq;
  // Elements per (block, kv head) slab: [block_size, head_dim].
  const int64_t slab = static_cast<int64_t>(block_size) * head_dim;

  const bool transpose = num_rows * group >= kMinQueriesToTranspose;
  const int key_stride = (block_size + kStrip - 1) / kStrip * kStrip;
  state.Reset(num_rows * group, head_dim, key_stride, transpose ? key_stride : 0);
  for (int b = 0; b * block_size < num_keys; ++b) {
    const int64_t at =
        (static_cast<int64_t>(block_table[b]) * shape.n_kv_heads + item.kv_head) * slab;
    const float* k_block = kv.k.as<float>() + at;  // [block_size, head_dim]
    const float* v_block = kv.v.as<float>() + at;
    const int block_start = b * block_size;
    if (transpose) {
      TransposeKeys(k_block, std::min(block_size, num_keys - block_start), head_dim, key_stride,
                    state.k_t.data());
    }
    for (int r = 0; r < num_rows; ++r) {
      const int pos = first_pos + (item.row_begin + r - row_first);
      const int visible = std::min(block_size, pos - block_start + 1);
      if (visible <= 0) continue;  // this block lies wholly after the row's position
      const float* q_row = RowF32(q, item.row_begin + r);
      for (int g = 0; g < group; ++g) {
        const int qi = r * group + g;
        const int h = item.kv_head * group + g;
        const float* query = q_row + h * head_dim;
        float* scores = state.scores.data();
        if (transpose) {
          ScoreTransposed(query, state.k_t.data(), key_stride, visible, head_dim, scale, scores);
        } else {
          ScoreByDots(query, k_block, visible, head_dim, scale, scores);
        }
        FoldBlock(scores, visible, v_block, head_dim, &state.max[qi], &state.sum[qi],
                  &state.acc[static_cast<size_t>(qi) * head_dim]);
      }
    }
  }

  for (int r = 0; r < num_rows; ++r) {
    float* out_row = RowF32(out, item.row_begin + r);
    for (int g = 0; g < group; ++g) {
      const int qi = r * group + g;
      const float inv_sum = 1.0f / state.sum[qi];
      const float* acc = &state.acc[static_cast<size_t>(qi) * head_dim];
      float* o = out_row + (item.kv_head * group + g) * head_dim;
      for (int d = 0; d < head_dim; ++d) o[d] = acc[d] * inv_sum;
    }
  }
}

}  // namespace

void PagedAttention(const Tensor& q, const KvCacheLayer& kv, const AttentionMetadata& meta,
                    const AttentionShape& shape, float scale, Tensor out, int num_threads) {
  assert(shape.n_kv_heads > 0 && shape.n_heads % shape.n_kv_heads == 0);
  assert(kv.k.dim(1) == shape.n_kv_heads && kv.k.dim(3) == shape.head_dim);
  assert(q.cols() == static_cast<int64_t>(shape.n_heads) * shape.head_dim);
  const std::vector<WorkItem> items = MakeWorkItems(meta, shape.n_kv_heads);
  const int64_t num_items = static_cast<int64_t>(items.size());
  int64_t total_cost = 0;
  for (const WorkItem& item : items) total_cost += item.cost;
  const int64_t group = shape.n_heads / shape.n_kv_heads;
  const bool parallel = num_items > 1 && total_cost * group * shape.head_dim >= kMinParallelElems;

#pragma omp parallel num_threads(num_threads) if (parallel)
  {
    SoftmaxState state;  // one per thread, reused across its work items
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < num_items; ++i) {
      RunWorkItem(items[i], q, kv, meta, shape, scale, out, state);
    }
  }
}

}  // namespace gqa::cpu
