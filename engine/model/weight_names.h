// The HF name and expected shape of every weight of a Llama-family model, each
// tied to the ModelWeights field that holds it. One list drives the HF loader,
// the HF saver and the tests' tensor-by-tensor comparisons.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/model/model_weights.h"
#include "engine/model/safetensors.h"

namespace gqa {

struct WeightSlot {
  std::string name;            // e.g. "model.layers.3.self_attn.k_proj.weight"
  std::vector<int64_t> shape;  // expected by the config, [out, in] for matrices
  Tensor* tensor;              // the field of the ModelWeights it belongs to
};

// Every weight of `w->config`, in HF file order: embedding, layers, final norm,
// then lm_head unless tied. q/k/v biases only with config.attention_bias.
// Resizes w->layers to config.n_layers.
std::vector<WeightSlot> HfWeightSlots(ModelWeights* w);

// The tensors of `w` under their HF names (lm_head left out when tied).
std::vector<NamedTensor> HfNamedTensors(const ModelWeights& w);

// OK when every weight of `w` is present with the shape its config implies
// (lm_head too, tied or not); else an error naming the first tensor that is not.
absl::Status CheckWeightShapes(const ModelWeights& w);

// "[2048, 512]".
std::string ShapeToString(const std::vector<int64_t>& shape);
std::vector<int64_t> ShapeOf(const Tensor& t);

}  // namespace gqa
