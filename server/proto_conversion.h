// Conversions between the public API (gqa.v1 protos) and the engine's types,
// and absl::Status -> grpc::Status. No validation here (request_validation.h).
#pragma once

#include <grpcpp/support/status.h>

#include <span>

#include "absl/status/status.h"
#include "engine/runner/engine.h"
#include "engine/serving/request_channel.h"
#include "engine/tokenizer/tokenizer.h"
#include "gqa/v1/generation.pb.h"

namespace gqa {

// Unset proto fields take the engine's defaults (temperature 1, filters off).
SamplingParams SamplingFromProto(const v1::SamplingParams& proto, int top_logprobs);

v1::FinishReason FinishReasonToProto(FinishReason reason);
// "length", "stop", "eos", "aborted", "error" (metrics labels); "" for kNone.
const char* FinishReasonName(FinishReason reason);

// Same code, same message.
grpc::Status ToGrpcStatus(const absl::Status& status);
// "INVALID_ARGUMENT", ... (metrics labels).
std::string StatusCodeName(absl::StatusCode code);

// One generated token; the top entries only when the engine returned them.
// `tokenizer` may be null (no token strings then).
void AppendTokenLogprob(const TokenOutput& token, const Tokenizer* tokenizer,
                        v1::TokenLogprob* out);

// Usage of a finished request. completion_tokens: tokens the client got (a
// stop string may cut the engine's output short).
void FillUsage(const RequestDelta& final_delta, int completion_tokens, v1::Usage* usage);

// The server's load (GetLoad) from the engine's published stats.
void FillLoad(const ServiceStats& stats, v1::Load* out);

void FillModelInfo(const EngineInfo& info, const Tokenizer* tokenizer,
                   std::string_view backend_name, std::string_view description, v1::ModelInfo* out);

// A vocabulary entry made safe for a proto string (invalid UTF-8 replaced).
std::string TokenText(const Tokenizer* tokenizer, int token_id);

}  // namespace gqa
