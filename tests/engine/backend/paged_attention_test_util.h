// One ragged batch for the PagedAttention tests (the CPU backend's, its tile
// kernels', the CUDA backend's): random K/V per sequence written into a paged
// cache whose blocks are handed out in shuffled order, the host metadata
// arrays, random queries as the Q columns of a fused QKV row, and the naive
// softmax(q K^T) V in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/common/dtype.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa::testing {

struct PagedSeq {
  int context_len;  // tokens in the cache after this step
  int query_len;    // new rows: the last query_len positions of the context
};

struct PagedAttentionCase {
  int n_heads, n_kv_heads, head_dim, block_size;
  std::vector<PagedSeq> seqs;
  float q_range = 2.0f;  // queries uniform in [-q_range, q_range]
};

// Everything one PagedAttention call reads, on the host: f32, the cache bf16
// after StoreKvAsBf16.
struct PagedAttentionInputs {
  PagedAttentionInputs(const PagedAttentionCase& c_in, uint32_t seed) : c(c_in) {
    const int d = c.head_dim, bs = c.block_size;
    const int num_seqs = static_cast<int>(c.seqs.size());
    int total_blocks = 0;
    for (const PagedSeq& s : c.seqs) {
      const int blocks = (s.context_len + bs - 1) / bs;
      max_blocks = std::max(max_blocks, blocks);
      total_blocks += blocks;
      num_tokens += s.query_len;
      max_query_len = std::max(max_query_len, s.query_len);
      max_context_len = std::max(max_context_len, s.context_len);
    }
    // Twice the blocks needed, handed out in shuffled order.
    num_blocks = 2 * total_blocks + 1;
    std::vector<int32_t> pool(num_blocks);
    std::iota(pool.begin(), pool.end(), 0);
    std::shuffle(pool.begin(), pool.end(), std::mt19937(seed));

    const size_t slab = static_cast<size_t>(bs) * d;  // one (block, KV head)
    k_cache.assign(static_cast<size_t>(num_blocks) * c.n_kv_heads * slab, kNaN);
    v_cache = k_cache;
    block_tables.assign(static_cast<size_t>(num_seqs) * max_blocks, -1);
    query_start = {0};
    int next_block = 0;
    for (int s = 0; s < num_seqs; ++s) {
      const PagedSeq& spec = c.seqs[s];
      const int blocks = (spec.context_len + bs - 1) / bs;
      for (int j = 0; j < blocks; ++j) block_tables[s * max_blocks + j] = pool[next_block++];
      const size_t n = static_cast<size_t>(spec.context_len) * c.n_kv_heads * d;
      k_seq.push_back(RandomFloats(n, seed + 100 + s));
      v_seq.push_back(RandomFloats(n, seed + 200 + s));
      for (int t = 0; t < spec.context_len; ++t) {
        const size_t block = block_tables[s * max_blocks + t / bs];
        for (int h = 0; h < c.n_kv_heads; ++h) {
          const size_t at = (block * c.n_kv_heads + h) * slab + static_cast<size_t>(t % bs) * d;
          const size_t from = (static_cast<size_t>(t) * c.n_kv_heads + h) * d;
          std::copy_n(&k_seq[s][from], d, &k_cache[at]);
          std::copy_n(&v_seq[s][from], d, &v_cache[at]);
        }
      }
      query_start.push_back(query_start.back() + spec.query_len);
      context_lens.push_back(spec.context_len);
      for (int i = 0; i < spec.query_len; ++i)
        positions.push_back(spec.context_len - spec.query_len + i);
    }
    q_cols = c.n_heads * d;
    q_stride = (c.n_heads + 2 * c.n_kv_heads) * d;
    q = RandomFloats(static_cast<size_t>(num_tokens) * q_stride, seed + 1, -c.q_range, c.q_range);
    scale = 1.0f / std::sqrt(static_cast<float>(d));
  }

  // Makes the cache bf16: every K/V value rounded to nearest even, in
  // k_seq / v_seq too, so the reference sees the numbers the cache holds.
  void StoreKvAsBf16() {
    auto round = [](std::vector<float>& v) {
      for (float& x : v) x = Bf16ToF32(F32ToBf16(x));  // NaN stays NaN
    };
    for (auto* seqs : {&k_seq, &v_seq})
      for (std::vector<float>& seq : *seqs) round(seq);
    round(k_cache);
    round(v_cache);
    kv_dtype = DType::kBF16;
    k_bf16.resize(k_cache.size());
    v_bf16.resize(v_cache.size());
    ConvertFromF32(k_cache.data(), DType::kBF16, k_bf16.data(), k_cache.size());
    ConvertFromF32(v_cache.data(), DType::kBF16, v_bf16.data(), v_cache.size());
  }

  // The metadata, its arrays this object's (host memory).
  AttentionMetadata Metadata() const {
    AttentionMetadata meta;
    meta.num_seqs = static_cast<int>(context_lens.size());
    meta.num_tokens = num_tokens;
    meta.max_query_len = max_query_len;
    meta.max_context_len = max_context_len;
    meta.max_blocks_per_seq = max_blocks;
    meta.query_start = query_start.data();
    meta.context_lens = context_lens.data();
    meta.block_tables = block_tables.data();
    meta.positions = positions.data();
    return meta;
  }
  // The cache: k_cache / v_cache (f32), or k_bf16 / v_bf16 after StoreKvAsBf16.
  KvCacheLayer Layer() {
    const bool bf16 = kv_dtype == DType::kBF16;
    void* k = bf16 ? static_cast<void*>(k_bf16.data()) : k_cache.data();
    void* v = bf16 ? static_cast<void*>(v_bf16.data()) : v_cache.data();
    return {Tensor::Make(k, kv_dtype, {num_blocks, c.n_kv_heads, c.block_size, c.head_dim}),
            Tensor::Make(v, kv_dtype, {num_blocks, c.n_kv_heads, c.block_size, c.head_dim})};
  }
  // The queries: a column view of q, [num_tokens, q_cols] with row stride q_stride.
  Tensor Queries() {
    return Tensor::Make(q.data(), DType::kF32, {num_tokens, q_stride}).Cols(0, q_cols);
  }
  AttentionShape Shape() const { return {c.n_heads, c.n_kv_heads, c.head_dim}; }

  const PagedAttentionCase c;
  int num_blocks = 0, max_blocks = 0, num_tokens = 0, max_query_len = 0, max_context_len = 0;
  // [num_blocks, n_kv_heads, block_size, head_dim]; every slot no sequence
  // owns is NaN, so a read past a context shows.
  std::vector<float> k_cache, v_cache;
  DType kv_dtype = DType::kF32;
  std::vector<uint16_t> k_bf16, v_bf16;          // StoreKvAsBf16: the cache in bf16
  std::vector<std::vector<float>> k_seq, v_seq;  // per sequence: [context_len, n_kv_heads, head_dim]
  std::vector<int32_t> block_tables;             // [num_seqs, max_blocks], -1 past a context
  std::vector<int32_t> query_start, context_lens, positions;
  int q_cols = 0, q_stride = 0;  // q: [num_tokens, q_stride], the queries its first q_cols columns
  std::vector<float> q;
  float scale = 0.0f;  // 1 / sqrt(head_dim)
};

// out[row, h] = softmax_t(scale * q[row, h] . k[t]) v[t] over t = 0 .. pos(row),
// KV head h / G, in double: [num_tokens, n_heads * head_dim].
inline std::vector<double> NaiveAttention(const PagedAttentionInputs& in) {
  const PagedAttentionCase& c = in.c;
  const int d = c.head_dim, group = c.n_heads / c.n_kv_heads;
  std::vector<double> ref(static_cast<size_t>(in.num_tokens) * in.q_cols);
  for (size_t s = 0; s < in.context_lens.size(); ++s) {
    for (int row = in.query_start[s]; row < in.query_start[s + 1]; ++row) {
      const int pos = in.positions[row];
      for (int h = 0; h < c.n_heads; ++h) {
        const int kvh = h / group;
        const float* qh = &in.q[static_cast<size_t>(row) * in.q_stride + h * d];
        std::vector<double> w(pos + 1);
        double max_score = -INFINITY, sum = 0;
        for (int t = 0; t <= pos; ++t) {
          const float* k = &in.k_seq[s][(static_cast<size_t>(t) * c.n_kv_heads + kvh) * d];
          double dot = 0;
          for (int i = 0; i < d; ++i) dot += double{qh[i]} * k[i];
          w[t] = dot * in.scale;
          max_score = std::max(max_score, w[t]);
        }
        for (double& x : w) sum += (x = std::exp(x - max_score));
        for (int i = 0; i < d; ++i) {
          double acc = 0;
          for (int t = 0; t <= pos; ++t)
            acc += w[t] * in.v_seq[s][(static_cast<size_t>(t) * c.n_kv_heads + kvh) * d + i];
          ref[static_cast<size_t>(row) * in.q_cols + h * d + i] = acc / sum;
        }
      }
    }
  }
  return ref;
}

}  // namespace gqa::testing
