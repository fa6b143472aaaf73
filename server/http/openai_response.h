// OpenAiResponder: GenerationCall's updates (gqa.v1 GenerateResponse pieces)
// -> OpenAI's JSON, for one request:
//   non-streaming  Body(whole): a "text_completion" or "chat.completion"
//   streaming      server-sent events, each "data: {json}\n\n":
//                  chat: a role chunk first ({"delta": {"role": "assistant",
//                  "content": ""}}); then a chunk per update with new text
//                  (completions: "text", chat: "delta.content"); the last
//                  carries finish_reason (chat: in a chunk with an empty delta
//                  of its own); with stream_options.include_usage every chunk
//                  has "usage": null and a last chunk {"choices": [], "usage"};
//                  then "data: [DONE]". An error after the first event is an
//                  event {"error": {...}} before [DONE], as vLLM sends.
// Logprobs in each API's own shape: completions {"tokens", "token_logprobs",
// "top_logprobs": [{token: logprob}], "text_offset"}; chat {"content":
// [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob",
// "bytes"}]}]}. Token texts are the decoded tokens (Tokenizer::Decode of the
// one id), not vocabulary entries.
//
// Thread ownership: one request's thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"
#include "gqa/v1/generation.pb.h"
#include "server/http/http_errors.h"
#include "server/http/openai_request.h"

namespace gqa {

// "length", "stop" (stop strings, stop tokens and EOS alike, as OpenAI),
// "abort"; null while unfinished.
nlohmann::json FinishReasonJson(v1::FinishReason reason);
nlohmann::json UsageJson(const v1::Usage& usage);
// Dumps without throwing (invalid UTF-8 replaced).
std::string Dump(const nlohmann::json& j);

class OpenAiResponder {
 public:
  // `tokenizer` may be null (token texts are then empty).
  OpenAiResponder(const OpenAiRequest& request, const Tokenizer* tokenizer, std::string model,
                  std::string id, int64_t created);

  nlohmann::json Body(const v1::GenerateResponse& whole);

  // Streaming: the events that open the stream (chat: the role chunk).
  std::string StartEvents();
  // The events for one update; `final`: also the finish and usage chunks and
  // [DONE].
  std::string UpdateEvents(const v1::GenerateResponse& update, bool final);
  // An error after the stream started: the error event and [DONE].
  std::string ErrorEvents(const HttpError& error);

 private:
  nlohmann::json Chunk(nlohmann::json choice) const;
  nlohmann::json Logprobs(const v1::GenerateResponse& r);
  nlohmann::json TokenJson(int32_t id, float logprob) const;
  std::string TokenText(int32_t id, std::string* bytes) const;

  const OpenAiRequest& request_;
  const Tokenizer* const tokenizer_;
  const std::string model_;
  const std::string id_;
  const int64_t created_;
  size_t text_offset_ = 0;  // completions logprobs: the next token's offset in the text
};

}  // namespace gqa
