#include "engine/cli/convert_tokenizer.h"

#include <filesystem>
#include <fstream>

#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/gguf/gguf_special_tokens.h"
#include "engine/tokenizer/gguf/gguf_tokenizer_json.h"
#include "engine/tokenizer/gguf/gguf_vocab.h"
#include "nlohmann/json.hpp"

namespace gqa {
namespace {

using Json = nlohmann::json;

absl::Status WriteJson(const std::filesystem::path& path, const Json& j) {
  std::ofstream out(path, std::ios::binary);
  out << j.dump(2) << "\n";
  if (!out) return absl::InternalError("cannot write " + path.string());
  return absl::OkStatus();
}

// "[bos] $A [eos]" as transformers' fast tokenizers build it from
// add_bos_token / add_eos_token.
Json PostProcessor(const GgufVocab& v, const HfSpecialTokens& s) {
  if (!s.add_bos && !s.add_eos) return nullptr;
  Json single = Json::array(), pair = Json::array(), specials = Json::object();
  auto special = [&](int id) {
    const std::string& t = v.tokens[id];
    specials[t] = {{"id", t}, {"ids", {id}}, {"tokens", {t}}};
    return Json{{"SpecialToken", {{"id", t}, {"type_id", 0}}}};
  };
  if (s.add_bos) single.push_back(special(s.bos_id));
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (s.add_eos) single.push_back(special(s.eos_id));
  pair = single;
  if (s.add_bos) pair.push_back(special(s.bos_id));
  pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
  if (s.add_eos) pair.push_back(special(s.eos_id));
  return {{"type", "TemplateProcessing"},
          {"single", single},
          {"pair", pair},
          {"special_tokens", specials}};
}

}  // namespace

absl::Status WriteHfTokenizerFromGguf(const std::string& gguf_path, const std::string& dir) {
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(gguf_path));
  GQA_ASSIGN_OR_RETURN(GgufVocab vocab, ReadGgufVocab(*file));
  GQA_ASSIGN_OR_RETURN(GgufTokenizerJson built, BuildGgufTokenizerJson(vocab));
  Json tok = built.json.root;
  Json model_vocab = Json::object();
  for (const auto& [token, id] : built.json.vocab) model_vocab[token] = id;
  tok["model"]["vocab"] = std::move(model_vocab);
  if (built.json.has_merges || !built.json.merges.empty()) {
    Json merges = Json::array();
    for (const auto& [a, b] : built.json.merges) merges.push_back({a, b});
    tok["model"]["merges"] = std::move(merges);
  }
  tok["post_processor"] = PostProcessor(vocab, built.specials);

  const HfSpecialTokens& s = built.specials;
  Json config = {{"add_bos_token", s.add_bos},
                 {"add_eos_token", s.add_eos},
                 {"clean_up_tokenization_spaces", false},
                 {"model_max_length", 1000000000},
                 {"tokenizer_class", "PreTrainedTokenizerFast"}};
  auto token_text = [&](int id) -> Json {
    return id >= 0 && id < static_cast<int>(vocab.tokens.size()) ? Json(vocab.tokens[id])
                                                                 : Json(nullptr);
  };
  config["bos_token"] = token_text(s.bos_id);
  config["eos_token"] = token_text(s.eos_id);
  if (file->Has("tokenizer.chat_template")) {
    GQA_ASSIGN_OR_RETURN(std::string_view tmpl, file->GetString("tokenizer.chat_template"));
    config["chat_template"] = std::string(tmpl);
  }
  Json generation = {{"eos_token_id", s.eos_ids}};
  if (s.bos_id >= 0) generation["bos_token_id"] = s.bos_id;

  const std::filesystem::path d(dir);
  GQA_RETURN_IF_ERROR(WriteJson(d / "tokenizer.json", tok));
  GQA_RETURN_IF_ERROR(WriteJson(d / "tokenizer_config.json", config));
  return WriteJson(d / "generation_config.json", generation);
}

}  // namespace gqa
