// What transformers reads beside tokenizer.json: tokenizer_config.json
// (bos_token, eos_token, add_bos_token, add_eos_token) and
// generation_config.json (eos_token_id, bos_token_id: the ids that stop
// generation). Token fields may be a string, an AddedToken object
// {"content": ...}, null, or (eos_token) a list of those.
//
// Thread ownership: plain data and free functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::hf {

struct TokenizerConfig {
  std::optional<std::string> bos_token;
  std::vector<std::string> eos_tokens;
  std::optional<bool> add_bos_token;  // unset when the file has no such key
  std::optional<bool> add_eos_token;
};

struct GenerationConfig {
  std::optional<int> bos_token_id;
  std::vector<int> eos_token_ids;
};

// `file` names the file in error messages.
absl::StatusOr<TokenizerConfig> ParseTokenizerConfig(std::string_view json_text,
                                                     const std::string& file);
absl::StatusOr<GenerationConfig> ParseGenerationConfig(std::string_view json_text,
                                                       const std::string& file);

}  // namespace gqa::hf
