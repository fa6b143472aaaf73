// PagedAttention of the CUDA backend against the CPU backend (itself checked
// against a contiguous double reference in cpu_paged_attention_test.cc):
// every GQA ratio (MHA, GQA-2/4/8, MQA, and groups over 16 heads, which the
// tensor-core decode kernel splits into head tiles), block sizes 16 and 32,
// contexts ending mid-block, ragged batches mixing decode rows, chunked
// prefill over a cached prefix and full prompts; the tensor-core kernels
// (bf16/f16, head_dim 64/128), the portable kernel (fp32, odd shapes, or
// forced), and split-KV decode with its combine step. Unused cache slots hold
// NaN and outputs are NaN-poisoned, so a stray read or a missed write shows.
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/backend.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/cuda/cuda_test_util.h"
#include "tests/engine/backend/paged_attention_test_util.h"

namespace gqa::testing {
namespace {

using Case = PagedAttentionCase;

struct Run {
  DType dtype;
  bool generic = false;  // force the portable kernel
  int splits = 0;        // decode splits; 0: the backend's choice
};

void CheckAttention(const Case& c, const Run& run, uint32_t seed) {
  SCOPED_TRACE(absl::StrCat(std::string(DTypeName(run.dtype)), " heads ", c.n_heads, "/",
                            c.n_kv_heads, " d ", c.head_dim, " block ", c.block_size,
                            run.generic ? " generic" : "", " splits ", run.splits));
  // K, V and q rounded to the dtype, so the CPU reference computes from the
  // numbers the GPU sees (NaN slots stay NaN).
  PagedAttentionInputs in(c, seed);
  in.k_cache = RoundTo(in.k_cache, run.dtype);
  in.v_cache = RoundTo(in.v_cache, run.dtype);
  in.q = RoundTo(in.q, run.dtype);
  const int num_tokens = in.num_tokens, q_cols = in.q_cols;

  // Reference: the CPU backend on the same (rounded) numbers.
  std::vector<float> ref(size_t(num_tokens) * q_cols, kNaN);
  MakeCpuBackend(2)->PagedAttention(in.Queries(), in.Layer(), in.Metadata(), in.Shape(), in.scale,
                                    Tensor::Make(ref.data(), DType::kF32, {num_tokens, q_cols}));

  std::unique_ptr<Backend> cuda = MakeTestCudaBackend(run.dtype, run.generic, run.splits);
  ASSERT_NE(cuda, nullptr);
  DeviceArray d_k(*cuda, run.dtype, in.k_cache.size()), d_v(*cuda, run.dtype, in.v_cache.size()),
      d_q(*cuda, run.dtype, in.q.size()), d_out(*cuda, run.dtype, ref.size());
  d_k.Upload(in.k_cache);
  d_v.Upload(in.v_cache);
  d_q.Upload(in.q);
  d_out.Poison();
  DeviceArray d_qs = DeviceArray::FromInts(*cuda, in.query_start);
  DeviceArray d_ctx = DeviceArray::FromInts(*cuda, in.context_lens);
  DeviceArray d_tables = DeviceArray::FromInts(*cuda, in.block_tables);
  DeviceArray d_pos = DeviceArray::FromInts(*cuda, in.positions);
  AttentionMetadata meta = in.Metadata();
  meta.query_start = d_qs.as<int32_t>();
  meta.context_lens = d_ctx.as<int32_t>();
  meta.block_tables = d_tables.as<int32_t>();
  meta.positions = d_pos.as<int32_t>();
  const KvCacheLayer kv{d_k.View4(in.num_blocks, c.n_kv_heads, c.block_size, c.head_dim),
                        d_v.View4(in.num_blocks, c.n_kv_heads, c.block_size, c.head_dim)};
  cuda->PagedAttention(d_q.View(num_tokens, q_cols, in.q_stride), kv, meta, in.Shape(), in.scale,
                       d_out.View2(num_tokens, q_cols));
  const std::vector<float> got = d_out.Download();
  ASSERT_TRUE(cuda->status().ok()) << cuda->status();
  EXPECT_FALSE(HasNaN(got));
  EXPECT_LT(RelativeError(got, ToDouble(ref)), Tolerance(run.dtype));
}

// Decode rows (mid-block, at a block end, one token), a prefill chunk over a
// cached prefix, full prompts (one longer than a 64-key tile), a one-token prompt.
std::vector<PagedSeq> MixedSeqs() {
  return {{37, 1}, {50, 13}, {21, 21}, {32, 1}, {1, 1}, {145, 80}, {33, 1}, {70, 5}};
}
std::vector<PagedSeq> DecodeSeqs() { return {{5, 1}, {16, 1}, {17, 1}, {64, 1}, {99, 1}, {700, 1}}; }

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
  const std::vector<PagedSeq> seqs = {{3000, 1}, {517, 1}, {1, 1}, {16, 1}, {2049, 1}};
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
