#include "engine/model/model_config.h"

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "nlohmann/json.hpp"

namespace gqa {
namespace {

using Json = nlohmann::json;

absl::Status FieldError(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat("model config: ", field, " ", problem));
}

// ---- ModelConfig::Validate helpers ----

absl::Status CheckPositive(const char* field, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return FieldError(field, absl::StrCat("must be positive, got ", value));
}

absl::Status CheckPositiveFinite(const char* field, float value) {
  if (std::isfinite(value) && value > 0) return absl::OkStatus();
  return FieldError(field, absl::StrCat("must be a positive finite number, got ", value));
}

absl::Status CheckTokenId(const char* field, int id, int vocab_size) {
  if (id >= 0 && id < vocab_size) return absl::OkStatus();
  return FieldError(field, absl::StrCat(id, " is outside the vocabulary [0, ", vocab_size, ")"));
}

// ---- config.json readers: every error names the file and the field ----

struct JsonReader {
  const Json& j;
  std::string source;

  absl::Status Error(const std::string& field, const std::string& problem) const {
    return absl::InvalidArgumentError(absl::StrCat(source, ": field '", field, "' ", problem));
  }
  const Json* Find(const std::string& field) const {
    auto it = j.find(field);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  // A required (or, with `fallback`, optional) integer in [INT_MIN, INT_MAX].
  absl::StatusOr<int> Int(const std::string& field, std::optional<int> fallback = {}) const {
    const Json* v = Find(field);
    if (v == nullptr) {
      if (fallback) return *fallback;
      return Error(field, "is missing");
    }
    if (!v->is_number_integer())
      return Error(field, absl::StrCat("must be an integer, got ", v->dump()));
    const int64_t x = v->get<int64_t>();
    if (v->is_number_unsigned() && v->get<uint64_t>() > INT_MAX) {
      return Error(field, absl::StrCat("is too large: ", v->dump()));
    }
    if (x < INT_MIN || x > INT_MAX)
      return Error(field, absl::StrCat("is out of range: ", v->dump()));
    return static_cast<int>(x);
  }
  absl::StatusOr<float> Float(const std::string& field, float fallback) const {
    const Json* v = Find(field);
    if (v == nullptr) return fallback;
    if (!v->is_number()) return Error(field, absl::StrCat("must be a number, got ", v->dump()));
    return static_cast<float>(v->get<double>());
  }
  absl::StatusOr<bool> Bool(const std::string& field, bool fallback) const {
    const Json* v = Find(field);
    if (v == nullptr) return fallback;
    if (!v->is_boolean())
      return Error(field, absl::StrCat("must be true or false, got ", v->dump()));
    return v->get<bool>();
  }
  absl::StatusOr<std::string> String(const std::string& field, std::string fallback) const {
    const Json* v = Find(field);
    if (v == nullptr) return fallback;
    if (!v->is_string()) return Error(field, absl::StrCat("must be a string, got ", v->dump()));
    return v->get<std::string>();
  }
};

// `field`: "rope_scaling" (transformers 4) or "rope_parameters" (transformers
// 5, which also moves rope_theta in there); both hold the same keys.
absl::Status ParseRopeScaling(const JsonReader& r, const char* field, RopeScaling* out) {
  const Json* v = r.Find(field);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_object()) return r.Error(field, "must be an object or null");
  const JsonReader s{*v, absl::StrCat(r.source, ": ", field)};
  GQA_ASSIGN_OR_RETURN(std::string type, s.String("rope_type", ""));
  if (type.empty()) {
    GQA_ASSIGN_OR_RETURN(type, s.String("type", ""));
  }
  if (type == "default") return absl::OkStatus();
  if (type != "llama3") {
    return r.Error(field, absl::StrCat("has rope_type '", type,
                                                "', which is not supported (only 'llama3')"));
  }
  for (const char* f :
       {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
    if (s.Find(f) == nullptr) return s.Error(f, "is missing (required for rope_type 'llama3')");
  }
  GQA_ASSIGN_OR_RETURN(out->factor, s.Float("factor", 1.0f));
  GQA_ASSIGN_OR_RETURN(out->low_freq_factor, s.Float("low_freq_factor", 1.0f));
  GQA_ASSIGN_OR_RETURN(out->high_freq_factor, s.Float("high_freq_factor", 4.0f));
  GQA_ASSIGN_OR_RETURN(out->original_max_position_embeddings,
                       s.Int("original_max_position_embeddings"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> ParseEosIds(const JsonReader& r, std::vector<int> fallback) {
  const Json* v = r.Find("eos_token_id");
  if (v == nullptr) return fallback;
  if (v->is_number_integer()) {
    GQA_ASSIGN_OR_RETURN(int id, r.Int("eos_token_id"));
    return std::vector<int>{id};
  }
  if (!v->is_array()) return r.Error("eos_token_id", "must be an integer or a list of integers");
  std::vector<int> ids;
  for (const Json& e : *v) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > INT_MAX) {
      return r.Error("eos_token_id", absl::StrCat("has a bad entry ", e.dump()));
    }
    ids.push_back(static_cast<int>(e.get<int64_t>()));
  }
  return ids;
}

// `x` as the double whose shortest decimal form is the float's shortest form,
// so 1e-5f is written "1e-05" and still parses back to exactly 1e-5f.
double FloatForJson(float x) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::strtod(std::string(buf, res.ptr).c_str(), nullptr);
}

}  // namespace

size_t ModelConfig::NumParameters() const {
  const size_t d = dim, q = q_dim(), kv = kv_dim(), h = hidden_dim;
  size_t per_layer = 2 * d                 // attention and FFN norms
                     + q * d + 2 * kv * d  // wq, wk, wv
                     + d * q               // wo
                     + 3 * h * d;          // gate, up, down
  if (attention_bias) per_layer += q + 2 * kv;
  size_t n = static_cast<size_t>(vocab_size) * d + per_layer * n_layers + d;
  if (!tie_word_embeddings) n += static_cast<size_t>(vocab_size) * d;
  return n;
}

absl::Status ModelConfig::Validate() const {
  GQA_RETURN_IF_ERROR(CheckPositive("dim", dim));
  GQA_RETURN_IF_ERROR(CheckPositive("hidden_dim", hidden_dim));
  GQA_RETURN_IF_ERROR(CheckPositive("n_layers", n_layers));
  GQA_RETURN_IF_ERROR(CheckPositive("n_heads", n_heads));
  GQA_RETURN_IF_ERROR(CheckPositive("n_kv_heads", n_kv_heads));
  GQA_RETURN_IF_ERROR(CheckPositive("head_dim", head_dim));
  GQA_RETURN_IF_ERROR(CheckPositive("vocab_size", vocab_size));
  GQA_RETURN_IF_ERROR(CheckPositive("max_seq_len", max_seq_len));
  if (n_heads % n_kv_heads != 0) {
    return FieldError("n_kv_heads",
                      absl::StrCat("(", n_kv_heads, ") must divide n_heads (", n_heads, ")"));
  }
  if (head_dim % 2 != 0) {
    return FieldError("head_dim", absl::StrCat("must be even for RoPE, got ", head_dim));
  }
  // q_dim() and friends are int: keep every product well inside int range.
  if (static_cast<int64_t>(n_heads) * head_dim > (int64_t{1} << 30)) {
    return FieldError("n_heads * head_dim", "is too large");
  }
  GQA_RETURN_IF_ERROR(CheckPositiveFinite("rms_norm_eps", rms_norm_eps));
  GQA_RETURN_IF_ERROR(CheckPositiveFinite("rope_theta", rope_theta));
  GQA_RETURN_IF_ERROR(CheckPositiveFinite("rope_scaling.factor", rope_scaling.factor));
  if (rope_scaling.active()) {
    GQA_RETURN_IF_ERROR(
        CheckPositiveFinite("rope_scaling.low_freq_factor", rope_scaling.low_freq_factor));
    GQA_RETURN_IF_ERROR(
        CheckPositiveFinite("rope_scaling.high_freq_factor", rope_scaling.high_freq_factor));
    if (!(rope_scaling.high_freq_factor > rope_scaling.low_freq_factor)) {
      return FieldError("rope_scaling.high_freq_factor", "must be above low_freq_factor");
    }
    GQA_RETURN_IF_ERROR(CheckPositive("rope_scaling.original_max_position_embeddings",
                                      rope_scaling.original_max_position_embeddings));
  }
  GQA_RETURN_IF_ERROR(CheckTokenId("bos_token_id", bos_token_id, vocab_size));
  for (int id : eos_token_ids) GQA_RETURN_IF_ERROR(CheckTokenId("eos_token_id", id, vocab_size));
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> ParseHfConfig(std::string_view json_text, std::string_view source_sv) {
  const std::string source(source_sv);
  const Json j = Json::parse(json_text.begin(), json_text.end(), nullptr,
                             /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JSON object"));
  }
  const JsonReader r{j, source};
  ModelConfig c;
  GQA_ASSIGN_OR_RETURN(c.name, r.String("model_type", "llama"));
  if (c.name != "llama" && c.name != "mistral" && c.name != "qwen2") {
    return r.Error("model_type",
                   absl::StrCat("is '", c.name, "'; supported: llama, mistral, qwen2"));
  }
  GQA_ASSIGN_OR_RETURN(std::string act, r.String("hidden_act", "silu"));
  if (act != "silu") return r.Error("hidden_act", absl::StrCat("is '", act, "'; only silu"));
  GQA_ASSIGN_OR_RETURN(bool mlp_bias, r.Bool("mlp_bias", false));
  if (mlp_bias) return r.Error("mlp_bias", "is true; MLP biases are not supported");

  GQA_ASSIGN_OR_RETURN(c.dim, r.Int("hidden_size"));
  GQA_ASSIGN_OR_RETURN(c.hidden_dim, r.Int("intermediate_size"));
  GQA_ASSIGN_OR_RETURN(c.n_layers, r.Int("num_hidden_layers"));
  GQA_ASSIGN_OR_RETURN(c.n_heads, r.Int("num_attention_heads"));
  GQA_ASSIGN_OR_RETURN(c.n_kv_heads, r.Int("num_key_value_heads", c.n_heads));
  if (c.n_heads <= 0) return r.Error("num_attention_heads", "must be positive");
  GQA_ASSIGN_OR_RETURN(c.head_dim, r.Int("head_dim", c.dim / c.n_heads));
  GQA_ASSIGN_OR_RETURN(c.vocab_size, r.Int("vocab_size"));
  GQA_ASSIGN_OR_RETURN(c.max_seq_len, r.Int("max_position_embeddings", 2048));
  // Mistral-style sliding-window attention is not implemented; within the window
  // it equals full attention, so cap the context there to stay exact.
  GQA_ASSIGN_OR_RETURN(bool use_window, r.Bool("use_sliding_window", c.name == "mistral"));
  GQA_ASSIGN_OR_RETURN(int window, r.Int("sliding_window", 0));
  if (use_window && window > 0 && window < c.max_seq_len) c.max_seq_len = window;

  GQA_ASSIGN_OR_RETURN(c.rms_norm_eps, r.Float("rms_norm_eps", 1e-6f));
  GQA_ASSIGN_OR_RETURN(c.rope_theta, r.Float("rope_theta", 10000.0f));
  GQA_RETURN_IF_ERROR(ParseRopeScaling(r, "rope_scaling", &c.rope_scaling));
  if (const Json* p = r.Find("rope_parameters"); p != nullptr && p->is_object()) {
    const JsonReader params{*p, absl::StrCat(r.source, ": rope_parameters")};
    GQA_ASSIGN_OR_RETURN(c.rope_theta, params.Float("rope_theta", c.rope_theta));
  }
  GQA_RETURN_IF_ERROR(ParseRopeScaling(r, "rope_parameters", &c.rope_scaling));
  c.rope_style = RopeStyle::kHalves;
  GQA_ASSIGN_OR_RETURN(c.tie_word_embeddings, r.Bool("tie_word_embeddings", false));
  // Qwen2 always has q/k/v biases; Llama's attention_bias would also add an o_proj
  // bias, which the loader rejects when it finds one.
  GQA_ASSIGN_OR_RETURN(c.attention_bias, r.Bool("attention_bias", false));
  if (c.name == "qwen2") c.attention_bias = true;

  // transformers >= 4.56 writes "dtype"; older versions "torch_dtype".
  const char* dtype_field = r.Find("dtype") != nullptr ? "dtype" : "torch_dtype";
  GQA_ASSIGN_OR_RETURN(std::string dtype, r.String(dtype_field, "float32"));
  absl::StatusOr<DType> parsed = ParseDType(dtype);
  if (!parsed.ok()) return r.Error(dtype_field, std::string(parsed.status().message()));
  c.dtype = *parsed;

  GQA_ASSIGN_OR_RETURN(c.bos_token_id, r.Int("bos_token_id", c.bos_token_id));
  GQA_ASSIGN_OR_RETURN(c.eos_token_ids, ParseEosIds(r, c.eos_token_ids));

  if (absl::Status s = c.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", std::string(s.message())));
  }
  return c;
}

std::string ToHfConfigJson(const ModelConfig& c) {
  const bool qwen2 = c.name == "qwen2" && c.attention_bias;
  const std::string model_type = qwen2 || c.name == "mistral" ? c.name : "llama";
  Json j;
  j["architectures"] = {qwen2                     ? "Qwen2ForCausalLM"
                        : model_type == "mistral" ? "MistralForCausalLM"
                                                  : "LlamaForCausalLM"};
  j["model_type"] = model_type;
  j["hidden_act"] = "silu";
  j["hidden_size"] = c.dim;
  j["intermediate_size"] = c.hidden_dim;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.n_heads;
  j["num_key_value_heads"] = c.n_kv_heads;
  j["head_dim"] = c.head_dim;
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.max_seq_len;
  j["sliding_window"] = nullptr;
  j["use_sliding_window"] = false;
  j["rms_norm_eps"] = FloatForJson(c.rms_norm_eps);
  j["rope_theta"] = FloatForJson(c.rope_theta);
  if (c.rope_scaling.active()) {
    j["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", FloatForJson(c.rope_scaling.factor)},
        {"low_freq_factor", FloatForJson(c.rope_scaling.low_freq_factor)},
        {"high_freq_factor", FloatForJson(c.rope_scaling.high_freq_factor)},
        {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["attention_bias"] = c.attention_bias;
  j["mlp_bias"] = false;
  j["torch_dtype"] = c.dtype == DType::kF32   ? "float32"
                     : c.dtype == DType::kF16 ? "float16"
                                              : "bfloat16";
  j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1) {
    j["eos_token_id"] = c.eos_token_ids[0];
  } else {
    j["eos_token_id"] = c.eos_token_ids;
  }
  return j.dump(2) + "\n";
}

// ---- presets ----

namespace {

ModelConfig Preset(std::string name, int dim, int hidden, int layers, int heads, int kv_heads,
                   int vocab, int seq) {
  ModelConfig c;
  c.name = std::move(name);
  c.dim = dim;
  c.hidden_dim = hidden;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = dim / heads;
  c.vocab_size = vocab;
  c.max_seq_len = seq;
  c.rope_style = RopeStyle::kHalves;
  return c;
}

ModelConfig Llama3(std::string name, int dim, int hidden, int layers, int vocab, int seq) {
  ModelConfig c = Preset(std::move(name), dim, hidden, layers, 32, 8, vocab, seq);
  c.rope_theta = 500000.0f;
  c.dtype = DType::kBF16;
  c.bos_token_id = 128000;
  return c;
}

}  // namespace

std::vector<std::string> PresetNames() {
  return {"tiny", "demo", "stories15m", "stories110m", "llama-3.2-1b", "llama-3-8b"};
}

absl::StatusOr<ModelConfig> PresetConfig(std::string_view name) {
  if (name == "tiny") return Preset("tiny", 64, 172, 2, 8, 2, 512, 256);
  if (name == "demo") {
    // Byte-level vocabulary: <unk>=0, BOS=1, EOS=2, then the 256 bytes.
    return Preset("demo", 128, 344, 4, 8, 2, 259, 512);
  }
  // karpathy's TinyStories models: MHA, classifier shared with the embedding.
  if (name == "stories15m" || name == "stories110m") {
    ModelConfig c = name == "stories15m"
                        ? Preset("stories15m", 288, 768, 6, 6, 6, 32000, 256)
                        : Preset("stories110m", 768, 2048, 12, 12, 12, 32000, 1024);
    c.tie_word_embeddings = true;
    return c;
  }
  if (name == "llama-3.2-1b") {
    ModelConfig c = Llama3("llama-3.2-1b", 2048, 8192, 16, 128256, 131072);
    c.rope_scaling = {.factor = 32.0f,
                      .low_freq_factor = 1.0f,
                      .high_freq_factor = 4.0f,
                      .original_max_position_embeddings = 8192};
    c.tie_word_embeddings = true;
    c.eos_token_ids = {128001, 128008, 128009};
    return c;
  }
  if (name == "llama-3-8b") {
    ModelConfig c = Llama3("llama-3-8b", 4096, 14336, 32, 128256, 8192);
    c.eos_token_ids = {128001, 128009};
    return c;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown model preset '", std::string(name),
                                                 "'; known: ", absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace gqa
