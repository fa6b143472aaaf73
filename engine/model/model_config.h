// ModelConfig: the hyper-parameters of a Llama-family GQA decoder, whichever
// file format they came from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/dtype.h"
#include "engine/common/rope_style.h"

namespace gqa {

// Llama 3 `rope_scaling` ({"rope_type": "llama3", ...}); inactive when factor == 1.
struct RopeScaling {
  float factor = 1.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  int original_max_position_embeddings = 8192;
  bool active() const { return factor != 1.0f; }
};

struct ModelConfig {
  std::string name;  // preset name, HF "model_type", or "llama2c"
  int dim = 0;         // hidden size
  int hidden_dim = 0;  // FFN intermediate size
  int n_layers = 0;
  int n_heads = 0;     // query heads
  int n_kv_heads = 0;  // key/value heads; n_heads % n_kv_heads == 0
  int head_dim = 0;    // usually dim / n_heads
  int vocab_size = 0;
  int max_seq_len = 0;  // context length
  float rms_norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;
  RopeStyle rope_style = RopeStyle::kHalves;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // Qwen2-style q/k/v projection biases
  DType dtype = DType::kF32;    // dtype of the stored weights
  int bos_token_id = 1;
  std::vector<int> eos_token_ids = {2};

  int group_size() const { return n_heads / n_kv_heads; }  // G: query heads per KV head
  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }
  // Bytes of K plus V cached per token over all layers, at `kv_dtype`.
  size_t KvBytesPerToken(DType kv_dtype) const {
    return 2ull * n_layers * kv_dim() * DTypeSize(kv_dtype);
  }
  size_t NumParameters() const;

  // Checks that every field is positive and the shapes are consistent.
  absl::Status Validate() const;
};

// Parses an HF config.json text (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM). `source` names the file in error messages.
absl::StatusOr<ModelConfig> ParseHfConfig(std::string_view json_text, std::string_view source);
// Writes an HF config.json text for `config` (used by gqa-convert and tests).
std::string ToHfConfigJson(const ModelConfig& config);

// Built-in shapes for dummy weights: "tiny", "stories15m", "stories110m",
// "llama-3.2-1b", "llama-3-8b", "demo".
absl::StatusOr<ModelConfig> PresetConfig(std::string_view name);
std::vector<std::string> PresetNames();

}  // namespace gqa
