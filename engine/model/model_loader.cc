#include "engine/model/model_loader.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/model/dummy_weights.h"
#include "engine/model/gguf_loader.h"
#include "engine/model/hf_loader.h"
#include "engine/model/llama2c_loader.h"

namespace gqa {

namespace fs = std::filesystem;

absl::StatusOr<ModelConfig> ResolveDummyConfig(const std::string& name) {
  std::error_code ec;
  if (gguf::IsGgufFile(name)) {
    GQA_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(name));
    return GgufModelConfig(*file);
  }
  if (fs::is_regular_file(name, ec)) {
    GQA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(name));
    return ParseHfConfig(text, name);
  }
  return PresetConfig(name);
}

absl::StatusOr<ModelWeights> LoadModel(const ModelSource& source) {
  const std::string& path = source.path;
  std::string format = source.load_format;
  std::error_code ec;
  if (format == "dummy") {
    std::string config_name = source.dummy_config;
    if (config_name.empty()) {
      if (path.empty()) {
        return absl::InvalidArgumentError("load format 'dummy' needs a preset or a config.json");
      }
      config_name = fs::is_directory(path, ec) ? (fs::path(path) / "config.json").string() : path;
    }
    GQA_ASSIGN_OR_RETURN(ModelConfig config, ResolveDummyConfig(config_name));
    return MakeDummyWeights(config, source.dummy_dtype.value_or(config.dtype), source.dummy_seed);
  }
  if (path.empty()) return absl::InvalidArgumentError("no model path given");
  if (format == "auto") {
    if (!fs::exists(path, ec)) {
      return absl::NotFoundError(absl::StrCat("model path '", path, "' does not exist"));
    }
    if (fs::is_directory(path, ec)) {
      format = "hf";
    } else if (gguf::IsGgufFile(path)) {
      format = "gguf";
    } else if (absl::EndsWith(path, ".bin")) {
      format = "llama2c";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("model path '", path,
                       "' is neither an HF directory, a GGUF file nor a llama2.c .bin file"));
    }
  }
  if (format == "hf") return LoadHfModel(path);
  if (format == "gguf") {
    return LoadGgufModel(path, GgufLoadOptions{.target = source.gguf_dequantize_dtype,
                                               .keep_quantized = source.gguf_keep_quantized});
  }
  if (format == "llama2c") return LoadLlama2c(path);
  return absl::InvalidArgumentError(absl::StrCat("unknown load format '", source.load_format,
                                                 "' (auto, hf, gguf, llama2c, dummy)"));
}

}  // namespace gqa
