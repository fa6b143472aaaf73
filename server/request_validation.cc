#include "server/request_validation.h"

#include <algorithm>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/utf8.h"
#include "server/proto_conversion.h"

namespace gqa {
namespace {

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// Roles a chat message may have (OpenAI's and transformers' set).
constexpr std::string_view kChatRoles[] = {"system", "user", "assistant", "tool"};

// The chat rendered by the model's template: the prompt text, special tokens included.
absl::StatusOr<std::string> RenderChat(const v1::Chat& chat,
                                       const ModelChatTemplate* chat_template) {
  if (!chat_template) {
    return Invalid(
        "chat: this model has no chat template; send prompt text, or start the server with "
        "--chat-template FILE");
  }
  if (chat.messages().empty()) return Invalid("chat.messages: must not be empty");
  std::vector<ChatMessage> messages;
  messages.reserve(chat.messages_size());
  for (int i = 0; i < chat.messages_size(); ++i) {
    const v1::ChatMessage& m = chat.messages(i);
    const std::string field = absl::StrCat("chat.messages[", i, "]");
    if (absl::c_find(kChatRoles, m.role()) == std::end(kChatRoles)) {
      return Invalid(absl::StrCat(field, ".role: unknown role '", m.role(),
                                  "' (system, user, assistant, tool)"));
    }
    messages.push_back(ChatMessage{m.role(), m.content()});
  }
  const bool add_generation_prompt =
      !chat.has_add_generation_prompt() || chat.add_generation_prompt();
  absl::StatusOr<std::string> text =
      chat_template->Render(std::move(messages), add_generation_prompt);
  if (!text.ok())
    return Invalid(absl::StrCat("chat: the chat template refused it: ", text.status().message()));
  return text;
}

absl::StatusOr<std::vector<int32_t>> PromptIds(const v1::GenerateRequest& r,
                                               const Tokenizer* tokenizer,
                                               const ModelChatTemplate* chat_template) {
  switch (r.input_case()) {
    case v1::GenerateRequest::kPrompt: {
      if (r.prompt().empty()) return Invalid("prompt: must not be empty");
      if (!tokenizer) {
        return Invalid("prompt: this model has no tokenizer; send prompt_token_ids instead");
      }
      const std::vector<int> ids = tokenizer->Encode(r.prompt());
      return std::vector<int32_t>(ids.begin(), ids.end());
    }
    case v1::GenerateRequest::kPromptTokenIds: {
      if (r.prompt_token_ids().ids().empty()) return Invalid("prompt_token_ids: must not be empty");
      const auto& ids = r.prompt_token_ids().ids();
      return std::vector<int32_t>(ids.begin(), ids.end());
    }
    case v1::GenerateRequest::kChat: {
      if (!tokenizer) return Invalid("chat: this model has no tokenizer; send prompt_token_ids");
      GQA_ASSIGN_OR_RETURN(const std::string text, RenderChat(r.chat(), chat_template));
      // The template wrote the special tokens (BOS, role markers): add none,
      // as transformers' apply_chat_template does, so BOS is never doubled.
      const std::vector<int> ids = tokenizer->Encode(text, /*add_special_tokens=*/false);
      if (ids.empty()) return Invalid("chat: the chat template rendered an empty prompt");
      return std::vector<int32_t>(ids.begin(), ids.end());
    }
    case v1::GenerateRequest::INPUT_NOT_SET:
      break;
  }
  return Invalid("input: set prompt, prompt_token_ids or chat");
}

// The server's own limits; the engine checks the rest (Engine::Validate).
absl::Status CheckStopStrings(const v1::StoppingCriteria& s, const Tokenizer* tokenizer) {
  if (s.stop_size() > kMaxStopStrings) {
    return Invalid(absl::StrCat("stopping.stop: at most ", kMaxStopStrings, " stop strings, got ",
                                s.stop_size()));
  }
  for (int i = 0; i < s.stop_size(); ++i) {
    const std::string& stop = s.stop(i);
    const std::string field = absl::StrCat("stopping.stop[", i, "]");
    if (stop.empty()) return Invalid(field + ": must not be empty");
    if (stop.size() > kMaxStopStringBytes) {
      return Invalid(absl::StrCat(field, ": longer than ", kMaxStopStringBytes, " bytes"));
    }
    if (!IsWellFormedUtf8(stop)) return Invalid(field + ": is not valid UTF-8");
    if (!tokenizer) return Invalid(field + ": this model has no tokenizer to match text with");
  }
  if (s.stop_token_ids_size() > kMaxStopTokenIds) {
    return Invalid(absl::StrCat("stopping.stop_token_ids: at most ", kMaxStopTokenIds, " ids, got ",
                                s.stop_token_ids_size()));
  }
  return absl::OkStatus();
}

// The input's field name and its text's size in bytes (a chat: the sum of
// its roles and contents; ids: 0, only their count is limited).
const char* InputField(const v1::GenerateRequest& r) {
  switch (r.input_case()) {
    case v1::GenerateRequest::kChat:
      return "chat";
    case v1::GenerateRequest::kPromptTokenIds:
      return "prompt_token_ids";
    default:
      return "prompt";
  }
}
size_t InputBytes(const v1::GenerateRequest& r) {
  if (r.has_chat()) {
    size_t bytes = 0;
    for (const v1::ChatMessage& m : r.chat().messages()) bytes += m.role().size() + m.content().size();
    return bytes;
  }
  return r.input_case() == v1::GenerateRequest::kPrompt ? r.prompt().size() : 0;
}

}  // namespace

absl::StatusOr<ValidatedRequest> ValidateGenerateRequest(const v1::GenerateRequest& r,
                                                         const Engine& engine,
                                                         const Tokenizer* tokenizer,
                                                         const ModelChatTemplate* chat_template,
                                                         const PromptLimits& limits) {
  if (r.request_id().size() > kMaxRequestIdBytes) {
    return Invalid(absl::StrCat("request_id: longer than ", kMaxRequestIdBytes, " bytes"));
  }
  if (r.top_logprobs() < 0 || r.top_logprobs() > kMaxTopLogprobs) {
    return Invalid(absl::StrCat("top_logprobs: must be in [0, ", kMaxTopLogprobs, "], got ",
                                r.top_logprobs()));
  }
  GQA_RETURN_IF_ERROR(CheckStopStrings(r.stopping(), tokenizer));

  ValidatedRequest v;
  GenerationRequest& g = v.engine;
  GQA_RETURN_IF_ERROR(CheckPromptBytes(InputField(r), InputBytes(r), limits));
  GQA_ASSIGN_OR_RETURN(g.prompt_token_ids, PromptIds(r, tokenizer, chat_template));
  GQA_RETURN_IF_ERROR(CheckPromptTokens(InputField(r), g.prompt_token_ids.size(), limits));
  g.sampling = SamplingFromProto(r.sampling(), r.top_logprobs());
  g.priority = r.priority();
  g.prompt_logprobs = r.prompt_logprobs();
  const v1::StoppingCriteria& s = r.stopping();
  // Unset: the engine fills in as many as fit.
  g.stopping.max_tokens = s.has_max_tokens() ? std::optional<int>(s.max_tokens()) : std::nullopt;
  g.stopping.min_tokens = s.min_tokens();
  g.stopping.stop_token_ids.assign(s.stop_token_ids().begin(), s.stop_token_ids().end());
  g.stopping.ignore_eos = s.ignore_eos();
  // The engine's rules: token ids, sampling ranges, max/min tokens, context
  // and KV capacity.
  GQA_RETURN_IF_ERROR(engine.Validate(g));

  v.text.stop.assign(s.stop().begin(), s.stop().end());
  v.text.include_stop_str_in_output = s.include_stop_str_in_output();
  v.text.min_tokens = s.min_tokens();
  v.logprobs = r.logprobs() || r.top_logprobs() > 0;
  return v;
}

}  // namespace gqa
