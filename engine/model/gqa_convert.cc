#include "engine/model/gqa_convert.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/model/host_tensor.h"
#include "engine/model/weight_names.h"

namespace gqa {
namespace {

// `src`: [old_kv * head_dim, cols] (or a bias [old_kv * head_dim]). Returns
// [new_kv * head_dim, cols] in src's dtype, row g*head_dim + r being the mean of
// rows (g*k + j)*head_dim + r, j < k.
Tensor MeanPoolHeads(const Tensor& src, int head_dim, int k, StorageList* storage) {
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
      for (int j = 0; j < k; ++j) {
        const float* x = in.data() + ((g * k + j) * head_dim + r) * cols;
        for (int64_t c = 0; c < cols; ++c) acc[c] += x[c];
      }
      for (int64_t c = 0; c < cols; ++c) row[c] = static_cast<float>(acc[c] / k);
      char* dst = static_cast<char*>(out.data) + (g * head_dim + r) * cols * DTypeSize(out.dtype);
      ConvertFromF32(row.data(), out.dtype, dst, cols);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<ModelWeights> ConvertKvHeads(const ModelWeights& in, int new_kv_heads) {
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
  if (new_kv_heads == old_kv) return out;
  const int k = old_kv / new_kv_heads, head_dim = in.config.head_dim;
  for (LayerWeights& l : out.layers) {
    l.wk = MeanPoolHeads(l.wk, head_dim, k, &out.storage);
    l.wv = MeanPoolHeads(l.wv, head_dim, k, &out.storage);
    l.bk = MeanPoolHeads(l.bk, head_dim, k, &out.storage);
    l.bv = MeanPoolHeads(l.bv, head_dim, k, &out.storage);
  }
  out.config.n_kv_heads = new_kv_heads;
  return out;
}

}  // namespace gqa
