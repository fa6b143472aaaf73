#include "engine/model/llama_model.h"

#include <array>
#include <cmath>

#include "engine/common/status_macros.h"
#include "engine/model/rope_frequencies.h"

namespace gqa {

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Create(const ModelWeights& weights,
                                                               Backend* backend, int max_num_tokens,
                                                               int max_logit_rows) {
  GQA_RETURN_IF_ERROR(weights.config.Validate());
  if (max_num_tokens <= 0 || max_logit_rows <= 0) {
    return absl::InvalidArgumentError("max_num_tokens and max_logit_rows must be positive");
  }
  std::unique_ptr<LlamaModel> model(new LlamaModel(weights.config, backend));
  model->max_num_tokens_ = max_num_tokens;
  model->max_logit_rows_ = max_logit_rows;
  GQA_ASSIGN_OR_RETURN(model->weights_, UploadWeights(weights, *backend));

  const RopeHostTables rope = ComputeRopeTables(weights.config);
  const int64_t half = weights.config.head_dim / 2;
  const int64_t positions = weights.config.max_seq_len;
  Tensor host_cos =
      Tensor::Make(const_cast<float*>(rope.cos.data()), DType::kF32, {positions, half});
  Tensor host_sin =
      Tensor::Make(const_cast<float*>(rope.sin.data()), DType::kF32, {positions, half});
  GQA_ASSIGN_OR_RETURN(model->rope_cos_, UploadConcatenated(*backend, {host_cos}, DType::kF32));
  GQA_ASSIGN_OR_RETURN(model->rope_sin_, UploadConcatenated(*backend, {host_sin}, DType::kF32));
  GQA_RETURN_IF_ERROR(model->AllocateWorkspace());
  return model;
}

namespace {

// One tensor of the activation workspace, carved from one allocation.
struct WorkspaceSlot {
  int64_t rows, cols;
  DType dtype;
};
constexpr size_t kWorkspaceAlign = 256;
constexpr int kNumWorkspaceSlots = 9;

size_t AlignedBytes(const WorkspaceSlot& s) {
  return (s.rows * s.cols * DTypeSize(s.dtype) + kWorkspaceAlign - 1) / kWorkspaceAlign *
         kWorkspaceAlign;
}

// In the order of the tensors AllocateWorkspace assigns them to.
std::array<WorkspaceSlot, kNumWorkspaceSlots> WorkspaceLayout(const ModelConfig& c, int64_t t,
                                                              int64_t logit_rows, DType dt) {
  const int64_t qkv_cols = c.q_dim() + 2 * c.kv_dim();
  return {{
      {t, c.dim, dt},                      // residual_
      {t, c.dim, dt},                      // normed_
      {t, qkv_cols, dt},                   // qkv_
      {t, c.q_dim(), dt},                  // attn_out_
      {t, c.dim, dt},                      // proj_out_
      {t, 2 * int64_t{c.hidden_dim}, dt},  // gate_up_
      {t, c.hidden_dim, dt},               // ffn_act_
      {t, c.dim, dt},                      // selected_
      // Logits stay fp32 whatever the activations: the sampler reads them as floats.
      {logit_rows, c.vocab_size, DType::kF32},  // logits_
  }};
}

}  // namespace

size_t LlamaModel::WorkspaceBytes(const ModelConfig& config, int max_num_tokens, int max_logit_rows,
                                  DType dtype) {
  size_t bytes = 0;
  for (const WorkspaceSlot& s : WorkspaceLayout(config, max_num_tokens, max_logit_rows, dtype)) {
    bytes += AlignedBytes(s);
  }
  return bytes;
}

size_t LlamaModel::RopeTableBytes(const ModelConfig& config) {
  // cos and sin, [max_seq_len, head_dim / 2] f32 each.
  return size_t{2} * config.max_seq_len * (config.head_dim / 2) * sizeof(float);
}

absl::Status LlamaModel::AllocateWorkspace() {
  const auto layout =
      WorkspaceLayout(config_, max_num_tokens_, max_logit_rows_, backend_->activation_dtype());
  Tensor* const tensors[kNumWorkspaceSlots] = {&residual_, &normed_,   &qkv_,
                                               &attn_out_, &proj_out_, &gate_up_,
                                               &ffn_act_,  &selected_, &logits_};
  workspace_bytes_ =
      WorkspaceBytes(config_, max_num_tokens_, max_logit_rows_, backend_->activation_dtype());
  GQA_ASSIGN_OR_RETURN(workspace_, backend_->Allocate(workspace_bytes_));
  char* p = static_cast<char*>(workspace_.data());
  for (int i = 0; i < kNumWorkspaceSlots; ++i) {
    *tensors[i] = Tensor::Make(p, layout[i].dtype, {layout[i].rows, layout[i].cols});
    p += AlignedBytes(layout[i]);
  }
  return absl::OkStatus();
}

Tensor LlamaModel::Forward(const ForwardBatch& batch, std::span<const KvCacheLayer> kv_cache) {
  const int n = batch.attn.num_tokens;
  const float eps = config_.rms_norm_eps;
  backend_->EmbeddingLookup(weights_.embed.view, batch.token_ids, residual_.Rows(0, n));
  for (int layer = 0; layer < config_.n_layers; ++layer) {
    // The previous block's output (proj_out_) joins the residual inside the norm.
    const Tensor& norm = weights_.layers[layer].attn_norm.view;
    if (layer == 0) {
      backend_->RmsNorm(residual_.Rows(0, n), norm, eps, normed_.Rows(0, n));
    } else {
      backend_->AddRmsNorm(residual_.Rows(0, n), proj_out_.Rows(0, n), norm, eps,
                           normed_.Rows(0, n));
    }
    AttentionBlock(layer, batch, kv_cache[layer], n);
    FeedForwardBlock(layer, n);
  }
  backend_->AddRmsNorm(residual_.Rows(0, n), proj_out_.Rows(0, n), weights_.final_norm.view, eps,
                       normed_.Rows(0, n));
  const Tensor selected = selected_.Rows(0, batch.num_logit_rows);
  backend_->GatherRows(normed_.Rows(0, n), batch.logit_rows, selected);
  return selected;
}

// normed_ (the attention input) -> proj_out_ = attention(normed_) * wo^T.
void LlamaModel::AttentionBlock(int layer, const ForwardBatch& batch, const KvCacheLayer& kv,
                                int n) {
  const DeviceLayerWeights& w = weights_.layers[layer];
  const AttentionShape shape{config_.n_heads, config_.n_kv_heads, config_.head_dim};
  const Tensor qkv = qkv_.Rows(0, n);
  backend_->Gemm(normed_.Rows(0, n), w.wqkv.view, w.bqkv.view, qkv);
  const RopeTables rope{rope_cos_.view, rope_sin_.view, config_.rope_style};
  backend_->RopeAndCacheWrite(qkv, rope, shape, batch.attn, kv);
  const float scale = 1.0f / std::sqrt(static_cast<float>(config_.head_dim));
  backend_->PagedAttention(qkv.Cols(0, config_.q_dim()), kv, batch.attn, shape, scale,
                           attn_out_.Rows(0, n));
  backend_->Gemm(attn_out_.Rows(0, n), w.wo.view, Tensor{}, proj_out_.Rows(0, n));
}

// residual += proj_out_; normed_ = RmsNorm(residual); proj_out_ = SwiGLU FFN(normed_).
void LlamaModel::FeedForwardBlock(int layer, int n) {
  const DeviceLayerWeights& w = weights_.layers[layer];
  backend_->AddRmsNorm(residual_.Rows(0, n), proj_out_.Rows(0, n), w.ffn_norm.view,
                       config_.rms_norm_eps, normed_.Rows(0, n));
  backend_->Gemm(normed_.Rows(0, n), w.w_gate_up.view, Tensor{}, gate_up_.Rows(0, n));
  backend_->SiluMul(gate_up_.Rows(0, n), ffn_act_.Rows(0, n));
  backend_->Gemm(ffn_act_.Rows(0, n), w.w_down.view, Tensor{}, proj_out_.Rows(0, n));
}

Tensor LlamaModel::Logits(const Tensor& hidden_rows) {
  const Tensor out = logits_.Rows(0, hidden_rows.rows());
  backend_->Gemm(hidden_rows, weights_.lm_head_view(), Tensor{}, out);
  return out;
}

}  // namespace gqa
