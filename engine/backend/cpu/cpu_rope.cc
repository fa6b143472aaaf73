#include "engine/backend/cpu/cpu_rope.h"

#include <cassert>

#include "engine/backend/cpu/cpu_util.h"
#include "engine/common/dtype.h"

namespace gqa::cpu {

void RotateHead(float* x, const float* cos, const float* sin, int head_dim, RopeStyle style) {
  const int half = head_dim / 2;
  if (style == RopeStyle::kHalves) {
    float* lo = x;
    float* hi = x + half;
#pragma omp simd
    for (int i = 0; i < half; ++i) {
      const float a = lo[i], b = hi[i];
      lo[i] = a * cos[i] - b * sin[i];
      hi[i] = b * cos[i] + a * sin[i];
    }
  } else {
    for (int i = 0; i < half; ++i) {
      const float a = x[2 * i], b = x[2 * i + 1];
      x[2 * i] = a * cos[i] - b * sin[i];
      x[2 * i + 1] = b * cos[i] + a * sin[i];
    }
  }
}

void RopeAndCacheWrite(Tensor qkv, const RopeTables& rope, const AttentionShape& shape,
                       const AttentionMetadata& meta, KvCacheLayer kv, int num_threads) {
  const int n_heads = shape.n_heads, n_kv_heads = shape.n_kv_heads, head_dim = shape.head_dim;
  const int64_t n = meta.num_tokens;
  const int64_t block_size = kv.k.dim(2);
  assert(qkv.cols() == static_cast<int64_t>(n_heads + 2 * n_kv_heads) * head_dim);
  assert(rope.cos.cols() == head_dim / 2 && kv.k.dim(1) == n_kv_heads && kv.k.dim(3) == head_dim);
  assert(kv.k.dtype == kv.v.dtype && (kv.k.dtype == DType::kF32 || kv.k.dtype == DType::kBF16));
  const size_t kv_elem = DTypeSize(kv.k.dtype);

#pragma omp parallel for num_threads(num_threads) if (n * qkv.cols() >= kMinParallelElems)
  for (int64_t r = 0; r < n; ++r) {
    float* q = RowF32(qkv, r);             // [n_heads, head_dim]
    float* k = q + n_heads * head_dim;     // [n_kv_heads, head_dim]
    float* v = k + n_kv_heads * head_dim;  // [n_kv_heads, head_dim]
    const int64_t pos = meta.positions[r];
    assert(pos >= 0 && pos < rope.cos.rows());
    const float* cos = RowF32(rope.cos, pos);  // [head_dim / 2]
    const float* sin = RowF32(rope.sin, pos);
    for (int h = 0; h < n_heads; ++h) RotateHead(q + h * head_dim, cos, sin, head_dim, rope.style);
    for (int h = 0; h < n_kv_heads; ++h) {
      RotateHead(k + h * head_dim, cos, sin, head_dim, rope.style);
    }

    const int64_t slot = meta.slot_mapping[r];
    if (slot < 0) continue;
    const int64_t block = slot / block_size, offset = slot % block_size;
    for (int h = 0; h < n_kv_heads; ++h) {
      // Element offset of (block, h, offset, 0) in [num_blocks, n_kv_heads, block_size, head_dim].
      const int64_t at = ((block * n_kv_heads + h) * block_size + offset) * head_dim;
      // f32: a copy; bf16: rounded to nearest even.
      ConvertFromF32(k + h * head_dim, kv.k.dtype, static_cast<char*>(kv.k.data) + at * kv_elem,
                     head_dim);
      ConvertFromF32(v + h * head_dim, kv.v.dtype, static_cast<char*>(kv.v.data) + at * kv_elem,
                     head_dim);
    }
  }
}

}  // namespace gqa::cpu
