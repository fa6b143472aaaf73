// Element-wise kernels: embedding gather, SiluMul, GatherRows, random fill.
// All are memory-bound and tiny next to the GEMMs; each uses 16-byte
// accesses when every pointer, stride and row length allows it and falls
// back to one element per access otherwise (odd sizes, column views).
#include "engine/backend/cuda/cuda_common.cuh"

namespace gqa::cuda {
namespace {

constexpr int kThreads = 256;

// Grid for a grid-stride loop over `items`: enough CTAs to fill any GPU
// several times over, never more than the items need.
unsigned GridFor(int64_t items) {
  const int64_t ctas = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(ctas < 1 ? 1 : (ctas > 65536 ? 65536 : ctas));
}

template <typename TOut>
__global__ void EmbeddingKernel(const void* table, KernelDType table_dtype, int64_t vocab,
                                int64_t table_stride, const int32_t* ids, TOut* out,
                                int64_t out_stride, int64_t dim) {
  const int64_t row = blockIdx.x;
  const int32_t id = ids[row];
  TOut* dst = out + row * out_stride;
  const bool valid = id >= 0 && id < vocab;
  const int64_t base = static_cast<int64_t>(id) * table_stride;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    dst[c] = FromF32<TOut>(valid ? LoadAsF32(table, table_dtype, base + c) : 0.0f);
  }
}

__device__ __forceinline__ float Silu(float g) { return g / (1.0f + expf(-g)); }

// vec: 16-byte path (caller checked alignment); otherwise one element per item.
template <typename T>
__global__ void SiluMulKernel(const T* gate_up, int64_t gu_stride, T* out, int64_t out_stride,
                              int64_t n, int64_t hidden, bool vec) {
  constexpr int V = Vec16<T>::kSize;
  const int64_t per_row = vec ? hidden / V : hidden;
  const int64_t items = n * per_row;
  for (int64_t it = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; it < items;
       it += int64_t{gridDim.x} * blockDim.x) {
    const int64_t row = it / per_row, c = it % per_row;
    const T* gate = gate_up + row * gu_stride;
    const T* up = gate + hidden;
    T* o = out + row * out_stride;
    if (vec) {
      const Vec16<T> g = Load16(gate + c * V), u = Load16(up + c * V);
      Vec16<T> r;
#pragma unroll
      for (int e = 0; e < V; ++e) r.elem[e] = FromF32<T>(Silu(ToF32(g.elem[e])) * ToF32(u.elem[e]));
      Store16(o + c * V, r);
    } else {
      o[c] = FromF32<T>(Silu(ToF32(gate[c])) * ToF32(up[c]));
    }
  }
}

// Copies rows in units of U (uint4, uint32_t or uint16_t); strides and
// lengths in units.
template <typename U>
__global__ void GatherRowsKernel(const U* x, int64_t x_stride, int64_t x_rows, const int32_t* rows,
                                 U* out, int64_t out_stride, int64_t m, int64_t units) {
  const int64_t items = m * units;
  for (int64_t it = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; it < items;
       it += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = it / units, c = it % units;
    const int32_t src = rows[i];
    U value{};
    if (src >= 0 && src < x_rows) value = x[src * x_stride + c];
    out[i * out_stride + c] = value;
  }
}

template <typename U>
__global__ void BroadcastRowKernel(const U* row, U* y, int64_t ldy, int64_t m, int64_t n) {
  const int64_t items = m * n;
  for (int64_t it = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; it < items;
       it += int64_t{gridDim.x} * blockDim.x) {
    y[(it / n) * ldy + it % n] = row[it % n];
  }
}

__device__ __forceinline__ uint64_t SplitMix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <typename T>
__global__ void FillRandomKernel(T* data, size_t count, uint64_t seed, float lo, float hi) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < count;
       i += size_t{gridDim.x} * blockDim.x) {
    const uint64_t h = SplitMix64(seed * 0x2545F4914F6CDD1Dull ^ i);
    const float u = static_cast<float>(h >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    data[i] = FromF32<T>(lo + (hi - lo) * u);
  }
}

}  // namespace

cudaError_t LaunchEmbedding(const void* table, KernelDType table_dtype, int64_t vocab,
                            int64_t table_stride, const int32_t* ids, void* out,
                            KernelDType out_dtype, int64_t out_stride, int64_t n, int64_t dim,
                            cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  GQA_DISPATCH_DTYPE(
      out_dtype,
      EmbeddingKernel<T><<<static_cast<unsigned>(n), kThreads, 0, stream>>>(
          table, table_dtype, vocab, table_stride, ids, static_cast<T*>(out), out_stride, dim));
  return cudaGetLastError();
}

cudaError_t LaunchSiluMul(const void* gate_up, int64_t gate_up_stride, void* out,
                          int64_t out_stride, int64_t n, int64_t hidden, KernelDType dtype,
                          cudaStream_t stream) {
  if (n == 0 || hidden == 0) return cudaSuccess;
  const int64_t vec_elems = 16 / KernelDTypeSize(dtype);
  const bool vec = Aligned16(gate_up) && Aligned16(out) && hidden % vec_elems == 0 &&
                   gate_up_stride % vec_elems == 0 && out_stride % vec_elems == 0;
  const int64_t items = n * (vec ? hidden / vec_elems : hidden);
  GQA_DISPATCH_DTYPE(dtype, SiluMulKernel<T><<<GridFor(items), kThreads, 0, stream>>>(
                                static_cast<const T*>(gate_up), gate_up_stride,
                                static_cast<T*>(out), out_stride, n, hidden, vec));
  return cudaGetLastError();
}

cudaError_t LaunchGatherRows(const void* x, int64_t x_stride, int64_t x_rows, const int32_t* rows,
                             void* out, int64_t out_stride, int64_t m, int64_t cols, int elem_size,
                             cudaStream_t stream) {
  if (m == 0 || cols == 0) return cudaSuccess;
  const int64_t row_bytes = cols * elem_size;
  const int64_t xs = x_stride * elem_size, os = out_stride * elem_size;
  auto fits = [&](int64_t unit) {
    return reinterpret_cast<uintptr_t>(x) % unit == 0 &&
           reinterpret_cast<uintptr_t>(out) % unit == 0 && row_bytes % unit == 0 &&
           xs % unit == 0 && os % unit == 0;
  };
  if (fits(16)) {
    GatherRowsKernel<uint4><<<GridFor(m * row_bytes / 16), kThreads, 0, stream>>>(
        static_cast<const uint4*>(x), xs / 16, x_rows, rows, static_cast<uint4*>(out), os / 16, m,
        row_bytes / 16);
  } else if (fits(4)) {
    GatherRowsKernel<uint32_t><<<GridFor(m * row_bytes / 4), kThreads, 0, stream>>>(
        static_cast<const uint32_t*>(x), xs / 4, x_rows, rows, static_cast<uint32_t*>(out), os / 4,
        m, row_bytes / 4);
  } else {
    GatherRowsKernel<uint16_t><<<GridFor(m * row_bytes / 2), kThreads, 0, stream>>>(
        static_cast<const uint16_t*>(x), xs / 2, x_rows, rows, static_cast<uint16_t*>(out), os / 2,
        m, row_bytes / 2);
  }
  return cudaGetLastError();
}

cudaError_t LaunchBroadcastRow(const void* row, void* y, int64_t ldy, int64_t m, int64_t n,
                               int elem_size, cudaStream_t stream) {
  if (m == 0 || n == 0) return cudaSuccess;
  if (elem_size == 4) {
    BroadcastRowKernel<uint32_t><<<GridFor(m * n), kThreads, 0, stream>>>(
        static_cast<const uint32_t*>(row), static_cast<uint32_t*>(y), ldy, m, n);
  } else {
    BroadcastRowKernel<uint16_t><<<GridFor(m * n), kThreads, 0, stream>>>(
        static_cast<const uint16_t*>(row), static_cast<uint16_t*>(y), ldy, m, n);
  }
  return cudaGetLastError();
}

cudaError_t LaunchFillRandom(void* data, size_t count, KernelDType dtype, uint64_t seed, float lo,
                             float hi, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  GQA_DISPATCH_DTYPE(
      dtype, FillRandomKernel<T><<<GridFor(static_cast<int64_t>(count)), kThreads, 0, stream>>>(
                 static_cast<T*>(data), count, seed, lo, hi));
  return cudaGetLastError();
}

}  // namespace gqa::cuda
