// gqa-convert's output end to end: a multi-head checkpoint whose K/V heads are
// already equal within each group converts to a GQA model with the same
// logits, and the converted files load and serve.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "engine/model/gqa_convert.h"
#include "engine/model/hf_loader.h"
#include "engine/model/llama2c_loader.h"
#include "tests/engine/runner/engine_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;

// Copies KV head (h / group) * group over heads h of each group of `group`, in
// wk, wv (f32 [kv_dim, dim]), so pooling each group changes nothing.
void MakeGroupsEqual(ModelWeights& w, int group) {
  const ModelConfig& c = w.config;
  const size_t head_bytes = size_t(c.head_dim) * c.dim * sizeof(float);
  for (LayerWeights& l : w.layers) {
    for (Tensor* t : {&l.wk, &l.wv}) {
      char* base = static_cast<char*>(t->data);
      for (int h = 0; h < c.n_kv_heads; ++h) {
        std::memcpy(base + h * head_bytes, base + (h / group) * group * head_bytes, head_bytes);
      }
    }
  }
}

Completion Serve(const ModelWeights& w, const GenerationRequest& r) {
  auto engine = *LlmEngine::Create(w, MakeCpuBackend(2), EngineConfig{});
  return RunToCompletion(*engine, {r}).at(r.request_id);
}

TEST(GqaConvertServingTest, EqualHeadsWithinGroupsConvertToTheSameLogits) {
  ModelWeights mha = *MakeDummyWeights(TinyConfig(/*n_kv_heads=*/8), DType::kF32, 21);
  MakeGroupsEqual(mha, /*group=*/4);
  absl::StatusOr<ModelWeights> gqa = ConvertKvHeads(mha, 2);
  ASSERT_TRUE(gqa.ok()) << gqa.status();
  EXPECT_EQ(gqa->config.n_kv_heads, 2);

  GenerationRequest r = GreedyRequest("a", MakePrompt(30, 6), 40);
  r.prompt_logprobs = true;
  const Completion before = Serve(mha, r);
  const Completion after = Serve(*gqa, r);
  EXPECT_THAT(after.tokens, ElementsAreArray(before.tokens));
  ASSERT_EQ(after.prompt_logprobs.size(), before.prompt_logprobs.size());
  for (size_t i = 0; i < before.prompt_logprobs.size(); ++i) {
    EXPECT_NEAR(after.prompt_logprobs[i], before.prompt_logprobs[i], 1e-5) << i;
  }
}

// The converted model saved in both formats loads back and generates the same
// greedy tokens as the in-memory conversion, with a 4x smaller KV cache.
TEST(GqaConvertServingTest, ConvertedFilesLoadAndServe) {
  ModelConfig c = TinyConfig(8);
  c.rope_style = RopeStyle::kInterleaved;
  const ModelWeights mha = *MakeDummyWeights(c, DType::kF32, 5);
  const ModelWeights gqa = *ConvertKvHeads(mha, 2);
  ScratchDir dir;
  ASSERT_TRUE(SaveLlama2c(gqa, dir.File("gqa.bin")).ok());
  ASSERT_TRUE(SaveHfModel(gqa, dir.File("hf"), DType::kF32).ok());
  const GenerationRequest r = GreedyRequest("a", MakePrompt(12, 4), 24);
  const std::vector<int32_t> expected = Serve(gqa, r).tokens;
  for (const auto& loaded : {LoadLlama2c(dir.File("gqa.bin")), LoadHfModel(dir.File("hf"))}) {
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->config.n_kv_heads, 2);
    EXPECT_EQ(loaded->config.KvBytesPerToken(DType::kF32) * 4, c.KvBytesPerToken(DType::kF32));
    EXPECT_THAT(Serve(*loaded, r).tokens, ElementsAreArray(expected));
  }
}

}  // namespace
}  // namespace gqa::testing
