#include "engine/model/gguf_loader.h"

#include <atomic>
#include <climits>
#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/dequantize.h"
#include "engine/gguf/ggml_types.h"
#include "engine/model/host_tensor.h"
#include "engine/model/weight_names.h"

namespace gqa {
namespace {

using gguf::GgmlType;
using gguf::GgufFile;
using gguf::TensorInfo;

struct Arch {
  std::string_view name;
  RopeStyle rope_style;
  bool attention_bias;
};
constexpr Arch kArchs[] = {
    {"llama", RopeStyle::kInterleaved, false},
    {"mistral", RopeStyle::kInterleaved, false},
    {"qwen2", RopeStyle::kHalves, true},
};

// A metadata integer that must fit an int and be >= min; `fallback` when absent (if given).
absl::StatusOr<int> GetIntKey(const GgufFile& f, const std::string& key, int min,
                              std::optional<int> fallback = std::nullopt) {
  if (!f.Has(key) && fallback) return *fallback;
  GQA_ASSIGN_OR_RETURN(int64_t v, f.GetInt(key));
  if (v < min || v > INT_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(f.name(), ": metadata key '", key, "' is ", v,
                                                   ", expected ", min, "..", INT_MAX));
  }
  return static_cast<int>(v);
}

absl::StatusOr<float> GetFloatKey(const GgufFile& f, const std::string& key, float fallback) {
  if (!f.Has(key)) return fallback;
  GQA_ASSIGN_OR_RETURN(double v, f.GetFloat(key));
  return static_cast<float>(v);
}

struct Slot {
  std::string name;
  std::vector<int64_t> shape;  // [out, in] (or [n]) as the engine stores it
  Tensor* tensor;
};

// Every tensor `w->config` implies, under its GGUF name.
std::vector<Slot> GgufSlots(ModelWeights* w) {
  const ModelConfig& c = w->config;
  const int64_t d = c.dim, q = c.q_dim(), kv = c.kv_dim(), h = c.hidden_dim, v = c.vocab_size;
  w->layers.resize(c.n_layers);
  std::vector<Slot> slots;
  slots.push_back({"token_embd.weight", {v, d}, &w->embed});
  for (int i = 0; i < c.n_layers; ++i) {
    LayerWeights& l = w->layers[i];
    const std::string p = absl::StrCat("blk.", i, ".");
    slots.push_back({p + "attn_norm.weight", {d}, &l.attn_norm});
    slots.push_back({p + "attn_q.weight", {q, d}, &l.wq});
    slots.push_back({p + "attn_k.weight", {kv, d}, &l.wk});
    slots.push_back({p + "attn_v.weight", {kv, d}, &l.wv});
    if (c.attention_bias) {
      slots.push_back({p + "attn_q.bias", {q}, &l.bq});
      slots.push_back({p + "attn_k.bias", {kv}, &l.bk});
      slots.push_back({p + "attn_v.bias", {kv}, &l.bv});
    }
    slots.push_back({p + "attn_output.weight", {d, q}, &l.wo});
    slots.push_back({p + "ffn_norm.weight", {d}, &l.ffn_norm});
    slots.push_back({p + "ffn_gate.weight", {h, d}, &l.w_gate});
    slots.push_back({p + "ffn_up.weight", {h, d}, &l.w_up});
    slots.push_back({p + "ffn_down.weight", {d, h}, &l.w_down});
  }
  slots.push_back({"output_norm.weight", {d}, &w->final_norm});
  if (!c.tie_word_embeddings) slots.push_back({"output.weight", {v, d}, &w->lm_head});
  return slots;
}

Tensor ViewOf(const TensorInfo& t, DType dtype, const std::vector<int64_t>& shape) {
  void* data = const_cast<uint8_t*>(t.data);  // read-only mapping: weights are never written
  return shape.size() == 1 ? Tensor::Make(data, dtype, {shape[0]})
                           : Tensor::Make(data, dtype, {shape[0], shape[1]});
}

// Dequantizes `t` ([rows, cols] = `shape`) into `dst`, rows in parallel.
absl::Status Dequantize(const GgufFile& file, const TensorInfo& t, const Tensor& dst) {
  const gguf::GgmlTypeInfo* info = gguf::FindGgmlType(static_cast<uint32_t>(t.type));
  const int64_t cols = t.dims[0], rows = t.numel() / cols;
  const int64_t row_bytes = cols / info->block_size * info->type_size;
  const size_t dst_row_bytes = cols * DTypeSize(dst.dtype);
  std::atomic<bool> failed{false};
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    absl::Status s = gguf::DequantizeRowTo(t.type, t.data + r * row_bytes, dst.dtype,
                                           static_cast<char*>(dst.data) + r * dst_row_bytes, cols);
    if (!s.ok()) failed = true;
  }
  if (failed) {
    return absl::InvalidArgumentError(absl::StrCat(file.name(), ": tensor '", t.name, "' of type ",
                                                   gguf::GgmlTypeName(t.type),
                                                   " cannot be dequantized"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> GgufModelConfig(const GgufFile& f) {
  GQA_ASSIGN_OR_RETURN(std::string_view arch_name, f.GetString("general.architecture"));
  const Arch* arch = nullptr;
  for (const Arch& a : kArchs) {
    if (a.name == arch_name) arch = &a;
  }
  if (arch == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(f.name(), ": architecture '",
                                                   std::string(arch_name),
                                                   "' is not supported (llama, mistral, qwen2)"));
  }
  const std::string p = absl::StrCat(std::string(arch_name), ".");
  ModelConfig c;
  c.name = std::string(arch_name);
  if (f.Has("general.name")) {
    GQA_ASSIGN_OR_RETURN(std::string_view name, f.GetString("general.name"));
    if (!name.empty()) c.name = std::string(name);
  }
  c.rope_style = arch->rope_style;
  c.attention_bias = arch->attention_bias;
  GQA_ASSIGN_OR_RETURN(c.n_layers, GetIntKey(f, p + "block_count", 1));
  GQA_ASSIGN_OR_RETURN(c.dim, GetIntKey(f, p + "embedding_length", 1));
  GQA_ASSIGN_OR_RETURN(c.hidden_dim, GetIntKey(f, p + "feed_forward_length", 1));
  GQA_ASSIGN_OR_RETURN(c.n_heads, GetIntKey(f, p + "attention.head_count", 1));
  GQA_ASSIGN_OR_RETURN(c.n_kv_heads, GetIntKey(f, p + "attention.head_count_kv", 1, c.n_heads));
  GQA_ASSIGN_OR_RETURN(c.head_dim, GetIntKey(f, p + "attention.key_length", 1, c.dim / c.n_heads));
  GQA_ASSIGN_OR_RETURN(int value_length, GetIntKey(f, p + "attention.value_length", 1, c.head_dim));
  GQA_ASSIGN_OR_RETURN(int rope_dims, GetIntKey(f, p + "rope.dimension_count", 1, c.head_dim));
  if (value_length != c.head_dim || rope_dims != c.head_dim) {
    return absl::InvalidArgumentError(
        absl::StrCat(f.name(), ": ", p, "attention.value_length ", value_length, " and ", p,
                     "rope.dimension_count ", rope_dims, " must equal the head size ", c.head_dim,
                     " (partial RoPE and value heads of another size are not supported)"));
  }
  GQA_ASSIGN_OR_RETURN(c.max_seq_len, GetIntKey(f, p + "context_length", 1));
  GQA_ASSIGN_OR_RETURN(c.rope_theta, GetFloatKey(f, p + "rope.freq_base", 10000.0f));
  GQA_ASSIGN_OR_RETURN(c.rms_norm_eps,
                       GetFloatKey(f, p + "attention.layer_norm_rms_epsilon", 1e-5f));
  if (f.Has(p + "rope.scaling.type")) {
    GQA_ASSIGN_OR_RETURN(std::string_view type, f.GetString(p + "rope.scaling.type"));
    if (type != "none") {
      return absl::InvalidArgumentError(absl::StrCat(f.name(), ": ", p, "rope.scaling.type '",
                                                     std::string(type), "' is not supported"));
    }
  }
  // Vocabulary: the explicit key, else the embedding's rows, else the token list.
  if (f.Has(p + "vocab_size")) {
    GQA_ASSIGN_OR_RETURN(c.vocab_size, GetIntKey(f, p + "vocab_size", 1));
  } else if (const TensorInfo* e = f.FindTensor("token_embd.weight");
             e != nullptr && e->dims.size() == 2 && e->dims[1] <= INT_MAX) {
    c.vocab_size = static_cast<int>(e->dims[1]);
  } else if (f.Has("tokenizer.ggml.tokens")) {
    GQA_ASSIGN_OR_RETURN(uint64_t n, f.GetArrayLength("tokenizer.ggml.tokens"));
    c.vocab_size = n <= INT_MAX ? static_cast<int>(n) : 0;
  }
  c.tie_word_embeddings = f.FindTensor("output.weight") == nullptr;
  c.dtype = DType::kF32;
  if (f.Has("tokenizer.ggml.bos_token_id")) {
    GQA_ASSIGN_OR_RETURN(c.bos_token_id, GetIntKey(f, "tokenizer.ggml.bos_token_id", 0));
  }
  if (f.Has("tokenizer.ggml.eos_token_id")) {
    GQA_ASSIGN_OR_RETURN(int eos, GetIntKey(f, "tokenizer.ggml.eos_token_id", 0));
    c.eos_token_ids = {eos};
  }
  if (absl::Status s = c.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(f.name(), ": ", s.message()));
  }
  // Each layer has at least 9 tensors: refuse a block_count the file cannot hold
  // before anything is sized by it.
  if (static_cast<uint64_t>(c.n_layers) * 9 > f.tensors().size()) {
    return absl::InvalidArgumentError(absl::StrCat(f.name(), ": ", p, "block_count ", c.n_layers,
                                                   " needs more tensors than the file's ",
                                                   f.tensors().size()));
  }
  return c;
}

absl::StatusOr<ModelWeights> LoadGgufWeights(const GgufFile& file, const GgufLoadOptions& options) {
  ModelWeights w;
  std::set<GgmlType> logged;
  GQA_ASSIGN_OR_RETURN(w.config, GgufModelConfig(file));
  std::set<std::string> expected;
  for (const Slot& slot : GgufSlots(&w)) {
    const TensorInfo* t = file.FindTensor(slot.name);
    if (t == nullptr) {
      return absl::NotFoundError(absl::StrCat(file.name(), ": missing tensor '", slot.name, "'"));
    }
    std::vector<int64_t> shape(t->dims.rbegin(), t->dims.rend());  // GGUF dims are fastest-first
    if (shape != slot.shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.name(), ": tensor '", slot.name, "' has shape ", ShapeToString(shape),
          " (GGUF dims reversed), expected ", ShapeToString(slot.shape), " from the metadata"));
    }
    expected.insert(slot.name);
    // Plain types always, the engine's block types when asked: the file's bytes.
    if (std::optional<DType> dtype = gguf::GgmlTypeToDType(t->type);
        dtype && (!IsQuantized(*dtype) || options.keep_quantized)) {
      *slot.tensor = ViewOf(*t, *dtype, shape);
      continue;
    }
    if (!gguf::CanDequantize(t->type)) {
      return absl::UnimplementedError(absl::StrCat(file.name(), ": tensor '", slot.name,
                                                   "' has type ", gguf::GgmlTypeName(t->type),
                                                   ", which cannot be dequantized yet"));
    }
    if (options.keep_quantized && logged.insert(t->type).second) {
      (options.log != nullptr ? *options.log : std::clog)
          << file.name() << ": " << gguf::GgmlTypeName(t->type) << " tensors are dequantized to "
          << DTypeName(options.target) << " at load (no kernel computes from them)\n";
    }
    const DType target = options.target;
    *slot.tensor = shape.size() == 1 ? AllocateHostTensor(target, {shape[0]}, &w.storage)
                                     : AllocateHostTensor(target, {shape[0], shape[1]}, &w.storage);
    GQA_RETURN_IF_ERROR(Dequantize(file, *t, *slot.tensor));
  }
  for (const TensorInfo& t : file.tensors()) {
    if (expected.count(t.name)) continue;
    if (t.name == "rope_freqs.weight") {
      return absl::UnimplementedError(
          absl::StrCat(file.name(),
                       ": tensor 'rope_freqs.weight' (Llama 3.1-style RoPE scaling factors) is "
                       "not supported yet"));
    }
    return absl::InvalidArgumentError(absl::StrCat(file.name(), ": unexpected tensor '", t.name,
                                                   "' (not part of a ", w.config.name,
                                                   " model with this metadata)"));
  }
  if (w.config.tie_word_embeddings) w.lm_head = w.embed;
  w.config.dtype = w.layers[0].wq.dtype;  // the matrices' dtype (norms may differ)
  if (file.keep_alive()) w.storage.push_back(file.keep_alive());
  return w;
}

absl::StatusOr<ModelWeights> LoadGgufWeights(const GgufFile& file, DType target) {
  return LoadGgufWeights(file, GgufLoadOptions{.target = target});
}

absl::StatusOr<ModelWeights> LoadGgufModel(std::string_view path, const GgufLoadOptions& options) {
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  return LoadGgufWeights(*file, options);
}

absl::StatusOr<ModelWeights> LoadGgufModel(std::string_view path, DType target) {
  return LoadGgufModel(path, GgufLoadOptions{.target = target});
}

}  // namespace gqa
