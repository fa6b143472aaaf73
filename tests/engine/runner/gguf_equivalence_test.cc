// The same random weights written as an HF directory (halves RoPE) and as a
// GGUF the way llama.cpp's converter writes it (q/k rows permuted for
// interleaved RoPE) give the same model on the CPU backend: identical greedy
// tokens, and logits identical bit for bit to the HF weights put in the
// interleaved order (the only difference left is the order of the q.k sums,
// so against the HF halves layout they agree to float rounding).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model/gguf_loader.h"
#include "engine/model/hf_loader.h"
#include "engine/model/rope_permute.h"
#include "tests/engine/runner/engine_test_util.h"
#include "tests/support/gguf_builder.h"
#include "tests/support/reference_llama.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;

struct Layout {
  const char* name;
  int n_kv_heads;
  bool tied;
};

class GgufEquivalenceTest : public ::testing::TestWithParam<Layout> {};

TEST_P(GgufEquivalenceTest, GgufAndHfGiveIdenticalLogits) {
  const ModelConfig c = TinyConfig(GetParam().n_kv_heads, GetParam().tied);
  const ModelWeights original = *MakeDummyWeights(c, DType::kF32, 23);
  ScratchDir dir;
  ASSERT_TRUE(SaveHfModel(original, dir.File("hf"), DType::kF32).ok());
  ASSERT_TRUE(WriteLlamaGguf(original, dir.File("model.gguf")).ok());
  absl::StatusOr<ModelWeights> from_hf = LoadHfModel(dir.File("hf"));
  absl::StatusOr<ModelWeights> from_gguf = LoadGgufModel(dir.File("model.gguf"));
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  ASSERT_EQ(from_gguf->config.rope_style, RopeStyle::kInterleaved);
  absl::StatusOr<ModelWeights> hf_interleaved = WithRopeStyle(*from_hf, RopeStyle::kInterleaved);
  ASSERT_TRUE(hf_interleaved.ok());

  // The engine on the CPU backend, prompt logprobs and 48 greedy tokens.
  GenerationRequest r = GreedyRequest("a", MakePrompt(19, 3), 48);
  r.prompt_logprobs = true;
  const ModelWeights* weights[3] = {&*from_gguf, &*from_hf, &*hf_interleaved};
  std::map<std::string, Completion> out[3];
  for (int i = 0; i < 3; ++i) {
    auto engine = *LlmEngine::Create(*weights[i], MakeCpuBackend(2), EngineConfig{});
    out[i] = RunToCompletion(*engine, {r});
  }
  const Completion& gguf = out[0]["a"];
  ASSERT_EQ(gguf.tokens.size(), 48u);
  EXPECT_THAT(out[1]["a"].tokens, ElementsAreArray(gguf.tokens));
  EXPECT_THAT(out[2]["a"].tokens, ElementsAreArray(gguf.tokens));
  // Bit-identical to the same weights in the same layout.
  EXPECT_THAT(out[2]["a"].logprobs, ElementsAreArray(gguf.logprobs));
  EXPECT_THAT(out[2]["a"].prompt_logprobs, ElementsAreArray(gguf.prompt_logprobs));
  ASSERT_EQ(out[1]["a"].prompt_logprobs.size(), gguf.prompt_logprobs.size());
  for (size_t i = 0; i < gguf.prompt_logprobs.size(); ++i) {
    EXPECT_NEAR(out[1]["a"].prompt_logprobs[i], gguf.prompt_logprobs[i], 1e-5) << i;
  }
  for (size_t i = 0; i < gguf.logprobs.size(); ++i) {
    EXPECT_NEAR(out[1]["a"].logprobs[i], gguf.logprobs[i], 1e-5) << i;
  }

  // Full logits of the plain reference forward, position by position.
  ReferenceLlama ref_gguf(*from_gguf), ref_hf(*from_hf), ref_inter(*hf_interleaved);
  for (int token : MakePrompt(12, 5)) {
    const std::vector<float> a = ref_gguf.Forward(token);
    EXPECT_EQ(a, ref_inter.Forward(token));
    const std::vector<float> b = ref_hf.Forward(token);
    ASSERT_EQ(a.size(), b.size());
    for (size_t v = 0; v < a.size(); ++v) EXPECT_NEAR(a[v], b[v], 1e-5) << v;
  }
}

// qwen2: q/k/v biases, rows in HF's halves order (not permuted), so the
// GGUF and the HF directory hold the same bits and give the same logits.
TEST(GgufQwen2Test, GgufAndHfGiveIdenticalLogits) {
  ModelConfig c = TinyConfig(2, /*tied=*/true, /*bias=*/true);
  c.name = "qwen2";
  const ModelWeights original = *MakeDummyWeights(c, DType::kF32, 29);
  ScratchDir dir;
  ASSERT_TRUE(SaveHfModel(original, dir.File("hf"), DType::kF32).ok());
  ASSERT_TRUE(WriteLlamaGguf(original, dir.File("model.gguf"), gguf::GgmlType::kF32, "qwen2").ok());
  absl::StatusOr<ModelWeights> from_hf = LoadHfModel(dir.File("hf"));
  absl::StatusOr<ModelWeights> from_gguf = LoadGgufModel(dir.File("model.gguf"));
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  EXPECT_EQ(from_gguf->config.rope_style, RopeStyle::kHalves);
  EXPECT_TRUE(from_gguf->config.attention_bias);
  GenerationRequest r = GreedyRequest("a", MakePrompt(17, 4), 40);
  r.prompt_logprobs = true;
  std::map<std::string, Completion> out[2];
  const ModelWeights* weights[2] = {&*from_gguf, &*from_hf};
  for (int i = 0; i < 2; ++i) {
    auto engine = *LlmEngine::Create(*weights[i], MakeCpuBackend(2), EngineConfig{});
    out[i] = RunToCompletion(*engine, {r});
  }
  ASSERT_EQ(out[0]["a"].tokens.size(), 40u);
  EXPECT_THAT(out[1]["a"].tokens, ElementsAreArray(out[0]["a"].tokens));
  EXPECT_THAT(out[1]["a"].logprobs, ElementsAreArray(out[0]["a"].logprobs));
  EXPECT_THAT(out[1]["a"].prompt_logprobs, ElementsAreArray(out[0]["a"].prompt_logprobs));
}

INSTANTIATE_TEST_SUITE_P(Configs, GgufEquivalenceTest,
                         ::testing::Values(Layout{"mha_tied", 8, true},
                                           Layout{"gqa4_tied", 2, true},
                                           Layout{"gqa4_untied", 2, false},
                                           Layout{"mqa_untied", 1, false}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gqa::testing
