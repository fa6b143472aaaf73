// The prefix cache end to end on the CPU backend with a tiny random model:
// with the cache on, every request's greedy tokens, seeded samples and
// logprobs (within 1e-5) equal those with it off, in every combination of
// chunked prefill, preemption, cancellation and batching (sharing requests
// in one step and in later ones); and the hits are really there, counted
// exactly where the block arithmetic says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "engine/runner/engine.h"
#include "tests/engine/runner/engine_test_util.h"
#include "tests/support/token_ids.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;

constexpr int kBlockSize = 4;

ModelWeights Weights() {
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(TinyConfig(2), DType::kF32, 7);
  EXPECT_TRUE(w.ok()) << w.status();
  return *std::move(w);
}

std::unique_ptr<LlmEngine> MakeEngine(const ModelWeights& w, EngineConfig config) {
  absl::StatusOr<std::unique_ptr<LlmEngine>> e = LlmEngine::Create(w, MakeCpuBackend(2), config);
  EXPECT_TRUE(e.ok()) << e.status();
  return *std::move(e);
}

struct Outcome {
  Completion c;
  int num_cached_prompt_tokens = 0;
  bool aborted = false;
};

// Requests added before given steps, aborts applied before given steps.
struct Script {
  std::vector<std::pair<int, GenerationRequest>> adds;
  std::vector<std::pair<int, std::string>> aborts;
};

std::map<std::string, Outcome> Play(LlmEngine& engine, const Script& script) {
  std::map<std::string, Outcome> done;
  size_t pending_adds = script.adds.size();
  for (int step = 0; engine.HasUnfinished() || pending_adds > 0; ++step) {
    for (const auto& [at, r] : script.adds) {
      if (at != step) continue;
      absl::Status s = engine.AddRequest(r);
      EXPECT_TRUE(s.ok()) << s;
      --pending_adds;
    }
    for (const auto& [at, id] : script.aborts) {
      if (at == step && engine.Abort(id)) done[id].aborted = true;
    }
    for (const RequestOutput& o : engine.Step()) {
      Outcome& out = done[o.request_id];
      for (const TokenOutput& t : o.new_tokens) {
        out.c.tokens.push_back(t.token_id);
        out.c.logprobs.push_back(t.logprob);
      }
      out.c.prompt_logprobs.insert(out.c.prompt_logprobs.end(), o.new_prompt_logprobs.begin(),
                                   o.new_prompt_logprobs.end());
      if (o.num_cached_prompt_tokens > 0) out.num_cached_prompt_tokens = o.num_cached_prompt_tokens;
      if (o.finished) out.c.finish_reason = o.finish_reason;
    }
    if (step > 10000) {
      ADD_FAILURE() << "runaway";
      break;
    }
  }
  return done;
}

// Requests sharing a 24-token system prefix (6 blocks), each with its own
// tail; greedy and seeded-sampled, one with penalties, one with prompt
// logprobs, one exactly the prefix (a multiple of the block size), one only
// part of it. Added in three waves: one step, then later steps.
Script SharedPrefixScript(bool abort) {
  const std::vector<int32_t> system = MakePrompt(24, 11);
  Script s;
  const int waves[] = {0, 3, 9};
  for (int i = 0; i < 14; ++i) {
    std::vector<int32_t> prompt = Concat(system, MakePrompt(1 + (i * 5) % 11, 20 + i));
    if (i == 5) prompt = system;
    if (i == 9) prompt.resize(13);
    GenerationRequest r = GreedyRequest("r" + std::to_string(i), prompt, 6 + (i * 7) % 13);
    if (i % 3 == 1) {
      r.sampling.temperature = 0.8f;
      r.sampling.top_p = 0.95f;
      r.sampling.seed = 100 + i;
    }
    if (i == 4) r.sampling.repetition_penalty = 1.3f;
    if (i == 7) r.sampling.top_logprobs = 3;
    if (i == 8 || i == 12) r.prompt_logprobs = true;
    s.adds.emplace_back(waves[i % 3], std::move(r));
  }
  // A multi-turn follow-up: r0's prompt, continued.
  s.adds.emplace_back(
      14, GreedyRequest("turn2", Concat(s.adds[0].second.prompt_token_ids, MakePrompt(9, 77)), 8));
  if (abort) {  // a first-wave request whose blocks others hit, and two that hit
    s.aborts = {{2, "r0"}, {5, "r4"}, {11, "r11"}};
  }
  return s;
}

void ExpectSameOutcomes(const std::map<std::string, Outcome>& on,
                        const std::map<std::string, Outcome>& off) {
  ASSERT_EQ(on.size(), off.size());
  for (const auto& [id, a] : on) {
    SCOPED_TRACE(id);
    const Outcome& b = off.at(id);
    ASSERT_EQ(a.aborted, b.aborted);
    if (a.aborted) {  // both are prefixes of the same output
      const size_t n = std::min(a.c.tokens.size(), b.c.tokens.size());
      EXPECT_TRUE(std::equal(a.c.tokens.begin(), a.c.tokens.begin() + n, b.c.tokens.begin()));
      continue;
    }
    EXPECT_THAT(a.c.tokens, ElementsAreArray(b.c.tokens));
    EXPECT_EQ(a.c.finish_reason, b.c.finish_reason);
    ASSERT_EQ(a.c.logprobs.size(), b.c.logprobs.size());
    for (size_t i = 0; i < a.c.logprobs.size(); ++i) {
      EXPECT_NEAR(a.c.logprobs[i], b.c.logprobs[i], 1e-5) << "token " << i;
    }
    ASSERT_EQ(a.c.prompt_logprobs.size(), b.c.prompt_logprobs.size());
    for (size_t i = 0; i < a.c.prompt_logprobs.size(); ++i) {
      EXPECT_NEAR(a.c.prompt_logprobs[i], b.c.prompt_logprobs[i], 1e-5) << "prompt " << i;
    }
  }
}

// (max_num_batched_tokens, num_kv_blocks (0: ample), abort some)
using Combo = std::tuple<int, int, bool>;
class PrefixCacheEquivalenceTest : public ::testing::TestWithParam<Combo> {};

TEST_P(PrefixCacheEquivalenceTest, OutputsEqualThoseWithoutTheCache) {
  const auto [budget, num_blocks, abort] = GetParam();
  const ModelWeights w = Weights();
  EngineConfig config;
  config.block_size = kBlockSize;
  config.max_num_batched_tokens = budget;
  config.num_kv_blocks = num_blocks;
  const Script script = SharedPrefixScript(abort);
  config.enable_prefix_caching = false;
  auto off_engine = MakeEngine(w, config);
  const auto off = Play(*off_engine, script);
  config.enable_prefix_caching = true;
  auto on_engine = MakeEngine(w, config);
  const auto on = Play(*on_engine, script);
  ExpectSameOutcomes(on, off);
  if (abort) {
    for (const char* id : {"r0", "r4", "r11"}) EXPECT_TRUE(on.at(id).aborted) << id;
  }

  const ServiceStats s_on = on_engine->Stats(), s_off = off_engine->Stats();
  EXPECT_GT(s_on.prefix_cache_hits_tokens, 0);
  EXPECT_GT(s_on.prefix_cache_queries_tokens, s_on.prefix_cache_hits_tokens);
  EXPECT_GT(s_on.num_kv_blocks_cached, 0);
  EXPECT_EQ(s_on.num_kv_blocks_free, s_on.num_kv_blocks_total);
  EXPECT_EQ(s_off.prefix_cache_queries_tokens, 0);
  EXPECT_EQ(s_off.prefix_cache_hits_tokens, 0);
  EXPECT_EQ(s_off.num_kv_blocks_cached, 0);
  EXPECT_EQ(s_off.num_kv_blocks_free, s_off.num_kv_blocks_total);
  int64_t hits = 0;
  for (const auto& [id, o] : on) hits += o.num_cached_prompt_tokens;
  if (!abort) {
    EXPECT_EQ(hits, s_on.prefix_cache_hits_tokens);
  }
  for (const auto& [id, o] : off) EXPECT_EQ(o.num_cached_prompt_tokens, 0) << id;
  if (num_blocks > 0) {
    EXPECT_GT(s_on.num_preemptions, 0);
    EXPECT_GT(s_off.num_preemptions, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Combos, PrefixCacheEquivalenceTest,
                         ::testing::Combine(::testing::Values(512, 7), ::testing::Values(0, 16),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return "budget" + std::to_string(std::get<0>(info.param)) + "_blocks" +
                                  std::to_string(std::get<1>(info.param)) +
                                  (std::get<2>(info.param) ? "_aborts" : "");
                         });

// One request alone, then others sharing its blocks: the hits are what the
// block arithmetic says, request by request and in the totals.
TEST(PrefixCacheEngineTest, HitsAreExactlyTheCachedFullBlocks) {
  const ModelWeights w = Weights();
  EngineConfig config;
  config.block_size = kBlockSize;
  auto engine = MakeEngine(w, config);
  EngineConfig off_config = config;
  off_config.enable_prefix_caching = false;
  auto off = MakeEngine(w, off_config);

  const std::vector<int32_t> system = MakePrompt(24, 11);
  const GenerationRequest x = GreedyRequest("x", Concat(system, MakePrompt(5, 1)), 4);  // 29
  Script first;
  first.adds.emplace_back(0, x);
  const auto out_x = Play(*engine, first);
  EXPECT_EQ(out_x.at("x").num_cached_prompt_tokens, 0);
  // 29 prompt + 3 outputs computed (the 4th never is): 8 full blocks cached.
  EXPECT_EQ(engine->Stats().num_kv_blocks_cached, 8);

  const std::vector<int32_t>& x_out = out_x.at("x").c.tokens;
  Script next;
  next.adds.emplace_back(0, GreedyRequest("y", Concat(system, MakePrompt(3, 2)), 5));  // 27
  next.adds.emplace_back(0, GreedyRequest("z", system, 5));  // 24: the 6th block is recomputed
  // x's prompt and its first three outputs, then one more token: 33.
  next.adds.emplace_back(
      0, GreedyRequest("w", Concat(Concat(x.prompt_token_ids, {x_out[0], x_out[1], x_out[2]}), {5}),
                       5));
  next.adds.emplace_back(0, GreedyRequest("v", MakePrompt(30, 3), 5));  // nothing shared
  const auto got = Play(*engine, next);
  EXPECT_EQ(got.at("y").num_cached_prompt_tokens, 24);
  EXPECT_EQ(got.at("z").num_cached_prompt_tokens, 20);
  EXPECT_EQ(got.at("w").num_cached_prompt_tokens, 32);
  EXPECT_EQ(got.at("v").num_cached_prompt_tokens, 0);
  const ServiceStats s = engine->Stats();
  EXPECT_EQ(s.prefix_cache_queries_tokens, 29 + 27 + 24 + 33 + 30);
  EXPECT_EQ(s.prefix_cache_hits_tokens, 24 + 20 + 32);
  const auto want = Play(*off, next);
  ExpectSameOutcomes(got, want);
}

// The observer sees the same counts as Stats(): per-step queries and hits
// sum to the totals; the state gauge reports the cached blocks.
class CacheObserver : public EngineObserver {
 public:
  void OnStep(const StepObservation& s) override {
    queries += s.num_prefix_cache_queries;
    hits += s.num_prefix_cache_hits;
  }
  void OnEngineState(const EngineStateObservation& s) override { last_state = s; }
  int64_t queries = 0, hits = 0;
  EngineStateObservation last_state;
};

TEST(PrefixCacheEngineTest, ObserverAndDeltasCarryTheCounts) {
  const ModelWeights w = Weights();
  EngineConfig config;
  config.block_size = kBlockSize;
  CacheObserver observer;
  absl::StatusOr<std::unique_ptr<Engine>> e =
      Engine::Create(w, MakeCpuBackend(2), config, QueueLimits{}, &observer);
  ASSERT_TRUE(e.ok()) << e.status();
  Engine& engine = **e;
  const std::vector<int32_t> system = MakePrompt(16, 4);
  auto a = std::make_shared<RequestChannel>([] {});
  ASSERT_TRUE(engine.Submit(GreedyRequest("a", Concat(system, {9}), 3), a).ok());
  while (engine.RunOnce()) {
  }
  auto b = std::make_shared<RequestChannel>([] {});
  ASSERT_TRUE(engine.Submit(GreedyRequest("b", Concat(system, {10, 11}), 3), b).ok());
  while (engine.RunOnce()) {
  }
  RequestDelta all_b;
  for (RequestDelta d; b->TakeOrArm(&d);) all_b.MergeFrom(std::move(d));
  EXPECT_TRUE(all_b.finished);
  EXPECT_EQ(all_b.num_cached_prompt_tokens, 16);
  EXPECT_EQ(observer.queries, 17 + 18);
  EXPECT_EQ(observer.hits, 16);
  EXPECT_EQ(engine.Stats().prefix_cache_queries_tokens, 35);
  EXPECT_EQ(engine.Stats().prefix_cache_hits_tokens, 16);
  EXPECT_EQ(observer.last_state.num_kv_blocks_cached, engine.Stats().num_kv_blocks_cached);
  EXPECT_EQ(observer.last_state.num_kv_blocks_used, 0);
  // a: 17 + 2 computed = 19 -> 4 blocks; b: 18 + 2 = 20 -> 5, the first 4 a's.
  EXPECT_EQ(engine.Stats().num_kv_blocks_cached, 5);
}

}  // namespace
}  // namespace gqa::testing
