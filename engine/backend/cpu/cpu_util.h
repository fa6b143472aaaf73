// Small helpers shared by the CPU backend's kernel files: row addressing of
// 2-D tensor views and the "is this worth an OpenMP team" threshold.
#pragma once

#include <cstdint>

#include "engine/common/tensor.h"

namespace gqa::cpu {

// Below this many floats touched, an op runs on one thread: waking the OpenMP
// team costs a few microseconds, more than the work (e.g. one decode row).
inline constexpr int64_t kMinParallelElems = 1 << 15;

// Elements between consecutive rows of a 2-D view (a dense 1-D tensor is one row).
inline int64_t RowStride(const Tensor& t) { return t.ndim >= 2 ? t.row_stride : t.shape[0]; }

// Row r of a 2-D f32 view.
inline float* RowF32(const Tensor& t, int64_t r) { return t.as<float>() + r * RowStride(t); }

}  // namespace gqa::cpu
