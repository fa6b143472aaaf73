// LlamaModel: the Llama-family GQA decoder (Llama 2/3, Mistral, Qwen2 biases)
// written as calls on the Backend interface. One Forward runs every token of a
// ragged batch through all layers, reading and writing the paged KV cache.
//
// Thread ownership: the engine thread (as its Backend).
#pragma once

#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/model/device_weights.h"
#include "engine/model/model_weights.h"

namespace gqa {

// One step's inputs, every array in backend memory.
struct ForwardBatch {
  const int32_t* token_ids = nullptr;  // [attn.num_tokens]
  AttentionMetadata attn;
  const int32_t* logit_rows = nullptr;  // [num_logit_rows] batch rows whose logits are wanted
  int num_logit_rows = 0;
};

class LlamaModel {
 public:
  // Uploads `weights` into `backend` (which must outlive the model) and sizes
  // the activation workspace for up to `max_num_tokens` rows per Forward and
  // `max_logit_rows` rows per Logits call.
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Create(const ModelWeights& weights,
                                                            Backend* backend, int max_num_tokens,
                                                            int max_logit_rows);

  // Device bytes Create allocates besides the weights, for sizing memory
  // before loading: the activation workspace (what activation_bytes() will
  // report; `dtype` is the backend's activation dtype) and the RoPE tables.
  // The one source of these numbers: AllocateWorkspace carves the same slots.
  static size_t WorkspaceBytes(const ModelConfig& config, int max_num_tokens, int max_logit_rows,
                               DType dtype);
  static size_t RopeTableBytes(const ModelConfig& config);

  const ModelConfig& config() const { return config_; }
  int max_num_tokens() const { return max_num_tokens_; }
  int max_logit_rows() const { return max_logit_rows_; }
  size_t weight_bytes() const { return weights_.total_bytes; }
  size_t activation_bytes() const { return workspace_bytes_; }

  // Runs the decoder over `batch` (num_tokens <= max_num_tokens), writing each
  // token's K/V into `kv_cache` (one entry per layer). Returns the final-norm
  // hidden states of batch.logit_rows: [num_logit_rows, dim] in backend memory,
  // valid until the next Forward.
  Tensor Forward(const ForwardBatch& batch, std::span<const KvCacheLayer> kv_cache);

  // logits = hidden * lm_head^T for up to max_logit_rows rows of Forward's
  // result: [rows, vocab] in backend memory, valid until the next call.
  Tensor Logits(const Tensor& hidden_rows);

 private:
  LlamaModel(const ModelConfig& config, Backend* backend) : config_(config), backend_(backend) {}
  absl::Status AllocateWorkspace();
  void AttentionBlock(int layer, const ForwardBatch& batch, const KvCacheLayer& kv, int n);
  void FeedForwardBlock(int layer, int n);

  ModelConfig config_;
  Backend* backend_;
  DeviceWeights weights_;
  DeviceTensor rope_cos_, rope_sin_;  // [max_seq_len, head_dim / 2] f32
  int max_num_tokens_ = 0;
  int max_logit_rows_ = 0;

  // Activation workspace, [max_num_tokens, *] unless noted; Forward uses row prefixes.
  DeviceBuffer workspace_;
  size_t workspace_bytes_ = 0;
  Tensor residual_;  // [T, dim]   the residual stream
  Tensor normed_;    // [T, dim]   RMSNorm output feeding the next GEMM
  Tensor qkv_;       // [T, q_dim + 2 * kv_dim]
  Tensor attn_out_;  // [T, q_dim]
  Tensor proj_out_;  // [T, dim]   output of wo and of w_down, added into the residual
  Tensor gate_up_;   // [T, 2 * hidden_dim]
  Tensor ffn_act_;   // [T, hidden_dim]
  Tensor selected_;  // [T, dim]   hidden rows gathered for logits
  Tensor logits_;    // [max_logit_rows, vocab]
};

}  // namespace gqa
