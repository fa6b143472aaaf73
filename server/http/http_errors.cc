#include "server/http/http_errors.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

// The leading field path of a validation message: "sampling.top_p must ...",
// "stopping.stop[0]: ...", "chat.messages[1].role: ..." -> the path.
std::string LeadingField(const std::string& message) {
  size_t end = 0;
  while (end < message.size()) {
    const char c = message[end];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '[' ||
          c == ']')) {
      break;
    }
    ++end;
  }
  return message.substr(0, end);
}

// A proto field path -> the OpenAI parameter the client sent.
std::string ToParam(std::string field, const ParamNames& names) {
  auto strip = [&](absl::string_view prefix) {
    if (absl::StartsWith(field, prefix)) field = field.substr(prefix.size());
  };
  strip("sampling.");
  strip("stopping.");
  const bool chat = names.api == OpenAiApi::kChat;
  if (absl::StartsWith(field, "chat.messages")) return field.substr(5);
  if (field == "chat" || (chat && field == "prompt")) return "messages";
  if (absl::StartsWith(field, "prompt_token_ids")) return "prompt";
  if (field == "max_tokens") return names.max_tokens;
  if (field == "top_logprobs" && !chat) return "logprobs";
  return field;
}

}  // namespace

nlohmann::json HttpError::ToJson() const {
  nlohmann::json e;
  e["message"] = message;
  e["type"] = type;
  e["param"] = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
  e["code"] = code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code);
  return nlohmann::json{{"error", std::move(e)}};
}

HttpError BadParameter(std::string param, std::string message) {
  HttpError e;
  e.status = 400;
  e.param = std::move(param);
  e.message = std::move(message);
  return e;
}

HttpError FromGrpcStatus(const grpc::Status& status, const ParamNames& names) {
  HttpError e;
  const std::string& message = status.error_message();
  e.message = message;
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION: {
      const std::string field = LeadingField(message);
      if (!field.empty() && field != "the" && field != "this") {
        // Name the parameter in the message as the client spelled it.
        std::string base = field.substr(0, field.find('['));
        const std::string suffix = field.substr(base.size());
        e.param = ToParam(base, names) + suffix;
        e.message = e.param + message.substr(field.size());
      }
      return e;
    }
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      if (absl::StrContains(message, "can never fit")) {
        e.param = names.api == OpenAiApi::kChat ? "messages" : "prompt";
        e.code = "context_length_exceeded";
        return e;
      }
      e.status = 429;
      e.type = "rate_limit_error";
      e.code = "queue_full";
      e.retry_after_seconds = 1;
      return e;
    case grpc::StatusCode::UNAVAILABLE:
      e.status = 503;
      e.type = "service_unavailable";
      e.retry_after_seconds = 1;
      return e;
    default:
      e.status = 500;
      e.type = "server_error";
      if (e.message.empty()) e.message = "internal error";
      return e;
  }
}

}  // namespace gqa
