#include "engine/tokenizer/gguf/gguf_vocab.h"

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_file.h"

namespace gqa {
namespace {

constexpr const char* kModel = "tokenizer.ggml.model";
constexpr const char* kPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kScores = "tokenizer.ggml.scores";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";

// An optional key: nullopt when absent, an error when of another type.
absl::StatusOr<std::optional<bool>> OptionalBool(const gguf::GgufFile& file, const char* key) {
  if (!file.Has(key)) return std::nullopt;
  GQA_ASSIGN_OR_RETURN(const bool value, file.GetBool(key));
  return value;
}

// Sets *id from `key` when present; errors when out of [0, n_tokens).
absl::Status ReadId(const gguf::GgufFile& file, const char* key, size_t n_tokens, int* id) {
  if (!file.Has(key)) return absl::OkStatus();
  GQA_ASSIGN_OR_RETURN(const uint64_t value, file.GetUint(key));
  if (value >= n_tokens) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.name(), ": ", key, " = ", value, " is past the vocabulary (", n_tokens, " tokens)"));
  }
  *id = static_cast<int>(value);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateGgufVocab(const GgufVocab& vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) {
    return absl::InvalidArgumentError(absl::StrCat(vocab.name, ": ", kTokens, " is empty"));
  }
  if (n > (1u << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat(vocab.name, ": ", kTokens, ": ", n, " tokens is too many"));
  }
  if (vocab.types.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        vocab.name, ": ", kTypes, " has ", vocab.types.size(), " entries for ", n, " tokens"));
  }
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        vocab.name, ": ", kScores, " has ", vocab.scores.size(), " entries for ", n, " tokens"));
  }
  for (size_t i = 0; i < n; ++i) {
    const auto t = static_cast<int32_t>(vocab.types[i]);
    if (t < 0 || t > static_cast<int32_t>(GgufTokenType::kByte)) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab.name, ": ", kTypes, "[", i, "] = ", t, " is not a token type"));
    }
  }
  const std::pair<const char*, int> ids[] = {
      {"bos", vocab.bos_id},         {"eos", vocab.eos_id},         {"unknown", vocab.unk_id},
      {"padding", vocab.pad_id},     {"eot", vocab.eot_id},         {"eom", vocab.eom_id},
      {"fim_pad", vocab.fim_pad_id}, {"fim_rep", vocab.fim_rep_id}, {"fim_sep", vocab.fim_sep_id}};
  for (const auto& [what, id] : ids) {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      return absl::InvalidArgumentError(absl::StrCat(vocab.name, ": ", what, " token id ", id,
                                                     " is past the vocabulary (", n, " tokens)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GgufVocab> ReadGgufVocab(const gguf::GgufFile& file) {
  GgufVocab vocab;
  vocab.name = file.name();
  GQA_ASSIGN_OR_RETURN(const std::string_view model, file.GetString(kModel));
  vocab.model = std::string(model);
  if (file.Has(kPre)) {
    GQA_ASSIGN_OR_RETURN(const std::string_view pre, file.GetString(kPre));
    vocab.pre = std::string(pre);
  }
  GQA_ASSIGN_OR_RETURN(const std::vector<std::string_view> tokens, file.GetStringArray(kTokens));
  vocab.tokens.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    // llama.cpp names an empty entry so that it stays distinct.
    vocab.tokens.push_back(tokens[i].empty() ? absl::StrCat("[EMPTY_", i, "]")
                                             : std::string(tokens[i]));
  }
  const size_t n = vocab.tokens.size();
  if (file.Has(kScores)) {
    GQA_ASSIGN_OR_RETURN(vocab.scores, file.GetFloatArray(kScores));
  }
  if (file.Has(kTypes)) {
    GQA_ASSIGN_OR_RETURN(const std::vector<int64_t> types, file.GetIntArray(kTypes));
    vocab.types.reserve(types.size());
    for (size_t i = 0; i < types.size(); ++i) {
      if (types[i] < 0 || types[i] > static_cast<int64_t>(GgufTokenType::kByte)) {
        return absl::InvalidArgumentError(absl::StrCat(file.name(), ": ", kTypes, "[", i,
                                                       "] = ", types[i], " is not a token type"));
      }
      vocab.types.push_back(static_cast<GgufTokenType>(types[i]));
    }
  } else {
    vocab.types.assign(n, GgufTokenType::kNormal);
  }
  if (file.Has(kMerges)) {
    GQA_ASSIGN_OR_RETURN(const std::vector<std::string_view> merges, file.GetStringArray(kMerges));
    vocab.merges.assign(merges.begin(), merges.end());
  }
  if (vocab.model == "llama") {  // llama.cpp's SentencePiece defaults
    vocab.bos_id = n > 1 ? 1 : -1;
    vocab.eos_id = n > 2 ? 2 : -1;
    vocab.unk_id = 0;
  }
  const std::pair<const char*, int*> id_keys[] = {
      {"tokenizer.ggml.bos_token_id", &vocab.bos_id},
      {"tokenizer.ggml.eos_token_id", &vocab.eos_id},
      {"tokenizer.ggml.unknown_token_id", &vocab.unk_id},
      {"tokenizer.ggml.padding_token_id", &vocab.pad_id},
      {"tokenizer.ggml.eot_token_id", &vocab.eot_id},
      {"tokenizer.ggml.eom_token_id", &vocab.eom_id},
      {"tokenizer.ggml.fim_pad_token_id", &vocab.fim_pad_id},
      {"tokenizer.ggml.fim_rep_token_id", &vocab.fim_rep_id},
      {"tokenizer.ggml.fim_sep_token_id", &vocab.fim_sep_id}};
  for (const auto& [key, id] : id_keys) GQA_RETURN_IF_ERROR(ReadId(file, key, n, id));
  GQA_ASSIGN_OR_RETURN(vocab.add_bos, OptionalBool(file, "tokenizer.ggml.add_bos_token"));
  GQA_ASSIGN_OR_RETURN(vocab.add_eos, OptionalBool(file, "tokenizer.ggml.add_eos_token"));
  GQA_ASSIGN_OR_RETURN(vocab.add_space_prefix,
                       OptionalBool(file, "tokenizer.ggml.add_space_prefix"));
  GQA_ASSIGN_OR_RETURN(const std::optional<bool> remove_ws,
                       OptionalBool(file, "tokenizer.ggml.remove_extra_whitespaces"));
  vocab.remove_extra_whitespaces = remove_ws.value_or(false);
  GQA_RETURN_IF_ERROR(ValidateGgufVocab(vocab));
  return vocab;
}

}  // namespace gqa
