#include "engine/model/gqa_convert.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/model/dummy_weights.h"
#include "engine/model/hf_loader.h"
#include "engine/model/host_tensor.h"
#include "engine/model/llama2c_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/model/weights_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;

// TinyConfig with 8 query heads and 4 KV heads of head_dim 4 (dim 32).
ModelConfig FourKvHeads(bool bias) {
  ModelConfig c = testing::TinyConfig();
  c.dim = 32;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.attention_bias = bias;
  return c;
}

// Copies KV head `from` over KV head `to` in a K/V weight or bias, in place.
void CopyHead(const Tensor& t, int head_dim, int from, int to) {
  const int64_t cols = t.ndim == 2 ? t.cols() : 1;
  const size_t bytes = head_dim * cols * DTypeSize(t.dtype);
  char* base = static_cast<char*>(t.data);
  std::memcpy(base + to * bytes, base + from * bytes, bytes);
}

TEST(ConvertKvHeadsTest, SameCountIsTheIdentity) {
  const ModelWeights w = *MakeDummyWeights(FourKvHeads(true), DType::kBF16, 1);
  absl::StatusOr<ModelWeights> out = ConvertKvHeads(w, 4);
  ASSERT_TRUE(out.ok()) << out.status();
  testing::ExpectSameWeights(w, *out);
  EXPECT_EQ(out->layers[0].wk.data, w.layers[0].wk.data);
  EXPECT_EQ(out->config.n_kv_heads, 4);
}

TEST(ConvertKvHeadsTest, CountMustDivide) {
  const ModelWeights w = *MakeDummyWeights(FourKvHeads(false), DType::kF32, 1);
  for (int bad : {3, 0, -2, 8}) {
    const absl::Status s = ConvertKvHeads(w, bad).status();
    EXPECT_THAT(s.message(), HasSubstr("must divide the model's 4 KV heads (one of 1, 2, 4)"))
        << bad;
  }
}

// When the heads of each group are already equal, pooling gives them back
// exactly: the converted model is the same function with a smaller KV cache.
TEST(ConvertKvHeadsTest, EqualHeadsWithinGroupsPoolToThemselves) {
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    SCOPED_TRACE(DTypeName(dtype));
    ModelWeights w = *MakeDummyWeights(FourKvHeads(true), dtype, 2);
    const int hd = w.config.head_dim;
    for (const LayerWeights& l : w.layers) {
      for (const Tensor* t : {&l.wk, &l.wv, &l.bk, &l.bv}) {
        CopyHead(*t, hd, 0, 1);
        CopyHead(*t, hd, 2, 3);
      }
    }
    for (int target : {2, 1}) {
      absl::StatusOr<ModelWeights> out = ConvertKvHeads(w, target);
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(out->config.n_kv_heads, target);
      EXPECT_EQ(out->config.n_heads, 8);
      ASSERT_TRUE(CheckWeightShapes(*out).ok()) << CheckWeightShapes(*out);
      if (target != 2) continue;
      for (size_t i = 0; i < w.layers.size(); ++i) {
        const LayerWeights& a = w.layers[i];
        const LayerWeights& b = out->layers[i];
        EXPECT_TRUE(testing::SameBits(b.wk.Rows(0, hd), a.wk.Rows(0, hd)));
        EXPECT_TRUE(testing::SameBits(b.wk.Rows(hd, 2 * hd), a.wk.Rows(2 * hd, 3 * hd)));
        EXPECT_TRUE(testing::SameBits(b.wv.Rows(hd, 2 * hd), a.wv.Rows(2 * hd, 3 * hd)));
        EXPECT_EQ(std::memcmp(b.bk.data, a.bk.data, hd * DTypeSize(dtype)), 0);
        EXPECT_EQ(std::memcmp(b.bv.as<char>() + hd * DTypeSize(dtype),
                              a.bv.as<char>() + 2 * hd * DTypeSize(dtype), hd * DTypeSize(dtype)),
                  0);
        EXPECT_EQ(b.wq.data, a.wq.data);  // everything else is shared
        EXPECT_EQ(b.w_down.data, a.w_down.data);
      }
    }
  }
}

TEST(ConvertKvHeadsTest, PoolsTheMeanOfEachGroup) {
  const ModelWeights w = *MakeDummyWeights(FourKvHeads(false), DType::kF32, 3);
  absl::StatusOr<ModelWeights> out = ConvertKvHeads(w, 1);  // MQA: mean of all four
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<float> k = TensorToF32(w.layers[1].wv);  // [16, 32]
  const Tensor& pooled = out->layers[1].wv;                  // [4, 32]
  ASSERT_EQ(pooled.ShapeString(), "[4, 32] f32");
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 32; ++c) {
      double sum = 0;
      for (int h = 0; h < 4; ++h) sum += k[(h * 4 + r) * 32 + c];
      EXPECT_EQ(pooled.as<float>()[r * 32 + c], static_cast<float>(sum / 4)) << r << "," << c;
    }
  }
  EXPECT_EQ(out->config.KvBytesPerToken(DType::kF32) * 4, w.config.KvBytesPerToken(DType::kF32));
}

TEST(ConvertKvHeadsTest, ConvertedModelsSaveAndLoad) {
  testing::ScratchDir dir;
  const ModelWeights w = *MakeDummyWeights(FourKvHeads(false), DType::kBF16, 4);
  const ModelWeights out = *ConvertKvHeads(w, 2);
  ASSERT_TRUE(SaveHfModel(out, dir.File("hf"), DType::kBF16).ok());
  absl::StatusOr<ModelWeights> hf = LoadHfModel(dir.File("hf"));
  ASSERT_TRUE(hf.ok()) << hf.status();
  EXPECT_EQ(hf->config.n_kv_heads, 2);
  testing::ExpectSameWeights(out, *hf);
  ASSERT_TRUE(SaveLlama2c(out, dir.File("m.bin")).ok());
  absl::StatusOr<ModelWeights> l2c = LoadLlama2c(dir.File("m.bin"));
  ASSERT_TRUE(l2c.ok()) << l2c.status();
  EXPECT_EQ(l2c->config.n_kv_heads, 2);
  EXPECT_EQ(l2c->layers[0].wk.ShapeString(), "[8, 32] f32");
}

TEST(ConvertKvHeadsTest, FirstKeepsTheFirstHeadOfEachGroup) {
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    SCOPED_TRACE(DTypeName(dtype));
    const ModelWeights w = *MakeDummyWeights(FourKvHeads(true), dtype, 5);
    absl::StatusOr<ModelWeights> out = ConvertKvHeads(w, 2, {KvHeadInit::kFirst});
    ASSERT_TRUE(out.ok()) << out.status();
    const int hd = w.config.head_dim;
    const size_t bias_bytes = hd * DTypeSize(dtype);
    for (size_t i = 0; i < w.layers.size(); ++i) {
      const LayerWeights& a = w.layers[i];
      const LayerWeights& b = out->layers[i];
      EXPECT_TRUE(testing::SameBits(b.wk.Rows(0, hd), a.wk.Rows(0, hd)));
      EXPECT_TRUE(testing::SameBits(b.wk.Rows(hd, 2 * hd), a.wk.Rows(2 * hd, 3 * hd)));
      EXPECT_TRUE(testing::SameBits(b.wv.Rows(hd, 2 * hd), a.wv.Rows(2 * hd, 3 * hd)));
      EXPECT_EQ(
          std::memcmp(b.bv.as<char>() + bias_bytes, a.bv.as<char>() + 2 * bias_bytes, bias_bytes),
          0);
      EXPECT_EQ(b.wq.data, a.wq.data);
    }
  }
}

float Rms(const Tensor& t) {
  double s = 0;
  const std::vector<float> v = TensorToF32(t);
  for (float x : v) s += double{x} * x;
  return static_cast<float>(std::sqrt(s / v.size()));
}

TEST(ConvertKvHeadsTest, RandomIsSeededAndKeepsTheScale) {
  const ModelWeights w = *MakeDummyWeights(FourKvHeads(true), DType::kF32, 6);
  const KvConvertOptions seed1{KvHeadInit::kRandom, 1}, seed2{KvHeadInit::kRandom, 2};
  absl::StatusOr<ModelWeights> a = ConvertKvHeads(w, 1, seed1);
  absl::StatusOr<ModelWeights> b = ConvertKvHeads(w, 1, seed1);
  absl::StatusOr<ModelWeights> c = ConvertKvHeads(w, 1, seed2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a->layers[0].wk.ShapeString(), "[4, 32] f32");
  ASSERT_TRUE(CheckWeightShapes(*a).ok());
  EXPECT_TRUE(testing::SameBits(a->layers[1].wv, b->layers[1].wv));
  EXPECT_FALSE(testing::SameBits(a->layers[1].wv, c->layers[1].wv));
  EXPECT_FALSE(testing::SameBits(a->layers[0].wk, a->layers[1].wk));
  // Not a copy of any old head, and of the old tensor's scale (128 draws: within 30%).
  const Tensor& old_wk = w.layers[0].wk;
  for (int h = 0; h < 4; ++h) {
    EXPECT_FALSE(testing::SameBits(a->layers[0].wk, old_wk.Rows(h * 4, h * 4 + 4)));
  }
  EXPECT_NEAR(Rms(a->layers[0].wk) / Rms(old_wk), 1.0, 0.3);
  EXPECT_EQ(a->layers[0].bk.numel(), 4);
  EXPECT_EQ(a->layers[0].wq.data, w.layers[0].wq.data);
}

TEST(ConvertKvHeadsTest, MethodNames) {
  EXPECT_EQ(*ParseKvHeadInit("mean"), KvHeadInit::kMean);
  EXPECT_EQ(*ParseKvHeadInit("first"), KvHeadInit::kFirst);
  EXPECT_EQ(*ParseKvHeadInit("random"), KvHeadInit::kRandom);
  EXPECT_THAT(ParseKvHeadInit("median").status().message(), HasSubstr("--method"));
}

}  // namespace
}  // namespace gqa
