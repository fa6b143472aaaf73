// RMSNorm (optionally fused with the residual add) and RoPE fused with the
// paged KV-cache write.
#include "engine/backend/cuda/cuda_common.cuh"

namespace gqa::cuda {
namespace {

// One CTA per row. Pass 1 (optionally residual += x, rounded to T as the
// stored residual is) sums squares in fp32; pass 2 re-reads the row, each
// thread exactly the elements it wrote, so no barrier is needed between
// its own store and load, and writes out = v * inv_rms * w.
template <typename T>
__global__ void RmsNormKernel(T* residual, int64_t residual_stride, const T* x, int64_t x_stride,
                              const T* weight, float eps, T* out, int64_t out_stride, int64_t dim,
                              bool vec) {
  __shared__ float scratch[32];
  constexpr int V = Vec16<T>::kSize;
  const int64_t row = blockIdx.x;
  const T* xr = x + row * x_stride;
  T* rr = residual == nullptr ? nullptr : residual + row * residual_stride;
  T* orow = out + row * out_stride;
  const T* src = rr == nullptr ? xr : rr;  // what pass 2 normalizes

  float sum_sq = 0.0f;
  if (vec) {
    for (int64_t c = threadIdx.x; c < dim / V; c += blockDim.x) {
      Vec16<T> v = Load16(xr + c * V);
      if (rr != nullptr) {
        const Vec16<T> r = Load16(rr + c * V);
#pragma unroll
        for (int e = 0; e < V; ++e) v.elem[e] = FromF32<T>(ToF32(r.elem[e]) + ToF32(v.elem[e]));
        Store16(rr + c * V, v);
      }
#pragma unroll
      for (int e = 0; e < V; ++e) sum_sq += ToF32(v.elem[e]) * ToF32(v.elem[e]);
    }
  } else {
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
      T v = xr[c];
      if (rr != nullptr) {
        v = FromF32<T>(ToF32(rr[c]) + ToF32(v));
        rr[c] = v;
      }
      sum_sq += ToF32(v) * ToF32(v);
    }
  }
  const float inv_rms = rsqrtf(BlockSum(sum_sq, scratch) / static_cast<float>(dim) + eps);

  if (vec) {
    for (int64_t c = threadIdx.x; c < dim / V; c += blockDim.x) {
      const Vec16<T> v = Load16(src + c * V), w = Load16(weight + c * V);
      Vec16<T> o;
#pragma unroll
      for (int e = 0; e < V; ++e)
        o.elem[e] = FromF32<T>(ToF32(v.elem[e]) * inv_rms * ToF32(w.elem[e]));
      Store16(orow + c * V, o);
    }
  } else {
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
      orow[c] = FromF32<T>(ToF32(src[c]) * inv_rms * ToF32(weight[c]));
    }
  }
}

// One CTA per token row. Items, in order: the (head, pair) rotations of the
// n_heads Q and n_kv_heads K heads, then the V elements to copy. A K pair is
// rotated, stored back into qkv and written to the cache by the same thread.
template <typename T>
__global__ void RopeCacheWriteKernel(RopeCacheArgs a) {
  const int64_t row = blockIdx.x;
  T* qkv = static_cast<T*>(a.qkv) + row * a.qkv_stride;
  T* k_cache = static_cast<T*>(a.k_cache);
  T* v_cache = static_cast<T*>(a.v_cache);
  const int d = a.head_dim, half = d / 2;
  const int rot_heads = a.n_heads + a.n_kv_heads;
  const int64_t pos = a.positions[row];
  const bool pos_ok = pos >= 0 && pos < a.max_pos;
  const float* cos = a.cos + (pos_ok ? pos : 0) * half;
  const float* sin = a.sin + (pos_ok ? pos : 0) * half;
  const int64_t slot = a.slot_mapping[row];
  const int64_t block = slot / a.block_size, offset = slot % a.block_size;
  const bool write = slot >= 0 && block < a.num_blocks;
  // Element offset of (block, kv head 0, offset, 0) in the cache.
  const int64_t cache_base = (block * a.n_kv_heads * a.block_size + offset) * d;
  const int64_t head_step = int64_t{a.block_size} * d;  // between KV heads of one block

  const int rot_items = rot_heads * half;
  const int items = rot_items + a.n_kv_heads * d;
  for (int it = threadIdx.x; it < items; it += blockDim.x) {
    if (it < rot_items) {
      const int head = it / half, i = it % half;
      const int ia = a.interleaved ? 2 * i : i;
      const int ib = a.interleaved ? 2 * i + 1 : i + half;
      T* h = qkv + head * d;
      const float x0 = ToF32(h[ia]), x1 = ToF32(h[ib]);
      // A position outside the tables is a caller bug: NaN makes it visible.
      const float c = pos_ok ? cos[i] : __int_as_float(0x7fc00000), s = pos_ok ? sin[i] : 0.0f;
      const T y0 = FromF32<T>(x0 * c - x1 * s), y1 = FromF32<T>(x1 * c + x0 * s);
      h[ia] = y0;
      h[ib] = y1;
      if (head >= a.n_heads && write) {
        T* dst = k_cache + cache_base + (head - a.n_heads) * head_step;
        dst[ia] = y0;
        dst[ib] = y1;
      }
    } else if (write) {
      const int v_item = it - rot_items;
      const int kv_head = v_item / d, e = v_item % d;
      v_cache[cache_base + kv_head * head_step + e] = qkv[(rot_heads + kv_head) * d + e];
    }
  }
}

}  // namespace

cudaError_t LaunchRmsNorm(void* residual, int64_t residual_stride, const void* x, int64_t x_stride,
                          const void* weight, float eps, void* out, int64_t out_stride, int64_t n,
                          int64_t dim, KernelDType dtype, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const int64_t v = 16 / KernelDTypeSize(dtype);
  const bool vec = Aligned16(x) && Aligned16(weight) && Aligned16(out) &&
                   (residual == nullptr || Aligned16(residual)) && dim % v == 0 &&
                   x_stride % v == 0 && out_stride % v == 0 &&
                   (residual == nullptr || residual_stride % v == 0);
  // Enough threads for one pass of 16-byte accesses over the row, 64..1024.
  const int64_t per_pass = vec ? dim / v : dim;
  int threads = static_cast<int>(((per_pass + 31) / 32) * 32);
  threads = threads < 64 ? 64 : (threads > 1024 ? 1024 : threads);
  GQA_DISPATCH_DTYPE(
      dtype, RmsNormKernel<T><<<static_cast<unsigned>(n), threads, 0, stream>>>(
                 static_cast<T*>(residual), residual_stride, static_cast<const T*>(x), x_stride,
                 static_cast<const T*>(weight), eps, static_cast<T*>(out), out_stride, dim, vec));
  return cudaGetLastError();
}

cudaError_t LaunchRopeCacheWrite(const RopeCacheArgs& args, cudaStream_t stream) {
  if (args.num_tokens == 0) return cudaSuccess;
  GQA_DISPATCH_DTYPE(args.dtype, RopeCacheWriteKernel<T>
                     <<<static_cast<unsigned>(args.num_tokens), 256, 0, stream>>>(args));
  return cudaGetLastError();
}

}  // namespace gqa::cuda
