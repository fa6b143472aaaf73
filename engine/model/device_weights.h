// DeviceWeights: a model's weights resident in a backend, in the backend's
// activation dtype, with the projections that read the same input fused:
// Q|K|V into one [q_dim + 2 * kv_dim, dim] matrix and gate|up into one
// [2 * hidden_dim, dim] matrix, so each is one GEMM.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/model/model_weights.h"

namespace gqa {

// A tensor that owns its backend memory.
struct DeviceTensor {
  DeviceBuffer buffer;
  Tensor view;
};

struct DeviceLayerWeights {
  DeviceTensor attn_norm;  // [dim]
  DeviceTensor wqkv;       // [q_dim + 2 * kv_dim, dim], rows Q | K | V
  DeviceTensor bqkv;       // [q_dim + 2 * kv_dim] or empty
  DeviceTensor wo;         // [dim, q_dim]
  DeviceTensor ffn_norm;   // [dim]
  DeviceTensor w_gate_up;  // [2 * hidden_dim, dim], rows gate | up
  DeviceTensor w_down;     // [dim, hidden_dim]
};

struct DeviceWeights {
  DeviceTensor embed;       // [vocab, dim]
  std::vector<DeviceLayerWeights> layers;
  DeviceTensor final_norm;  // [dim]
  DeviceTensor lm_head;     // [vocab, dim]; empty when tied (use embed)
  size_t total_bytes = 0;

  const Tensor& lm_head_view() const { return lm_head.view.empty() ? embed.view : lm_head.view; }
};

// Converts and uploads `weights` into `backend`. The host weights may be
// released afterwards.
absl::StatusOr<DeviceWeights> UploadWeights(const ModelWeights& weights, Backend& backend);

// Uploads the row-wise concatenation of `parts` (all [*, cols], any dtype) as
// one [sum rows, cols] tensor of `dtype`. Biases and norms are 1-D: cols = 1 view.
absl::StatusOr<DeviceTensor> UploadConcatenated(Backend& backend, std::initializer_list<Tensor> parts,
                                                DType dtype);

}  // namespace gqa
