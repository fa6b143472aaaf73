// ModelWeights: host-side views of every weight of a loaded checkpoint, in the
// file's dtype, with the storage (memory maps, converted buffers) they point into.
// Matrices are [out, in] row-major, as in both HF and llama2.c files. Q/K rows
// are in the order the file's RoPE style expects (config.rope_style).
#pragma once

#include <memory>
#include <vector>

#include "engine/common/tensor.h"
#include "engine/model/model_config.h"

namespace gqa {

struct LayerWeights {
  Tensor attn_norm;  // [dim]
  Tensor wq;         // [n_heads * head_dim, dim]
  Tensor wk;         // [n_kv_heads * head_dim, dim]
  Tensor wv;         // [n_kv_heads * head_dim, dim]
  Tensor wo;         // [dim, n_heads * head_dim]
  Tensor bq;         // [n_heads * head_dim]     only when config.attention_bias
  Tensor bk;         // [n_kv_heads * head_dim]  only when config.attention_bias
  Tensor bv;         // [n_kv_heads * head_dim]  only when config.attention_bias
  Tensor ffn_norm;   // [dim]
  Tensor w_gate;     // [hidden_dim, dim]  (llama2.c w1)
  Tensor w_up;       // [hidden_dim, dim]  (llama2.c w3)
  Tensor w_down;     // [dim, hidden_dim]  (llama2.c w2)
};

struct ModelWeights {
  ModelConfig config;
  Tensor embed;       // [vocab_size, dim]
  std::vector<LayerWeights> layers;
  Tensor final_norm;  // [dim]
  Tensor lm_head;     // [vocab_size, dim]; the same data as `embed` when tied
  // Keeps alive whatever the views above point into (memory maps, buffers).
  std::vector<std::shared_ptr<const void>> storage;
};

}  // namespace gqa
