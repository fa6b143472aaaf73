// The engine end to end on the CPU backend: against a plain reference forward,
// and batching, chunking, preemption and abort against the engine alone.
#include "engine/runner/llm_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "engine/runner/kv_cache_storage.h"
#include "tests/engine/runner/engine_test_util.h"
#include "tests/support/forwarding_backend.h"
#include "tests/support/reference_llama.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::unique_ptr<LlmEngine> MakeEngine(const ModelWeights& w, EngineConfig config = {}) {
  absl::StatusOr<std::unique_ptr<LlmEngine>> e = LlmEngine::Create(w, MakeCpuBackend(2), config);
  EXPECT_TRUE(e.ok()) << e.status();
  return *std::move(e);
}

ModelWeights Weights(const ModelConfig& c, uint64_t seed = 7) {
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(c, DType::kF32, seed);
  EXPECT_TRUE(w.ok()) << w.status();
  return *std::move(w);
}

struct Shape {
  const char* name;
  int n_kv_heads;
  bool tied;
  bool bias;
  RopeStyle rope;
};

class EngineVsReferenceTest : public ::testing::TestWithParam<Shape> {};

// Greedy tokens of the engine equal those of the plain one-token-at-a-time
// reference, for MHA, GQA and MQA, both RoPE layouts, tied and biased heads.
TEST_P(EngineVsReferenceTest, GreedyTokensEqualReference) {
  const Shape& shape = GetParam();
  ModelConfig c = TinyConfig(shape.n_kv_heads, shape.tied, shape.bias);
  c.rope_style = shape.rope;
  const ModelWeights w = Weights(c);
  const std::vector<int32_t> prompt = MakePrompt(21, 3);
  ReferenceLlama ref(w);
  const std::vector<int> expected = ref.Greedy({prompt.begin(), prompt.end()}, 48);

  auto engine = MakeEngine(w);
  auto out = RunToCompletion(*engine, {GreedyRequest("a", prompt, 48)});
  EXPECT_THAT(out["a"].tokens, ElementsAreArray(expected));
  EXPECT_EQ(out["a"].finish_reason, FinishReason::kLength);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, EngineVsReferenceTest,
    ::testing::Values(Shape{"mha", 8, false, false, RopeStyle::kHalves},
                      Shape{"gqa4_halves", 2, false, false, RopeStyle::kHalves},
                      Shape{"gqa4_interleaved", 2, true, false, RopeStyle::kInterleaved},
                      Shape{"gqa2_bias", 4, false, true, RopeStyle::kHalves},
                      Shape{"mqa_tied", 1, true, false, RopeStyle::kInterleaved}),
    [](const auto& info) { return std::string(info.param.name); });

// log p(prompt[i] | prompt[:i]) for i >= 1 by the one-token-at-a-time reference.
std::vector<float> ReferencePromptLogprobs(const ModelWeights& w,
                                           const std::vector<int32_t>& prompt) {
  ReferenceLlama ref(w);
  std::vector<float> logprobs;
  std::vector<float> logits = ref.Forward(prompt[0]);
  for (size_t i = 1; i < prompt.size(); ++i) {
    double mx = -INFINITY, sum = 0;
    for (float l : logits) mx = std::max<double>(mx, l);
    for (float l : logits) sum += std::exp(l - mx);
    logprobs.push_back(static_cast<float>(logits[prompt[i]] - mx - std::log(sum)));
    logits = ref.Forward(prompt[i]);
  }
  return logprobs;
}

TEST(LlmEngineTest, LogitsMatchReferenceAtEveryPromptPosition) {
  const ModelConfig c = TinyConfig(2);
  const ModelWeights w = Weights(c);
  const std::vector<int32_t> prompt = MakePrompt(40, 5);
  const std::vector<float> expected = ReferencePromptLogprobs(w, prompt);
  EngineConfig config;
  config.max_num_batched_tokens = 16;  // the prompt is scored in three chunks
  auto engine = MakeEngine(w, config);
  GenerationRequest r = GreedyRequest("a", prompt, 1);
  r.prompt_logprobs = true;
  auto out = RunToCompletion(*engine, {r});
  ASSERT_EQ(out["a"].prompt_logprobs.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(out["a"].prompt_logprobs[i], expected[i], 1e-4) << "position " << i + 1;
  }
}

// A bf16 KV cache (the CPU backend computing in f32): the same memory budget
// holds twice the blocks, and the prompt's log-probabilities stay within the
// rounding of K and V to bf16 of the f32 reference's.
TEST(LlmEngineTest, Bf16KvCacheHoldsTwiceTheTokensAndStaysNearTheReference) {
  const ModelConfig c = TinyConfig(2);
  const ModelWeights w = Weights(c);
  const std::vector<int32_t> prompt = MakePrompt(40, 5);
  const std::vector<float> expected = ReferencePromptLogprobs(w, prompt);
  EngineConfig config;
  config.kv_cache_bytes = 10 * KvCacheStorage::BytesPerBlock(c, config.block_size, DType::kF32);
  config.max_num_batched_tokens = 16;  // the prompt is scored in three chunks
  absl::StatusOr<std::unique_ptr<LlmEngine>> f32 =
      LlmEngine::Create(w, MakeCpuBackend(2, CpuWeights::kAuto, DType::kF32), config);
  absl::StatusOr<std::unique_ptr<LlmEngine>> bf16 =
      LlmEngine::Create(w, MakeCpuBackend(2, CpuWeights::kAuto, DType::kBF16), config);
  ASSERT_TRUE(f32.ok()) << f32.status();
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  EXPECT_EQ((*f32)->Stats().num_kv_blocks_total, 10);
  EXPECT_EQ((*bf16)->Stats().num_kv_blocks_total, 20);

  GenerationRequest r = GreedyRequest("a", prompt, 1);
  r.prompt_logprobs = true;
  const std::vector<float> got = RunToCompletion(**bf16, {r}).at("a").prompt_logprobs;
  ASSERT_EQ(got.size(), expected.size());
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    worst = std::max(worst, std::abs(double{got[i]} - expected[i]));
  }
  EXPECT_LT(worst, 2e-2);  // measured 9.0e-3 nats; an f32 cache stays within 1e-4 (above)
  EXPECT_GT(worst, 1e-4);  // the rounding is there: the cache really is bf16
}

std::vector<GenerationRequest> MixedRequests() {
  std::vector<GenerationRequest> rs;
  const int lengths[] = {1, 7, 16, 17, 33, 2, 50, 12};
  for (int i = 0; i < 8; ++i) {
    rs.push_back(GreedyRequest("r" + std::to_string(i), MakePrompt(lengths[i], i + 1), 20 + 3 * i));
  }
  return rs;
}

// A sequence's greedy tokens are the same alone and inside a batch of 8
// sequences of mixed lengths.
TEST(LlmEngineTest, BatchOfEightEqualsEachAlone) {
  const ModelWeights w = Weights(TinyConfig(2));
  const std::vector<GenerationRequest> rs = MixedRequests();
  auto batched = MakeEngine(w);
  const auto together = RunToCompletion(*batched, rs);
  for (const GenerationRequest& r : rs) {
    auto solo = MakeEngine(w);
    const auto alone = RunToCompletion(*solo, {r});
    EXPECT_THAT(together.at(r.request_id).tokens, ElementsAreArray(alone.at(r.request_id).tokens))
        << r.request_id;
    EXPECT_EQ(together.at(r.request_id).tokens.size(), size_t(*r.stopping.max_tokens));
  }
  EXPECT_EQ(batched->Stats().num_kv_blocks_free, batched->Stats().num_kv_blocks_total);
}

// A prompt fed in pieces (token budget 5 per step) equals whole prefill.
TEST(LlmEngineTest, ChunkedPrefillEqualsWholePrefill) {
  const ModelWeights w = Weights(TinyConfig(4));
  const GenerationRequest r = GreedyRequest("a", MakePrompt(45, 9), 24);
  auto whole = MakeEngine(w);
  EngineConfig chunked_config;
  chunked_config.max_num_batched_tokens = 5;
  auto chunked = MakeEngine(w, chunked_config);
  EXPECT_THAT(RunToCompletion(*chunked, {r}).at("a").tokens,
              ElementsAreArray(RunToCompletion(*whole, {r}).at("a").tokens));
}

// A KV pool too small for the load forces preemption; every request still
// completes with the tokens it gets alone, and every block is free again.
TEST(LlmEngineTest, PreemptionKeepsGreedyOutputsAndFreesEveryBlock) {
  const ModelWeights w = Weights(TinyConfig(2));
  const std::vector<GenerationRequest> rs = MixedRequests();
  EngineConfig small;
  small.num_kv_blocks = 9;  // 144 tokens for 8 sequences needing up to 91 each
  small.max_num_batched_tokens = 32;
  auto engine = MakeEngine(w, small);
  const auto out = RunToCompletion(*engine, rs);
  EXPECT_GT(engine->Stats().num_preemptions, 0);
  for (const GenerationRequest& r : rs) {
    auto solo = MakeEngine(w);
    EXPECT_THAT(out.at(r.request_id).tokens,
                ElementsAreArray(RunToCompletion(*solo, {r}).at(r.request_id).tokens))
        << r.request_id;
  }
  EXPECT_EQ(engine->Stats().num_kv_blocks_free, 9);
}

TEST(LlmEngineTest, AbortFreesBlocksAndOthersContinue) {
  const ModelWeights w = Weights(TinyConfig(2));
  auto engine = MakeEngine(w);
  ASSERT_TRUE(engine->AddRequest(GreedyRequest("a", MakePrompt(30, 1), 40)).ok());
  ASSERT_TRUE(engine->AddRequest(GreedyRequest("b", MakePrompt(10, 2), 5)).ok());
  engine->Step();
  engine->Step();
  EXPECT_GT((engine->Stats().num_kv_blocks_total - engine->Stats().num_kv_blocks_free), 0);
  EXPECT_TRUE(engine->Abort("a"));
  EXPECT_FALSE(engine->Abort("a"));
  int b_tokens = 0;
  while (engine->HasUnfinished()) {
    for (const RequestOutput& o : engine->Step()) {
      EXPECT_EQ(o.request_id, "b");
      b_tokens += static_cast<int>(o.new_tokens.size());
    }
  }
  EXPECT_EQ(b_tokens, 5 - 2);  // two were produced before the abort
  EXPECT_EQ((engine->Stats().num_kv_blocks_total - engine->Stats().num_kv_blocks_free), 0);
}

TEST(LlmEngineTest, StopsAtEosUnlessIgnored) {
  const ModelWeights w = Weights(TinyConfig(2));
  auto engine = MakeEngine(w);
  GenerationRequest r = GreedyRequest("a", MakePrompt(8, 4), 30);
  const std::vector<int32_t> free_run = RunToCompletion(*engine, {r}).at("a").tokens;
  // Make the 5th greedy token a stop token: generation ends right there.
  r.stopping.stop_token_ids = {free_run[4]};
  const auto stopped = RunToCompletion(*engine, {r}).at("a");
  const size_t first = std::find(free_run.begin(), free_run.end(), free_run[4]) - free_run.begin();
  EXPECT_EQ(stopped.tokens.size(), first + 1);
  EXPECT_EQ(stopped.finish_reason, FinishReason::kStop);
  // min_tokens holds the stop back.
  r.stopping.min_tokens = 30;
  EXPECT_EQ(RunToCompletion(*engine, {r}).at("a").tokens.size(), 30u);
}

// A seeded request samples the same tokens alone and among other requests.
TEST(LlmEngineTest, SeededSamplingIsReproducibleAndBatchIndependent) {
  const ModelWeights w = Weights(TinyConfig(2));
  GenerationRequest r = GreedyRequest("s", MakePrompt(12, 8), 32);
  r.sampling.temperature = 1.0f;
  r.sampling.top_p = 0.9f;
  r.sampling.seed = 1234;
  auto solo = MakeEngine(w);
  const auto alone = RunToCompletion(*solo, {r}).at("s").tokens;
  std::vector<GenerationRequest> crowd = MixedRequests();
  for (GenerationRequest& c : crowd) c.sampling.temperature = 0.8f;  // unseeded neighbours
  crowd.push_back(r);
  auto busy = MakeEngine(w);
  EXPECT_THAT(RunToCompletion(*busy, crowd).at("s").tokens, ElementsAreArray(alone));
  r.sampling.seed = 4321;
  EXPECT_THAT(RunToCompletion(*solo, {r}).at("s").tokens, ::testing::Not(ElementsAreArray(alone)));
}

// A device backend decodes greedy rows itself (Backend::ArgMaxRows) and sends
// back token ids and logprobs; every other row goes to the host sampler. The
// result is what host sampling gives: same tokens, same prompt logprobs,
// logprobs to double-vs-double rounding, seeded streams in step. Small logits
// chunks (3 rows) mix both kinds of rows in one chunk.
TEST(LlmEngineTest, GreedyOnDeviceEqualsHostSampling) {
  const ModelWeights w = Weights(TinyConfig(2));
  std::vector<GenerationRequest> rs = MixedRequests();  // greedy: on the device
  rs[1].sampling.presence_penalty = 0.5f;               // device for the first token, then host
  rs[2].sampling.repetition_penalty = 1.3f;             // host: the prompt is penalized
  rs[3].sampling.top_logprobs = 3;                      // host
  rs[4].prompt_logprobs = true;                         // prompt rows host, sampled row device
  rs[5].sampling.temperature = 0.8f;                    // host, seeded
  rs[5].sampling.seed = 99;
  EngineConfig config;
  config.max_logit_rows = 3;
  auto host = MakeEngine(w, config);
  auto device_backend = std::make_unique<DeviceGreedyCpuBackend>();
  const DeviceGreedyCpuBackend* device_ops = device_backend.get();
  absl::StatusOr<std::unique_ptr<LlmEngine>> device =
      LlmEngine::Create(w, std::move(device_backend), config);
  ASSERT_TRUE(device.ok()) << device.status();
  const auto want = RunToCompletion(*host, rs);
  const auto got = RunToCompletion(**device, rs);
  for (const GenerationRequest& r : rs) {
    SCOPED_TRACE(r.request_id);
    const Completion& g = got.at(r.request_id);
    const Completion& h = want.at(r.request_id);
    EXPECT_THAT(g.tokens, ElementsAreArray(h.tokens));
    EXPECT_THAT(g.prompt_logprobs, ElementsAreArray(h.prompt_logprobs));
    ASSERT_EQ(g.logprobs.size(), h.logprobs.size());
    for (size_t i = 0; i < g.logprobs.size(); ++i) EXPECT_NEAR(g.logprobs[i], h.logprobs[i], 1e-5);
  }
  // Greedy rows really took the device path: at least one row per token of
  // the three plain-greedy requests.
  int64_t plain_greedy_tokens = 0;
  for (int i : {0, 6, 7}) plain_greedy_tokens += *rs[i].stopping.max_tokens;
  EXPECT_GE(device_ops->num_argmax_rows(), plain_greedy_tokens);
}

TEST(LlmEngineTest, RejectsInvalidRequestsNamingTheField) {
  const ModelWeights w = Weights(TinyConfig(2));
  EngineConfig config;
  config.num_kv_blocks = 4;  // 64 tokens
  auto engine = MakeEngine(w, config);
  auto error = [&](GenerationRequest r) { return engine->AddRequest(std::move(r)); };
  EXPECT_THAT(error(GreedyRequest("a", {}, 4)).message(), HasSubstr("prompt"));
  EXPECT_THAT(error(GreedyRequest("a", {5, 97}, 4)).message(), HasSubstr("prompt_token_ids[1]"));
  EXPECT_THAT(error(GreedyRequest("a", {5, -1}, 4)).message(), HasSubstr("prompt_token_ids[1]"));
  EXPECT_THAT(error(GreedyRequest("a", {5}, 0)).message(), HasSubstr("max_tokens"));
  EXPECT_THAT(error(GreedyRequest("a", {5}, 200)).message(), HasSubstr("context length"));
  const absl::Status too_big = error(GreedyRequest("a", MakePrompt(60, 1), 10));
  EXPECT_EQ(too_big.code(), absl::StatusCode::kResourceExhausted) << too_big;
  GenerationRequest bad_sampling = GreedyRequest("a", {5}, 4);
  bad_sampling.sampling.top_p = 1.5f;
  EXPECT_THAT(error(bad_sampling).message(), HasSubstr("top_p"));
  ASSERT_TRUE(error(GreedyRequest("dup", {5}, 4)).ok());
  EXPECT_THAT(error(GreedyRequest("dup", {5}, 4)).message(), HasSubstr("request_id"));
}

}  // namespace
}  // namespace gqa::testing
