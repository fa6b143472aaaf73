#include "engine/model/model_loader.h"

#include "engine/model/dummy_weights.h"
#include "engine/model/hf_loader.h"
#include "engine/model/llama2c_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/model/weights_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;

class ModelLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weights_ = *MakeDummyWeights(testing::TinyConfig(), DType::kF32, 5);
    ASSERT_TRUE(SaveHfModel(weights_, dir_.File("hf"), DType::kF32).ok());
    ASSERT_TRUE(SaveLlama2c(weights_, dir_.File("m.bin")).ok());
  }
  static ModelSource Source(std::string format, std::string path, std::string config = "") {
    ModelSource s;
    s.load_format = std::move(format);
    s.path = std::move(path);
    s.dummy_config = std::move(config);
    return s;
  }

  testing::ScratchDir dir_;
  ModelWeights weights_;
};

TEST_F(ModelLoaderTest, AutoPicksTheFormat) {
  absl::StatusOr<ModelWeights> hf = LoadModel(Source("auto", dir_.File("hf")));
  ASSERT_TRUE(hf.ok()) << hf.status();
  EXPECT_EQ(hf->config.rope_style, RopeStyle::kHalves);
  testing::ExpectSameWeights(weights_, *hf);
  absl::StatusOr<ModelWeights> l2c = LoadModel(Source("auto", dir_.File("m.bin")));
  ASSERT_TRUE(l2c.ok()) << l2c.status();
  EXPECT_EQ(l2c->config.name, "llama2c");
  EXPECT_TRUE(LoadModel(Source("llama2c", dir_.File("m.bin"))).ok());
  EXPECT_TRUE(LoadModel(Source("hf", dir_.File("hf"))).ok());
}

TEST_F(ModelLoaderTest, Dummy) {
  absl::StatusOr<ModelWeights> tiny = LoadModel(Source("dummy", "", "tiny"));
  ASSERT_TRUE(tiny.ok()) << tiny.status();
  EXPECT_EQ(tiny->config.name, "tiny");
  // A config.json path, or an HF directory's config.
  const std::string config = dir_.File("hf") + "/config.json";
  absl::StatusOr<ModelWeights> from_file = LoadModel(Source("dummy", "", config));
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->config.dim, 16);
  ModelSource s = Source("dummy", dir_.File("hf"));
  s.dummy_dtype = DType::kBF16;
  absl::StatusOr<ModelWeights> from_dir = LoadModel(s);
  ASSERT_TRUE(from_dir.ok()) << from_dir.status();
  EXPECT_EQ(from_dir->embed.dtype, DType::kBF16);
}

TEST_F(ModelLoaderTest, Errors) {
  EXPECT_THAT(LoadModel(Source("auto", "")).status().message(), HasSubstr("no model path"));
  testing::WriteFile(dir_.File("x.onnx"), "ONNX");
  EXPECT_THAT(LoadModel(Source("auto", dir_.File("x.onnx"))).status().message(),
              HasSubstr("neither an HF directory, a GGUF file nor a llama2.c .bin"));
  // A GGUF by name or by magic goes to the GGUF parser, whose error names the file.
  testing::WriteFile(dir_.File("x.gguf"), "GGUF");
  EXPECT_THAT(LoadModel(Source("auto", dir_.File("x.gguf"))).status().message(),
              HasSubstr(dir_.File("x.gguf") + ": version: truncated"));
  testing::WriteFile(dir_.File("model.weights"), std::string("GGUF\x01\0\0\0", 8));
  EXPECT_THAT(LoadModel(Source("auto", dir_.File("model.weights"))).status().message(),
              HasSubstr("version: 1 is not supported"));
  EXPECT_THAT(LoadModel(Source("auto", dir_.File("nope"))).status().message(),
              HasSubstr("'" + dir_.File("nope") + "' does not exist"));
  EXPECT_THAT(LoadModel(Source("onnx", dir_.File("hf"))).status().message(),
              HasSubstr("unknown load format 'onnx'"));
  EXPECT_THAT(LoadModel(Source("dummy", "", "nope")).status().message(), HasSubstr("'nope'"));
  EXPECT_THAT(LoadModel(Source("dummy", "")).status().message(), HasSubstr("dummy"));
  EXPECT_THAT(LoadModel(Source("auto", dir_.File("missing.bin"))).status().message(),
              HasSubstr("missing.bin"));
}

}  // namespace
}  // namespace gqa
