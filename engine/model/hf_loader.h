// Hugging Face checkpoint directories: config.json plus either model.safetensors
// or model.safetensors.index.json with its shards.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/model_weights.h"

namespace gqa {

// Loads `dir`. Every file is validated, every expected tensor must be present
// with the shape the config implies, and an unexpected tensor (an o_proj bias,
// a q_norm, an extra layer) is an error rather than silently ignored. Tensors
// stay views into the memory maps in their file dtype (F32/F16/BF16, mixed
// allowed). A tied model's lm_head is its embedding. rope_style is kHalves.
absl::StatusOr<ModelWeights> LoadHfModel(std::string_view dir);

// Writes config.json and one model.safetensors into `dir` (created if needed),
// every tensor converted to `dtype` and config.json's torch_dtype set to it.
// Interleaved-RoPE weights (llama2.c) are re-ordered to HF's halves layout.
absl::Status SaveHfModel(const ModelWeights& weights, std::string_view dir, DType dtype);

// Reads a whole small text file (config.json, an index). Errors name the path.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace gqa
