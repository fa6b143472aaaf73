// Portable paged GQA attention on CUDA cores: every dtype (fp32 included,
// for exact comparison with the CPU backend), any head_dim, group size and
// block size. The tensor-core kernels (attention_decode.cu,
// attention_prefill.cu) are the fast path; this one is the reference they
// fall back to and the fp32 path.
//
// One CTA per (token row, KV head). It walks the row's visible keys block
// by block (each K/V block of the KV head read once for all G query heads of
// the group), in the same order and with the same fp32 online softmax as the
// CPU backend (cpu_attention.cc).
#include <cmath>

#include "engine/backend/cuda/cuda_common.cuh"

namespace gqa::cuda {
namespace {

constexpr int kThreads = 128;

// Floats of shared memory: q and acc [G, D]; k [bs, D + 1] (padded: the
// score loop reads one column of it across threads); v [bs, D]; scores
// [G, bs]; running max, sum and correction [G].
size_t SmemFloats(int group, int d, int bs) {
  return 2 * size_t(group) * d + size_t(bs) * (2 * d + 1) + size_t(group) * bs + 3 * size_t(group);
}

// Index of the sequence holding `row`: the last s with query_start[s] <= row.
__device__ __forceinline__ int FindSeq(const int32_t* query_start, int num_seqs, int row) {
  int lo = 0, hi = num_seqs - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (query_start[mid] <= row)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) GenericAttentionKernel(AttentionArgs a) {
  extern __shared__ float smem[];
  const int row = blockIdx.x, kv_head = blockIdx.y;
  const int group = a.n_heads / a.n_kv_heads, d = a.head_dim, bs = a.block_size;
  const int s = FindSeq(a.query_start, a.num_seqs, row);
  const int q_len = a.query_start[s + 1] - a.query_start[s];
  const int pos = a.context_lens[s] - q_len + (row - a.query_start[s]);
  const int num_keys = pos + 1;

  float* q_s = smem;                // [G, D]
  float* acc_s = q_s + group * d;   // [G, D]
  float* k_s = acc_s + group * d;   // [bs, D + 1]
  float* v_s = k_s + bs * (d + 1);  // [bs, D]
  float* sc = v_s + bs * d;         // [G, bs]
  float* m_s = sc + group * bs;     // [G]
  float* l_s = m_s + group;         // [G]
  float* corr_s = l_s + group;      // [G]

  // The G query heads of this KV head are contiguous in the row.
  const T* q_row =
      static_cast<const T*>(a.q) + int64_t{row} * a.q_stride + int64_t{kv_head} * group * d;
  for (int i = threadIdx.x; i < group * d; i += blockDim.x) {
    q_s[i] = ToF32(q_row[i]);
    acc_s[i] = 0.0f;
  }
  for (int g = threadIdx.x; g < group; g += blockDim.x) {
    m_s[g] = -INFINITY;
    l_s[g] = 0.0f;
  }
  __syncthreads();

  const T* k_cache = static_cast<const T*>(a.k_cache);
  const T* v_cache = static_cast<const T*>(a.v_cache);
  const int32_t* table = a.block_tables + int64_t{s} * a.max_blocks_per_seq;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, num_warps = blockDim.x / 32;
  for (int b = 0; b * bs < num_keys; ++b) {
    const int nk = min(bs, num_keys - b * bs);
    const int64_t slab = (int64_t{table[b]} * a.n_kv_heads + kv_head) * bs * d;
    for (int i = threadIdx.x; i < nk * d; i += blockDim.x) {
      const int j = i / d, e = i % d;
      k_s[j * (d + 1) + e] = ToF32(k_cache[slab + i]);
      v_s[i] = ToF32(v_cache[slab + i]);
    }
    __syncthreads();
    for (int i = threadIdx.x; i < group * nk; i += blockDim.x) {
      const int g = i / nk, j = i % nk;
      const float* qg = q_s + g * d;
      const float* kj = k_s + j * (d + 1);
      float dot = 0.0f;
      for (int e = 0; e < d; ++e) dot += qg[e] * kj[e];
      sc[g * bs + j] = dot * a.scale;
    }
    __syncthreads();
    for (int g = warp; g < group; g += num_warps) {
      float block_max = -INFINITY;
      for (int j = lane; j < nk; j += 32) block_max = fmaxf(block_max, sc[g * bs + j]);
      block_max = WarpMax(block_max);
      const float m_old = m_s[g];
      const float m_new = fmaxf(m_old, block_max);  // finite: nk >= 1
      float sum = 0.0f;
      for (int j = lane; j < nk; j += 32) {
        const float p = expf(sc[g * bs + j] - m_new);
        sc[g * bs + j] = p;
        sum += p;
      }
      sum = WarpSum(sum);
      __syncwarp();
      if (lane == 0) {
        const float corr = expf(m_old - m_new);  // 0 on the first block
        corr_s[g] = corr;
        l_s[g] = l_s[g] * corr + sum;
        m_s[g] = m_new;
      }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < group * d; i += blockDim.x) {
      const int g = i / d, e = i % d;
      float acc = acc_s[i] * corr_s[g];
      const float* p = sc + g * bs;
      for (int j = 0; j < nk; ++j) acc += p[j] * v_s[j * d + e];
      acc_s[i] = acc;
    }
    __syncthreads();  // k_s, v_s and sc are refilled next block
  }

  T* out_row = static_cast<T*>(a.out) + int64_t{row} * a.out_stride + int64_t{kv_head} * group * d;
  for (int i = threadIdx.x; i < group * d; i += blockDim.x) {
    out_row[i] = FromF32<T>(acc_s[i] / l_s[i / d]);
  }
}

}  // namespace

size_t GenericAttentionSmemBytes(const AttentionArgs& a) {
  return SmemFloats(a.n_heads / a.n_kv_heads, a.head_dim, a.block_size) * sizeof(float);
}

cudaError_t LaunchAttentionGeneric(const AttentionArgs& a, cudaStream_t stream) {
  if (a.num_tokens == 0) return cudaSuccess;
  const size_t smem = GenericAttentionSmemBytes(a);
  const dim3 grid(static_cast<unsigned>(a.num_tokens), static_cast<unsigned>(a.n_kv_heads));
  GQA_DISPATCH_DTYPE(a.dtype, {
    if (smem > 48 * 1024) {
      const cudaError_t err = cudaFuncSetAttribute(
          GenericAttentionKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
      if (err != cudaSuccess) return err;
    }
    GenericAttentionKernel<T><<<grid, kThreads, smem, stream>>>(a);
  });
  return cudaGetLastError();
}

}  // namespace gqa::cuda
