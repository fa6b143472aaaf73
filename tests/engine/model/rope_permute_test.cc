#include "engine/model/rope_permute.h"

#include <cmath>
#include <vector>

#include "engine/model/dummy_weights.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/model/weights_test_util.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::vector<float> Iota(int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

TEST(RopePermuteTest, MatchesHfConvertScript) {
  // torch.arange(12).view(2, 3, 2, 1).transpose(1, 2).reshape(12): two heads of 6.
  std::vector<float> src = Iota(12), dst(12);
  ASSERT_TRUE(PermuteInterleavedToHalves(Tensor::Make(src.data(), DType::kF32, {12}), 2,
                                         Tensor::Make(dst.data(), DType::kF32, {12}))
                  .ok());
  EXPECT_THAT(dst, ElementsAre(0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11));
  std::vector<float> back(12);
  ASSERT_TRUE(PermuteHalvesToInterleaved(Tensor::Make(dst.data(), DType::kF32, {12}), 2,
                                         Tensor::Make(back.data(), DType::kF32, {12}))
                  .ok());
  EXPECT_EQ(back, src);
}

TEST(RopePermuteTest, WholeRowsMoveAndStridedSourcesWork) {
  // A [4, 3] weight (one head of 4) as columns 1..3 of a [4, 5] matrix.
  std::vector<uint16_t> wide(20), dst(12);
  for (int i = 0; i < 20; ++i) wide[i] = static_cast<uint16_t>(i);
  const Tensor src = Tensor::Make(wide.data(), DType::kBF16, {4, 5}).Cols(1, 4);
  ASSERT_TRUE(
      PermuteInterleavedToHalves(src, 1, Tensor::Make(dst.data(), DType::kBF16, {4, 3})).ok());
  // halves rows = interleaved rows 0, 2, 1, 3.
  EXPECT_THAT(dst, ElementsAre(1, 2, 3, 11, 12, 13, 6, 7, 8, 16, 17, 18));
}

TEST(RopePermuteTest, RejectsBadShapes) {
  std::vector<float> a(12), b(12);
  const Tensor t = Tensor::Make(a.data(), DType::kF32, {12});
  // 4 heads of 3: odd head_dim.
  EXPECT_THAT(PermuteInterleavedToHalves(t, 4, Tensor::Make(b.data(), DType::kF32, {12})).message(),
              HasSubstr("even head_dim"));
  EXPECT_FALSE(PermuteInterleavedToHalves(t, 5, Tensor::Make(b.data(), DType::kF32, {12})).ok());
  EXPECT_THAT(
      PermuteInterleavedToHalves(t, 2, Tensor::Make(b.data(), DType::kF32, {6, 2})).message(),
      HasSubstr("does not match"));
}

// One rotation by the angle of pair i at position pos, used by both layouts
// (not inlined, so both get bit-identical arithmetic, FMA contraction or not).
[[gnu::noinline]] void Rotate(float x0, float x1, int i, int head_dim, float* y0, float* y1) {
  const float a = 5.0f * std::pow(10000.0f, -2.0f * i / head_dim);
  *y0 = x0 * std::cos(a) - x1 * std::sin(a);
  *y1 = x0 * std::sin(a) + x1 * std::cos(a);
}

// Rotating pairs (2i, 2i+1) of the interleaved vector equals rotating pairs
// (i, i + half) of its halves permutation: the permutation is what makes the
// two RoPE conventions compute the same attention.
TEST(RopePermuteTest, InterleavedRopeEqualsHalvesRopeAfterPermute) {
  const int head_dim = 8, half = 4;
  std::vector<float> x = {0.3f, -1.2f, 0.7f, 2.0f, -0.4f, 0.9f, 1.1f, -0.6f};
  std::vector<float> rot_inter(head_dim), x_half(head_dim), rot_half(head_dim), expect(head_dim);
  for (int i = 0; i < half; ++i) {
    Rotate(x[2 * i], x[2 * i + 1], i, head_dim, &rot_inter[2 * i], &rot_inter[2 * i + 1]);
  }
  ASSERT_TRUE(PermuteInterleavedToHalves(Tensor::Make(x.data(), DType::kF32, {8}), 1,
                                         Tensor::Make(x_half.data(), DType::kF32, {8}))
                  .ok());
  for (int i = 0; i < half; ++i) {  // HF: x * cos + rotate_half(x) * sin
    Rotate(x_half[i], x_half[i + half], i, head_dim, &rot_half[i], &rot_half[i + half]);
  }
  ASSERT_TRUE(PermuteInterleavedToHalves(Tensor::Make(rot_inter.data(), DType::kF32, {8}), 1,
                                         Tensor::Make(expect.data(), DType::kF32, {8}))
                  .ok());
  EXPECT_THAT(rot_half, ElementsAreArray(expect));
  EXPECT_NE(rot_half, x_half);
}

TEST(WithRopeStyleTest, HalvesToInterleavedToHalvesIsIdentity) {
  ModelConfig c = testing::TinyConfig(RopeStyle::kHalves);
  c.attention_bias = true;
  const ModelWeights w = *MakeDummyWeights(c, DType::kF16, 11);
  absl::StatusOr<ModelWeights> inter = WithRopeStyle(w, RopeStyle::kInterleaved);
  ASSERT_TRUE(inter.ok()) << inter.status();
  EXPECT_EQ(inter->config.rope_style, RopeStyle::kInterleaved);
  EXPECT_FALSE(testing::SameBits(inter->layers[0].wq, w.layers[0].wq));
  EXPECT_FALSE(testing::SameBits(inter->layers[1].bk, w.layers[1].bk));
  EXPECT_EQ(inter->layers[0].wv.data, w.layers[0].wv.data);  // untouched tensors are shared
  absl::StatusOr<ModelWeights> back = WithRopeStyle(*inter, RopeStyle::kHalves);
  ASSERT_TRUE(back.ok()) << back.status();
  testing::ExpectSameWeights(w, *back);
  // Same style: nothing is copied.
  absl::StatusOr<ModelWeights> same = WithRopeStyle(w, RopeStyle::kHalves);
  EXPECT_EQ(same->layers[0].wq.data, w.layers[0].wq.data);
}

}  // namespace
}  // namespace gqa
