// RopeAndCacheWrite of the CUDA backend against the CPU backend: both RoPE
// styles, GQA head counts, block sizes 16 and 32, padding rows (slot -1),
// a strided qkv view. The rotated Q/K (in place) and the cache contents are
// compared; slots nobody writes must keep their sentinel.
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend/backend.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/cuda/cuda_test_util.h"

namespace gqa::testing {
namespace {

constexpr float kSentinel = -768.0f;  // exact in bf16 and f16

struct RopeCase {
  int n_heads, n_kv_heads, head_dim, block_size, num_blocks;
  std::vector<int32_t> positions;
  std::vector<int64_t> slots;  // -1: padding row
};

void CheckRope(const RopeCase& c, DType dtype, RopeStyle style) {
  SCOPED_TRACE(absl::StrCat(std::string(DTypeName(dtype)),
                            style == RopeStyle::kHalves ? " halves" : " interleaved", " heads ",
                            c.n_heads, "/", c.n_kv_heads, " d ", c.head_dim));
  const int n = static_cast<int>(c.positions.size()), d = c.head_dim, half = d / 2;
  const int cols = (c.n_heads + 2 * c.n_kv_heads) * d, stride = cols + 8;
  const int max_pos = 4096;
  std::vector<float> cos(size_t(max_pos) * half), sin(cos.size());
  for (int p = 0; p < max_pos; ++p) {
    for (int i = 0; i < half; ++i) {
      const double angle = p * std::pow(500000.0, -2.0 * i / d);
      cos[size_t(p) * half + i] = static_cast<float>(std::cos(angle));
      sin[size_t(p) * half + i] = static_cast<float>(std::sin(angle));
    }
  }
  std::vector<float> qkv = RoundTo(RandomFloats(size_t(n) * stride, 21, -2.0f, 2.0f), dtype);
  const size_t cache_elems = size_t(c.num_blocks) * c.n_kv_heads * c.block_size * d;
  const AttentionShape shape{c.n_heads, c.n_kv_heads, d};
  AttentionMetadata meta;
  meta.num_tokens = n;

  // CPU reference.
  std::vector<float> ref_qkv = qkv, ref_k(cache_elems, kSentinel), ref_v(cache_elems, kSentinel);
  {
    std::unique_ptr<Backend> cpu = MakeCpuBackend(2);
    RopeTables rope{Tensor::Make(cos.data(), DType::kF32, {max_pos, half}),
                    Tensor::Make(sin.data(), DType::kF32, {max_pos, half}), style};
    AttentionMetadata m = meta;
    m.positions = c.positions.data();
    m.slot_mapping = c.slots.data();
    KvCacheLayer kv{
        Tensor::Make(ref_k.data(), DType::kF32, {c.num_blocks, c.n_kv_heads, c.block_size, d}),
        Tensor::Make(ref_v.data(), DType::kF32, {c.num_blocks, c.n_kv_heads, c.block_size, d})};
    cpu->RopeAndCacheWrite(Tensor::Make(ref_qkv.data(), DType::kF32, {n, stride}).Cols(0, cols),
                           rope, shape, m, kv);
  }

  std::unique_ptr<Backend> cuda = MakeTestCudaBackend(dtype);
  ASSERT_NE(cuda, nullptr);
  DeviceArray d_qkv(*cuda, dtype, qkv.size()), d_k(*cuda, dtype, cache_elems),
      d_v(*cuda, dtype, cache_elems), d_cos(*cuda, DType::kF32, cos.size()),
      d_sin(*cuda, DType::kF32, sin.size());
  d_qkv.Upload(qkv);
  d_k.Upload(std::vector<float>(cache_elems, kSentinel));
  d_v.Upload(std::vector<float>(cache_elems, kSentinel));
  d_cos.Upload(cos);
  d_sin.Upload(sin);
  DeviceArray d_pos = DeviceArray::FromInts(*cuda, c.positions);
  DeviceArray d_slots = DeviceArray::FromInts(*cuda, c.slots);
  meta.positions = d_pos.as<int32_t>();
  meta.slot_mapping = d_slots.as<int64_t>();
  RopeTables rope{d_cos.View2(max_pos, half), d_sin.View2(max_pos, half), style};
  KvCacheLayer kv{d_k.View4(c.num_blocks, c.n_kv_heads, c.block_size, d),
                  d_v.View4(c.num_blocks, c.n_kv_heads, c.block_size, d)};
  cuda->RopeAndCacheWrite(d_qkv.View(n, cols, stride), rope, shape, meta, kv);
  const std::vector<float> got_qkv = d_qkv.Download(), got_k = d_k.Download(),
                           got_v = d_v.Download();
  ASSERT_TRUE(cuda->status().ok()) << cuda->status();

  EXPECT_LT(
      RelativeError(Dense(got_qkv, n, cols, stride), ToDouble(Dense(ref_qkv, n, cols, stride))),
      Tolerance(dtype));
  // Columns past the view are untouched.
  for (int r = 0; r < n; ++r)
    for (int j = cols; j < stride; ++j)
      ASSERT_EQ(got_qkv[size_t(r) * stride + j], qkv[size_t(r) * stride + j]);
  // Same slots written; V copied exactly; K within the dtype's rounding.
  for (size_t i = 0; i < cache_elems; ++i) {
    ASSERT_EQ(got_k[i] == kSentinel, ref_k[i] == kSentinel) << i;
    ASSERT_EQ(got_v[i], ref_v[i]) << i;
  }
  EXPECT_LT(RelativeError(got_k, ToDouble(ref_k)), Tolerance(dtype));
}

class CudaRopeTest : public ::testing::TestWithParam<DType> {};

TEST_P(CudaRopeTest, BothStylesMatchCpu) {
  GQA_REQUIRE_CUDA_DEVICE();
  for (RopeStyle style : {RopeStyle::kHalves, RopeStyle::kInterleaved}) {
    // GQA-4, block 16: a prefill chunk of 5 rows, a padding row, decode rows.
    CheckRope({8, 2, 64, 16, 12, {0, 1, 2, 3, 4, 7, 40, 4095}, {16, 17, 18, 19, 20, -1, 40, 191}},
              GetParam(), style);
    // MQA, block 32, head_dim 128; MHA with an odd head count and small head_dim.
    CheckRope({32, 1, 128, 32, 4, {5, 31, 32, 100}, {5, 31, 32, 100}}, GetParam(), style);
    CheckRope({3, 3, 8, 16, 3, {9, 10, 47}, {0, 1, 47}}, GetParam(), style);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CudaRopeTest,
                         ::testing::Values(DType::kF32, DType::kBF16, DType::kF16), DTypeParamName);

}  // namespace
}  // namespace gqa::testing
