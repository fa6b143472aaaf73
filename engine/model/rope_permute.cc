#include "engine/model/rope_permute.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/model/host_tensor.h"

namespace gqa {
namespace {

// Copies rows of `src` into `dst`, row `to_halves ? halves(r) : interleaved(r)`.
absl::Status PermuteRows(const Tensor& src, int n_heads, const Tensor& dst, bool to_halves) {
  const int64_t rows = src.ndim >= 1 ? src.shape[0] : 0;
  if ((src.ndim != 1 && src.ndim != 2) || n_heads <= 0 || rows % n_heads != 0 ||
      (rows / n_heads) % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("rope permute: ", src.ShapeString(),
                                                   " is not n_heads (", n_heads,
                                                   ") heads of an even head_dim"));
  }
  if (dst.dtype != src.dtype || dst.ndim != src.ndim || dst.shape != src.shape ||
      !dst.contiguous()) {
    return absl::InvalidArgumentError(absl::StrCat("rope permute: destination ", dst.ShapeString(),
                                                   " does not match ", src.ShapeString()));
  }
  const int64_t head_dim = rows / n_heads, half = head_dim / 2;
  const int64_t cols = src.ndim == 2 ? src.cols() : 1;
  const size_t row_bytes = cols * DTypeSize(src.dtype);
  const int64_t src_stride = src.ndim == 2 ? src.row_stride : 1;
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t interleaved = h * head_dim + 2 * i + j;
        const int64_t halves = h * head_dim + j * half + i;
        const int64_t from = to_halves ? interleaved : halves;
        const int64_t to = to_halves ? halves : interleaved;
        std::memcpy(static_cast<char*>(dst.data) + to * row_bytes,
                    static_cast<const char*>(src.data) + from * src_stride * DTypeSize(src.dtype),
                    row_bytes);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> Permuted(const Tensor& src, int n_heads, RopeStyle to,
                                StorageList* storage) {
  if (src.empty()) return src;
  Tensor dst = AllocateHostTensorLike(src, src.dtype, storage);
  GQA_RETURN_IF_ERROR(PermuteRows(src, n_heads, dst, to == RopeStyle::kHalves));
  return dst;
}

}  // namespace

absl::Status PermuteInterleavedToHalves(const Tensor& src, int n_heads, const Tensor& dst) {
  return PermuteRows(src, n_heads, dst, /*to_halves=*/true);
}

absl::Status PermuteHalvesToInterleaved(const Tensor& src, int n_heads, const Tensor& dst) {
  return PermuteRows(src, n_heads, dst, /*to_halves=*/false);
}

absl::StatusOr<ModelWeights> WithRopeStyle(const ModelWeights& w, RopeStyle style) {
  ModelWeights out = w;
  if (w.config.rope_style == style) return out;
  const int nh = w.config.n_heads, nkv = w.config.n_kv_heads;
  for (LayerWeights& l : out.layers) {
    GQA_ASSIGN_OR_RETURN(l.wq, Permuted(l.wq, nh, style, &out.storage));
    GQA_ASSIGN_OR_RETURN(l.wk, Permuted(l.wk, nkv, style, &out.storage));
    GQA_ASSIGN_OR_RETURN(l.bq, Permuted(l.bq, nh, style, &out.storage));
    GQA_ASSIGN_OR_RETURN(l.bk, Permuted(l.bk, nkv, style, &out.storage));
  }
  out.config.rope_style = style;
  return out;
}

}  // namespace gqa
