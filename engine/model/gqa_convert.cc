#include "engine/model/gqa_convert.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/model/host_tensor.h"
#include "engine/model/weight_names.h"

namespace gqa {
namespace {

// `src`: [old_kv * head_dim, cols] (or a bias [old_kv * head_dim]). Returns
// [new_kv * head_dim, cols] in src's dtype, row g*head_dim + r being the mean of
// rows (g*k + j)*head_dim + r, j < k (kMean), or row (g*k)*head_dim + r (kFirst).
Tensor PoolHeads(const Tensor& src, int head_dim, int k, KvHeadInit init, StorageList* storage) {
  if (src.empty()) return src;
  const int64_t rows = src.shape[0] / k;
  const int64_t cols = src.ndim == 2 ? src.cols() : 1;
  Tensor out = src;
  out.shape[0] = rows;
  out = AllocateHostTensorLike(out, src.dtype, storage);
  const std::vector<float> in = TensorToF32(src);  // dense [old rows, cols]
  std::vector<double> acc(cols);
  std::vector<float> row(cols);
  for (int64_t g = 0; g < rows / head_dim; ++g) {
    for (int64_t r = 0; r < head_dim; ++r) {
      std::fill(acc.begin(), acc.end(), 0.0);
      const int group = init == KvHeadInit::kFirst ? 1 : k;
      for (int j = 0; j < group; ++j) {
        const float* x = in.data() + ((g * k + j) * head_dim + r) * cols;
        for (int64_t c = 0; c < cols; ++c) acc[c] += x[c];
      }
      for (int64_t c = 0; c < cols; ++c) row[c] = static_cast<float>(acc[c] / group);
      char* dst = static_cast<char*>(out.data) + (g * head_dim + r) * cols * DTypeSize(out.dtype);
      ConvertFromF32(row.data(), out.dtype, dst, cols);
    }
  }
  return out;
}

// splitmix64: a seeded stream with the same values on every platform (the
// standard library's distributions differ between implementations).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return ((Next() >> 11) + 0.5) * 0x1.0p-53; }  // (0, 1)
  double Normal() {                                                // Box-Muller
    return std::sqrt(-2.0 * std::log(Uniform())) * std::cos(6.283185307179586 * Uniform());
  }

 private:
  uint64_t state_;
};

// [rows / k, cols] of N(0, rms(src)^2) in src's dtype, from `seed`.
Tensor RandomHeads(const Tensor& src, int k, uint64_t seed, StorageList* storage) {
  if (src.empty()) return src;
  Tensor out = src;
  out.shape[0] = src.shape[0] / k;
  out = AllocateHostTensorLike(out, src.dtype, storage);
  const std::vector<float> in = TensorToF32(src);
  double sum2 = 0;
  for (float x : in) sum2 += static_cast<double>(x) * x;
  const double sigma = in.empty() ? 0 : std::sqrt(sum2 / in.size());
  std::vector<float> values(in.size() / k);
  SplitMix64 rng(seed);
  for (float& v : values) v = static_cast<float>(sigma * rng.Normal());
  ConvertFromF32(values.data(), out.dtype, out.data, static_cast<int64_t>(values.size()));
  return out;
}

}  // namespace

absl::StatusOr<KvHeadInit> ParseKvHeadInit(std::string_view name) {
  if (name == "mean") return KvHeadInit::kMean;
  if (name == "first") return KvHeadInit::kFirst;
  if (name == "random") return KvHeadInit::kRandom;
  return absl::InvalidArgumentError(
      absl::StrCat("--method: '", std::string(name), "' is not one of mean, first, random"));
}

absl::StatusOr<ModelWeights> ConvertKvHeads(const ModelWeights& in, int new_kv_heads,
                                            const KvConvertOptions& options) {
  GQA_RETURN_IF_ERROR(CheckWeightShapes(in));
  const int old_kv = in.config.n_kv_heads;
  if (new_kv_heads < 1 || old_kv % new_kv_heads != 0) {
    std::vector<int> valid;
    for (int g = 1; g <= old_kv; ++g) {
      if (old_kv % g == 0) valid.push_back(g);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("cannot convert to ", new_kv_heads, " KV heads: the count must divide the ",
                     "model's ", old_kv, " KV heads (one of ", absl::StrJoin(valid, ", "), ")"));
  }
  ModelWeights out = in;
  const KvHeadInit init = options.init;
  if (new_kv_heads == old_kv && init != KvHeadInit::kRandom) return out;
  const int k = old_kv / new_kv_heads, head_dim = in.config.head_dim;
  if (init == KvHeadInit::kRandom) {
    // One stream per (layer, tensor): a tensor's values do not depend on the others'.
    for (size_t i = 0; i < out.layers.size(); ++i) {
      LayerWeights& l = out.layers[i];
      const uint64_t base = options.seed * 0x100000001b3ULL + i * 4;
      l.wk = RandomHeads(l.wk, k, base + 0, &out.storage);
      l.wv = RandomHeads(l.wv, k, base + 1, &out.storage);
      l.bk = RandomHeads(l.bk, k, base + 2, &out.storage);
      l.bv = RandomHeads(l.bv, k, base + 3, &out.storage);
    }
  } else {
    for (LayerWeights& l : out.layers) {
      l.wk = PoolHeads(l.wk, head_dim, k, init, &out.storage);
      l.wv = PoolHeads(l.wv, head_dim, k, init, &out.storage);
      l.bk = PoolHeads(l.bk, head_dim, k, init, &out.storage);
      l.bv = PoolHeads(l.bv, head_dim, k, init, &out.storage);
    }
  }
  out.config.n_kv_heads = new_kv_heads;
  return out;
}

}  // namespace gqa
