#include "engine/tokenizer/hf/tokenizer_json.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/json_fields.h"
#include "engine/tokenizer/hf/tokenizer_json_reader.h"

namespace gqa::hf {
namespace {

// The component object under `key`, or nullptr when missing or null.
const nlohmann::json* Component(const nlohmann::json& root, const char* key) {
  const auto it = root.find(key);
  return it == root.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

absl::StatusOr<TokenizerJson> ParseTokenizerJson(std::string_view json_text,
                                                 const std::string& file) {
  GQA_ASSIGN_OR_RETURN(RawTokenizerJson raw, ReadTokenizerJson(json_text, file));
  return ParseTokenizerJson(std::move(raw), file);
}

absl::StatusOr<TokenizerJson> ParseTokenizerJson(RawTokenizerJson raw, const std::string& file) {
  const nlohmann::json& root = raw.root;
  if (!root.is_object())
    return absl::InvalidArgumentError(absl::StrCat(file, ": expected an object"));
  TokenizerJson tok;

  const nlohmann::json* model = Component(root, "model");
  if (model == nullptr) return absl::InvalidArgumentError(absl::StrCat(file, ": model: missing"));
  const std::string model_where = file + ": model";
  GQA_ASSIGN_OR_RETURN(const std::optional<std::string> model_type,
                       GetOptionalString(*model, "type", model_where));
  if (model_type.value_or("BPE") != "BPE") {
    return absl::UnimplementedError(absl::StrCat(model_where, ".type: \"", *model_type,
                                                 "\" models are not supported (BPE only)"));
  }
  if (!raw.has_vocab || !raw.has_merges) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_where, ": ", raw.has_vocab ? "merges" : "vocab", " missing"));
  }
  GQA_ASSIGN_OR_RETURN(tok.model,
                       BpeModel::FromParts(*model, std::move(raw.vocab), raw.merges, model_where));

  if (const nlohmann::json* n = Component(root, "normalizer")) {
    GQA_ASSIGN_OR_RETURN(tok.normalizer, NormalizerFromJson(*n, file + ": normalizer"));
  }
  if (const nlohmann::json* p = Component(root, "pre_tokenizer")) {
    // Byte-level BPE: let the model map bytes itself (same ids, faster).
    const bool defer_mapping = EndsWithByteLevel(*p) && tok.model->EnableByteLevelInput();
    GQA_ASSIGN_OR_RETURN(tok.pre_tokenizer,
                         PreTokenizerFromJson(*p, file + ": pre_tokenizer", defer_mapping));
  }
  if (const nlohmann::json* p = Component(root, "post_processor")) {
    GQA_ASSIGN_OR_RETURN(tok.post_processor, PostProcessorFromJson(*p, file + ": post_processor"));
  }
  if (const nlohmann::json* d = Component(root, "decoder")) {
    GQA_ASSIGN_OR_RETURN(tok.decoder, DecoderFromJson(*d, file + ": decoder"));
  }
  if (const nlohmann::json* a = Component(root, "added_tokens")) {
    GQA_ASSIGN_OR_RETURN(
        tok.added_tokens,
        AddedVocabulary::FromJson(*a, tok.normalizer.get(), *tok.model, file + ": added_tokens"));
  }
  return tok;
}

}  // namespace gqa::hf
