#include "engine/model/host_tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace gqa {
namespace {

// Rows of a view as (count, length): a strided 2-D view is walked row by row;
// every other view is one dense run.
int64_t NumRuns(const Tensor& t) { return t.ndim == 2 ? t.rows() : 1; }
int64_t RunLength(const Tensor& t) { return t.ndim == 2 ? t.cols() : t.numel(); }

// Gives `t` (shape and dtype set, dense) a fresh buffer owned by `storage`.
Tensor Allocate(Tensor t, StorageList* storage) {
  // aligned_alloc wants a size that is a non-zero multiple of the alignment.
  const size_t bytes = (t.nbytes() + 63) / 64 * 64 + 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  storage->push_back(
      std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); }));
  t.data = p;
  return t;
}

}  // namespace

Tensor AllocateHostTensor(DType dtype, std::initializer_list<int64_t> dims, StorageList* storage) {
  return Allocate(Tensor::Make(nullptr, dtype, dims), storage);
}

Tensor AllocateHostTensorLike(const Tensor& like, DType dtype, StorageList* storage) {
  Tensor t = like;
  t.dtype = dtype;
  t.row_stride = like.ndim >= 2 ? like.shape[like.ndim - 1] : 0;
  return Allocate(t, storage);
}

void CopyTensor(const Tensor& src, const Tensor& dst) {
  const int64_t runs = NumRuns(src), len = RunLength(src);
  std::vector<float> tmp;
  if (src.dtype != dst.dtype) tmp.resize(len);
  for (int64_t r = 0; r < runs; ++r) {
    const char* s = RowPtr(src, r);
    char* d = const_cast<char*>(RowPtr(dst, r));
    if (src.dtype == dst.dtype) {
      std::memcpy(d, s, len * DTypeSize(src.dtype));
    } else {
      ConvertToF32(src.dtype, s, tmp.data(), len);
      ConvertFromF32(tmp.data(), dst.dtype, d, len);
    }
  }
}

std::vector<float> TensorToF32(const Tensor& src) {
  std::vector<float> out(src.numel());
  Tensor dst = src;
  dst.data = out.data();
  dst.dtype = DType::kF32;
  dst.row_stride = src.ndim >= 2 ? src.shape[src.ndim - 1] : 0;
  CopyTensor(src, dst);
  return out;
}

}  // namespace gqa
