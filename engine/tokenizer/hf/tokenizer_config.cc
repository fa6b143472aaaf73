#include "engine/tokenizer/hf/tokenizer_config.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/json_fields.h"

namespace gqa::hf {
namespace {

absl::StatusOr<nlohmann::json> ParseObject(std::string_view text, const std::string& file) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return absl::InvalidArgumentError(absl::StrCat(file, ": not valid JSON"));
  if (!json.is_object())
    return absl::InvalidArgumentError(absl::StrCat(file, ": expected an object"));
  return json;
}

// A token field: "text", {"content": "text", ...} or null.
absl::StatusOr<std::optional<std::string>> TokenText(const nlohmann::json& value,
                                                     const std::string& where) {
  if (value.is_null()) return std::optional<std::string>();
  if (value.is_string()) return std::optional<std::string>(value.get<std::string>());
  if (value.is_object()) {
    GQA_ASSIGN_OR_RETURN(std::string content, GetString(value, "content", where));
    return std::optional<std::string>(std::move(content));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": expected a token string, {\"content\": ...} or null"));
}

absl::StatusOr<std::optional<bool>> OptionalBool(const nlohmann::json& json, const char* key,
                                                 const std::string& file) {
  if (!json.contains(key) || json[key].is_null()) return std::optional<bool>();
  if (!json[key].is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", key, ": expected true or false"));
  }
  return std::optional<bool>(json[key].get<bool>());
}

// An id field: an integer, a list of integers, or null.
absl::StatusOr<std::vector<int>> IdList(const nlohmann::json& json, const char* key,
                                        const std::string& file) {
  std::vector<int> ids;
  if (!json.contains(key) || json[key].is_null()) return ids;
  const nlohmann::json& value = json[key];
  const std::string where = absl::StrCat(file, ": ", key);
  auto add = [&](const nlohmann::json& v) -> absl::Status {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected non-negative integer ids"));
    }
    ids.push_back(v.get<int>());
    return absl::OkStatus();
  };
  if (value.is_array()) {
    for (const nlohmann::json& v : value) GQA_RETURN_IF_ERROR(add(v));
  } else {
    GQA_RETURN_IF_ERROR(add(value));
  }
  return ids;
}

}  // namespace

absl::StatusOr<TokenizerConfig> ParseTokenizerConfig(std::string_view json_text,
                                                     const std::string& file) {
  GQA_ASSIGN_OR_RETURN(const nlohmann::json json, ParseObject(json_text, file));
  TokenizerConfig config;
  if (json.contains("bos_token")) {
    GQA_ASSIGN_OR_RETURN(config.bos_token, TokenText(json["bos_token"], file + ": bos_token"));
  }
  if (json.contains("eos_token")) {
    const nlohmann::json& eos = json["eos_token"];
    const std::vector<nlohmann::json> items =
        eos.is_array() ? eos.get<std::vector<nlohmann::json>>() : std::vector<nlohmann::json>{eos};
    for (std::size_t i = 0; i < items.size(); ++i) {
      GQA_ASSIGN_OR_RETURN(std::optional<std::string> token,
                           TokenText(items[i], absl::StrCat(file, ": eos_token[", i, "]")));
      if (token.has_value()) config.eos_tokens.push_back(std::move(*token));
    }
  }
  GQA_ASSIGN_OR_RETURN(config.add_bos_token, OptionalBool(json, "add_bos_token", file));
  GQA_ASSIGN_OR_RETURN(config.add_eos_token, OptionalBool(json, "add_eos_token", file));
  return config;
}

absl::StatusOr<GenerationConfig> ParseGenerationConfig(std::string_view json_text,
                                                       const std::string& file) {
  GQA_ASSIGN_OR_RETURN(const nlohmann::json json, ParseObject(json_text, file));
  GenerationConfig config;
  GQA_ASSIGN_OR_RETURN(config.eos_token_ids, IdList(json, "eos_token_id", file));
  GQA_ASSIGN_OR_RETURN(const std::vector<int> bos, IdList(json, "bos_token_id", file));
  if (bos.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": bos_token_id: expected one id"));
  }
  if (!bos.empty()) config.bos_token_id = bos[0];
  return config;
}

}  // namespace gqa::hf
