// Host-memory tensors owned by a ModelWeights::storage list, and copies between
// views of different dtypes. Used by the loaders, savers and converters.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "engine/common/tensor.h"

namespace gqa {

using StorageList = std::vector<std::shared_ptr<const void>>;

// A dense, 64-byte aligned, uninitialised host tensor whose buffer is appended
// to `storage` (which keeps it alive).
Tensor AllocateHostTensor(DType dtype, std::initializer_list<int64_t> dims, StorageList* storage);
// The same shape as `like` (dense), in `dtype`.
Tensor AllocateHostTensorLike(const Tensor& like, DType dtype, StorageList* storage);

// Copies `src` into `dst` (same shape, any dtypes; 2-D views may be strided),
// converting through fp32 when the dtypes differ. Same dtype copies bits exactly.
void CopyTensor(const Tensor& src, const Tensor& dst);

// The elements of `src` as fp32, dense, row-major.
std::vector<float> TensorToF32(const Tensor& src);

// Pointer to row `r` of a 2-D view (or the start of any other view when r == 0).
inline const char* RowPtr(const Tensor& t, int64_t r) {
  return static_cast<const char*>(t.data) + DTypeBytes(t.dtype, r * t.row_stride);
}

}  // namespace gqa
