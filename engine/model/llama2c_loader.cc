#include "engine/model/llama2c_loader.h"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/mmap_file.h"
#include "engine/common/status_macros.h"
#include "engine/model/host_tensor.h"
#include "engine/model/rope_permute.h"
#include "engine/model/weight_names.h"

namespace gqa {
namespace {

constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);
constexpr uint32_t kVersionedMagic = 0x616b3432;  // "ak42": llama2.c export versions >= 1

struct Header {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// Checks the header fields one by one, naming the first bad one, and fills `c`.
absl::Status HeaderToConfig(const Header& h, const std::string& path, ModelConfig* c) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": llama2.c header: ", what));
  };
  const std::pair<const char*, int32_t> fields[] = {
      {"dim", h.dim},         {"hidden_dim", h.hidden_dim}, {"n_layers", h.n_layers},
      {"n_heads", h.n_heads}, {"n_kv_heads", h.n_kv_heads}, {"seq_len", h.seq_len}};
  for (const auto& [name, value] : fields) {
    if (value <= 0) return error(absl::StrCat(name, " = ", value, " must be positive"));
  }
  if (h.vocab_size == 0 || h.vocab_size == INT32_MIN) {
    return error(absl::StrCat("vocab_size = ", h.vocab_size, " is invalid"));
  }
  if (h.dim % h.n_heads != 0) {
    return error(absl::StrCat("n_heads = ", h.n_heads, " does not divide dim = ", h.dim));
  }
  if (h.n_heads % h.n_kv_heads != 0) {
    return error(
        absl::StrCat("n_kv_heads = ", h.n_kv_heads, " does not divide n_heads = ", h.n_heads));
  }
  c->name = "llama2c";
  c->dim = h.dim;
  c->hidden_dim = h.hidden_dim;
  c->n_layers = h.n_layers;
  c->n_heads = h.n_heads;
  c->n_kv_heads = h.n_kv_heads;
  c->head_dim = h.dim / h.n_heads;
  c->vocab_size = h.vocab_size > 0 ? h.vocab_size : -h.vocab_size;
  c->max_seq_len = h.seq_len;
  c->tie_word_embeddings = h.vocab_size > 0;
  c->rope_style = RopeStyle::kInterleaved;
  c->rms_norm_eps = 1e-5f;
  c->rope_theta = 10000.0f;
  c->bos_token_id = 1;
  c->eos_token_ids = {2};
  c->dtype = DType::kF32;
  if (absl::Status s = c->Validate(); !s.ok()) return error(std::string(s.message()));
  return absl::OkStatus();
}

// Hands out consecutive fp32 arrays of the file, counting floats with
// overflow checks. Addresses are integer arithmetic until the caller has
// compared bytes() with the file size, so nothing is formed out of bounds.
class Cursor {
 public:
  explicit Cursor(const void* base) : base_(reinterpret_cast<uintptr_t>(base)) {}
  // The next array, of shape `dims`.
  Tensor Take(std::initializer_list<int64_t> dims) {
    Tensor t = Tensor::Make(nullptr, DType::kF32, dims);
    t.data = reinterpret_cast<void*>(base_ + (overflow_ ? 0 : bytes()));
    Skip(dims);
    return t;
  }
  void Skip(std::initializer_list<int64_t> dims) {
    uint64_t n = 1;
    for (int64_t d : dims) overflow_ |= __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n);
    overflow_ |= __builtin_add_overflow(floats_, n, &floats_);
    overflow_ |= floats_ > (1ull << 60);
  }
  bool overflow() const { return overflow_; }
  uint64_t bytes() const { return floats_ * sizeof(float); }

 private:
  uintptr_t base_;
  uint64_t floats_ = 0;
  bool overflow_ = false;
};

// Walks the file's arrays in order, handing out views into `w`; with
// w == nullptr it only counts them (run first: the layer count may be absurd
// until the file size has confirmed it).
void LayOut(const ModelConfig& c, Cursor& cur, ModelWeights* w) {
  const int64_t d = c.dim, kv = c.kv_dim(), h = c.hidden_dim, L = c.n_layers;
  auto array = [&](Tensor* dst, int64_t rows, int64_t cols) {
    if (w == nullptr) return cur.Skip({rows, cols});
    *dst = cols == 1 ? cur.Take({rows}) : cur.Take({rows, cols});
  };
  // Each per-layer array is stored for all layers before the next one.
  auto per_layer = [&](Tensor LayerWeights::*field, int64_t rows, int64_t cols) {
    if (w == nullptr) return cur.Skip({L, rows, cols});
    for (int64_t i = 0; i < L; ++i) array(&(w->layers[i].*field), rows, cols);
  };
  if (w != nullptr) w->layers.resize(L);
  array(w ? &w->embed : nullptr, c.vocab_size, d);
  per_layer(&LayerWeights::attn_norm, d, 1);
  per_layer(&LayerWeights::wq, d, d);
  per_layer(&LayerWeights::wk, kv, d);
  per_layer(&LayerWeights::wv, kv, d);
  per_layer(&LayerWeights::wo, d, d);
  per_layer(&LayerWeights::ffn_norm, d, 1);
  per_layer(&LayerWeights::w_gate, h, d);  // w1
  per_layer(&LayerWeights::w_down, d, h);  // w2
  per_layer(&LayerWeights::w_up, h, d);    // w3
  array(w ? &w->final_norm : nullptr, d, 1);
  cur.Skip({c.max_seq_len, c.head_dim / 2});  // freq_cis_real
  cur.Skip({c.max_seq_len, c.head_dim / 2});  // freq_cis_imag
  if (c.tie_word_embeddings) {
    if (w != nullptr) w->lm_head = w->embed;
  } else {
    array(w ? &w->lm_head : nullptr, c.vocab_size, d);
  }
}

}  // namespace

absl::StatusOr<ModelWeights> LoadLlama2c(std::string_view path_sv) {
  GQA_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path_sv));
  GQA_ASSIGN_OR_RETURN(ModelWeights w,
                       Llama2cFromBytes({file->data(), file->size()}, file->path()));
  w.storage.push_back(file);
  return w;
}

absl::StatusOr<ModelWeights> Llama2cFromBytes(std::span<const uint8_t> bytes,
                                              std::string_view name) {
  const std::string path(name);
  if (bytes.size() < kHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", bytes.size(),
                                                   " bytes, too short for a llama2.c header (",
                                                   kHeaderBytes, " bytes)"));
  }
  Header h;
  std::memcpy(&h, bytes.data(), kHeaderBytes);
  if (static_cast<uint32_t>(h.dim) == kVersionedMagic) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": a versioned llama2.c export (magic 'ak42'); only the legacy format is supported"));
  }
  ModelWeights w;
  GQA_RETURN_IF_ERROR(HeaderToConfig(h, path, &w.config));

  Cursor count(nullptr);
  LayOut(w.config, count, nullptr);
  if (count.overflow()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": llama2.c header sizes overflow (over 2^62 bytes)"));
  }
  const uint64_t expected = kHeaderBytes + count.bytes();
  if (bytes.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": expected ", expected, " bytes for the llama2.c header's shapes, file has ",
        bytes.size(), " bytes (", bytes.size() < expected ? "truncated" : "trailing data", ")"));
  }
  Cursor cur(bytes.data() + kHeaderBytes);
  LayOut(w.config, cur, &w);
  return w;
}

absl::Status SaveLlama2c(const ModelWeights& weights, std::string_view path_sv) {
  const std::string path(path_sv);
  const ModelConfig& c = weights.config;
  GQA_RETURN_IF_ERROR(CheckWeightShapes(weights));
  auto cannot = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot save ", path, " as llama2.c: the format has no ", why));
  };
  if (c.attention_bias) return cannot("attention biases");
  if (c.head_dim * c.n_heads != c.dim) return cannot("head_dim other than dim / n_heads");
  if (c.rope_theta != 10000.0f || c.rope_scaling.active()) return cannot("RoPE theta/scaling");
  if (c.rms_norm_eps != 1e-5f) return cannot(absl::StrCat("rms_norm_eps ", c.rms_norm_eps));
  GQA_ASSIGN_OR_RETURN(ModelWeights w, WithRopeStyle(weights, RopeStyle::kInterleaved));

  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  const Header h{c.dim,        c.hidden_dim, c.n_layers,
                 c.n_heads,    c.n_kv_heads, c.tie_word_embeddings ? c.vocab_size : -c.vocab_size,
                 c.max_seq_len};
  bool ok = std::fwrite(&h, 1, kHeaderBytes, f) == kHeaderBytes;
  // Writes a tensor as fp32, a row at a time.
  auto put = [&](const Tensor& t) {
    const int64_t rows = t.ndim == 2 ? t.rows() : 1;
    for (int64_t r = 0; ok && r < rows; ++r) {
      const std::vector<float> row = TensorToF32(t.ndim == 2 ? t.Rows(r, r + 1) : t);
      ok = std::fwrite(row.data(), sizeof(float), row.size(), f) == row.size();
    }
  };
  put(w.embed);
  for (Tensor LayerWeights::*field :
       {&LayerWeights::attn_norm, &LayerWeights::wq, &LayerWeights::wk, &LayerWeights::wv,
        &LayerWeights::wo, &LayerWeights::ffn_norm, &LayerWeights::w_gate, &LayerWeights::w_down,
        &LayerWeights::w_up}) {
    for (const LayerWeights& l : w.layers) put(l.*field);
  }
  put(w.final_norm);
  const std::vector<float> zeros(static_cast<size_t>(c.max_seq_len) * (c.head_dim / 2), 0.0f);
  for (int table = 0; ok && table < 2; ++table) {
    ok = std::fwrite(zeros.data(), sizeof(float), zeros.size(), f) == zeros.size();
  }
  if (!c.tie_word_embeddings) put(w.lm_head);
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    return absl::InternalError(absl::StrCat("error writing ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace gqa
