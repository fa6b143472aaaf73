// PagedAttention of the CUDA backend against the CPU backend (itself checked
// against a contiguous double reference in cpu_paged_attention_test.cc):
// every GQA ratio (MHA, GQA-2/4/8, MQA, and groups over 16 heads, which the
// tensor-core decode kernel splits into head tiles), block sizes 16 and 32,
// contexts ending mid-block, ragged batches mixing decode rows, chunked
// prefill over a cached prefix and full prompts; the tensor-core kernels
// (bf16/f16, head_dim 64/128), the portable kernel (fp32, odd shapes, or
// forced), and split-KV decode with its combine step. Unused cache slots hold
// NaN and outputs are NaN-poisoned, so a stray read or a missed write shows.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/backend.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/cuda/cuda_test_util.h"

namespace gqa::testing {
namespace {

struct SeqSpec {
  int context_len;  // tokens in the cache after this step
  int query_len;    // new rows (the last query_len positions of the context)
};

struct Case {
  int n_heads, n_kv_heads, head_dim, block_size;
  std::vector<SeqSpec> seqs;
};

struct Run {
  DType dtype;
  bool generic = false;  // force the portable kernel
  int splits = 0;        // decode splits; 0: the backend's choice
};

void CheckAttention(const Case& c, const Run& run, uint32_t seed) {
  SCOPED_TRACE(absl::StrCat(std::string(DTypeName(run.dtype)), " heads ", c.n_heads, "/",
                            c.n_kv_heads, " d ", c.head_dim, " block ", c.block_size,
                            run.generic ? " generic" : "", " splits ", run.splits));
  const int d = c.head_dim, bs = c.block_size;
  const int num_seqs = static_cast<int>(c.seqs.size());
  int max_blocks = 0, total_blocks = 0, num_tokens = 0, max_q = 0, max_ctx = 0;
  for (const SeqSpec& s : c.seqs) {
    const int blocks = (s.context_len + bs - 1) / bs;
    max_blocks = std::max(max_blocks, blocks);
    total_blocks += blocks;
    num_tokens += s.query_len;
    max_q = std::max(max_q, s.query_len);
    max_ctx = std::max(max_ctx, s.context_len);
  }
  // Twice the blocks needed, handed out in shuffled order; every slot that no
  // sequence owns stays NaN.
  const int num_blocks = 2 * total_blocks + 1;
  std::vector<int32_t> pool(num_blocks);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), std::mt19937(seed));
  const size_t slab = size_t(bs) * d;
  std::vector<float> k_cache(size_t(num_blocks) * c.n_kv_heads * slab, kNaN), v_cache = k_cache;
  std::vector<int32_t> block_tables(size_t(num_seqs) * max_blocks, -1), query_start = {0},
                                                                        context_lens, positions;
  int next_block = 0;
  for (int s = 0; s < num_seqs; ++s) {
    const SeqSpec& spec = c.seqs[s];
    const int blocks = (spec.context_len + bs - 1) / bs;
    for (int j = 0; j < blocks; ++j) block_tables[s * max_blocks + j] = pool[next_block++];
    const std::vector<float> k =
        RandomFloats(size_t(spec.context_len) * c.n_kv_heads * d, seed + 100 + s);
    const std::vector<float> v = RandomFloats(k.size(), seed + 200 + s);
    for (int t = 0; t < spec.context_len; ++t) {
      const int block = block_tables[s * max_blocks + t / bs];
      for (int h = 0; h < c.n_kv_heads; ++h) {
        const size_t at = (size_t(block) * c.n_kv_heads + h) * slab + size_t(t % bs) * d;
        std::copy_n(&k[(size_t(t) * c.n_kv_heads + h) * d], d, &k_cache[at]);
        std::copy_n(&v[(size_t(t) * c.n_kv_heads + h) * d], d, &v_cache[at]);
      }
    }
    query_start.push_back(query_start.back() + spec.query_len);
    context_lens.push_back(spec.context_len);
    for (int i = 0; i < spec.query_len; ++i)
      positions.push_back(spec.context_len - spec.query_len + i);
  }
  k_cache = RoundTo(k_cache, run.dtype);
  v_cache = RoundTo(v_cache, run.dtype);
  // q is the Q part of a fused QKV activation: a column view with a wider stride.
  const int q_cols = c.n_heads * d, q_stride = (c.n_heads + 2 * c.n_kv_heads) * d;
  std::vector<float> q =
      RoundTo(RandomFloats(size_t(num_tokens) * q_stride, seed + 1, -2.0f, 2.0f), run.dtype);
  const AttentionShape shape{c.n_heads, c.n_kv_heads, d};
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));

  AttentionMetadata meta;
  meta.num_seqs = num_seqs;
  meta.num_tokens = num_tokens;
  meta.max_query_len = max_q;
  meta.max_context_len = max_ctx;
  meta.max_blocks_per_seq = max_blocks;

  // Reference: the CPU backend on the same (rounded) numbers.
  std::vector<float> ref(size_t(num_tokens) * q_cols, kNaN);
  {
    std::unique_ptr<Backend> cpu = MakeCpuBackend(2);
    AttentionMetadata m = meta;
    m.query_start = query_start.data();
    m.context_lens = context_lens.data();
    m.block_tables = block_tables.data();
    m.positions = positions.data();
    KvCacheLayer kv;
    kv.k = Tensor::Make(k_cache.data(), DType::kF32, {num_blocks, c.n_kv_heads, bs, d});
    kv.v = Tensor::Make(v_cache.data(), DType::kF32, {num_blocks, c.n_kv_heads, bs, d});
    cpu->PagedAttention(Tensor::Make(q.data(), DType::kF32, {num_tokens, q_stride}).Cols(0, q_cols),
                        kv, m, shape, scale,
                        Tensor::Make(ref.data(), DType::kF32, {num_tokens, q_cols}));
  }

  std::unique_ptr<Backend> cuda = MakeTestCudaBackend(run.dtype, run.generic, run.splits);
  ASSERT_NE(cuda, nullptr);
  DeviceArray d_k(*cuda, run.dtype, k_cache.size()), d_v(*cuda, run.dtype, v_cache.size()),
      d_q(*cuda, run.dtype, q.size()), d_out(*cuda, run.dtype, ref.size());
  d_k.Upload(k_cache);
  d_v.Upload(v_cache);
  d_q.Upload(q);
  d_out.Poison();
  DeviceArray d_qs = DeviceArray::FromInts(*cuda, query_start);
  DeviceArray d_ctx = DeviceArray::FromInts(*cuda, context_lens);
  DeviceArray d_tables = DeviceArray::FromInts(*cuda, block_tables);
  DeviceArray d_pos = DeviceArray::FromInts(*cuda, positions);
  meta.query_start = d_qs.as<int32_t>();
  meta.context_lens = d_ctx.as<int32_t>();
  meta.block_tables = d_tables.as<int32_t>();
  meta.positions = d_pos.as<int32_t>();
  KvCacheLayer kv{d_k.View4(num_blocks, c.n_kv_heads, bs, d),
                  d_v.View4(num_blocks, c.n_kv_heads, bs, d)};
  cuda->PagedAttention(d_q.View(num_tokens, q_cols, q_stride), kv, meta, shape, scale,
                       d_out.View2(num_tokens, q_cols));
  const std::vector<float> got = d_out.Download();
  ASSERT_TRUE(cuda->status().ok()) << cuda->status();
  EXPECT_FALSE(HasNaN(got));
  EXPECT_LT(RelativeError(got, ToDouble(ref)), Tolerance(run.dtype));
}

// Decode rows (mid-block, at a block end, one token), a prefill chunk over a
// cached prefix, full prompts (one longer than a 64-key tile), a one-token prompt.
std::vector<SeqSpec> MixedSeqs() {
  return {{37, 1}, {50, 13}, {21, 21}, {32, 1}, {1, 1}, {145, 80}, {33, 1}, {70, 5}};
}
std::vector<SeqSpec> DecodeSeqs() { return {{5, 1}, {16, 1}, {17, 1}, {64, 1}, {99, 1}, {700, 1}}; }

using HeadsParam = std::pair<int, int>;  // (n_heads, n_kv_heads)
const HeadsParam kHeads[] = {{4, 4},     // MHA
                             {8, 4},     // GQA-2
                             {8, 2},     // GQA-4
                             {16, 2},    // GQA-8
                             {6, 1},     // MQA, G = 6
                             {32, 1},    // MQA, G = 32: two 16-head tiles
                             {40, 2}};   // G = 20: a partial second tile

using TcParam = std::tuple<DType, HeadsParam, int, int>;  // dtype, heads, block, head_dim

std::string TcParamName(const ::testing::TestParamInfo<TcParam>& info) {
  const auto [dtype, heads, block, d] = info.param;
  return absl::StrCat(std::string(DTypeName(dtype)), "_H", heads.first, "KV", heads.second, "_B",
                      block, "_D", d);
}

class CudaTensorCoreAttentionTest : public ::testing::TestWithParam<TcParam> {};

TEST_P(CudaTensorCoreAttentionTest, MixedAndDecodeBatchesMatchCpu) {
  GQA_REQUIRE_CUDA_DEVICE();
  const auto [dtype, heads, block, d] = GetParam();
  CheckAttention({heads.first, heads.second, d, block, MixedSeqs()}, {dtype}, 7);
  CheckAttention({heads.first, heads.second, d, block, DecodeSeqs()}, {dtype}, 8);
}

INSTANTIATE_TEST_SUITE_P(All, CudaTensorCoreAttentionTest,
                         ::testing::Combine(::testing::Values(DType::kBF16, DType::kF16),
                                            ::testing::ValuesIn(kHeads), ::testing::Values(16, 32),
                                            ::testing::Values(64, 128)),
                         TcParamName);

using GenericParam = std::tuple<DType, HeadsParam, int>;  // dtype, heads, block

std::string GenericParamName(const ::testing::TestParamInfo<GenericParam>& info) {
  const auto [dtype, heads, block] = info.param;
  return absl::StrCat(std::string(DTypeName(dtype)), "_H", heads.first, "KV", heads.second, "_B",
                      block);
}

class CudaGenericAttentionTest : public ::testing::TestWithParam<GenericParam> {};

TEST_P(CudaGenericAttentionTest, MixedAndDecodeBatchesMatchCpu) {
  GQA_REQUIRE_CUDA_DEVICE();
  const auto [dtype, heads, block] = GetParam();
  // fp32 always takes the portable kernel; the half types are forced onto it.
  CheckAttention({heads.first, heads.second, 128, block, MixedSeqs()}, {dtype, true}, 9);
  CheckAttention({heads.first, heads.second, 64, block, DecodeSeqs()}, {dtype, true}, 10);
}

INSTANTIATE_TEST_SUITE_P(All, CudaGenericAttentionTest,
                         ::testing::Combine(::testing::Values(DType::kF32, DType::kBF16,
                                                              DType::kF16),
                                            ::testing::ValuesIn(kHeads), ::testing::Values(16, 32)),
                         GenericParamName);

class CudaAttentionDtypeTest : public ::testing::TestWithParam<DType> {};

TEST_P(CudaAttentionDtypeTest, OddShapesFallBackToThePortableKernel) {
  GQA_REQUIRE_CUDA_DEVICE();
  CheckAttention({12, 4, 40, 16, {{150, 150}, {151, 3}}}, {GetParam()}, 11);
  CheckAttention({3, 1, 8, 5, {{23, 23}, {9, 1}}}, {GetParam()}, 12);
  CheckAttention({8, 2, 128, 8, {{40, 1}, {19, 19}}}, {GetParam()},
                 13);  // block 8: not a multiple of 16
}

TEST_P(CudaAttentionDtypeTest, LongPrefillsSpanManyTiles) {
  GQA_REQUIRE_CUDA_DEVICE();
  // G = 8: 64 / 8 = 8 rows per tile; a 300-row chunk over 200 cached tokens.
  CheckAttention({32, 4, 128, 16, {{300, 300}, {500, 300}, {17, 2}}}, {GetParam()}, 14);
  CheckAttention({8, 8, 64, 32, {{257, 257}}}, {GetParam()}, 15);
}

TEST_P(CudaAttentionDtypeTest, SplitKvDecodeMatchesForEverySplitCount) {
  GQA_REQUIRE_CUDA_DEVICE();
  const std::vector<SeqSpec> seqs = {{3000, 1}, {517, 1}, {1, 1}, {16, 1}, {2049, 1}};
  for (int splits : {0, 1, 2, 3, 7, 64}) {
    CheckAttention({32, 8, 128, 16, seqs}, {GetParam(), false, splits}, 16);
  }
  CheckAttention({32, 1, 64, 32, {{4000, 1}}}, {GetParam(), false, 0}, 17);  // batch 1 MQA
  // A batch with prefill rows and forced splits: the decode rows still combine.
  CheckAttention({16, 4, 128, 16, {{1000, 1}, {40, 20}}}, {GetParam(), false, 5}, 18);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CudaAttentionDtypeTest,
                         ::testing::Values(DType::kF32, DType::kBF16, DType::kF16), DTypeParamName);

}  // namespace
}  // namespace gqa::testing
