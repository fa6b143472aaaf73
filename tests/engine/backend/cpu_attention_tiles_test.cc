// cpu::PagedAttention's flash-attention tiles (queries across lanes for
// prefill, head_dim across lanes for a few queries, split key ranges merged
// at the end) against a naive softmax(q K^T) V in double, over ragged
// batches: many sequences, query lengths 1..70, contexts on and across block
// and key-tile (64) boundaries, prefill chunks whose context exceeds their
// query length, G = 1, 3, 8, several head dims, block sizes and thread
// counts (the thread count also decides how keys are split).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_attention.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa {
namespace {

using testing::HasNaN;
using testing::kNaN;
using testing::RandomFloats;
using testing::RelativeError;

struct Seq {
  int context_len;  // tokens in the cache after this step
  int query_len;    // new rows: the last query_len positions of the context
};

struct Case {
  int n_heads, n_kv_heads, head_dim, block_size;
  std::vector<Seq> seqs;
  float q_range = 2.0f;  // queries uniform in [-q_range, q_range]
};

// Runs cpu::PagedAttention on `num_threads` over a paged cache of shuffled
// blocks (unused slots NaN) and returns ||out - ref|| / ||ref|| against the
// naive reference; fails the test on any NaN in the output.
double ErrorAgainstNaive(const Case& c, int num_threads, uint32_t seed) {
  const int d = c.head_dim, group = c.n_heads / c.n_kv_heads;
  const int num_seqs = static_cast<int>(c.seqs.size());
  int max_blocks = 0, total_blocks = 0, num_tokens = 0, max_q = 0, max_ctx = 0;
  for (const Seq& s : c.seqs) {
    const int blocks = (s.context_len + c.block_size - 1) / c.block_size;
    max_blocks = std::max(max_blocks, blocks);
    total_blocks += blocks;
    num_tokens += s.query_len;
    max_q = std::max(max_q, s.query_len);
    max_ctx = std::max(max_ctx, s.context_len);
  }
  const int num_blocks = total_blocks + 3;
  std::vector<int32_t> pool(num_blocks);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), std::mt19937(seed));

  const size_t slab = static_cast<size_t>(c.block_size) * d;
  std::vector<float> k_cache(num_blocks * c.n_kv_heads * slab, kNaN);
  std::vector<float> v_cache(k_cache.size(), kNaN);
  std::vector<int32_t> block_tables(num_seqs * max_blocks, -1), query_start = {0}, context_lens,
                                                                positions;
  std::vector<std::vector<float>> k_seq, v_seq;  // [context_len, n_kv_heads, d] per sequence
  int next_block = 0;
  for (int s = 0; s < num_seqs; ++s) {
    const Seq& spec = c.seqs[s];
    const int blocks = (spec.context_len + c.block_size - 1) / c.block_size;
    for (int j = 0; j < blocks; ++j) block_tables[s * max_blocks + j] = pool[next_block++];
    k_seq.push_back(RandomFloats(spec.context_len * c.n_kv_heads * d, seed * 31 + 2 * s));
    v_seq.push_back(RandomFloats(spec.context_len * c.n_kv_heads * d, seed * 31 + 2 * s + 1));
    for (int t = 0; t < spec.context_len; ++t) {
      const int block = block_tables[s * max_blocks + t / c.block_size];
      for (int h = 0; h < c.n_kv_heads; ++h) {
        const size_t at = (block * c.n_kv_heads + h) * slab + (t % c.block_size) * d;
        std::copy_n(&k_seq[s][(t * c.n_kv_heads + h) * d], d, &k_cache[at]);
        std::copy_n(&v_seq[s][(t * c.n_kv_heads + h) * d], d, &v_cache[at]);
      }
    }
    query_start.push_back(query_start.back() + spec.query_len);
    context_lens.push_back(spec.context_len);
    for (int i = 0; i < spec.query_len; ++i)
      positions.push_back(spec.context_len - spec.query_len + i);
  }

  // q: the Q columns of a fused QKV row (a view with a wider row stride).
  const int q_cols = c.n_heads * d, q_stride = (c.n_heads + 2 * c.n_kv_heads) * d;
  const std::vector<float> q = RandomFloats(num_tokens * q_stride, seed + 7, -c.q_range, c.q_range);
  std::vector<float> out(num_tokens * q_cols, kNaN);

  AttentionMetadata meta;
  meta.num_seqs = num_seqs;
  meta.num_tokens = num_tokens;
  meta.max_query_len = max_q;
  meta.max_context_len = max_ctx;
  meta.max_blocks_per_seq = max_blocks;
  meta.query_start = query_start.data();
  meta.context_lens = context_lens.data();
  meta.block_tables = block_tables.data();
  meta.positions = positions.data();
  KvCacheLayer kv;
  kv.k = Tensor::Make(k_cache.data(), DType::kF32, {num_blocks, c.n_kv_heads, c.block_size, d});
  kv.v = Tensor::Make(v_cache.data(), DType::kF32, {num_blocks, c.n_kv_heads, c.block_size, d});
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  cpu::PagedAttention(
      Tensor::Make(const_cast<float*>(q.data()), DType::kF32, {num_tokens, q_stride})
          .Cols(0, q_cols),
      kv, meta, {c.n_heads, c.n_kv_heads, d}, scale,
      Tensor::Make(out.data(), DType::kF32, {num_tokens, q_cols}), num_threads);

  // Naive reference: out[row, h] = softmax_t(scale * q[row, h] . k[t]) v[t]
  // over t = 0 .. pos(row), KV head h / G, in double.
  std::vector<double> ref(out.size());
  for (int s = 0; s < num_seqs; ++s) {
    for (int row = query_start[s]; row < query_start[s + 1]; ++row) {
      const int pos = positions[row];
      for (int h = 0; h < c.n_heads; ++h) {
        const int kvh = h / group;
        const float* qh = &q[row * q_stride + h * d];
        std::vector<double> w(pos + 1);
        double max_score = -INFINITY, sum = 0;
        for (int t = 0; t <= pos; ++t) {
          const float* k = &k_seq[s][(t * c.n_kv_heads + kvh) * d];
          double dot = 0;
          for (int i = 0; i < d; ++i) dot += double{qh[i]} * k[i];
          w[t] = dot * scale;
          max_score = std::max(max_score, w[t]);
        }
        for (double& x : w) sum += (x = std::exp(x - max_score));
        for (int i = 0; i < d; ++i) {
          double acc = 0;
          for (int t = 0; t <= pos; ++t) acc += w[t] * v_seq[s][(t * c.n_kv_heads + kvh) * d + i];
          ref[row * q_cols + h * d + i] = acc / sum;
        }
      }
    }
  }
  EXPECT_FALSE(HasNaN(out));
  return RelativeError(out, ref);
}

// Every kind of row at once: one-token prompt, full prefills shorter than,
// equal to and longer than a key tile, decode at and beside block and tile
// boundaries, prefill chunks over cached tokens (context > query length).
std::vector<Seq> RaggedMix() {
  return {{1, 1},   {70, 70}, {63, 63},  {64, 64},  {65, 1},  {130, 17}, {200, 70},
          {129, 2}, {16, 1},  {300, 33}, {128, 64}, {97, 48}, {257, 5},  {49, 49}};
}

struct GqaParam {
  int n_heads, n_kv_heads, head_dim;
};

class CpuAttentionTilesTest : public ::testing::TestWithParam<GqaParam> {};

TEST_P(CpuAttentionTilesTest, RaggedMixMatchesNaive) {
  const GqaParam p = GetParam();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("threads ", threads));
    EXPECT_LT(ErrorAgainstNaive({p.n_heads, p.n_kv_heads, p.head_dim, 16, RaggedMix()}, threads, 1),
              1e-5);
  }
}

// Query lengths 1..70 in one batch, each sequence with cached tokens before
// its rows (0..139 of them), so rows start at every offset within a tile.
TEST_P(CpuAttentionTilesTest, EveryQueryLengthMatchesNaive) {
  const GqaParam p = GetParam();
  std::vector<Seq> seqs;
  for (int len = 1; len <= 70; ++len) seqs.push_back({len + (len * 37) % 140, len});
  EXPECT_LT(ErrorAgainstNaive({p.n_heads, p.n_kv_heads, p.head_dim, 16, seqs}, 2, 2), 1e-5);
}

// Few tiles for many threads: long key ranges are split and merged. The
// 48-row prefill chunk's rows straddle a split boundary, so in the last part
// some rows see no key at all.
TEST_P(CpuAttentionTilesTest, SplitKeysMatchNaive) {
  const GqaParam p = GetParam();
  for (int threads : {2, 8}) {
    SCOPED_TRACE(absl::StrCat("threads ", threads));
    EXPECT_LT(ErrorAgainstNaive({p.n_heads, p.n_kv_heads, p.head_dim, 16, {{3000, 1}}}, threads, 3),
              1e-5);
    EXPECT_LT(ErrorAgainstNaive({p.n_heads, p.n_kv_heads, p.head_dim, 16, {{1048, 48}, {700, 1}}},
                                threads, 4),
              1e-5);
  }
}

// Large scores (queries up to +-40): the online softmax must rescale, not overflow.
TEST_P(CpuAttentionTilesTest, LargeScoresMatchNaive) {
  const GqaParam p = GetParam();
  EXPECT_LT(
      ErrorAgainstNaive(
          {p.n_heads, p.n_kv_heads, p.head_dim, 16, {{150, 70}, {400, 1}, {90, 3}}, 40.0f}, 2, 5),
      1e-5);
}

std::string GqaName(const ::testing::TestParamInfo<GqaParam>& info) {
  return absl::StrCat("H", info.param.n_heads, "KV", info.param.n_kv_heads, "D",
                      info.param.head_dim);
}

INSTANTIATE_TEST_SUITE_P(Groups, CpuAttentionTilesTest,
                         ::testing::Values(GqaParam{2, 2, 64},   // G = 1
                                           GqaParam{9, 3, 64},   // G = 3, SmolLM2
                                           GqaParam{16, 2, 64},  // G = 8
                                           GqaParam{6, 2, 128},  // G = 3, head_dim 128
                                           GqaParam{8, 1, 16},   // G = 8, one vector per row
                                           GqaParam{3, 1, 40},   // head_dim not 16k
                                           GqaParam{24, 1,
                                                    32}),  // G = 24: more than 8 queries a row
                         GqaName);

// Block sizes that do not divide the key tile, and a block per token.
TEST(CpuAttentionTilesBlocksTest, BlockSizesMatchNaive) {
  for (int block_size : {1, 3, 32, 128}) {
    SCOPED_TRACE(absl::StrCat("block_size ", block_size));
    EXPECT_LT(ErrorAgainstNaive({9, 3, 64, block_size, RaggedMix()}, 2, 6), 1e-5);
  }
}

}  // namespace
}  // namespace gqa
