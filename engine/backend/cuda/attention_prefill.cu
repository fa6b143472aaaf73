// Paged causal GQA attention for prefill rows on tensor cores (mma.sync
// m16n8k16, sm_80+), FlashAttention-2 style: tiled, online softmax, fp32
// accumulators. Correct for chunked prefill and for prompts whose first
// blocks are cached: a row at position p attends to cache positions 0..p,
// whichever step wrote them.
//
// GQA: the M dimension of a tile is 64 (query row, query head) pairs of ONE
// KV head, flattened as f = row * G + head_in_group, so every K/V tile loaded
// into shared memory serves all G query heads of the group (and 64 / G rows
// of them) at once; no K/V is ever expanded. CTA = (tile, KV head); 4 warps,
// each owning 16 of the 64 pairs. K/V tiles of 64 keys are gathered from the
// paged cache with cp.async into two shared-memory stages (the next tile
// loads while this one is used), 16-byte rows swizzled (chunk ^ row % 8) so
// ldmatrix reads them without bank conflicts.
//
// Tiles of sequence s are numbered from query_start[s] * G / 64 + s, which
// leaves at least ceil(q_len * G / 64) numbers per sequence without a prefix
// sum; surplus CTAs exit at once (as do sequences with one new token, which
// attention_decode.cu handles).
#include <algorithm>
#include <cmath>

#include "engine/backend/cuda/cuda_common.cuh"
#include "engine/backend/cuda/mma.cuh"

namespace gqa::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kM = 16 * kWarps;  // (row, head) pairs per tile
constexpr int kBK = 64;          // keys per K/V tile
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
size_t SmemBytes() {
  return size_t(kM + 4 * kBK) * D * 2;  // Q, then K and V in two stages, 16-bit elements
}

// Element offset of 16-byte chunk `chunk` of row `r` in a swizzled [rows, D] tile.
template <int D>
__device__ __forceinline__ int Swz(int r, int chunk) {
  return r * D + ((chunk ^ (r & 7)) << 3);
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) PrefillKernel(AttentionArgs a) {
  constexpr int CH = D / 8;  // 16-byte chunks per row
  constexpr int KS = D / 16;
  constexpr int NT = D / 8;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  T* q_s = reinterpret_cast<T*>(smem_raw);  // [kM, D]
  T* k_s = q_s + kM * D;                    // [2][kBK, D]
  T* v_s = k_s + 2 * kBK * D;               // [2][kBK, D]

  const int kv_head = blockIdx.y, tile = blockIdx.x;
  const int group = a.n_heads / a.n_kv_heads;
  auto tile_start = [&](int s) {
    return static_cast<int>(int64_t{a.query_start[s]} * group / kM) + s;
  };
  int lo = 0, hi = a.num_seqs - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (tile_start(mid) <= tile)
      lo = mid;
    else
      hi = mid - 1;
  }
  const int seq = lo;
  const int q_begin = a.query_start[seq], q_len = a.query_start[seq + 1] - q_begin;
  if (q_len <= 1) return;  // a decode row (or none)
  const int flat0 = (tile - tile_start(seq)) * kM, flat_total = q_len * group;
  if (flat0 >= flat_total) return;
  const int first_pos = a.context_lens[seq] - q_len;
  const int flat_last = min(flat0 + kM, flat_total) - 1;
  const int num_keys = first_pos + flat_last / group + 1;  // the tile's last row sees the most
  const int num_key_tiles = (num_keys + kBK - 1) / kBK;

  const T* q = static_cast<const T*>(a.q);
  const T* k_cache = static_cast<const T*>(a.k_cache);
  const T* v_cache = static_cast<const T*>(a.v_cache);
  const int32_t* table = a.block_tables + int64_t{seq} * a.max_blocks_per_seq;

  // Q tile; pairs past the sequence's rows are zero.
  for (int i = threadIdx.x; i < kM * CH; i += kThreads) {
    const int r = i / CH, c = i % CH, f = flat0 + r;
    const bool valid = f < flat_total;
    const T* src = q;
    if (valid) {
      src = q + int64_t(q_begin + f / group) * a.q_stride +
            int64_t(kv_head * group + f % group) * D + 8 * c;
    }
    CpAsync16(q_s + Swz<D>(r, c), src, valid);
  }
  // Keys at or past num_keys are zero-filled (they may be unwritten slots).
  auto load_kv_tile = [&](int kt, int stage) {
    T* kd = k_s + stage * kBK * D;
    T* vd = v_s + stage * kBK * D;
    for (int i = threadIdx.x; i < kBK * CH; i += kThreads) {
      const int r = i / CH, c = i % CH, key = kt * kBK + r;
      const bool valid = key < num_keys;
      int64_t off = 0;
      if (valid) {
        off = ((int64_t{table[key / a.block_size]} * a.n_kv_heads + kv_head) * a.block_size +
               key % a.block_size) *
                  D +
              8 * c;
      }
      CpAsync16(kd + Swz<D>(r, c), k_cache + off, valid);
      CpAsync16(vd + Swz<D>(r, c), v_cache + off, valid);
    }
  };
  load_kv_tile(0, 0);
  CpAsyncCommit();

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
  // Positions of this lane's two rows (pairs past the end reuse the last
  // row's, harmlessly: their Q is zero and they are never written).
  const int pos_lo = first_pos + min(flat0 + 16 * warp + g, flat_last) / group;
  const int pos_hi = first_pos + min(flat0 + 16 * warp + g + 8, flat_last) / group;
  const float score_scale = a.scale * kLog2e;

  uint32_t qa[KS][4];
  float o[NT][4];
#pragma unroll
  for (int j = 0; j < NT; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  float m_lo = -INFINITY, m_hi = -INFINITY, l_lo = 0.0f, l_hi = 0.0f;

  for (int kt = 0; kt < num_key_tiles; ++kt) {
    if (kt + 1 < num_key_tiles) {
      load_kv_tile(kt + 1, (kt + 1) & 1);
      CpAsyncCommit();
      CpAsyncWait<1>();  // everything but the tile just issued has landed
    } else {
      CpAsyncWait<0>();
    }
    __syncthreads();
    if (kt == 0) {
#pragma unroll
      for (int kk = 0; kk < KS; ++kk) {
        const int m = lane >> 3;
        const int r = 16 * warp + (m & 1) * 8 + (lane & 7);
        LdMatrixX4(qa[kk], SmemAddress(q_s + Swz<D>(r, 2 * kk + (m >> 1))));
      }
    }
    const T* kt_s = k_s + (kt & 1) * kBK * D;
    const T* vt_s = v_s + (kt & 1) * kBK * D;

    // S = Q K^T: 16 pairs x 64 keys per warp, 8 n-tiles of 8 keys.
    float sc[kBK / 8][4];
#pragma unroll
    for (int j = 0; j < kBK / 8; ++j) {
      sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
#pragma unroll
      for (int kk = 0; kk < KS; kk += 2) {
        uint32_t b[4];
        LdMatrixX4(b, SmemAddress(kt_s + Swz<D>(8 * j + (lane & 7), 2 * kk + (lane >> 3))));
        Mma16816<T>(sc[j], qa[kk], b[0], b[1]);
        Mma16816<T>(sc[j], qa[kk + 1], b[2], b[3]);
      }
    }
    // Causal mask (key <= row position, which also keeps keys < num_keys),
    // online softmax in log2 units. Key 0 is in tile 0 and visible to every
    // row, so the running maxima are finite from the first tile on.
    float mx_lo = -INFINITY, mx_hi = -INFINITY;
#pragma unroll
    for (int j = 0; j < kBK / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int key = kt * kBK + 8 * j + 2 * t + e;
        sc[j][e] = key <= pos_lo ? sc[j][e] * score_scale : -INFINITY;
        sc[j][2 + e] = key <= pos_hi ? sc[j][2 + e] * score_scale : -INFINITY;
        mx_lo = fmaxf(mx_lo, sc[j][e]);
        mx_hi = fmaxf(mx_hi, sc[j][2 + e]);
      }
    }
    const float new_lo = fmaxf(m_lo, QuadMax(mx_lo));
    const float new_hi = fmaxf(m_hi, QuadMax(mx_hi));
    const float corr_lo = exp2f(m_lo - new_lo), corr_hi = exp2f(m_hi - new_hi);
    m_lo = new_lo;
    m_hi = new_hi;
    float sum_lo = 0.0f, sum_hi = 0.0f;
#pragma unroll
    for (int j = 0; j < kBK / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        sc[j][e] = exp2f(sc[j][e] - new_lo);
        sc[j][2 + e] = exp2f(sc[j][2 + e] - new_hi);
        sum_lo += sc[j][e];
        sum_hi += sc[j][2 + e];
      }
    }
    l_lo = l_lo * corr_lo + sum_lo;
    l_hi = l_hi * corr_hi + sum_hi;
#pragma unroll
    for (int j = 0; j < NT; ++j) {
      o[j][0] *= corr_lo;
      o[j][1] *= corr_lo;
      o[j][2] *= corr_hi;
      o[j][3] *= corr_hi;
    }

    // O += P V, 16 keys per k-step; V fragments by ldmatrix.trans.
#pragma unroll
    for (int ks = 0; ks < kBK / 16; ++ks) {
      uint32_t pa[4];
      pa[0] = PackPair<T>(sc[2 * ks][0], sc[2 * ks][1]);
      pa[1] = PackPair<T>(sc[2 * ks][2], sc[2 * ks][3]);
      pa[2] = PackPair<T>(sc[2 * ks + 1][0], sc[2 * ks + 1][1]);
      pa[3] = PackPair<T>(sc[2 * ks + 1][2], sc[2 * ks + 1][3]);
#pragma unroll
      for (int jn = 0; jn < NT; jn += 2) {
        const int m = lane >> 3;
        const int key = 16 * ks + (m & 1) * 8 + (lane & 7);
        uint32_t b[4];
        LdMatrixX4Trans(b, SmemAddress(vt_s + Swz<D>(key, jn + (m >> 1))));
        Mma16816<T>(o[jn], pa, b[0], b[1]);
        Mma16816<T>(o[jn + 1], pa, b[2], b[3]);
      }
    }
    __syncthreads();  // this stage is refilled by the next iteration's prefetch
  }

  l_lo = QuadSum(l_lo);
  l_hi = QuadSum(l_hi);
  T* out = static_cast<T*>(a.out);
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int f = flat0 + 16 * warp + g + 8 * half;
    if (f >= flat_total) continue;
    const float inv_l = 1.0f / (half ? l_hi : l_lo);
    T* dst = out + int64_t(q_begin + f / group) * a.out_stride +
             int64_t(kv_head * group + f % group) * D + 2 * t;
#pragma unroll
    for (int jn = 0; jn < NT; ++jn) {
      *reinterpret_cast<uint32_t*>(dst + 8 * jn) =
          PackPair<T>(o[jn][2 * half] * inv_l, o[jn][2 * half + 1] * inv_l);
    }
  }
}

template <typename T, int D>
cudaError_t Launch(const AttentionArgs& a, cudaStream_t stream) {
  const int group = a.n_heads / a.n_kv_heads;
  const int64_t tiles = int64_t{a.num_tokens} * group / kM + a.num_seqs;
  const size_t smem = SmemBytes<D>();
  if (smem > 48 * 1024) {
    const cudaError_t err = cudaFuncSetAttribute(
        PrefillKernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (err != cudaSuccess) return err;
  }
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(a.n_kv_heads));
  PrefillKernel<T, D><<<grid, kThreads, smem, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchAttentionPrefill(const AttentionArgs& a, cudaStream_t stream) {
  if (a.num_seqs == 0 || a.max_query_len <= 1) return cudaSuccess;
  const bool bf16 = a.dtype == KernelDType::kBF16;
  if (a.head_dim == 128) {
    return bf16 ? Launch<__nv_bfloat16, 128>(a, stream) : Launch<__half, 128>(a, stream);
  }
  return bf16 ? Launch<__nv_bfloat16, 64>(a, stream) : Launch<__half, 64>(a, stream);
}

}  // namespace gqa::cuda
