#include "engine/model/dummy_weights.h"

#include <cmath>
#include <vector>

#include "engine/model/host_tensor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/model/weights_test_util.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;

TEST(DummyWeightsTest, RealShapesForEveryPresetConfig) {
  for (const char* name : {"tiny", "demo"}) {
    const ModelConfig c = *PresetConfig(name);
    absl::StatusOr<ModelWeights> w = MakeDummyWeights(c, DType::kBF16, 1);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_TRUE(CheckWeightShapes(*w).ok()) << CheckWeightShapes(*w);
    EXPECT_EQ(w->config.dtype, DType::kBF16);
    EXPECT_EQ(w->layers[0].wk.ShapeString(),
              name == std::string("tiny") ? "[16, 64] bf16" : "[32, 128] bf16");
  }
}

TEST(DummyWeightsTest, DeterministicPerSeed) {
  const ModelConfig c = *PresetConfig("tiny");
  const ModelWeights a = *MakeDummyWeights(c, DType::kF32, 42);
  const ModelWeights b = *MakeDummyWeights(c, DType::kF32, 42);
  const ModelWeights other = *MakeDummyWeights(c, DType::kF32, 43);
  testing::ExpectSameWeights(a, b);
  EXPECT_FALSE(testing::SameBits(a.layers[0].wq, other.layers[0].wq));
  // Golden values: the stream must not change between builds, CPUs or libraries.
  EXPECT_EQ(a.embed.as<float>()[0], 0x1.6c33cp-6f);
  EXPECT_EQ(a.embed.as<float>()[1], 0x1.b934c4p-6f);
  EXPECT_EQ(a.embed.as<float>()[2], 0x1.28815p-3f);
  EXPECT_EQ(a.layers[0].attn_norm.as<float>()[0], 0x1.f0ab9ap-1f);
  ModelConfig big_vocab = c;
  big_vocab.vocab_size = 5000;  // embedding of 80000 elements: two 64K chunks
  const ModelWeights big = *MakeDummyWeights(big_vocab, DType::kF32, 42);
  EXPECT_EQ(big.embed.as<float>()[0], 0x1.6c33cp-6f);  // streams depend on position only
  EXPECT_EQ(big.embed.as<float>()[70000], 0x1.069798p-3f);
  // Lower precision is the rounding of the same fp32 stream.
  const ModelWeights h = *MakeDummyWeights(c, DType::kBF16, 42);
  const ModelWeights f16 = *MakeDummyWeights(c, DType::kF16, 42);
  const Tensor& src = a.layers[1].w_down;
  for (int64_t i = 0; i < src.numel(); ++i) {
    ASSERT_EQ(h.layers[1].w_down.as<uint16_t>()[i], F32ToBf16(src.as<float>()[i]));
    ASSERT_EQ(f16.layers[1].w_down.as<uint16_t>()[i], F32ToF16(src.as<float>()[i]));
  }
}

TEST(DummyWeightsTest, ValuesKeepActivationsSane) {
  ModelConfig c = *PresetConfig("demo");
  c.attention_bias = true;
  const ModelWeights w = *MakeDummyWeights(c, DType::kF32, 9);
  auto stats = [](const Tensor& t) {
    const std::vector<float> v = TensorToF32(t);
    double sum = 0, sq = 0, lo = 1e9, hi = -1e9;
    for (float x : v)
      sum += x, sq += double(x) * x, lo = std::min<double>(lo, x), hi = std::max<double>(hi, x);
    const double mean = sum / v.size();
    return std::array<double, 4>{mean, std::sqrt(sq / v.size() - mean * mean), lo, hi};
  };
  const auto down = stats(w.layers[2].w_down);  // [128, 344]: in = 344
  EXPECT_NEAR(down[0], 0.0, 0.002);
  EXPECT_NEAR(down[1], 1.0 / std::sqrt(344.0), 0.002);
  EXPECT_GE(down[2], -std::sqrt(3.0 / 344));
  EXPECT_LE(down[3], std::sqrt(3.0 / 344));
  const auto norm = stats(w.layers[0].attn_norm);
  EXPECT_GE(norm[2], 0.875);
  EXPECT_LE(norm[3], 1.125);
  const auto bias = stats(w.layers[0].bq);
  EXPECT_GE(bias[2], -0.125);
  EXPECT_LE(bias[3], 0.125);
  EXPECT_NE(bias[1], 0.0);
  const auto embed = stats(w.embed);  // std 1/sqrt(dim)
  EXPECT_NEAR(embed[1], 1.0 / std::sqrt(128.0), 0.003);
}

TEST(DummyWeightsTest, TiedHeadIsTheEmbedding) {
  const ModelWeights w = *MakeDummyWeights(*PresetConfig("stories15m"), DType::kBF16, 0);
  EXPECT_EQ(w.lm_head.data, w.embed.data);
  EXPECT_EQ(w.embed.ShapeString(), "[32000, 288] bf16");
  ModelConfig untied = *PresetConfig("tiny");
  const ModelWeights u = *MakeDummyWeights(untied, DType::kF32, 0);
  EXPECT_NE(u.lm_head.data, u.embed.data);
  EXPECT_FALSE(testing::SameBits(u.lm_head, u.embed));
}

TEST(DummyWeightsTest, RejectsInvalidConfig) {
  ModelConfig c = *PresetConfig("tiny");
  c.n_kv_heads = 3;
  EXPECT_THAT(MakeDummyWeights(c, DType::kF32, 0).status().message(), HasSubstr("n_kv_heads"));
}

}  // namespace
}  // namespace gqa
