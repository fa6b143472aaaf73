// ReferenceLlama: a deliberately plain, one-token-at-a-time Llama forward in
// the style of llama2.c's run.c (contiguous KV cache, explicit loops, query
// head h reading KV head h / G). Tests compare the engine against it; it
// shares no code with engine/model or engine/backend.
#pragma once

#include <vector>

#include "engine/model/model_weights.h"

namespace gqa::testing {

class ReferenceLlama {
 public:
  explicit ReferenceLlama(const ModelWeights& weights);

  // Feeds `token` at the next position; returns the logits [vocab] after it.
  std::vector<float> Forward(int token);
  void Reset() { pos_ = 0; }
  int position() const { return pos_; }

  // Greedy continuation of `prompt` (from a reset state) for `steps` tokens.
  std::vector<int> Greedy(const std::vector<int>& prompt, int steps);

 private:
  struct Layer {
    std::vector<float> attn_norm, wq, wk, wv, wo, bq, bk, bv, ffn_norm, w_gate, w_up, w_down;
  };
  void Rope(float* vec, int n_heads, int pos) const;

  ModelConfig c_;
  std::vector<float> embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer [max_seq_len, kv_dim]
  int pos_ = 0;
};

}  // namespace gqa::testing
