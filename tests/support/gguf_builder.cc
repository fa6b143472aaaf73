#include "tests/support/gguf_builder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine/gguf/ggml_types.h"
#include "engine/model/host_tensor.h"

namespace gqa::testing {
namespace {

using gguf::GgmlType;
using gguf::ValueType;

void Append(std::vector<uint8_t>* out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}
template <typename T>
std::vector<uint8_t> Pod(T v) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &v, sizeof(T));
  return out;
}
template <typename T>
std::vector<uint8_t> PodArray(ValueType elem, const std::vector<T>& v) {
  std::vector<uint8_t> out = Pod(static_cast<uint32_t>(elem));
  const std::vector<uint8_t> n = Pod<uint64_t>(v.size());
  out.insert(out.end(), n.begin(), n.end());
  Append(&out, v.data(), v.size() * sizeof(T));
  return out;
}
uint32_t T(ValueType t) { return static_cast<uint32_t>(t); }

}  // namespace

std::vector<uint8_t> GgufBuilder::U32(uint32_t v) { return Pod(v); }
std::vector<uint8_t> GgufBuilder::U64(uint64_t v) { return Pod(v); }
std::vector<uint8_t> GgufBuilder::Str(std::string_view s) {
  std::vector<uint8_t> out = Pod<uint64_t>(s.size());
  Append(&out, s.data(), s.size());
  return out;
}

void GgufBuilder::AddRaw(std::string_view key, uint32_t type, std::vector<uint8_t> payload) {
  kvs_.push_back({std::string(key), type, std::move(payload)});
}
void GgufBuilder::AddUint8(std::string_view k, uint8_t v) {
  AddRaw(k, T(ValueType::kUint8), Pod(v));
}
void GgufBuilder::AddInt8(std::string_view k, int8_t v) { AddRaw(k, T(ValueType::kInt8), Pod(v)); }
void GgufBuilder::AddUint16(std::string_view k, uint16_t v) {
  AddRaw(k, T(ValueType::kUint16), Pod(v));
}
void GgufBuilder::AddInt16(std::string_view k, int16_t v) {
  AddRaw(k, T(ValueType::kInt16), Pod(v));
}
void GgufBuilder::AddUint32(std::string_view k, uint32_t v) {
  AddRaw(k, T(ValueType::kUint32), Pod(v));
}
void GgufBuilder::AddInt32(std::string_view k, int32_t v) {
  AddRaw(k, T(ValueType::kInt32), Pod(v));
}
void GgufBuilder::AddUint64(std::string_view k, uint64_t v) {
  AddRaw(k, T(ValueType::kUint64), Pod(v));
}
void GgufBuilder::AddInt64(std::string_view k, int64_t v) {
  AddRaw(k, T(ValueType::kInt64), Pod(v));
}
void GgufBuilder::AddFloat32(std::string_view k, float v) {
  AddRaw(k, T(ValueType::kFloat32), Pod(v));
}
void GgufBuilder::AddFloat64(std::string_view k, double v) {
  AddRaw(k, T(ValueType::kFloat64), Pod(v));
}
void GgufBuilder::AddBool(std::string_view k, bool v) {
  AddRaw(k, T(ValueType::kBool), Pod<uint8_t>(v ? 1 : 0));
}
void GgufBuilder::AddString(std::string_view k, std::string_view v) {
  AddRaw(k, T(ValueType::kString), Str(v));
}
void GgufBuilder::AddStringArray(std::string_view k, const std::vector<std::string>& v) {
  std::vector<uint8_t> out = Pod(T(ValueType::kString));
  const std::vector<uint8_t> n = Pod<uint64_t>(v.size());
  out.insert(out.end(), n.begin(), n.end());
  for (const std::string& s : v) {
    const std::vector<uint8_t> e = Str(s);
    out.insert(out.end(), e.begin(), e.end());
  }
  AddRaw(k, T(ValueType::kArray), std::move(out));
}
void GgufBuilder::AddFloat32Array(std::string_view k, const std::vector<float>& v) {
  AddRaw(k, T(ValueType::kArray), PodArray(ValueType::kFloat32, v));
}
void GgufBuilder::AddInt32Array(std::string_view k, const std::vector<int32_t>& v) {
  AddRaw(k, T(ValueType::kArray), PodArray(ValueType::kInt32, v));
}

void GgufBuilder::AddTensor(std::string_view name, std::vector<int64_t> dims, GgmlType type,
                            std::vector<uint8_t> data, std::optional<uint64_t> offset) {
  tensors_.push_back(
      {std::string(name), std::move(dims), static_cast<uint32_t>(type), std::move(data), offset});
}

void GgufBuilder::AddTensorF32(std::string_view name, std::vector<int64_t> dims,
                               const float* values) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<uint8_t> data(n * 4);
  std::memcpy(data.data(), values, n * 4);
  AddTensor(name, std::move(dims), GgmlType::kF32, std::move(data));
}

std::vector<uint8_t> GgufBuilder::Build() const {
  std::vector<uint8_t> out;
  Append(&out, "GGUF", 4);
  auto put = [&out](const std::vector<uint8_t>& b) { out.insert(out.end(), b.begin(), b.end()); };
  put(U32(version_));
  put(U64(tensor_count.value_or(tensors_.size())));
  put(U64(kv_count.value_or(kvs_.size())));
  for (const Kv& kv : kvs_) {
    put(Str(kv.key));
    put(U32(kv.type));
    put(kv.payload);
  }
  // Data layout: each tensor at the next aligned offset unless given.
  std::vector<uint64_t> offsets;
  uint64_t next = 0;
  for (const Tensor& t : tensors_) {
    const uint64_t off = t.offset.value_or((next + alignment - 1) / alignment * alignment);
    offsets.push_back(off);
    // A hostile offset far away is written but its data is not.
    if (off + t.data.size() <= (1u << 24)) next = std::max(next, off + t.data.size());
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    put(Str(t.name));
    put(U32(static_cast<uint32_t>(t.dims.size())));
    for (int64_t d : t.dims) put(U64(static_cast<uint64_t>(d)));
    put(U32(i + 1 == tensors_.size() && raw_type ? *raw_type : t.type));
    put(U64(offsets[i]));
  }
  out.resize((out.size() + alignment - 1) / alignment * alignment, 0);
  const size_t data_start = out.size();
  out.resize(data_start + (next + alignment - 1) / alignment * alignment, 0);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    if (!t.data.empty() && offsets[i] + t.data.size() <= next) {
      std::memcpy(out.data() + data_start + offsets[i], t.data.data(), t.data.size());
    }
  }
  return out;
}

namespace {

// llama.cpp convert_hf_to_gguf.py LlamaModel.permute: HF's halves rows of
// each head to interleaved, w.reshape(n_head, 2, rows/n_head/2, in)
// .swapaxes(1, 2).reshape(w.shape).
std::vector<float> Permute(const std::vector<float>& w, int64_t rows, int64_t cols, int n_head) {
  std::vector<float> out(w.size());
  const int64_t half = rows / n_head / 2;
  for (int h = 0; h < n_head; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int j = 0; j < 2; ++j) {
        const int64_t dst = (h * half + i) * 2 + j, src = (h * 2 + j) * half + i;
        std::memcpy(&out[dst * cols], &w[src * cols], cols * sizeof(float));
      }
    }
  }
  return out;
}

// Q8_0 blocks of `v` (a multiple of 32 values): d = max|x| / 127 as f16,
// q = round(x / d).
std::vector<uint8_t> QuantizeQ8_0(const std::vector<float>& v) {
  std::vector<uint8_t> out;
  for (size_t b = 0; b < v.size(); b += 32) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[b + i]));
    const uint16_t d16 = F32ToF16(amax / 127.0f);
    const float d = F16ToF32(d16);
    Append(&out, &d16, 2);
    for (int i = 0; i < 32; ++i) {
      const float q = d == 0 ? 0 : std::round(v[b + i] / d);
      out.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f))));
    }
  }
  return out;
}

}  // namespace

GgufBuilder LlamaGguf(const ModelWeights& w, GgmlType matrix_type,
                      const std::set<std::string>& skip, const std::string& arch) {
  const bool permute = arch != "qwen2";
  const std::string k = arch + ".";
  const ModelConfig& c = w.config;
  GgufBuilder b;
  auto u32 = [&](const std::string& k, uint32_t v) {
    if (!skip.count(k)) b.AddUint32(k, v);
  };
  auto f32 = [&](const std::string& k, float v) {
    if (!skip.count(k)) b.AddFloat32(k, v);
  };
  if (!skip.count("general.architecture")) b.AddString("general.architecture", arch);
  if (!skip.count("general.name")) b.AddString("general.name", c.name);
  u32(k + "block_count", c.n_layers);
  u32(k + "context_length", c.max_seq_len);
  u32(k + "embedding_length", c.dim);
  u32(k + "feed_forward_length", c.hidden_dim);
  u32(k + "attention.head_count", c.n_heads);
  u32(k + "attention.head_count_kv", c.n_kv_heads);
  f32(k + "rope.freq_base", c.rope_theta);
  f32(k + "attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  if (c.head_dim != c.dim / c.n_heads) {
    u32(k + "attention.key_length", c.head_dim);
    u32(k + "attention.value_length", c.head_dim);
  }
  u32(k + "rope.dimension_count", c.head_dim);
  u32(k + "vocab_size", c.vocab_size);
  u32("tokenizer.ggml.bos_token_id", c.bos_token_id);
  u32("tokenizer.ggml.eos_token_id", c.eos_token_ids.at(0));
  auto add = [&](const std::string& name, const gqa::Tensor& t, int permute_heads) {
    if (skip.count(name)) return;
    std::vector<float> v = TensorToF32(t);
    std::vector<int64_t> dims(t.shape.begin(), t.shape.begin() + t.ndim);
    if (permute_heads > 0) v = Permute(v, dims[0], dims.size() > 1 ? dims[1] : 1, permute_heads);
    std::reverse(dims.begin(), dims.end());
    if (dims.size() == 1 || matrix_type == GgmlType::kF32) {
      b.AddTensorF32(name, dims, v.data());
    } else if (matrix_type == GgmlType::kF16) {
      std::vector<uint8_t> data(v.size() * 2);
      ConvertFromF32(v.data(), DType::kF16, data.data(), v.size());
      b.AddTensor(name, dims, GgmlType::kF16, std::move(data));
    } else {
      b.AddTensor(name, dims, GgmlType::kQ8_0, QuantizeQ8_0(v));
    }
  };
  add("token_embd.weight", w.embed, 0);
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerWeights& l = w.layers[i];
    const std::string p = absl::StrCat("blk.", i, ".");
    add(p + "attn_norm.weight", l.attn_norm, 0);
    add(p + "attn_q.weight", l.wq, permute ? c.n_heads : 0);
    add(p + "attn_k.weight", l.wk, permute ? c.n_kv_heads : 0);
    add(p + "attn_v.weight", l.wv, 0);
    if (c.attention_bias) {
      add(p + "attn_q.bias", l.bq, permute ? c.n_heads : 0);
      add(p + "attn_k.bias", l.bk, permute ? c.n_kv_heads : 0);
      add(p + "attn_v.bias", l.bv, 0);
    }
    add(p + "attn_output.weight", l.wo, 0);
    add(p + "ffn_norm.weight", l.ffn_norm, 0);
    add(p + "ffn_gate.weight", l.w_gate, 0);
    add(p + "ffn_up.weight", l.w_up, 0);
    add(p + "ffn_down.weight", l.w_down, 0);
  }
  add("output_norm.weight", w.final_norm, 0);
  if (!c.tie_word_embeddings) add("output.weight", w.lm_head, 0);
  return b;
}

absl::Status WriteBytes(const std::vector<uint8_t>& bytes, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return out ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path));
}

absl::Status WriteLlamaGguf(const ModelWeights& w, const std::string& path, GgmlType matrix_type,
                            const std::string& arch) {
  if (w.config.rope_style != RopeStyle::kHalves) {
    return absl::InvalidArgumentError("WriteLlamaGguf wants halves-RoPE (HF) weights");
  }
  return WriteBytes(LlamaGguf(w, matrix_type, {}, arch).Build(), path);
}

}  // namespace gqa::testing
