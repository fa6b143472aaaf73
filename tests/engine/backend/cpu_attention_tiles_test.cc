// cpu::PagedAttention's flash-attention tiles (queries across lanes for
// prefill, head_dim across lanes for a few queries, split key ranges merged
// at the end) against a naive softmax(q K^T) V in double, over ragged
// batches: many sequences, query lengths 1..70, contexts on and across block
// and key-tile (64) boundaries, prefill chunks whose context exceeds their
// query length, G = 1, 3, 8, several head dims, block sizes and thread
// counts (the thread count also decides how keys are split).
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_attention.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/op_test_util.h"
#include "tests/engine/backend/paged_attention_test_util.h"

namespace gqa {
namespace {

using testing::HasNaN;
using testing::kNaN;
using testing::NaiveAttention;
using testing::PagedAttentionCase;
using testing::PagedAttentionInputs;
using testing::PagedSeq;
using testing::RelativeError;

// Runs cpu::PagedAttention on `num_threads` over a paged cache of shuffled
// blocks (unused slots NaN) and returns ||out - ref|| / ||ref|| against the
// naive reference; fails the test on any NaN in the output.
double ErrorAgainstNaive(const PagedAttentionCase& c, int num_threads, uint32_t seed,
                         DType kv_dtype = DType::kF32) {
  PagedAttentionInputs in(c, seed);
  if (kv_dtype == DType::kBF16) in.StoreKvAsBf16();
  std::vector<float> out(static_cast<size_t>(in.num_tokens) * in.q_cols, kNaN);
  cpu::PagedAttention(in.Queries(), in.Layer(), in.Metadata(), in.Shape(), in.scale,
                      Tensor::Make(out.data(), DType::kF32, {in.num_tokens, in.q_cols}),
                      num_threads);
  EXPECT_FALSE(HasNaN(out));
  return RelativeError(out, NaiveAttention(in));
}

// Every kind of row at once: one-token prompt, full prefills shorter than,
// equal to and longer than a key tile, decode at and beside block and tile
// boundaries, prefill chunks over cached tokens (context > query length).
std::vector<PagedSeq> RaggedMix() {
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

// A bf16 cache: both kernels widen each key tile to f32 and agree with the
// reference on the rounded K/V as closely as on f32 ones.
TEST_P(CpuAttentionTilesTest, Bf16CacheMatchesNaive) {
  const GqaParam p = GetParam();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("threads ", threads));
    EXPECT_LT(ErrorAgainstNaive({p.n_heads, p.n_kv_heads, p.head_dim, 16, RaggedMix()}, threads, 8,
                                DType::kBF16),
              1e-5);
  }
}

// Query lengths 1..70 in one batch, each sequence with cached tokens before
// its rows (0..139 of them), so rows start at every offset within a tile.
TEST_P(CpuAttentionTilesTest, EveryQueryLengthMatchesNaive) {
  const GqaParam p = GetParam();
  std::vector<PagedSeq> seqs;
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
