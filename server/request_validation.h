// ValidateGenerateRequest: a GenerateRequest proto -> the engine's
// GenerationRequest plus what the reactor needs (stop strings, logprob
// options), or INVALID_ARGUMENT naming the field: no input, an empty prompt,
// text without a tokenizer, a chat without a template or with an unknown role
// (or one the template refuses), too many or too long stop strings; then the
// engine's own rules (Engine::Validate: token ids, sampling values, max/min
// tokens, context length; RESOURCE_EXHAUSTED when prompt + max_tokens could
// never fit the KV cache).
//
// Runs on a reactor thread before anything is queued, so a bad request is
// answered at once and never reaches the engine thread.
#pragma once

#include "absl/status/statusor.h"
#include "engine/runner/chat_setup.h"
#include "engine/runner/engine.h"
#include "engine/serving/text_stream.h"
#include "engine/tokenizer/tokenizer.h"
#include "gqa/v1/generation.pb.h"
#include "server/security/prompt_limits.h"

namespace gqa {

inline constexpr int kMaxStopStrings = 16;
inline constexpr int kMaxStopStringBytes = 256;
inline constexpr int kMaxStopTokenIds = 64;
inline constexpr int kMaxTopLogprobs = 20;
inline constexpr int kMaxRequestIdBytes = 256;

struct ValidatedRequest {
  GenerationRequest engine;  // request_id left empty: the caller assigns one
  TextStreamOptions text;    // stop strings for the reactor's TextStream
  bool logprobs = false;     // return per-token logprobs
};

// `tokenizer` may be null (then only prompt_token_ids and no stop strings);
// `chat_template` may be null (then no chat). `limits`: --max-prompt-bytes
// (prompt text, chat contents; checked before tokenizing) and
// --max-prompt-tokens; front ends pass ServingContext::prompt_limits.
absl::StatusOr<ValidatedRequest> ValidateGenerateRequest(const v1::GenerateRequest& request,
                                                         const Engine& engine,
                                                         const Tokenizer* tokenizer,
                                                         const ModelChatTemplate* chat_template,
                                                         const PromptLimits& limits = {});

}  // namespace gqa
