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
  std::vector<float> scores;  // [block_size] scratch for one query x one block

  void Reset(int num_queries, int head_dim, int block_size) {
    max.assign(num_queries, -std::numeric_limits<float>::infinity());
    sum.assign(num_queries, 0.0f);
    acc.assign(static_cast<size_t>(num_queries) * head_dim, 0.0f);
    scores.resize(block_size);
  }
};

inline float Dot(const float* a, const float* b, int n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

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

// Folds the visible keys of one K/V block into one query's softmax state.
//   query [head_dim]; k_block, v_block [num_keys >= 1, head_dim];
//   acc [head_dim], *max, *sum: that query's state; scores [num_keys] scratch.
void AttendBlock(const float* query, const float* k_block, const float* v_block, int num_keys,
                 int head_dim, float scale, float* scores, float* max, float* sum, float* acc) {
  float block_max = -std::numeric_limits<float>::infinity();
  for (int j = 0; j < num_keys; ++j) {
    scores[j] = Dot(query, k_block + j * head_dim, head_dim) * scale;
    block_max = std::max(block_max, scores[j]);
  }
  const float new_max = std::max(*max, block_max);
  const float correction = std::exp(*max - new_max);  // 0 on the first block (max = -inf)
  float block_sum = 0.0f;
  for (int j = 0; j < num_keys; ++j) {
    scores[j] = std::exp(scores[j] - new_max);
    block_sum += scores[j];
  }
  if (correction != 1.0f) {
#pragma omp simd
    for (int d = 0; d < head_dim; ++d) acc[d] *= correction;
  }
  for (int j = 0; j < num_keys; ++j) {
    const float p = scores[j];
    const float* v = v_block + j * head_dim;
#pragma omp simd
    for (int d = 0; d < head_dim; ++d) acc[d] += p * v[d];
  }
  *sum = *sum * correction + block_sum;
  *max = new_max;
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

  state.Reset(num_rows * group, head_dim, block_size);
  for (int b = 0; b * block_size < num_keys; ++b) {
    const int64_t at =
        (static_cast<int64_t>(block_table[b]) * shape.n_kv_heads + item.kv_head) * slab;
    const float* k_block = kv.k.as<float>() + at;  // [block_size, head_dim]
    const float* v_block = kv.v.as<float>() + at;
    const int block_start = b * block_size;
    for (int r = 0; r < num_rows; ++r) {
      const int pos = first_pos + (item.row_begin + r - row_first);
      const int visible = std::min(block_size, pos - block_start + 1);
      if (visible <= 0) continue;  // this block lies wholly after the row's position
      const float* q_row = RowF32(q, item.row_begin + r);
      for (int g = 0; g < group; ++g) {
        const int qi = r * group + g;
        const int h = item.kv_head * group + g;
        AttendBlock(q_row + h * head_dim, k_block, v_block, visible, head_dim, scale,
                    state.scores.data(), &state.max[qi], &state.sum[qi],
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
