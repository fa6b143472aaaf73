// Paged GQA decode attention on tensor cores (mma.sync m16n8k16, sm_80+),
// split-KV (flash-decoding) with a combine kernel.
//
// Work: one CTA per (sequence, KV head, 16-head slice of its group, split of
// the context). The M dimension of the matrix products is the group's query
// heads (G of them, zero-padded to 16), so each K/V element is loaded from
// device memory once and used for every query head of its group: GQA's
// bandwidth saving, never an expanded K/V. (For G > 16 the slices of one
// group are adjacent CTAs that read the same blocks at the same time, so the
// second read is served by L2.) The 4 warps of a CTA take 16-key chunks of
// the split round-robin, each with its own online softmax, and merge through
// shared memory at the end.
//
// No shared memory in the main loop: K and V go from device memory straight
// into mma fragments with 16-byte loads. That works because a dot product
// does not care in which order its terms are summed, nor P*V in which order
// its output columns are produced, as long as both operands agree:
//  - S = Q K^T: head_dim is the k index. Lane (g, t) loads 16 bytes of key
//    row g of an 8-key tile at dims 32*kp + 8t .. +7; their four b32 words
//    are the B fragments of k-steps 2kp (words 0, 1) and 2kp+1 (words 2, 3).
//    Q's A fragments are loaded with the same permutation.
//  - O = P V: keys are the k index (P comes from S's accumulators as in
//    FlashAttention-2), output dims the n index. n-tile jn, column n is dim
//    64 * (jn / 8) + 8n + jn % 8: lane (g, t) loads 16 bytes of dims
//    64c + 8g .. +7 of keys 2t, 2t+1, 2t+8, 2t+9 and pairs them up with
//    byte permutes; its accumulators then hold 16 consecutive output dims
//    per 64-dim chunk and row.
// Each warp load instruction reads whole 32-byte sectors.
#include <algorithm>
#include <cmath>

#include "engine/backend/cuda/cuda_common.cuh"
#include "engine/backend/cuda/mma.cuh"

namespace gqa::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kChunk = 16;         // keys per warp iteration (one k-step of P V)
constexpr int kHeadsPerTile = 16;  // M of the mma
constexpr float kLog2e = 1.4426950408889634f;

int NumHeadTiles(const AttentionArgs& a) {
  const int group = a.n_heads / a.n_kv_heads;
  return (group + kHeadsPerTile - 1) / kHeadsPerTile;
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads)
    DecodeKernel(AttentionArgs a, int chunks_per_split, float* partial_out, float* partial_lse) {
  constexpr int KP = D / 32;  // 16-byte loads per key row per lane (S = Q K^T)
  constexpr int KS = D / 16;  // k-steps of S
  constexpr int NC = D / 64;  // 64-dim chunks of the output
  constexpr int NT = D / 8;   // n-tiles of O
  __shared__ float s_m[kWarps][kHeadsPerTile];
  __shared__ float s_l[kWarps][kHeadsPerTile];
  __shared__ float s_o[kWarps][kHeadsPerTile][D];

  const int seq = blockIdx.y, split = blockIdx.z, num_splits = gridDim.z;
  const int q_len = a.query_start[seq + 1] - a.query_start[seq];
  if (q_len != 1) return;  // not a decode row: attention_prefill.cu handles it
  const int row = a.query_start[seq];
  const int ctx = a.context_lens[seq];
  const int num_tiles = (a.n_heads / a.n_kv_heads + kHeadsPerTile - 1) / kHeadsPerTile;
  const int tile = blockIdx.x % num_tiles, kv_head = blockIdx.x / num_tiles;
  const int group = a.n_heads / a.n_kv_heads;
  const int head0 = kv_head * group + tile * kHeadsPerTile;
  const int rows_valid = min(kHeadsPerTile, group - tile * kHeadsPerTile);

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;

  // Q fragments, permuted as described above; rows >= rows_valid are zero.
  uint32_t qa[KS][4];
  {
    const T* q = static_cast<const T*>(a.q) + int64_t{row} * a.q_stride;
    const T* q_lo = q + int64_t(head0 + g) * D;
    const T* q_hi = q + int64_t(head0 + g + 8) * D;
#pragma unroll
    for (int kp = 0; kp < KP; ++kp) {
      uint4 lo = make_uint4(0, 0, 0, 0), hi = make_uint4(0, 0, 0, 0);
      if (g < rows_valid) lo = *reinterpret_cast<const uint4*>(q_lo + 32 * kp + 8 * t);
      if (g + 8 < rows_valid) hi = *reinterpret_cast<const uint4*>(q_hi + 32 * kp + 8 * t);
      qa[2 * kp][0] = lo.x;
      qa[2 * kp][1] = hi.x;
      qa[2 * kp][2] = lo.y;
      qa[2 * kp][3] = hi.y;
      qa[2 * kp + 1][0] = lo.z;
      qa[2 * kp + 1][1] = hi.z;
      qa[2 * kp + 1][2] = lo.w;
      qa[2 * kp + 1][3] = hi.w;
    }
  }

  float o[NT][4];
#pragma unroll
  for (int j = 0; j < NT; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  float m_lo = -INFINITY, m_hi = -INFINITY;  // running max (log2 units) of rows g, g + 8
  float l_lo = 0.0f, l_hi = 0.0f;            // this lane's part of the running sums
  const float score_scale = a.scale * kLog2e;

  const int num_chunks = (ctx + kChunk - 1) / kChunk;
  const int chunk_begin = split * chunks_per_split;
  // The last split takes whatever is left, so a context longer than the
  // launch's max_context_len promised is still attended in full.
  const int chunk_end =
      split == num_splits - 1 ? num_chunks : min(num_chunks, chunk_begin + chunks_per_split);
  const T* k_cache = static_cast<const T*>(a.k_cache);
  const T* v_cache = static_cast<const T*>(a.v_cache);
  const int32_t* table = a.block_tables + int64_t{seq} * a.max_blocks_per_seq;

  for (int c = chunk_begin + warp; c < chunk_end; c += kWarps) {
    const int key0 = c * kChunk;
    const int64_t base =
        ((int64_t{table[key0 / a.block_size]} * a.n_kv_heads + kv_head) * a.block_size +
         key0 % a.block_size) *
        D;
    const T* kb = k_cache + base;  // [16 keys, D] of this chunk, contiguous
    const T* vb = v_cache + base;
    // Keys at or past ctx are unwritten slots of the last block: load zeros,
    // so a NaN there cannot reach P * V.
    uint4 kr[2][KP];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const bool valid = key0 + 8 * j + g < ctx;
#pragma unroll
      for (int kp = 0; kp < KP; ++kp) {
        kr[j][kp] = valid ? *reinterpret_cast<const uint4*>(kb + (8 * j + g) * D + 32 * kp + 8 * t)
                          : make_uint4(0, 0, 0, 0);
      }
    }
    uint4 vr[4][NC];  // keys 2t, 2t+1, 2t+8, 2t+9; dims 64c + 8g .. +7
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int key = 2 * t + (i & 1) + 8 * (i >> 1);
      const bool valid = key0 + key < ctx;
#pragma unroll
      for (int cc = 0; cc < NC; ++cc) {
        vr[i][cc] = valid ? *reinterpret_cast<const uint4*>(vb + key * D + 64 * cc + 8 * g)
                          : make_uint4(0, 0, 0, 0);
      }
    }

    // S = Q K^T for 16 keys: two n-tiles of 8 keys.
    float sc[2][4];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
#pragma unroll
      for (int kp = 0; kp < KP; ++kp) {
        Mma16816<T>(sc[j], qa[2 * kp], kr[j][kp].x, kr[j][kp].y);
        Mma16816<T>(sc[j], qa[2 * kp + 1], kr[j][kp].z, kr[j][kp].w);
      }
    }
    // Scale to log2 units, mask keys past the context, online softmax.
    float mx_lo = -INFINITY, mx_hi = -INFINITY;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const bool valid = key0 + 8 * j + 2 * t + e < ctx;
        sc[j][e] = valid ? sc[j][e] * score_scale : -INFINITY;
        sc[j][2 + e] = valid ? sc[j][2 + e] * score_scale : -INFINITY;
        mx_lo = fmaxf(mx_lo, sc[j][e]);
        mx_hi = fmaxf(mx_hi, sc[j][2 + e]);
      }
    }
    // Key key0 < ctx is valid, so both maxima are finite.
    const float new_lo = fmaxf(m_lo, QuadMax(mx_lo));
    const float new_hi = fmaxf(m_hi, QuadMax(mx_hi));
    const float corr_lo = exp2f(m_lo - new_lo), corr_hi = exp2f(m_hi - new_hi);
    m_lo = new_lo;
    m_hi = new_hi;
    float sum_lo = 0.0f, sum_hi = 0.0f;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
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

    // O += P V: P (16 heads x 16 keys) is the A fragment, straight from S.
    uint32_t pa[4];
    pa[0] = PackPair<T>(sc[0][0], sc[0][1]);
    pa[1] = PackPair<T>(sc[0][2], sc[0][3]);
    pa[2] = PackPair<T>(sc[1][0], sc[1][1]);
    pa[3] = PackPair<T>(sc[1][2], sc[1][3]);
#pragma unroll
    for (int cc = 0; cc < NC; ++cc) {
      const uint32_t* k0 = reinterpret_cast<const uint32_t*>(&vr[0][cc]);  // key 2t
      const uint32_t* k1 = reinterpret_cast<const uint32_t*>(&vr[1][cc]);  // key 2t+1
      const uint32_t* k8 = reinterpret_cast<const uint32_t*>(&vr[2][cc]);  // key 2t+8
      const uint32_t* k9 = reinterpret_cast<const uint32_t*>(&vr[3][cc]);  // key 2t+9
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        // Element e of each key's 16 bytes: low (0x5410) or high (0x7632) halves.
        const uint32_t sel = (e & 1) ? 0x7632u : 0x5410u;
        const uint32_t b0 = __byte_perm(k0[e / 2], k1[e / 2], sel);
        const uint32_t b1 = __byte_perm(k8[e / 2], k9[e / 2], sel);
        Mma16816<T>(o[8 * cc + e], pa, b0, b1);
      }
    }
  }

  // Merge the warps: (max, sum, unnormalized O) of each through shared memory.
  l_lo = QuadSum(l_lo);
  l_hi = QuadSum(l_hi);
  if (t == 0) {
    s_m[warp][g] = m_lo;
    s_m[warp][g + 8] = m_hi;
    s_l[warp][g] = l_lo;
    s_l[warp][g + 8] = l_hi;
  }
#pragma unroll
  for (int cc = 0; cc < NC; ++cc) {
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const int dim = 64 * cc + 16 * t + e;
      s_o[warp][g][dim] = o[8 * cc + e][0];
      s_o[warp][g][dim + 8] = o[8 * cc + e][1];
      s_o[warp][g + 8][dim] = o[8 * cc + e][2];
      s_o[warp][g + 8][dim + 8] = o[8 * cc + e][3];
    }
  }
  __syncthreads();

  for (int i = threadIdx.x; i < rows_valid * (D / 8); i += kThreads) {
    const int r = i / (D / 8), d8 = (i % (D / 8)) * 8;
    float m = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) m = fmaxf(m, s_m[w][r]);
    float weight[kWarps], l = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      weight[w] = m == -INFINITY ? 0.0f : exp2f(s_m[w][r] - m);
      l += weight[w] * s_l[w][r];
    }
    const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;  // l == 0: an empty split
    float v[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      float acc = 0.0f;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) acc += weight[w] * s_o[w][r][d8 + e];
      v[e] = acc * inv_l;
    }
    const int head = head0 + r;
    if (num_splits == 1) {
      const uint4 packed = make_uint4(PackPair<T>(v[0], v[1]), PackPair<T>(v[2], v[3]),
                                      PackPair<T>(v[4], v[5]), PackPair<T>(v[6], v[7]));
      *reinterpret_cast<uint4*>(static_cast<T*>(a.out) + int64_t{row} * a.out_stride +
                                int64_t{head} * D + d8) = packed;
    } else {
      const int64_t at = (int64_t{seq} * a.n_heads + head) * num_splits + split;
      float* dst = partial_out + at * D + d8;
      *reinterpret_cast<float4*>(dst) = make_float4(v[0], v[1], v[2], v[3]);
      *reinterpret_cast<float4*>(dst + 4) = make_float4(v[4], v[5], v[6], v[7]);
      if (d8 == 0) partial_lse[at] = l > 0.0f ? m + log2f(l) : -INFINITY;
    }
  }
}

// out[row of seq, head] = sum_i 2^(lse_i - max) o_i / sum_i 2^(lse_i - max).
// One CTA per (sequence, query head), one thread per output dim.
template <typename T>
__global__ void CombineKernel(AttentionArgs a, int num_splits, const float* partial_out,
                              const float* partial_lse) {
  const int seq = blockIdx.x, head = blockIdx.y, dim = threadIdx.x;
  if (a.query_start[seq + 1] - a.query_start[seq] != 1) return;
  const int row = a.query_start[seq];
  const int64_t at = (int64_t{seq} * a.n_heads + head) * num_splits;
  float m = -INFINITY;
  for (int i = 0; i < num_splits; ++i) m = fmaxf(m, partial_lse[at + i]);
  float acc = 0.0f, total = 0.0f;
  for (int i = 0; i < num_splits; ++i) {
    const float lse = partial_lse[at + i];
    if (lse == -INFINITY) continue;  // an empty split
    const float w = exp2f(lse - m);
    total += w;
    acc += w * partial_out[(at + i) * a.head_dim + dim];
  }
  static_cast<T*>(a.out)[int64_t{row} * a.out_stride + int64_t{head} * a.head_dim + dim] =
      FromF32<T>(total > 0.0f ? acc / total : 0.0f);
}

template <typename T, int D>
cudaError_t Launch(const AttentionArgs& a, int num_splits, int chunks_per_split, float* partial_out,
                   float* partial_lse, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(NumHeadTiles(a) * a.n_kv_heads),
                  static_cast<unsigned>(a.num_seqs), static_cast<unsigned>(num_splits));
  DecodeKernel<T, D><<<grid, kThreads, 0, stream>>>(a, chunks_per_split, partial_out, partial_lse);
  if (num_splits > 1) {
    const dim3 combine_grid(static_cast<unsigned>(a.num_seqs), static_cast<unsigned>(a.n_heads));
    CombineKernel<T><<<combine_grid, D, 0, stream>>>(a, num_splits, partial_out, partial_lse);
  }
  return cudaGetLastError();
}

}  // namespace

bool TensorCoreAttentionSupports(const AttentionArgs& a) {
  const bool half_type = a.dtype == KernelDType::kF16 || a.dtype == KernelDType::kBF16;
  return half_type && (a.head_dim == 64 || a.head_dim == 128) && a.block_size % 16 == 0 &&
         Aligned16(a.q) && Aligned16(a.out) && Aligned16(a.k_cache) && Aligned16(a.v_cache) &&
         a.q_stride % 8 == 0 && a.out_stride % 8 == 0;
}

size_t DecodePartialBytes(const AttentionArgs& a, int num_splits) {
  if (num_splits <= 1) return 0;
  const size_t entries = size_t(a.num_seqs) * a.n_heads * num_splits;
  return entries * (a.head_dim + 1) * sizeof(float);
}

int ChooseDecodeSplits(const AttentionArgs& a, int num_sms) {
  if (a.max_query_len > 1) return 1;  // a batch with prefill rows has work enough
  const int max_chunks = (a.max_context_len + kChunk - 1) / kChunk;
  const int ctas = a.num_seqs * a.n_kv_heads * NumHeadTiles(a);
  // About eight CTAs per SM: with three resident per SM (168 registers a
  // thread) that is close to three waves, so the last, partial wave costs
  // little. At least 8 chunks (two per warp) per split, at most 128 splits.
  // A first guess from the resource report; tune with decode_num_splits.
  int splits = (8 * num_sms + ctas - 1) / ctas;
  splits = std::min(splits, std::max(1, max_chunks / 8));
  return std::clamp(splits, 1, 128);
}

cudaError_t LaunchAttentionDecode(const AttentionArgs& a, int num_splits, float* partial_out,
                                  float* partial_lse, cudaStream_t stream) {
  if (a.num_seqs == 0) return cudaSuccess;
  const int max_chunks = std::max(1, (a.max_context_len + kChunk - 1) / kChunk);
  num_splits = std::clamp(num_splits, 1, max_chunks);
  const int chunks_per_split = (max_chunks + num_splits - 1) / num_splits;
  num_splits = (max_chunks + chunks_per_split - 1) / chunks_per_split;  // none left empty
  const bool bf16 = a.dtype == KernelDType::kBF16;
  if (a.head_dim == 128) {
    return bf16 ? Launch<__nv_bfloat16, 128>(a, num_splits, chunks_per_split, partial_out,
                                             partial_lse, stream)
                : Launch<__half, 128>(a, num_splits, chunks_per_split, partial_out, partial_lse,
                                      stream);
  }
  return bf16 ? Launch<__nv_bfloat16, 64>(a, num_splits, chunks_per_split, partial_out, partial_lse,
                                          stream)
              : Launch<__half, 64>(a, num_splits, chunks_per_split, partial_out, partial_lse,
                                   stream);
}

}  // namespace gqa::cuda
