#include "engine/model/hf_loader.h"

#include <filesystem>
#include <string>
#include <vector>

#include "engine/model/dummy_weights.h"
#include "engine/model/safetensors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/engine/model/weights_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;

ModelWeights Dummy(const ModelConfig& c, DType dtype, uint64_t seed = 7) {
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(c, dtype, seed);
  EXPECT_TRUE(w.ok()) << w.status();
  return *std::move(w);
}

class HfLoaderTest : public ::testing::Test {
 protected:
  // Writes config.json for `w` and its tensors (HF names) as `tensors` into dir_.
  void WriteModel(const ModelWeights& w, const std::vector<NamedTensor>& tensors) {
    testing::WriteFile(dir_.File("config.json"), ToHfConfigJson(w.config));
    ASSERT_TRUE(WriteSafetensors(dir_.File("model.safetensors"), tensors).ok());
  }
  std::string LoadError() {
    absl::StatusOr<ModelWeights> w = LoadHfModel(dir_.path().string());
    EXPECT_FALSE(w.ok());
    return w.ok() ? "" : std::string(w.status().message());
  }
  // Writes `w` as two shards plus an index; `edit` may change the weight map.
  void WriteSharded(const ModelWeights& w, void (*edit)(nlohmann::json&) = nullptr) {
    testing::WriteFile(dir_.File("config.json"), ToHfConfigJson(w.config));
    std::vector<NamedTensor> all = HfNamedTensors(w), first, second;
    nlohmann::json map = nlohmann::json::object();
    for (size_t i = 0; i < all.size(); ++i) {
      const bool is_first = i < all.size() / 2;
      (is_first ? first : second).push_back(all[i]);
      map[all[i].name] =
          is_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    // Shard 1 in bf16, shard 2 as is: dtypes may be mixed.
    ASSERT_TRUE(
        WriteSafetensors(dir_.File("model-00001-of-00002.safetensors"), first, DType::kBF16).ok());
    ASSERT_TRUE(WriteSafetensors(dir_.File("model-00002-of-00002.safetensors"), second).ok());
    nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", map}};
    if (edit) edit(index["weight_map"]);
    testing::WriteFile(dir_.File("model.safetensors.index.json"), index.dump(2));
  }

  testing::ScratchDir dir_;
};

TEST_F(HfLoaderTest, RoundTripIsBitExactForEveryDtype) {
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    for (bool tied : {false, true}) {
      SCOPED_TRACE(std::string(DTypeName(dtype)) + (tied ? " tied" : " untied"));
      ModelConfig c = testing::TinyConfig();
      c.tie_word_embeddings = tied;
      const ModelWeights w = Dummy(c, dtype);
      ASSERT_TRUE(SaveHfModel(w, dir_.path().string(), dtype).ok());
      absl::StatusOr<ModelWeights> back = LoadHfModel(dir_.path().string());
      ASSERT_TRUE(back.ok()) << back.status();
      testing::ExpectSameWeights(w, *back);
      EXPECT_EQ(back->config.dtype, dtype);
      EXPECT_EQ(back->config.tie_word_embeddings, tied);
      EXPECT_EQ(back->lm_head.data == back->embed.data, tied);
      EXPECT_EQ(back->embed.dtype, dtype);
    }
  }
}

TEST_F(HfLoaderTest, Qwen2BiasesRoundTrip) {
  ModelConfig c = testing::TinyConfig();
  c.name = "qwen2";
  c.attention_bias = true;
  const ModelWeights w = Dummy(c, DType::kF32);
  ASSERT_TRUE(SaveHfModel(w, dir_.path().string(), DType::kF32).ok());
  absl::StatusOr<ModelWeights> back = LoadHfModel(dir_.path().string());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->config.name, "qwen2");
  EXPECT_EQ(back->layers[1].bk.ShapeString(), "[8] f32");
  testing::ExpectSameWeights(w, *back);
}

TEST_F(HfLoaderTest, SaveConvertsDtype) {
  const ModelWeights w = Dummy(testing::TinyConfig(), DType::kF32);
  ASSERT_TRUE(SaveHfModel(w, dir_.path().string(), DType::kBF16).ok());
  absl::StatusOr<ModelWeights> back = LoadHfModel(dir_.path().string());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->config.dtype, DType::kBF16);
  const Tensor& a = w.layers[0].wq;
  const Tensor& b = back->layers[0].wq;
  ASSERT_EQ(b.dtype, DType::kBF16);
  for (int64_t i = 0; i < a.numel(); ++i)
    EXPECT_EQ(b.as<uint16_t>()[i], F32ToBf16(a.as<float>()[i]));
}

TEST_F(HfLoaderTest, ShardedIndexWithMixedDtypes) {
  const ModelWeights w = Dummy(testing::TinyConfig(), DType::kF32);
  WriteSharded(w);
  absl::StatusOr<ModelWeights> back = LoadHfModel(dir_.path().string());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->embed.dtype, DType::kBF16);   // shard 1
  EXPECT_EQ(back->lm_head.dtype, DType::kF32);  // shard 2
  EXPECT_EQ(back->storage.size(), 2u);          // both maps kept alive
  // Shard 1 tensors were written in bf16: compare against bf16 copies.
  std::vector<NamedTensor> names = HfNamedTensors(w);
  std::vector<NamedTensor> got = HfNamedTensors(*back);
  for (size_t i = 0; i < names.size(); ++i) {
    const Tensor& src = names[i].tensor;
    const Tensor& dst = got[i].tensor;
    ASSERT_EQ(src.numel(), dst.numel()) << names[i].name;
    for (int64_t k = 0; k < src.numel(); ++k) {
      const float x = src.as<float>()[k];
      if (dst.dtype == DType::kBF16) {
        ASSERT_EQ(dst.as<uint16_t>()[k], F32ToBf16(x)) << names[i].name;
      } else {
        ASSERT_EQ(dst.as<float>()[k], x) << names[i].name;
      }
    }
  }
}

TEST_F(HfLoaderTest, ShardErrorsNameTensorAndShard) {
  const ModelWeights w = Dummy(testing::TinyConfig(), DType::kF32);
  WriteSharded(w, [](nlohmann::json& map) { map.erase("model.layers.1.mlp.up_proj.weight"); });
  std::string e = LoadError();
  EXPECT_THAT(e, HasSubstr("model.safetensors.index.json: missing tensor "
                           "'model.layers.1.mlp.up_proj.weight'"));

  WriteSharded(w, [](nlohmann::json& map) {
    map["model.norm.weight"] = "model-00003-of-00002.safetensors";
  });
  e = LoadError();
  EXPECT_THAT(e, HasSubstr("shard 'model-00003-of-00002.safetensors'"));

  // Listed in shard 1 but stored in shard 2.
  WriteSharded(
      w, [](nlohmann::json& map) { map["lm_head.weight"] = "model-00001-of-00002.safetensors"; });
  e = LoadError();
  EXPECT_THAT(e, HasSubstr("model-00001-of-00002.safetensors: missing tensor 'lm_head.weight'"));

  WriteSharded(w, [](nlohmann::json& map) { map["model.norm.weight"] = "../x.safetensors"; });
  EXPECT_THAT(LoadError(), HasSubstr("'model.norm.weight' is not a shard file name"));

  testing::WriteFile(dir_.File("model.safetensors.index.json"), "{\"weight_map\": 3}");
  EXPECT_THAT(LoadError(), HasSubstr("'weight_map'"));

  // A corrupt shard is reported with its name.
  WriteSharded(w);
  testing::WriteFile(dir_.File("model-00002-of-00002.safetensors"), "1234");
  e = LoadError();
  EXPECT_THAT(e, HasSubstr("model-00002-of-00002.safetensors"));
  EXPECT_THAT(e, HasSubstr("truncated"));
}

TEST_F(HfLoaderTest, WrongShapeNamesTensorExpectedAndGot) {
  const ModelWeights w = Dummy(testing::TinyConfig(), DType::kF32);
  std::vector<NamedTensor> tensors = HfNamedTensors(w);
  for (NamedTensor& nt : tensors) {
    if (nt.name == "model.layers.1.self_attn.k_proj.weight") nt.tensor = w.layers[1].wq;
  }
  WriteModel(w, tensors);
  const std::string e = LoadError();
  EXPECT_THAT(e, HasSubstr("model.safetensors: tensor 'model.layers.1.self_attn.k_proj.weight' "
                           "has shape [16, 16], expected [8, 16]"));
}

TEST_F(HfLoaderTest, MissingAndUnexpectedTensors) {
  const ModelWeights w = Dummy(testing::TinyConfig(), DType::kF32);
  std::vector<NamedTensor> tensors = HfNamedTensors(w);
  tensors.erase(tensors.begin() + 3);  // model.layers.0.self_attn.k_proj.weight
  WriteModel(w, tensors);
  EXPECT_THAT(LoadError(), HasSubstr("missing tensor 'model.layers.0.self_attn.k_proj.weight'"));

  tensors = HfNamedTensors(w);
  tensors.push_back({"model.layers.0.self_attn.o_proj.bias", w.final_norm});
  WriteModel(w, tensors);
  EXPECT_THAT(LoadError(), HasSubstr("unexpected tensor 'model.layers.0.self_attn.o_proj.bias'"));

  // Old conversions' rotary inv_freq buffers are ignored.
  tensors = HfNamedTensors(w);
  tensors.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", w.final_norm});
  WriteModel(w, tensors);
  EXPECT_TRUE(LoadHfModel(dir_.path().string()).ok());
}

TEST_F(HfLoaderTest, TiedCheckpointMayStoreLmHead) {
  ModelConfig c = testing::TinyConfig();
  c.tie_word_embeddings = true;
  const ModelWeights w = Dummy(c, DType::kF32);
  std::vector<NamedTensor> tensors = HfNamedTensors(w);
  tensors.push_back({"lm_head.weight", w.embed});
  WriteModel(w, tensors);
  absl::StatusOr<ModelWeights> back = LoadHfModel(dir_.path().string());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->lm_head.data, back->embed.data);
}

TEST_F(HfLoaderTest, MissingFiles) {
  EXPECT_THAT(LoadError(), HasSubstr("config.json"));
  testing::WriteFile(dir_.File("config.json"), ToHfConfigJson(testing::TinyConfig()));
  const std::string e = LoadError();
  EXPECT_THAT(e, HasSubstr("neither model.safetensors nor model.safetensors.index.json"));
  testing::WriteFile(dir_.File("config.json"), "{\"hidden_size\": 16}");
  EXPECT_THAT(LoadError(), HasSubstr("config.json: field 'intermediate_size' is missing"));
}

}  // namespace
}  // namespace gqa
