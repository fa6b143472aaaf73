// Helpers for engine tests: tiny random models and a loop that runs requests
// to completion.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/dummy_weights.h"
#include "engine/runner/llm_engine.h"

namespace gqa::testing {

// A tiny Llama config: dim 64, 2 layers, 8 query heads, `n_kv_heads` KV heads.
inline ModelConfig TinyConfig(int n_kv_heads, bool tied = false, bool bias = false) {
  ModelConfig c;
  c.name = "test";
  c.dim = 64;
  c.hidden_dim = 96;
  c.n_layers = 2;
  c.n_heads = 8;
  c.n_kv_heads = n_kv_heads;
  c.head_dim = 8;
  c.vocab_size = 97;
  c.max_seq_len = 160;
  c.tie_word_embeddings = tied;
  c.attention_bias = bias;
  c.eos_token_ids = {2};
  return c;
}

inline GenerationRequest GreedyRequest(const std::string& id, std::vector<int32_t> prompt,
                                       int max_tokens) {
  GenerationRequest r;
  r.request_id = id;
  r.prompt_token_ids = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.stopping.max_tokens = max_tokens;
  r.stopping.ignore_eos = true;
  return r;
}

// A prompt of `n` token ids derived from `salt` (never 0..2, the specials).
inline std::vector<int32_t> MakePrompt(int n, int salt, int vocab = 97) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(3 + (i * 31 + salt * 17 + i * i * salt) % (vocab - 3));
  return p;
}

struct Completion {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::vector<float> prompt_logprobs;
  FinishReason finish_reason = FinishReason::kNone;
  int num_preemptions = 0;
};

// Adds `requests`, steps until all finish; returns each request's completion.
inline std::map<std::string, Completion> RunToCompletion(LlmEngine& engine,
                                                         const std::vector<GenerationRequest>& requests) {
  for (const GenerationRequest& r : requests) {
    absl::Status s = engine.AddRequest(r);
    if (!s.ok()) ADD_FAILURE() << s;
  }
  std::map<std::string, Completion> done;
  while (engine.HasUnfinished()) {
    for (const RequestOutput& o : engine.Step()) {
      Completion& c = done[o.request_id];
      for (const TokenOutput& t : o.new_tokens) {
        c.tokens.push_back(t.token_id);
        c.logprobs.push_back(t.logprob);
      }
      c.prompt_logprobs.insert(c.prompt_logprobs.end(), o.new_prompt_logprobs.begin(),
                               o.new_prompt_logprobs.end());
      if (o.finished) {
        c.finish_reason = o.finish_reason;
        c.num_preemptions = o.num_preemptions;
      }
    }
  }
  return done;
}

}  // namespace gqa::testing
