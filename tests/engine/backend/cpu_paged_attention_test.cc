// PagedAttention of the CPU backend against a plain contiguous-KV attention:
// MHA, GQA-2/4/8 and MQA; block sizes 1, 3, 16, 32; ragged batches mixing
// decode rows, prefill chunks over cached tokens and full prefills.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/backend.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa {
namespace {

using testing::HasNaN;
using testing::kNaN;
using testing::RandomFloats;
using testing::RelativeError;

struct SeqSpec {
  int context_len;  // tokens in the cache after this step
  int query_len;    // new rows this step (the last query_len of the context)
};

struct Batch {
  int n_heads, n_kv_heads, head_dim, block_size;
  std::vector<SeqSpec> seqs;
};

// Builds a paged cache holding random K/V for every sequence in shuffled
// blocks (every other slot NaN, so a read past a context shows), runs
// PagedAttention and compares with the contiguous reference.
void CheckAgainstReference(const Batch& b, uint32_t seed) {
  const int d = b.head_dim, group = b.n_heads / b.n_kv_heads;
  const int num_seqs = static_cast<int>(b.seqs.size());
  int max_blocks = 0, total_blocks = 0, num_tokens = 0, max_q = 0, max_ctx = 0;
  for (const SeqSpec& s : b.seqs) {
    const int blocks = (s.context_len + b.block_size - 1) / b.block_size;
    max_blocks = std::max(max_blocks, blocks);
    total_blocks += blocks;
    num_tokens += s.query_len;
    max_q = std::max(max_q, s.query_len);
    max_ctx = std::max(max_ctx, s.context_len);
  }
  // Twice the blocks needed, handed out in shuffled order.
  const int num_blocks = 2 * total_blocks + 1;
  std::vector<int32_t> pool(num_blocks);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), std::mt19937(seed));

  const size_t slab = static_cast<size_t>(b.block_size) * d;  // one (block, kv head)
  std::vector<float> k_cache(num_blocks * b.n_kv_heads * slab, kNaN);
  std::vector<float> v_cache(k_cache.size(), kNaN);
  std::vector<int32_t> block_tables(num_seqs * max_blocks, -1);
  std::vector<int32_t> query_start = {0}, context_lens;
  // Contiguous K/V per sequence: [context_len, n_kv_heads, head_dim].
  std::vector<std::vector<float>> k_seq, v_seq;
  int next_block = 0;
  for (int s = 0; s < num_seqs; ++s) {
    const SeqSpec& spec = b.seqs[s];
    const int blocks = (spec.context_len + b.block_size - 1) / b.block_size;
    for (int j = 0; j < blocks; ++j) block_tables[s * max_blocks + j] = pool[next_block++];
    k_seq.push_back(RandomFloats(spec.context_len * b.n_kv_heads * d, seed + 100 + s));
    v_seq.push_back(RandomFloats(spec.context_len * b.n_kv_heads * d, seed + 200 + s));
    for (int t = 0; t < spec.context_len; ++t) {
      const int block = block_tables[s * max_blocks + t / b.block_size];
      for (int h = 0; h < b.n_kv_heads; ++h) {
        const size_t at = (block * b.n_kv_heads + h) * slab + (t % b.block_size) * d;
        const size_t from = (t * b.n_kv_heads + h) * d;
        std::copy_n(&k_seq[s][from], d, &k_cache[at]);
        std::copy_n(&v_seq[s][from], d, &v_cache[at]);
      }
    }
    query_start.push_back(query_start.back() + spec.query_len);
    context_lens.push_back(spec.context_len);
  }
  std::vector<int32_t> positions;
  for (const SeqSpec& spec : b.seqs)
    for (int i = 0; i < spec.query_len; ++i)
      positions.push_back(spec.context_len - spec.query_len + i);

  // q is the Q part of a fused QKV activation: a column view with a wider stride.
  const int q_cols = b.n_heads * d, q_stride = (b.n_heads + 2 * b.n_kv_heads) * d;
  std::vector<float> q = RandomFloats(num_tokens * q_stride, seed + 1, -2.0f, 2.0f);
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
  kv.k = Tensor::Make(k_cache.data(), DType::kF32, {num_blocks, b.n_kv_heads, b.block_size, d});
  kv.v = Tensor::Make(v_cache.data(), DType::kF32, {num_blocks, b.n_kv_heads, b.block_size, d});
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::unique_ptr<Backend> backend = MakeCpuBackend(0);
  backend->PagedAttention(
      Tensor::Make(q.data(), DType::kF32, {num_tokens, q_stride}).Cols(0, q_cols), kv, meta,
      {b.n_heads, b.n_kv_heads, d}, scale,
      Tensor::Make(out.data(), DType::kF32, {num_tokens, q_cols}));

  // Reference: per row and query head h, softmax over positions 0..pos of KV head h / G.
  std::vector<double> ref(out.size());
  for (int s = 0; s < num_seqs; ++s) {
    for (int row = query_start[s]; row < query_start[s + 1]; ++row) {
      const int pos = positions[row];
      for (int h = 0; h < b.n_heads; ++h) {
        const int kvh = h / group;
        const float* qh = &q[row * q_stride + h * d];
        std::vector<double> scores(pos + 1);
        double max_score = -INFINITY;
        for (int t = 0; t <= pos; ++t) {
          double dot = 0;
          for (int i = 0; i < d; ++i)
            dot += double{qh[i]} * k_seq[s][(t * b.n_kv_heads + kvh) * d + i];
          scores[t] = dot * scale;
          max_score = std::max(max_score, scores[t]);
        }
        double sum = 0;
        for (double& sc : scores) sum += (sc = std::exp(sc - max_score));
        for (int i = 0; i < d; ++i) {
          double acc = 0;
          for (int t = 0; t <= pos; ++t)
            acc += scores[t] * v_seq[s][(t * b.n_kv_heads + kvh) * d + i];
          ref[row * q_cols + h * d + i] = acc / sum;
        }
      }
    }
  }
  EXPECT_FALSE(HasNaN(out));
  EXPECT_LT(RelativeError(out, ref), 1e-5);
}

// A ragged batch of every kind of row: pure decode (mid-block and at a block
// boundary), a prefill chunk whose earlier tokens are cached, full prefills
// (one longer than the kernel's 16-row chunk), a one-token prompt.
std::vector<SeqSpec> MixedSeqs() {
  return {{37, 1}, {50, 13}, {21, 21}, {32, 1}, {1, 1}, {45, 40}, {33, 1}, {70, 5}};
}

using AttentionParam = std::tuple<std::pair<int, int>, int>;  // (n_heads, n_kv_heads), block_size

std::string ParamName(const ::testing::TestParamInfo<AttentionParam>& info) {
  const auto [heads, block_size] = info.param;
  return absl::StrCat("H", heads.first, "KV", heads.second, "Block", block_size);
}

class CpuPagedAttentionTest : public ::testing::TestWithParam<AttentionParam> {};

TEST_P(CpuPagedAttentionTest, MixedBatchMatchesContiguousReference) {
  const auto [heads, block_size] = GetParam();
  CheckAgainstReference({heads.first, heads.second, 32, block_size, MixedSeqs()}, 7);
}

TEST_P(CpuPagedAttentionTest, DecodeOnlyBatchMatchesContiguousReference) {
  const auto [heads, block_size] = GetParam();
  CheckAgainstReference({heads.first,
                         heads.second,
                         16,
                         block_size,
                         {{5, 1}, {16, 1}, {17, 1}, {64, 1}, {99, 1}, {2, 1}}},
                        8);
}

INSTANTIATE_TEST_SUITE_P(HeadsAndBlocks, CpuPagedAttentionTest,
                         ::testing::Combine(::testing::Values(std::pair{4, 4},   // MHA
                                                              std::pair{8, 4},   // GQA-2
                                                              std::pair{8, 2},   // GQA-4
                                                              std::pair{16, 2},  // GQA-8
                                                              std::pair{6, 1}),  // MQA
                                            ::testing::Values(1, 3, 16, 32)),
                         ParamName);

TEST(CpuPagedAttentionShapesTest, OddHeadDimAndLongPrefill) {
  CheckAgainstReference({12, 4, 40, 16, {{150, 150}, {151, 3}}}, 9);
  CheckAgainstReference({3, 1, 7, 5, {{23, 23}, {9, 1}}}, 10);
}

}  // namespace
}  // namespace gqa
