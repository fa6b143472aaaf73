// Tensor: a non-owning view of a dense array in some backend's memory (host
// memory for the CPU backend and for loaded weights, device memory for CUDA).
// Shapes are row-major; a 2-D view may have a row stride larger than its
// column count (a column slice of a wider matrix, e.g. the K part of a fused
// QKV activation). A block-quantized weight (common/dtype.h) is a view like
// any other: row_stride counts elements, and Rows()/Cols() may only cut at
// block boundaries.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "engine/common/dtype.h"

namespace gqa {

struct Tensor {
  void* data = nullptr;
  DType dtype = DType::kF32;
  std::array<int64_t, 4> shape{0, 0, 0, 0};
  int ndim = 0;
  int64_t row_stride = 0;  // elements between rows of a 2-D view (== cols when dense)

  static Tensor Make(void* data, DType dtype, std::initializer_list<int64_t> dims) {
    Tensor t;
    t.data = data;
    t.dtype = dtype;
    for (int64_t d : dims) t.shape[t.ndim++] = d;
    t.row_stride = t.ndim >= 2 ? t.shape[t.ndim - 1] : 0;
    return t;
  }

  bool empty() const { return data == nullptr; }
  int64_t dim(int i) const { return shape[i]; }
  int64_t rows() const { return shape[0]; }  // 2-D views
  int64_t cols() const { return shape[1]; }
  int64_t numel() const {
    int64_t n = ndim > 0 ? 1 : 0;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
  size_t nbytes() const { return DTypeBytes(dtype, numel()); }
  bool contiguous() const { return ndim != 2 || row_stride == shape[1]; }

  template <typename T>
  T* as() const { return static_cast<T*>(data); }

  // Rows [begin, end) of a 2-D view.
  Tensor Rows(int64_t begin, int64_t end) const {
    assert(ndim == 2 && begin >= 0 && begin <= end && end <= shape[0]);
    Tensor t = *this;
    t.data = static_cast<char*>(data) + DTypeBytes(dtype, begin * row_stride);
    t.shape[0] = end - begin;
    return t;
  }
  // Columns [begin, end) of a 2-D view (keeps the row stride).
  Tensor Cols(int64_t begin, int64_t end) const {
    assert(ndim == 2 && begin >= 0 && begin <= end && end <= shape[1]);
    assert(begin % DTypeBlockElems(dtype) == 0);
    Tensor t = *this;
    t.data = static_cast<char*>(data) + DTypeBytes(dtype, begin);
    t.shape[1] = end - begin;
    return t;
  }

  std::string ShapeString() const;  // "[4, 288] f32"
};

}  // namespace gqa
