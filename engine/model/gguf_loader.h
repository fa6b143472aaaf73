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

#include <iosfwd>
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

struct GgufLoadOptions {
  // The dtype tensors that are not kept are dequantized into.
  DType target = DType::kF32;
  // Keep tensors of the block types the engine can compute from (Q8_0, Q4_0,
  // Q4_1, Q4_K, Q5_K, Q6_K: a DType each) as views into the file's mapping,
  // for the backend to use as they are or convert (device_weights.h). Off, the
  // default, every consumer that reads ModelWeights as numbers (gqa-convert,
  // the GQA converter) gets `target`. Other block types (Q5_0, Q5_1, Q2_K,
  // Q3_K) are dequantized either way, with one line to `log` per type when on.
  bool keep_quantized = false;
  std::ostream* log = nullptr;  // null: std::clog
};

// Loads every weight of `file`, checking that each expected tensor exists
// with the shape the config implies; a missing, unexpected or misshapen
// tensor is an error naming it. F32/F16/BF16 tensors (and, as `options` say,
// quantized ones) stay views into the file's bytes; other quantized ones are
// dequantized (in parallel) into `options.target` buffers. The result keeps
// `file`'s mapping alive. No tensor's rows are rewritten (llama.cpp stores
// Q/K rows already in the order of interleaved RoPE).
absl::StatusOr<ModelWeights> LoadGgufWeights(const gguf::GgufFile& file,
                                             const GgufLoadOptions& options);
absl::StatusOr<ModelWeights> LoadGgufWeights(const gguf::GgufFile& file, DType target);

// Opens (memory-maps) and loads `path`.
absl::StatusOr<ModelWeights> LoadGgufModel(std::string_view path, const GgufLoadOptions& options);
absl::StatusOr<ModelWeights> LoadGgufModel(std::string_view path, DType target = DType::kF32);

}  // namespace gqa
