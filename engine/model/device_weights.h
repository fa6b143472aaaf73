// DeviceWeights: a model's weights resident in a backend, with the projections
// that read the same input fused: Q|K|V into one [q_dim + 2 * kv_dim, dim]
// matrix and gate|up into one [2 * hidden_dim, dim] matrix, so each is one GEMM.
//
// Dtypes: norms and biases are in the backend's activation dtype. A matrix
// (and the embedding table) keeps its checkpoint's dtype when every fused part
// has that dtype and the backend computes from it
// (Backend::MatrixWeightDType): the CPU backend then reads a GGUF file's
// quantized blocks or an HF checkpoint's bf16 as they are, copied byte for
// byte. Otherwise it is converted (quantized parts dequantized through
// quant::DequantizeRow) to the dtype the backend asks for, with one log line
// per dtype that fell back. Every matrix (the embedding table too) then takes
// the layout Backend::MatrixLayoutDType asks for: the CPU backend's packed
// blocks, 16 rows interleaved (engine/quant/packed_blocks.h).
#pragma once

#include <initializer_list>
#include <iosfwd>
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
  DeviceTensor embed;  // [vocab, dim]
  std::vector<DeviceLayerWeights> layers;
  DeviceTensor final_norm;  // [dim]
  DeviceTensor lm_head;     // [vocab, dim]; empty when tied (use embed)
  size_t total_bytes = 0;   // the real bytes of every buffer above

  const Tensor& lm_head_view() const { return lm_head.view.empty() ? embed.view : lm_head.view; }
};

// Converts and uploads `weights` into `backend`. The host weights may be
// released afterwards. Writes one line to `log` (null: std::clog) for each
// matrix dtype the backend does not compute from.
absl::StatusOr<DeviceWeights> UploadWeights(const ModelWeights& weights, Backend& backend,
                                            std::ostream* log = nullptr);

// The dtype a matrix fused from `parts` is kept in on `backend`: the parts'
// common dtype when MatrixWeightDType keeps it, else what MatrixWeightDType
// asks for the first part, or activation_dtype() when parts disagree.
DType FusedMatrixDType(const Backend& backend, std::initializer_list<Tensor> parts);

// Uploads the row-wise concatenation of `parts` (all [*, cols], any dtype) as
// one [sum rows, cols] tensor of `dtype`: parts already in `dtype` are copied
// byte for byte (whole rows), others converted through fp32. `dtype` must be
// a plain type unless every part has it. Biases and norms are 1-D.
absl::StatusOr<DeviceTensor> UploadConcatenated(Backend& backend,
                                                std::initializer_list<Tensor> parts, DType dtype);

// Rewrites the 2-D `matrix` in place into backend.MatrixLayoutDType's layout
// (quant::PackRows) when that differs from its dtype; then only the backend's
// Gemm and EmbeddingLookup may read it.
absl::Status PackMatrix(Backend& backend, DeviceTensor& matrix);

}  // namespace gqa
