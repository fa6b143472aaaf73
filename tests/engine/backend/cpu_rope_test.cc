// RopeAndCacheWrite of the CPU backend: both RoPE styles against their
// explicit formulas, the equivalence of the two styles under the HF
// permutation, and the paged cache write.
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/common/dtype.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa {
namespace {

using testing::RandomFloats;

constexpr float kSentinel = -777.0f;

struct RopeSetup {
  int n_heads, n_kv_heads, head_dim, block_size, num_blocks, max_pos;
  std::vector<int32_t> positions;
  std::vector<int64_t> slots;  // -1: padding row, no cache write

  int num_tokens() const { return static_cast<int>(positions.size()); }
  int qkv_cols() const { return (n_heads + 2 * n_kv_heads) * head_dim; }
  size_t cache_elems() const {
    return static_cast<size_t>(num_blocks) * n_kv_heads * block_size * head_dim;
  }
};

// cos/sin [max_pos, head_dim / 2] of the standard angles p * theta^(-2i/head_dim).
void MakeTables(int max_pos, int head_dim, std::vector<float>& cos, std::vector<float>& sin) {
  const int half = head_dim / 2;
  cos.resize(max_pos * half);
  sin.resize(max_pos * half);
  for (int p = 0; p < max_pos; ++p) {
    for (int i = 0; i < half; ++i) {
      const double angle = p * std::pow(10000.0, -2.0 * i / head_dim);
      cos[p * half + i] = static_cast<float>(std::cos(angle));
      sin[p * half + i] = static_cast<float>(std::sin(angle));
    }
  }
}

struct RopeRun {
  std::vector<float> qkv;      // [num_tokens, qkv_stride] after the op
  std::vector<float> k_cache;  // [num_blocks, n_kv_heads, block_size, head_dim]
  std::vector<float> v_cache;
};

// x as a cache of `dtype` holds it: itself in f32, rounded to nearest even in bf16.
float Stored(float x, DType dtype) { return dtype == DType::kBF16 ? Bf16ToF32(F32ToBf16(x)) : x; }

// Runs RopeAndCacheWrite on `qkv` ([num_tokens, qkv_stride], the first
// qkv_cols() columns are the op's input) with caches of `kv_dtype` full of
// kSentinel; returns the caches widened to f32.
RopeRun RunRope(const RopeSetup& s, std::vector<float> qkv, int qkv_stride, RopeStyle style,
                DType kv_dtype = DType::kF32) {
  std::unique_ptr<Backend> backend = MakeCpuBackend(0, CpuWeights::kAuto, kv_dtype);
  std::vector<float> cos, sin;
  MakeTables(s.max_pos, s.head_dim, cos, sin);
  RopeRun run;
  std::vector<char> k_cache(s.cache_elems() * DTypeSize(kv_dtype));
  std::vector<char> v_cache(k_cache.size());
  const std::vector<float> sentinels(s.cache_elems(), kSentinel);
  ConvertFromF32(sentinels.data(), kv_dtype, k_cache.data(), s.cache_elems());
  ConvertFromF32(sentinels.data(), kv_dtype, v_cache.data(), s.cache_elems());
  RopeTables rope;
  rope.cos = Tensor::Make(cos.data(), DType::kF32, {s.max_pos, s.head_dim / 2});
  rope.sin = Tensor::Make(sin.data(), DType::kF32, {s.max_pos, s.head_dim / 2});
  rope.style = style;
  AttentionMetadata meta;
  meta.num_tokens = s.num_tokens();
  meta.positions = s.positions.data();
  meta.slot_mapping = s.slots.data();
  KvCacheLayer kv;
  kv.k = Tensor::Make(k_cache.data(), kv_dtype,
                      {s.num_blocks, s.n_kv_heads, s.block_size, s.head_dim});
  kv.v = Tensor::Make(v_cache.data(), kv_dtype,
                      {s.num_blocks, s.n_kv_heads, s.block_size, s.head_dim});
  const Tensor qkv_view =
      Tensor::Make(qkv.data(), DType::kF32, {s.num_tokens(), qkv_stride}).Cols(0, s.qkv_cols());
  backend->RopeAndCacheWrite(qkv_view, rope, {s.n_heads, s.n_kv_heads, s.head_dim}, meta, kv);
  run.qkv = std::move(qkv);
  run.k_cache.resize(s.cache_elems());
  run.v_cache.resize(s.cache_elems());
  ConvertToF32(kv_dtype, k_cache.data(), run.k_cache.data(), s.cache_elems());
  ConvertToF32(kv_dtype, v_cache.data(), run.v_cache.data(), s.cache_elems());
  return run;
}

// One head rotated by the explicit formula of `style`, in double.
std::vector<double> RotateRef(const float* x, int pos, int head_dim, RopeStyle style) {
  const int half = head_dim / 2;
  std::vector<double> out(head_dim);
  for (int i = 0; i < half; ++i) {
    const double angle = pos * std::pow(10000.0, -2.0 * i / head_dim);
    const double c = std::cos(angle), s = std::sin(angle);
    if (style == RopeStyle::kHalves) {  // HF: x * cos + rotate_half(x) * sin
      out[i] = x[i] * c - x[i + half] * s;
      out[i + half] = x[i + half] * c + x[i] * s;
    } else {  // llama2.c
      out[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
      out[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * c;
    }
  }
  return out;
}

RopeSetup MixedSetup() {
  // Positions out of order (a ragged batch of several sequences); two rows
  // share a block; the last row is padding.
  return {.n_heads = 6,
          .n_kv_heads = 2,
          .head_dim = 10,
          .block_size = 3,
          .num_blocks = 5,
          .max_pos = 300,
          .positions = {0, 1, 2, 250, 17, 5, 299, 42},
          .slots = {4, 5, 9, 0, 14, 2, 7, -1}};
}

// The cache holds the rotated K and V rows at the rows' slots (in a bf16
// cache, each value rounded to nearest even) and nothing else changes.
void CheckCacheWrite(RopeStyle style, DType kv_dtype) {
  const RopeSetup s = MixedSetup();
  const int stride = s.qkv_cols();
  const RopeRun run =
      RunRope(s, RandomFloats(s.num_tokens() * stride, 22), stride, style, kv_dtype);
  const int d = s.head_dim;
  std::vector<bool> written(s.cache_elems(), false);
  for (int r = 0; r < s.num_tokens(); ++r) {
    if (s.slots[r] < 0) continue;
    const int64_t block = s.slots[r] / s.block_size, offset = s.slots[r] % s.block_size;
    for (int h = 0; h < s.n_kv_heads; ++h) {
      const size_t at = ((block * s.n_kv_heads + h) * s.block_size + offset) * d;
      const float* k = &run.qkv[r * stride + (s.n_heads + h) * d];
      const float* v = &run.qkv[r * stride + (s.n_heads + s.n_kv_heads + h) * d];
      for (int i = 0; i < d; ++i) {
        EXPECT_EQ(run.k_cache[at + i], Stored(k[i], kv_dtype)) << "row " << r << " kv head " << h;
        EXPECT_EQ(run.v_cache[at + i], Stored(v[i], kv_dtype)) << "row " << r << " kv head " << h;
        written[at + i] = true;
      }
    }
  }
  for (size_t i = 0; i < written.size(); ++i) {
    if (written[i]) continue;
    ASSERT_EQ(run.k_cache[i], Stored(kSentinel, kv_dtype)) << i;
    ASSERT_EQ(run.v_cache[i], Stored(kSentinel, kv_dtype)) << i;
  }
}

class CpuRopeTest : public ::testing::TestWithParam<RopeStyle> {};

TEST_P(CpuRopeTest, RotatesQAndKByTheFormulaAndLeavesV) {
  const RopeStyle style = GetParam();
  const RopeSetup s = MixedSetup();
  const int stride = s.qkv_cols() + 4;
  const std::vector<float> input = RandomFloats(s.num_tokens() * stride, 21, -2.0f, 2.0f);
  const RopeRun run = RunRope(s, input, stride, style);
  const int d = s.head_dim;
  for (int r = 0; r < s.num_tokens(); ++r) {
    const float* in = &input[r * stride];
    const float* out = &run.qkv[r * stride];
    for (int h = 0; h < s.n_heads + s.n_kv_heads; ++h) {  // Q heads, then K heads
      const std::vector<double> ref = RotateRef(in + h * d, s.positions[r], d, style);
      for (int i = 0; i < d; ++i)
        EXPECT_NEAR(out[h * d + i], ref[i], 2e-6) << "row " << r << " head " << h << " dim " << i;
    }
    for (int c = (s.n_heads + s.n_kv_heads) * d; c < stride; ++c)  // V and padding untouched
      EXPECT_EQ(out[c], in[c]) << "row " << r << " col " << c;
  }
}

TEST_P(CpuRopeTest, WritesRotatedKAndVAtTheSlotsOnly) {
  for (DType kv_dtype : {DType::kF32, DType::kBF16}) {
    SCOPED_TRACE(DTypeName(kv_dtype));
    CheckCacheWrite(GetParam(), kv_dtype);
  }
}

INSTANTIATE_TEST_SUITE_P(BothStyles, CpuRopeTest,
                         ::testing::Values(RopeStyle::kHalves, RopeStyle::kInterleaved));

// kInterleaved on x equals kHalves on the HF-permuted x, permuted back: the
// reason llama2.c checkpoints converted to HF permute their wq/wk rows.
TEST(CpuRopeStylesTest, InterleavedEqualsHalvesUnderTheHfPermutation) {
  RopeSetup s = MixedSetup();
  s.head_dim = 16;
  const int stride = s.qkv_cols(), d = s.head_dim, half = d / 2;
  const std::vector<float> x = RandomFloats(s.num_tokens() * stride, 23);
  // Per Q/K head: interleaved index 2i -> halves index i, 2i + 1 -> i + half.
  auto permute = [&](const std::vector<float>& in, bool to_halves) {
    std::vector<float> out = in;
    for (int r = 0; r < s.num_tokens(); ++r) {
      for (int h = 0; h < s.n_heads + s.n_kv_heads; ++h) {
        const int base = r * stride + h * d;
        for (int i = 0; i < half; ++i) {
          if (to_halves) {
            out[base + i] = in[base + 2 * i];
            out[base + i + half] = in[base + 2 * i + 1];
          } else {
            out[base + 2 * i] = in[base + i];
            out[base + 2 * i + 1] = in[base + i + half];
          }
        }
      }
    }
    return out;
  };
  const RopeRun interleaved = RunRope(s, x, stride, RopeStyle::kInterleaved);
  const RopeRun halves = RunRope(s, permute(x, /*to_halves=*/true), stride, RopeStyle::kHalves);
  const std::vector<float> back = permute(halves.qkv, /*to_halves=*/false);
  for (size_t i = 0; i < back.size(); ++i) EXPECT_NEAR(back[i], interleaved.qkv[i], 1e-6) << i;
}

}  // namespace
}  // namespace gqa
