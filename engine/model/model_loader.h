// One entry point for every way of getting weights: an HF directory, a GGUF
// file, a llama2.c .bin file, or dummy weights for a preset or a config.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/model/model_weights.h"

namespace gqa {

struct ModelSource {
  // "auto": `path` is an HF directory, a GGUF file (named *.gguf or starting
  // with "GGUF"), or a llama2.c file ending in ".bin".
  // "hf", "gguf", "llama2c": that format, whatever the path looks like.
  // "dummy": random weights (see dummy_weights.h) shaped by `dummy_config`.
  std::string load_format = "auto";
  std::string path;
  // For "dummy": a preset name (PresetNames()) or a config.json path; when
  // empty, `path`/config.json.
  std::string dummy_config;
  std::optional<DType> dummy_dtype;  // default: the config's dtype
  uint64_t dummy_seed = 0;
  // For "gguf": the dtype quantized tensors are dequantized into (the
  // backend's weight dtype: f32 on the CPU, bf16/f16 on CUDA).
  DType gguf_dequantize_dtype = DType::kF32;
  // For "gguf": keep the block types the engine computes from as the file
  // stores them (GgufLoadOptions::keep_quantized); off: all dequantized.
  bool gguf_keep_quantized = false;
};

absl::StatusOr<ModelWeights> LoadModel(const ModelSource& source);

// The config a dummy load would use (a preset, a config.json or a GGUF file).
absl::StatusOr<ModelConfig> ResolveDummyConfig(const std::string& preset_or_config_path);

}  // namespace gqa
