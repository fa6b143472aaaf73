// Sampling helpers: greedy decoding of fp32 logits rows on the device, so that
// a greedy row sends 8 bytes (token id, logprob) to the host, not its vocab.
#include <math.h>

#include "engine/backend/cuda/cuda_common.cuh"

namespace gqa::cuda {
namespace {

constexpr int kArgMaxThreads = 512;

// What one thread (then one warp, then the CTA) knows of its part of a row:
//   best_value/best_index: its largest non-NaN value and the lowest index
//     holding it (best_index -1: it saw no non-NaN value);
//   max/sum: the softmax normalizer of its part as sum exp(x - max) over the
//     values > -inf (max -inf, sum 0: none).
struct RowState {
  float best_value;
  int best_index;
  float max;
  float sum;
};

__device__ __forceinline__ RowState EmptyRowState() { return {-INFINITY, -1, -INFINITY, 0.0f}; }

// exp(x - max) with the convention that a part with max -inf has no mass.
__device__ __forceinline__ float Rescale(float sum, float from_max, float to_max) {
  return from_max == -INFINITY ? 0.0f : sum * expf(from_max - to_max);
}

__device__ __forceinline__ RowState Merge(const RowState& a, const RowState& b) {
  RowState r;
  const bool take_b =
      a.best_index < 0 ||
      (b.best_index >= 0 && (b.best_value > a.best_value ||
                             (b.best_value == a.best_value && b.best_index < a.best_index)));
  r.best_value = take_b ? b.best_value : a.best_value;
  r.best_index = take_b ? b.best_index : a.best_index;
  r.max = fmaxf(a.max, b.max);
  r.sum = Rescale(a.sum, a.max, r.max) + Rescale(b.sum, b.max, r.max);
  return r;
}

__device__ __forceinline__ RowState WarpMerge(RowState s) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    RowState other;
    other.best_value = __shfl_xor_sync(0xffffffffu, s.best_value, o);
    other.best_index = __shfl_xor_sync(0xffffffffu, s.best_index, o);
    other.max = __shfl_xor_sync(0xffffffffu, s.max, o);
    other.sum = __shfl_xor_sync(0xffffffffu, s.sum, o);
    s = Merge(s, other);
  }
  return s;
}

// One CTA per row, one pass over it: each thread folds its strided elements
// (increasing indices, so its first maximum is its lowest), then warps and
// the CTA merge. Online softmax sum as in attention: a new maximum rescales.
__global__ void __launch_bounds__(kArgMaxThreads)
    ArgMaxRowsKernel(const float* logits, int64_t stride, int64_t vocab, int32_t* tokens,
                     float* logprobs) {
  __shared__ RowState warp_states[kArgMaxThreads / 32];
  const float* row = logits + blockIdx.x * stride;
  RowState s = EmptyRowState();
  int has_nan = 0;
  for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
    const float x = row[j];
    if (isnan(x)) {
      has_nan = 1;
      continue;
    }
    if (s.best_index < 0 || x > s.best_value) {
      s.best_value = x;
      s.best_index = static_cast<int>(j);
    }
    if (x == -INFINITY) continue;
    if (x > s.max) {
      s.sum = Rescale(s.sum, s.max, x) + 1.0f;
      s.max = x;
    } else {
      s.sum += expf(x - s.max);
    }
  }
  has_nan = __syncthreads_or(has_nan);
  s = WarpMerge(s);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_states[warp] = s;
  __syncthreads();
  if (warp != 0) return;
  const int num_warps = blockDim.x >> 5;
  s = lane < num_warps ? warp_states[lane] : EmptyRowState();
  s = WarpMerge(s);
  if (lane != 0) return;
  tokens[blockIdx.x] = s.best_index < 0 ? 0 : s.best_index;
  // The winner is the max, so its logprob is -log(sum); undefined (NaN) when
  // a NaN is present or the max is infinite, as on the host.
  const bool defined = !has_nan && s.best_index >= 0 && isfinite(s.best_value);
  logprobs[blockIdx.x] = defined ? -logf(s.sum) : NAN;
}

}  // namespace

cudaError_t LaunchArgMaxRows(const float* logits, int64_t stride, int64_t rows, int64_t vocab,
                             int32_t* tokens, float* logprobs, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  ArgMaxRowsKernel<<<static_cast<unsigned>(rows), kArgMaxThreads, 0, stream>>>(
      logits, stride, vocab, tokens, logprobs);
  return cudaGetLastError();
}

}  // namespace gqa::cuda
