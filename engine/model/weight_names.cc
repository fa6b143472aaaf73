#include "engine/model/weight_names.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"

namespace gqa {

std::vector<WeightSlot> HfWeightSlots(ModelWeights* w) {
  const ModelConfig& c = w->config;
  const int64_t d = c.dim, q = c.q_dim(), kv = c.kv_dim(), h = c.hidden_dim, v = c.vocab_size;
  w->layers.resize(c.n_layers);
  std::vector<WeightSlot> slots;
  slots.push_back({"model.embed_tokens.weight", {v, d}, &w->embed});
  for (int i = 0; i < c.n_layers; ++i) {
    LayerWeights& l = w->layers[i];
    const std::string p = absl::StrCat("model.layers.", i, ".");
    slots.push_back({p + "input_layernorm.weight", {d}, &l.attn_norm});
    slots.push_back({p + "self_attn.q_proj.weight", {q, d}, &l.wq});
    slots.push_back({p + "self_attn.k_proj.weight", {kv, d}, &l.wk});
    slots.push_back({p + "self_attn.v_proj.weight", {kv, d}, &l.wv});
    if (c.attention_bias) {
      slots.push_back({p + "self_attn.q_proj.bias", {q}, &l.bq});
      slots.push_back({p + "self_attn.k_proj.bias", {kv}, &l.bk});
      slots.push_back({p + "self_attn.v_proj.bias", {kv}, &l.bv});
    }
    slots.push_back({p + "self_attn.o_proj.weight", {d, q}, &l.wo});
    slots.push_back({p + "post_attention_layernorm.weight", {d}, &l.ffn_norm});
    slots.push_back({p + "mlp.gate_proj.weight", {h, d}, &l.w_gate});
    slots.push_back({p + "mlp.up_proj.weight", {h, d}, &l.w_up});
    slots.push_back({p + "mlp.down_proj.weight", {d, h}, &l.w_down});
  }
  slots.push_back({"model.norm.weight", {d}, &w->final_norm});
  if (!c.tie_word_embeddings) slots.push_back({"lm_head.weight", {v, d}, &w->lm_head});
  return slots;
}

std::vector<NamedTensor> HfNamedTensors(const ModelWeights& w) {
  ModelWeights copy = w;  // views only: cheap
  std::vector<NamedTensor> out;
  for (const WeightSlot& s : HfWeightSlots(&copy)) out.push_back({s.name, *s.tensor});
  return out;
}

absl::Status CheckWeightShapes(const ModelWeights& w) {
  GQA_RETURN_IF_ERROR(w.config.Validate());
  if (static_cast<int>(w.layers.size()) != w.config.n_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights have ", w.layers.size(), " layers, config says ", w.config.n_layers));
  }
  ModelWeights copy = w;
  std::vector<WeightSlot> slots = HfWeightSlots(&copy);
  if (w.config.tie_word_embeddings)
    slots.push_back({"lm_head.weight", slots[0].shape, &copy.lm_head});
  for (const WeightSlot& s : slots) {
    if (s.tensor->empty() || ShapeOf(*s.tensor) != s.shape) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight '", s.name, "' has shape ",
                       s.tensor->empty() ? "(missing)" : ShapeToString(ShapeOf(*s.tensor)),
                       ", expected ", ShapeToString(s.shape)));
    }
  }
  return absl::OkStatus();
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

std::vector<int64_t> ShapeOf(const Tensor& t) {
  return std::vector<int64_t>(t.shape.begin(), t.shape.begin() + t.ndim);
}

}  // namespace gqa
