// Launchers of the CUDA backend's kernels (the .cu files of this directory).
// Plain structs and raw pointers only: this header is compiled by nvcc and by
// the host compiler, and keeps abseil out of nvcc's way. Every launcher
// enqueues on `stream` and returns the launch's error (cudaGetLastError);
// shapes are validated by the caller (cuda_backend.cc) before the launch.
// Strides are in elements. All pointers are device memory.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace gqa::cuda {

enum class KernelDType : int { kF32 = 0, kF16 = 1, kBF16 = 2 };

inline int KernelDTypeSize(KernelDType t) { return t == KernelDType::kF32 ? 4 : 2; }

// ---- elementwise.cu ----

// out[i, :] = table[ids[i], :] converted to out_dtype; a zero row for an id
// outside [0, vocab). table [vocab, dim], out [n, dim].
cudaError_t LaunchEmbedding(const void* table, KernelDType table_dtype, int64_t vocab,
                            int64_t table_stride, const int32_t* ids, void* out,
                            KernelDType out_dtype, int64_t out_stride, int64_t n, int64_t dim,
                            cudaStream_t stream);

// out = silu(gate) * up; gate_up [n, 2 * hidden] (gate | up), out [n, hidden].
cudaError_t LaunchSiluMul(const void* gate_up, int64_t gate_up_stride, void* out,
                          int64_t out_stride, int64_t n, int64_t hidden, KernelDType dtype,
                          cudaStream_t stream);

// out[i, :] = x[rows[i], :] byte for byte (a zero row for a row outside
// [0, x_rows)). elem_size 2 or 4.
cudaError_t LaunchGatherRows(const void* x, int64_t x_stride, int64_t x_rows, const int32_t* rows,
                             void* out, int64_t out_stride, int64_t m, int64_t cols, int elem_size,
                             cudaStream_t stream);

// y[i, :] = row for every i < m (row [n], y [m, n] with row stride ldy);
// byte copies of elem_size-byte elements.
cudaError_t LaunchBroadcastRow(const void* row, void* y, int64_t ldy, int64_t m, int64_t n,
                               int elem_size, cudaStream_t stream);

// data[0, count) = uniform [lo, hi) from a counter-based hash of (seed, i).
cudaError_t LaunchFillRandom(void* data, size_t count, KernelDType dtype, uint64_t seed, float lo,
                             float hi, cudaStream_t stream);

// ---- sampling.cu ----

// Backend::ArgMaxRows: tokens[i] = lowest index of the max of row i (NaN never
// wins; an all-NaN row gives 0), logprobs[i] = its log-softmax, NaN when the
// row holds a NaN or its max is infinite. logits [rows, vocab] f32 (row
// stride `stride`), tokens [rows], logprobs [rows]. rows < 2^31.
cudaError_t LaunchArgMaxRows(const float* logits, int64_t stride, int64_t rows, int64_t vocab,
                             int32_t* tokens, float* logprobs, cudaStream_t stream);

// ---- norm_rope.cu ----

// With residual == nullptr: out = x / rms(x) * weight.
// Otherwise: residual += x (rounded to dtype), out = residual / rms(residual) * weight.
// x, residual, out [n, dim]; weight [dim]; all `dtype`; fp32 sums.
cudaError_t LaunchRmsNorm(void* residual, int64_t residual_stride, const void* x, int64_t x_stride,
                          const void* weight, float eps, void* out, int64_t out_stride, int64_t n,
                          int64_t dim, KernelDType dtype, cudaStream_t stream);

struct RopeCacheArgs {
  void* qkv;  // [num_tokens, (n_heads + 2 * n_kv_heads) * head_dim], Q | K | V
  int64_t qkv_stride;
  const float* cos;  // [max_pos, head_dim / 2]
  const float* sin;
  int64_t max_pos;
  bool interleaved;             // RopeStyle::kInterleaved (pairs 2i, 2i+1), else halves
  const int32_t* positions;     // [num_tokens]
  const int64_t* slot_mapping;  // [num_tokens]; < 0: no cache write
  void* k_cache;                // [num_blocks, n_kv_heads, block_size, head_dim]
  void* v_cache;
  int64_t num_blocks;
  int num_tokens, n_heads, n_kv_heads, head_dim, block_size;
  KernelDType dtype;
};
cudaError_t LaunchRopeCacheWrite(const RopeCacheArgs& args, cudaStream_t stream);

// ---- attention (attention_generic.cu, attention_decode.cu, attention_prefill.cu) ----

// One PagedAttention call (backend.h): rows of sequence s are
// [query_start[s], query_start[s+1]); row i of it sits at position
// context_lens[s] - q_len + i and attends causally to positions 0 .. its own
// of KV head h / G.
struct AttentionArgs {
  const void* q;  // [num_tokens, n_heads * head_dim] (row stride q_stride)
  int64_t q_stride;
  const void* k_cache;  // [num_blocks, n_kv_heads, block_size, head_dim]
  const void* v_cache;
  void* out;  // [num_tokens, n_heads * head_dim]
  int64_t out_stride;
  const int32_t* query_start;   // [num_seqs + 1]
  const int32_t* context_lens;  // [num_seqs]
  const int32_t* block_tables;  // [num_seqs, max_blocks_per_seq]
  int num_seqs, num_tokens, max_query_len, max_context_len, max_blocks_per_seq;
  int n_heads, n_kv_heads, head_dim, block_size;
  float scale;
  KernelDType dtype;
};

// Portable CUDA-core kernel: any dtype, head_dim, group size and block size;
// one CTA per (row, KV head) serving its G query heads. Shared memory bytes it
// needs (the caller checks them against the device limit first).
size_t GenericAttentionSmemBytes(const AttentionArgs& args);
cudaError_t LaunchAttentionGeneric(const AttentionArgs& args, cudaStream_t stream);

// Tensor-core kernels (mma.sync, sm_80+): f16/bf16, head_dim 64 or 128,
// block_size a multiple of 16, 16-byte aligned q/out rows.
bool TensorCoreAttentionSupports(const AttentionArgs& args);

// Decode: the rows of every sequence with exactly one new token. One CTA per
// (sequence, KV head, 16-head slice of the group, split of the context).
// num_splits > 1 writes fp32 partials (partial_out [num_seqs, n_heads,
// num_splits, head_dim], partial_lse [num_seqs, n_heads, num_splits]) and
// runs the combine kernel; 1 writes out directly.
size_t DecodePartialBytes(const AttentionArgs& args, int num_splits);
cudaError_t LaunchAttentionDecode(const AttentionArgs& args, int num_splits, float* partial_out,
                                  float* partial_lse, cudaStream_t stream);
// Splits for this batch on a GPU with `num_sms` multiprocessors.
int ChooseDecodeSplits(const AttentionArgs& args, int num_sms);

// Prefill: the rows of every sequence with two or more new tokens (chunked
// prefill over a cached prefix included). Tiles of 64 (row, query head) pairs
// of one KV head, online softmax over 64-key tiles of the paged cache.
cudaError_t LaunchAttentionPrefill(const AttentionArgs& args, cudaStream_t stream);

}  // namespace gqa::cuda
