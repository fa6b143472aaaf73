// HttpError: an error answered in OpenAI's shape,
//   {"error": {"message": ..., "type": ..., "param": ... | null, "code": ... | null}}
// with the HTTP status that goes with it, and the mapping from the shared
// validation's (and the engine's) status codes:
//   INVALID_ARGUMENT, FAILED_PRECONDITION     400 invalid_request_error; param is
//       the request's own parameter name ("sampling.top_p" -> "top_p",
//       "stopping.max_tokens" -> "max_tokens", "chat.messages[0].role" ->
//       "messages[0].role"), and the message names it the same way
//   RESOURCE_EXHAUSTED "can never fit ..."    400 (context_length_exceeded)
//   RESOURCE_EXHAUSTED (the queue is full)    429, Retry-After
//   UNAVAILABLE (loading, draining)           503, Retry-After
//   anything else                             500 server_error
#pragma once

#include <grpcpp/support/status.h>

#include <nlohmann/json.hpp>
#include <string>

namespace gqa {

enum class OpenAiApi { kCompletions, kChat };

struct HttpError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;            // "": null
  std::string code;             // "": null
  int retry_after_seconds = 0;  // > 0: a Retry-After header

  nlohmann::json ToJson() const;
};

HttpError BadParameter(std::string param, std::string message);

// How the names the client used map back from the proto's field names.
struct ParamNames {
  OpenAiApi api = OpenAiApi::kCompletions;
  std::string max_tokens = "max_tokens";  // or "max_completion_tokens"
};

// A not-OK status of GenerationCall::Start or of its final update.
HttpError FromGrpcStatus(const grpc::Status& status, const ParamNames& names);

}  // namespace gqa
