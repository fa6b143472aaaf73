// Device-side helpers shared by the kernel files: element conversions,
// 16-byte vector access, warp and block reductions, dtype dispatch.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/backend/cuda/kernels.h"

namespace gqa::cuda {

template <typename T>
__device__ __forceinline__ float ToF32(T x);
template <>
__device__ __forceinline__ float ToF32<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ float ToF32<__half>(__half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float ToF32<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

template <typename T>
__device__ __forceinline__ T FromF32(float x);
template <>
__device__ __forceinline__ float FromF32<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half FromF32<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromF32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// Element at index i of an array of runtime dtype, as fp32.
__device__ __forceinline__ float LoadAsF32(const void* base, KernelDType dt, int64_t i) {
  switch (dt) {
    case KernelDType::kF32:
      return static_cast<const float*>(base)[i];
    case KernelDType::kF16:
      return __half2float(static_cast<const __half*>(base)[i]);
    default:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
  }
}

// 16 bytes of T: 4 floats or 8 halves.
template <typename T>
struct Vec16 {
  static constexpr int kSize = 16 / sizeof(T);
  union {
    uint4 raw;
    T elem[kSize];
  };
};

template <typename T>
__device__ __forceinline__ Vec16<T> Load16(const T* p) {
  Vec16<T> v;
  v.raw = *reinterpret_cast<const uint4*>(p);
  return v;
}

template <typename T>
__device__ __forceinline__ void Store16(T* p, const Vec16<T>& v) {
  *reinterpret_cast<uint4*>(p) = v.raw;
}

__device__ __forceinline__ float WarpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float WarpMax(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread
// gets the result. `scratch` holds 32 floats of shared memory.
__device__ __forceinline__ float BlockSum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = WarpSum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int num_warps = blockDim.x >> 5;
  v = lane < num_warps ? scratch[lane] : 0.0f;
  return WarpSum(v);
}

// True when p is 16-byte aligned.
__host__ __device__ __forceinline__ bool Aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

}  // namespace gqa::cuda

// Runs the statement with `T` bound to the element type of `dt`.
#define GQA_DISPATCH_DTYPE(dt, ...)         \
  switch (dt) {                             \
    case ::gqa::cuda::KernelDType::kF32: {  \
      using T = float;                      \
      __VA_ARGS__;                          \
      break;                                \
    }                                       \
    case ::gqa::cuda::KernelDType::kF16: {  \
      using T = __half;                     \
      __VA_ARGS__;                          \
      break;                                \
    }                                       \
    case ::gqa::cuda::KernelDType::kBF16: { \
      using T = __nv_bfloat16;              \
      __VA_ARGS__;                          \
      break;                                \
    }                                       \
  }
