// PagedAttention of the CPU backend against a plain contiguous-KV attention:
// MHA, GQA-2/4/8 and MQA; block sizes 1, 3, 16, 32; ragged batches mixing
// decode rows, prefill chunks over cached tokens and full prefills.
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/backend.h"
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

// Runs the backend's PagedAttention over a paged cache of shuffled blocks
// (unused slots NaN, so a read past a context shows) of `kv_dtype` and
// compares with the contiguous reference on the same (rounded) K/V.
void CheckAgainstReference(const PagedAttentionCase& c, uint32_t seed,
                           DType kv_dtype = DType::kF32) {
  PagedAttentionInputs in(c, seed);
  if (kv_dtype == DType::kBF16) in.StoreKvAsBf16();
  std::vector<float> out(static_cast<size_t>(in.num_tokens) * in.q_cols, kNaN);
  std::unique_ptr<Backend> backend = MakeCpuBackend(0);
  backend->PagedAttention(in.Queries(), in.Layer(), in.Metadata(), in.Shape(), in.scale,
                          Tensor::Make(out.data(), DType::kF32, {in.num_tokens, in.q_cols}));
  EXPECT_FALSE(HasNaN(out));
  EXPECT_LT(RelativeError(out, NaiveAttention(in)), 1e-5);
}

// A ragged batch of every kind of row: pure decode (mid-block and at a block
// boundary), a prefill chunk whose earlier tokens are cached, full prefills
// (one longer than the kernel's 16-row chunk), a one-token prompt.
std::vector<PagedSeq> MixedSeqs() {
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

TEST_P(CpuPagedAttentionTest, Bf16CacheMatchesContiguousReference) {
  const auto [heads, block_size] = GetParam();
  CheckAgainstReference({heads.first, heads.second, 32, block_size, MixedSeqs()}, 11, DType::kBF16);
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
