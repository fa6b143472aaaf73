#include "engine/runner/model_setup.h"

#include <filesystem>
#include <ostream>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/dummy_weights.h"
#include "engine/model/model_loader.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/tokenizer/gguf/gguf_tokenizer.h"
#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "engine/tokenizer/llama2c_tokenizer.h"

namespace gqa {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path, int vocab_size) {
  if (EndsWith(path, ".bin")) {
    GQA_ASSIGN_OR_RETURN(std::unique_ptr<Llama2cTokenizer> t,
                         Llama2cTokenizer::Load(path, vocab_size));
    return std::unique_ptr<Tokenizer>(std::move(t));
  }
  return LoadHfTokenizer(path);
}

}  // namespace

std::string PresetList() { return absl::StrJoin(PresetNames(), ", "); }

absl::StatusOr<LoadedModel> SetUpModel(const ModelSetupOptions& o, std::ostream& log) {
  LoadedModel m;
  std::error_code ec;
  if (o.model.empty() && o.load_format == "auto") {
    // The built-in demo model: runs anywhere, needs no download, says so.
    GQA_ASSIGN_OR_RETURN(ModelConfig config, PresetConfig("demo"));
    GQA_ASSIGN_OR_RETURN(m.weights, MakeDummyWeights(config, DType::kF32, o.seed));
    m.tokenizer = std::make_unique<ByteTokenizer>();
    m.is_demo = true;
    m.description = absl::StrCat(
        "built-in demo model: a tiny GQA decoder (", config.n_layers, " layers, ", config.n_heads,
        " query heads sharing ", config.n_kv_heads,
        " KV heads) with seeded random weights and a byte vocabulary; its text is noise. "
        "Pass --model for a real model.");
  } else {
    ModelSource source;
    source.load_format = o.load_format;
    source.path = o.model;
    source.dummy_config = o.preset;
    source.dummy_seed = o.seed;
    source.gguf_keep_quantized = o.keep_quantized;
    if (o.load_format == "dummy") {
      GQA_ASSIGN_OR_RETURN(source.dummy_dtype, ParseDType(o.dtype));
    }
    GQA_ASSIGN_OR_RETURN(m.weights, LoadModel(source));
    const bool is_gguf = !fs::is_directory(o.model, ec) && gguf::IsGgufFile(o.model);
    if (o.load_format == "dummy") {
      m.description = absl::StrCat("dummy weights (random, seed ", o.seed, ") of shape '",
                                   o.preset.empty() ? o.model : o.preset, "'");
    } else if (fs::is_directory(o.model, ec)) {
      m.description = absl::StrCat("HF model ", o.model);
    } else if (is_gguf) {
      m.description = absl::StrCat("GGUF model ", o.model, " (", m.weights.config.name, ")");
    } else {
      m.description = absl::StrCat("llama2.c checkpoint ", o.model);
    }
    // The tokenizer of the named directory or GGUF file, dummy weights or not.
    if (o.tokenizer.empty() && fs::is_directory(o.model, ec) &&
        fs::exists(fs::path(o.model) / "tokenizer.json", ec)) {
      GQA_ASSIGN_OR_RETURN(m.tokenizer, LoadHfTokenizer(o.model));
    } else if (o.tokenizer.empty() && is_gguf) {
      GQA_ASSIGN_OR_RETURN(m.tokenizer, LoadGgufTokenizer(o.model));
    }
  }
  if (!o.tokenizer.empty()) {
    GQA_ASSIGN_OR_RETURN(m.tokenizer, LoadTokenizer(o.tokenizer, m.weights.config.vocab_size));
  }
  ModelConfig& c = m.weights.config;
  if (m.tokenizer && m.tokenizer->vocab_size() > c.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("the tokenizer has ", m.tokenizer->vocab_size(),
                                                   " tokens but the model only ", c.vocab_size));
  }
  if (m.tokenizer) {
    for (int id : m.tokenizer->eos_ids()) {
      if (absl::c_find(c.eos_token_ids, id) == c.eos_token_ids.end()) c.eos_token_ids.push_back(id);
    }
  }
  GQA_ASSIGN_OR_RETURN(m.chat_template, LoadModelChatTemplate(o.model, m.is_demo, o.chat_template,
                                                              m.tokenizer.get()));
  log << "loaded " << m.description << "\n  " << c.n_layers << " layers, dim " << c.dim << ", "
      << c.n_heads << " query heads / " << c.n_kv_heads << " KV heads (GQA-" << c.group_size()
      << "), vocab " << c.vocab_size << ", context " << c.max_seq_len << ", " << DTypeName(c.dtype)
      << " weights; end of generation at ids " << absl::StrJoin(c.eos_token_ids, ", ")
      << "\n  chat template: " << (m.chat_template ? m.chat_template->source() : "none") << "\n";
  return m;
}

}  // namespace gqa
