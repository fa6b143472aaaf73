// Perplexity through the engine against an independent computation: the plain
// one-token-at-a-time reference forward (tests/support/reference_llama.h) and
// a float64 log-softmax, chunk by chunk.
#include "engine/cli/perplexity_eval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/backend/backend.h"
#include "engine/cli/perplexity_command.h"
#include "engine/model/dummy_weights.h"
#include "nlohmann/json.hpp"
#include "tests/engine/runner/engine_test_util.h"
#include "tests/support/reference_llama.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

// log p(chunk.tokens[i] | tokens[:i]) summed over the scored tokens, by the reference.
PerplexityStats ReferenceStats(ReferenceLlama& ref, const PerplexityChunk& chunk) {
  ref.Reset();
  PerplexityStats s;
  std::vector<float> logits = ref.Forward(chunk.tokens[0]);
  for (size_t i = 1; i < chunk.tokens.size(); ++i) {
    if (static_cast<int>(i) >= chunk.first_scored) {
      double mx = -INFINITY, sum = 0;
      for (float l : logits) mx = std::max<double>(mx, l);
      for (float l : logits) sum += std::exp(l - mx);
      s.Add(logits[chunk.tokens[i]] - mx - std::log(sum));
    }
    logits = ref.Forward(chunk.tokens[i]);
  }
  return s;
}

struct Case {
  const char* name;
  int n_kv_heads, context, stride, parallel, batch_tokens, bos;
};

class ScoreChunksTest : public ::testing::TestWithParam<Case> {};

TEST_P(ScoreChunksTest, EqualsTheReferenceForward) {
  const Case& k = GetParam();
  const ModelConfig c = TinyConfig(k.n_kv_heads);
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(c, DType::kF32, 11);
  ASSERT_TRUE(w.ok()) << w.status();
  PerplexityPlanOptions plan;
  plan.context = k.context;
  plan.stride = k.stride;
  plan.bos_id = k.bos;
  absl::StatusOr<std::vector<PerplexityChunk>> chunks =
      PlanPerplexityChunks(MakePrompt(150, 4), plan);
  ASSERT_TRUE(chunks.ok()) << chunks.status();

  absl::StatusOr<std::unique_ptr<LlmEngine>> engine = LlmEngine::Create(
      *w, MakeCpuBackend(2), PerplexityEngineConfig(k.context, k.parallel, k.batch_tokens));
  ASSERT_TRUE(engine.ok()) << engine.status();
  int calls = 0, last_done = 0;
  absl::StatusOr<std::vector<PerplexityStats>> got =
      ScoreChunks(**engine, *chunks, [&](int done, int64_t, const PerplexityStats&) {
        ++calls;
        EXPECT_GE(done, last_done);
        last_done = done;
      });
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), chunks->size());
  EXPECT_EQ(last_done, static_cast<int>(chunks->size()));
  EXPECT_GT(calls, 0);

  ReferenceLlama ref(*w);
  PerplexityStats want_total, got_total;
  for (size_t i = 0; i < chunks->size(); ++i) {
    const PerplexityStats want = ReferenceStats(ref, (*chunks)[i]);
    EXPECT_EQ((*got)[i].count, want.count) << "chunk " << i;
    EXPECT_NEAR((*got)[i].nll, want.nll, 1e-4 * want.count) << "chunk " << i;
    want_total.Merge(want);
    got_total.Merge((*got)[i]);
  }
  EXPECT_NEAR(got_total.Perplexity() / want_total.Perplexity(), 1.0, 1e-5);
  EXPECT_FALSE((*engine)->HasUnfinished());
}

INSTANTIATE_TEST_SUITE_P(Shapes, ScoreChunksTest,
                         ::testing::Values(
                             // 150 tokens / 32 = 4 chunks, scoring 15 each; all four in one step.
                             Case{"gqa4_all_at_once", 2, 32, 0, 4, 256, 1},
                             // One chunk at a time, each prefilled in 3 steps of at most 12 tokens.
                             Case{"mqa_serial_chunked_prefill", 1, 32, 0, 1, 12, -1},
                             Case{"mha_two_at_once", 8, 32, 0, 2, 40, 1},
                             // Sliding windows: ceil((150 - 40) / 16) = 7 windows scoring 16 each.
                             Case{"gqa2_stride", 4, 40, 16, 3, 64, -1}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ScoreChunksTest, ChunkBeyondTheEngineContextIsRefused) {
  const ModelConfig c = TinyConfig(2);
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(c, DType::kF32, 11);
  ASSERT_TRUE(w.ok());
  PerplexityPlanOptions plan;
  plan.context = 32;
  absl::StatusOr<std::vector<PerplexityChunk>> chunks =
      PlanPerplexityChunks(MakePrompt(100, 4), plan);
  ASSERT_TRUE(chunks.ok());
  absl::StatusOr<std::unique_ptr<LlmEngine>> engine =
      LlmEngine::Create(*w, MakeCpuBackend(1), PerplexityEngineConfig(16, 2, 64));
  ASSERT_TRUE(engine.ok());
  EXPECT_FALSE(ScoreChunks(**engine, *chunks).ok());
}

// The whole tool on the built-in demo model (byte vocabulary, BOS added):
// its JSON perplexity equals the reference's over the same chunks.
TEST(PerplexityCommandTest, DemoModelMatchesTheReference) {
  ScratchDir dir;
  std::string text;
  for (int i = 0; i < 12; ++i)
    text += "The quick brown fox jumps over the lazy dog " + std::to_string(i) + ". ";
  std::ofstream(dir.File("t.txt")) << text << "\n";  // dropped, as llama.cpp's -f does
  const std::string file = dir.File("t.txt");
  std::vector<const char*> args = {
      "gqa-perplexity", "--file",  file.c_str(), "--context", "64", "--parallel", "3",
      "--json",         "--quiet", "--threads",  "2"};
  absl::StatusOr<PerplexityOptions> o =
      ParsePerplexityArgs(static_cast<int>(args.size()), args.data());
  ASSERT_TRUE(o.ok()) << o.status();
  std::ostringstream out, err;
  ASSERT_EQ(RunPerplexity(*o, out, err), 0) << err.str();
  const nlohmann::json j = nlohmann::json::parse(out.str());

  // What the tool should have done: BOS + bytes (+3), chunks of 64 with BOS first.
  std::vector<int32_t> ids = {1};
  for (unsigned char ch : text) ids.push_back(ch + 3);
  PerplexityPlanOptions plan;
  plan.context = 64;
  plan.bos_id = 1;
  absl::StatusOr<std::vector<PerplexityChunk>> chunks = PlanPerplexityChunks(ids, plan);
  ASSERT_TRUE(chunks.ok());
  absl::StatusOr<ModelConfig> demo = PresetConfig("demo");
  ASSERT_TRUE(demo.ok());
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(*demo, DType::kF32, 0);
  ASSERT_TRUE(w.ok());
  ReferenceLlama ref(*w);
  PerplexityStats want;
  for (const PerplexityChunk& c : *chunks) want.Merge(ReferenceStats(ref, c));

  EXPECT_EQ(j["tokens_in_file"], ids.size());
  EXPECT_EQ(j["chunks"], chunks->size());
  EXPECT_EQ(j["tokens_scored"], want.count);
  EXPECT_EQ(j["bos_first"], true);
  EXPECT_NEAR(j["perplexity"].get<double>() / want.Perplexity(), 1.0, 1e-5);
  EXPECT_NEAR(j["perplexity_error"].get<double>() / want.PerplexityError(), 1.0, 1e-4);
}

TEST(PerplexityCommandTest, BadFlagsNameTheFlag) {
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "gqa-perplexity");
    return ParsePerplexityArgs(static_cast<int>(args.size()), args.data()).status();
  };
  EXPECT_THAT(parse({}).message(), HasSubstr("--file"));
  EXPECT_THAT(parse({"--file", "x", "--stride", "600"}).message(), HasSubstr("--stride"));
  EXPECT_THAT(parse({"--file", "x", "--parallel", "0"}).message(), HasSubstr("--parallel"));
  EXPECT_THAT(parse({"--file", "x", "--context", "abc"}).message(), HasSubstr("--context"));
}

TEST(PerplexityCommandTest, ContextBeyondTheModelIsAClearError) {
  ScratchDir dir;
  std::ofstream(dir.File("t.txt")) << "short";
  const std::string file = dir.File("t.txt");
  std::vector<const char*> args = {"gqa-perplexity", "--file", file.c_str(), "--quiet"};
  absl::StatusOr<PerplexityOptions> o =
      ParsePerplexityArgs(static_cast<int>(args.size()), args.data());
  ASSERT_TRUE(o.ok());
  std::ostringstream out, err;
  EXPECT_EQ(RunPerplexity(*o, out, err), 1);  // the demo model's context is 512
  EXPECT_THAT(err.str(), HasSubstr("--context 512 + 1 exceeds the model's context of 512"));
}

TEST(PerplexityCommandTest, TooShortATextIsAClearError) {
  ScratchDir dir;
  std::ofstream(dir.File("t.txt")) << "short";
  const std::string file = dir.File("t.txt");
  std::vector<const char*> args = {"gqa-perplexity", "--file", file.c_str(),
                                   "--context",      "64",     "--quiet"};
  absl::StatusOr<PerplexityOptions> o =
      ParsePerplexityArgs(static_cast<int>(args.size()), args.data());
  ASSERT_TRUE(o.ok());
  std::ostringstream out, err;
  EXPECT_EQ(RunPerplexity(*o, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("needs at least 128"));
}

}  // namespace
}  // namespace gqa::testing
