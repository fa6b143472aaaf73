// GGUF model files (llama.cpp's format; engine/gguf/gguf_file.h): the
// hyper-parameters from the metadata, the weights from the tensors.
//
// Architectures: "llama" and "mistral" (q/k rows stored permuted for
// interleaved RoPE by llama.cpp's converter, so config.rope_style is
// kInterleaved and no row is moved) and "qwen2" (q/k/v biases, rows in HF's
// halves order). Tensor names are llama.cpp's (token_embd, blk.N.attn_q, ...,
// output_norm, output; no output = tied embeddings); GGUF lists dims
// fastest-first, so a [out, in] matrix has dims {in, out}.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/common/dtype.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/model_weights.h"

namespace gqa {

// The config a GGUF's metadata describes; errors name the file and the key.
// Hostile values (counts beyond int, more layers than tensors) are errors.
absl::StatusOr<ModelConfig> GgufModelConfig(const gguf::GgufFile& file);

// Loads every weight of `file`, checking that each expected tensor exists
// with the shape the config implies; a missing, unexpected or misshapen
// tensor is an error naming it. F32/F16/BF16 tensors stay views into the
// file's bytes; quantized ones are dequantized (in parallel) into `target`
// buffers. The result keeps `file`'s mapping alive.
absl::StatusOr<ModelWeights> LoadGgufWeights(const gguf::GgufFile& file, DType target);

// Opens (memory-maps) and loads `path`.
absl::StatusOr<ModelWeights> LoadGgufModel(std::string_view path, DType target = DType::kF32);

}  // namespace gqa
