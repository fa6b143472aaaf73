// The prompt limits of SecurityOptions (--max-prompt-bytes,
// --max-prompt-tokens), as checks any front end runs on its requests: the
// bytes before tokenizing (so an oversized prompt costs no tokenizer time),
// the tokens after. INVALID_ARGUMENT naming the field: a prompt too long is a
// bad request, like one too long for the context (Engine::Validate).
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "server/security/security_options.h"

namespace gqa {

// `field` names the input ("prompt", "chat", "messages"); `bytes` is its text
// (a chat: the sum of its messages' contents).
absl::Status CheckPromptBytes(std::string_view field, size_t bytes, const PromptLimits& limits);

// `num_tokens`: the prompt's length once tokenized (or as sent in ids).
absl::Status CheckPromptTokens(std::string_view field, size_t num_tokens,
                               const PromptLimits& limits);

}  // namespace gqa
