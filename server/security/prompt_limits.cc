#include "server/security/prompt_limits.h"

#include "absl/strings/str_cat.h"

namespace gqa {

absl::Status CheckPromptBytes(std::string_view field, size_t bytes, const PromptLimits& limits) {
  if (limits.max_prompt_bytes == 0 || bytes <= limits.max_prompt_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", bytes,
                                                 " bytes, more than the ", limits.max_prompt_bytes,
                                                 " this server takes (--max-prompt-bytes)"));
}

absl::Status CheckPromptTokens(std::string_view field, size_t num_tokens,
                               const PromptLimits& limits) {
  const size_t max = static_cast<size_t>(limits.max_prompt_tokens);
  if (max == 0 || num_tokens <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", num_tokens,
                                                 " tokens, more than the ", max,
                                                 " this server takes (--max-prompt-tokens)"));
}

}  // namespace gqa
