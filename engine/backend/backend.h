// Backend: the ops the Llama forward pass is written in. The CPU backend
// (backend/cpu) is the readable fp32 reference; the CUDA backend
// (backend/cuda, the only place that includes CUDA headers) is the fast one.
// Every tensor and index array passed to an op lives in the backend's memory.
//
// Thread ownership: a Backend is used by one thread at a time (the engine
// thread); ops run in call order.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/backend/device_buffer.h"
#include "engine/common/rope_style.h"
#include "engine/common/tensor.h"

namespace gqa {

// One ragged batch as the attention ops see it: the new tokens of `num_seqs`
// sequences concatenated into `num_tokens` rows. Sequence s owns rows
// [query_start[s], query_start[s+1]) and, after this step's KV writes, has
// context_lens[s] tokens in the cache; its new tokens are the last ones, so
// row r of sequence s sits at position context_lens[s] - q_len(s) + (r - query_start[s]).
struct AttentionMetadata {
  int num_seqs = 0;
  int num_tokens = 0;
  int max_query_len = 0;  // host-side launch hints
  int max_context_len = 0;
  int max_blocks_per_seq = 0;             // row length of block_tables
  const int32_t* query_start = nullptr;   // [num_seqs + 1]
  const int32_t* context_lens = nullptr;  // [num_seqs]
  const int32_t* block_tables = nullptr;  // [num_seqs, max_blocks_per_seq] block ids
  const int32_t* positions = nullptr;     // [num_tokens] position of each row
  const int64_t* slot_mapping = nullptr;  // [num_tokens] block_id * block_size + offset in block
};

// One layer's paged KV cache. A block id indexes the same block in every layer.
struct KvCacheLayer {
  Tensor k;  // [num_blocks, n_kv_heads, block_size, head_dim]
  Tensor v;  // [num_blocks, n_kv_heads, block_size, head_dim]
};

// RoPE angles per position, computed once by the model (rope_theta and Llama 3
// scaling already applied): cos[p, i] = cos(p * inv_freq[i]).
struct RopeTables {
  Tensor cos;  // [max_seq_len, head_dim / 2] f32
  Tensor sin;  // [max_seq_len, head_dim / 2] f32
  RopeStyle style = RopeStyle::kHalves;
};

struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;  // query head h reads KV head h / (n_heads / n_kv_heads)
  int head_dim = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string_view name() const = 0;  // "cpu", "cuda"
  // dtype of the activations this backend computes in.
  virtual DType activation_dtype() const = 0;
  // dtype of the paged KV cache (KvCacheLayer's tensors) RopeAndCacheWrite
  // writes and PagedAttention reads; the default, activation_dtype(), is the
  // CUDA backend's. The CPU backend may cache in bf16 while it computes in
  // f32: half the bytes per token, so twice the tokens in the same memory
  // and half the bytes read per decode step.
  virtual DType kv_cache_dtype() const { return activation_dtype(); }
  // The dtype this backend keeps a weight matrix in (Gemm's w, and the
  // embedding table EmbeddingLookup reads) when the checkpoint stores it as
  // `stored`: `stored` itself when Gemm and EmbeddingLookup compute from it
  // directly (the CPU backend with a quant::VecDotKernel for it: quantized
  // GGUF weights stay in the file's bytes), else the dtype DeviceWeights
  // converts it to. Norms and biases are always activation_dtype(). The
  // default, every matrix in activation_dtype(), is the CUDA backend's.
  virtual DType MatrixWeightDType(DType stored) const { return activation_dtype(); }
  // The dtype a matrix of `rows` rows that MatrixWeightDType keeps in `kept`
  // is stored in: a layout of the same blocks that this backend's Gemm and
  // EmbeddingLookup read faster (the CPU backend's packed blocks,
  // engine/quant/packed_blocks.h), or `kept` itself, the default.
  virtual DType MatrixLayoutDType(DType kept, int64_t rows) const { return kept; }

  // ---- memory ----
  virtual absl::StatusOr<DeviceBuffer> Allocate(size_t bytes) = 0;
  virtual void CopyToDevice(void* dst, const void* src, size_t bytes) = 0;
  virtual void CopyToHost(void* dst, const void* src, size_t bytes) = 0;
  // Waits until every op issued so far has finished.
  virtual void Synchronize() {}
  // OK, or the first failure of an earlier op (ops return void; a device
  // backend's work is asynchronous): a device fault, an unsupported shape.
  // After a failure the backend's results are garbage, never a hang; the
  // caller should check this after each step and fail its requests.
  virtual absl::Status status() const { return absl::OkStatus(); }

  // ---- ops (shapes in rows x cols; n = rows of the ragged batch) ----
  // out[i, :] = table[ids[i], :].  table [vocab, dim], ids [n], out [n, dim].
  virtual void EmbeddingLookup(const Tensor& table, const int32_t* ids, Tensor out) = 0;

  // out[i, :] = x[i, :] / rms(x[i, :]) * weight.  x, out [n, dim]; weight [dim].
  virtual void RmsNorm(const Tensor& x, const Tensor& weight, float eps, Tensor out) = 0;

  // residual += x; out = RmsNorm(residual) * weight. All [n, dim] but weight [dim].
  virtual void AddRmsNorm(Tensor residual, const Tensor& x, const Tensor& weight, float eps,
                          Tensor out) = 0;

  // y = x * w^T (+ bias). x [m, k], w [n, k] (a weight, [out, in]), bias [n] or empty, y [m, n].
  virtual void Gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y) = 0;

  // Rotates the Q and K parts of the fused projection `qkv`
  // ([n, (n_heads + 2 * n_kv_heads) * head_dim], columns Q | K | V) in place at
  // meta.positions, then writes K and V of each row into the cache at
  // meta.slot_mapping.
  virtual void RopeAndCacheWrite(Tensor qkv, const RopeTables& rope, const AttentionShape& shape,
                                 const AttentionMetadata& meta, KvCacheLayer kv) = 0;

  // Causal attention of each new row over its sequence's cached tokens
  // (positions 0 .. its own). q [n, n_heads * head_dim] (may be a column view),
  // out [n, n_heads * head_dim]. Each KV head's blocks are read once for the
  // whole group of n_heads / n_kv_heads query heads that share it.
  virtual void PagedAttention(const Tensor& q, const KvCacheLayer& kv,
                              const AttentionMetadata& meta, const AttentionShape& shape,
                              float scale, Tensor out) = 0;

  // out = silu(gate) * up, where gate_up [n, 2 * hidden] is columns gate | up; out [n, hidden].
  virtual void SiluMul(const Tensor& gate_up, Tensor out) = 0;

  // out[i, :] = x[rows[i], :].  rows [m] (backend memory), out [m, cols].
  virtual void GatherRows(const Tensor& x, const int32_t* rows, Tensor out) = 0;

  // ---- sampling helpers ----
  // Greedy decoding of logits [m, vocab] (f32): for each row i
  //   tokens[i]   = the lowest index of the row's largest value (NaN never
  //                 wins; an all-NaN row gives 0), the host sampler's argmax;
  //   logprobs[i] = logits[i, tokens[i]] - log(sum_j exp(logits[i, j])),
  //                 NaN when the row holds a NaN or its max is infinite.
  // tokens [m], logprobs [m] in backend memory.
  virtual void ArgMaxRows(const Tensor& logits, int32_t* tokens, float* logprobs) = 0;

  // Whether greedy rows should be decoded by ArgMaxRows, so that 8 bytes a
  // row cross to the host instead of the vocab-wide row (a device backend:
  // 0.5 MB a row for a 128k vocabulary). The CPU backend says no: its logits
  // are host memory already, and the host sampler is the reference.
  virtual bool greedy_on_device() const { return false; }
};

// How the CPU backend stores weight matrices (--dtype on the CPU).
enum class CpuWeights {
  kAuto,  // the checkpoint's dtype where a kernel computes from it, else f32
  kF32,   // everything dequantized to f32: the reference path
  kBF16,  // bf16 (f16 kept as f16 where a kernel exists); needs a bf16 kernel
};

// The CPU backend with `num_threads` worker threads (0: every core), its KV
// cache in `kv_cache_dtype`: kF32 or kBF16.
std::unique_ptr<Backend> MakeCpuBackend(int num_threads = 0, CpuWeights weights = CpuWeights::kAuto,
                                        DType kv_cache_dtype = DType::kF32);

}  // namespace gqa
