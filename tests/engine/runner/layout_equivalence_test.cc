// The same random weights stored as a llama2.c .bin (interleaved RoPE) and as
// an HF directory (halves RoPE, q/k rows permuted as HF's conversion does)
// give the same greedy tokens and the same logits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model/hf_loader.h"
#include "engine/model/llama2c_loader.h"
#include "tests/engine/runner/engine_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;

struct Layout {
  const char* name;
  int n_kv_heads;
  bool tied;
};

class LayoutEquivalenceTest : public ::testing::TestWithParam<Layout> {};

TEST_P(LayoutEquivalenceTest, Llama2cAndHfFilesGiveIdenticalGreedyTokens) {
  ModelConfig c = TinyConfig(GetParam().n_kv_heads, GetParam().tied);
  c.rope_style = RopeStyle::kInterleaved;  // as llama2.c stores it
  const ModelWeights original = *MakeDummyWeights(c, DType::kF32, 11);
  ScratchDir dir;
  ASSERT_TRUE(SaveLlama2c(original, dir.File("model.bin")).ok());
  ASSERT_TRUE(SaveHfModel(original, dir.File("hf"), DType::kF32).ok());
  absl::StatusOr<ModelWeights> from_bin = LoadLlama2c(dir.File("model.bin"));
  absl::StatusOr<ModelWeights> from_hf = LoadHfModel(dir.File("hf"));
  ASSERT_TRUE(from_bin.ok()) << from_bin.status();
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  EXPECT_EQ(from_bin->config.rope_style, RopeStyle::kInterleaved);
  EXPECT_EQ(from_hf->config.rope_style, RopeStyle::kHalves);

  GenerationRequest r = GreedyRequest("a", MakePrompt(21, 2), 64);
  r.prompt_logprobs = true;
  std::map<std::string, Completion> out[2];
  const ModelWeights* weights[2] = {&*from_bin, &*from_hf};
  for (int i = 0; i < 2; ++i) {
    auto engine = *LlmEngine::Create(*weights[i], MakeCpuBackend(2), EngineConfig{});
    out[i] = RunToCompletion(*engine, {r});
  }
  EXPECT_THAT(out[1]["a"].tokens, ElementsAreArray(out[0]["a"].tokens));
  ASSERT_EQ(out[0]["a"].tokens.size(), 64u);
  // Logits agree to float rounding: the permutation only reorders sums.
  ASSERT_EQ(out[0]["a"].prompt_logprobs.size(), out[1]["a"].prompt_logprobs.size());
  for (size_t i = 0; i < out[0]["a"].prompt_logprobs.size(); ++i) {
    EXPECT_NEAR(out[0]["a"].prompt_logprobs[i], out[1]["a"].prompt_logprobs[i], 1e-5);
  }
  for (size_t i = 0; i < out[0]["a"].logprobs.size(); ++i) {
    EXPECT_NEAR(out[0]["a"].logprobs[i], out[1]["a"].logprobs[i], 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, LayoutEquivalenceTest,
                         ::testing::Values(Layout{"mha_shared", 8, true},
                                           Layout{"mha_unshared", 8, false},
                                           Layout{"gqa4_shared", 2, true},
                                           Layout{"gqa4_unshared", 2, false},
                                           Layout{"mqa_shared", 1, true},
                                           Layout{"mqa_unshared", 1, false}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gqa::testing
