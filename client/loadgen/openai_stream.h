// One request of gqa-bench's --backend openai: the /v1/completions (or, for a
// chat item, /v1/chat/completions) request that asks for what a
// v1::GenerateRequest asks, and the recording of its SSE response into the
// same RequestRecord the gRPC driver fills, so both backends get the same
// metrics (TTFT, ITL, TPOT, e2e; request_record.h).
//
// Tokens per chunk: an OpenAI chunk carries text, not token ids. Every chunk
// with a completion choice (a chat chunk with delta.content, not the first
// role-only one) counts as one message of one token, as vLLM's benchmark
// counts them; gqa-server sends one chunk per engine step, and a step adds
// one token to a request. The final usage chunk (stream_options.
// include_usage) then sets output_len to the server's completion_tokens:
// extra tokens are put on the last message, surplus messages dropped from
// the end.
//
// Thread ownership: an OpenAiStreamRecorder belongs to its request's thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "client/loadgen/request_record.h"
#include "client/loadgen/sse_parser.h"
#include "gqa/v1/generation.pb.h"

namespace gqa::loadgen {

struct OpenAiCall {
  bool chat = false;
  std::string path;  // "/v1/completions" or "/v1/chat/completions"
  std::string body;  // JSON, "stream": true with usage
};

// The streaming request for `r`: prompt (text, or an array of token ids) or
// messages; max_tokens, the sampling parameters set (vLLM's extras top_k,
// min_p, repetition_penalty too), stop, min_tokens, ignore_eos. `model`
// empty: no "model" field. INVALID_ARGUMENT for what the OpenAI API cannot
// ask (stop_token_ids, logprobs, no input).
absl::StatusOr<OpenAiCall> OpenAiCallFor(const v1::GenerateRequest& r, const std::string& model);

class OpenAiStreamRecorder {
 public:
  OpenAiStreamRecorder(bool chat, RequestRecord* record) : chat_(chat), record_(record) {}

  // Response body bytes (only for an HTTP 200), received at now_s.
  void OnBody(std::string_view bytes, double now_s);
  // The end of the exchange: the HTTP status (0 when none arrived), the
  // transport's error ("" when none), the body of a non-200 response. Sets
  // end_s and the status (gRPC codes, so tables read alike: 400
  // INVALID_ARGUMENT, 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 503 and
  // transport errors UNAVAILABLE, 504 DEADLINE_EXCEEDED, an error event or a
  // stream without "data: [DONE]" INTERNAL) and reconciles output_len with
  // the usage.
  void Finish(int http_status, const std::string& transport_error, const std::string& error_body,
              double now_s);

 private:
  void Event(const std::string& data, double now_s);

  const bool chat_;
  RequestRecord* const record_;
  SseParser parser_;
  std::vector<std::string> events_;  // scratch
  bool done_ = false;                // "data: [DONE]" arrived
  int completion_tokens_ = -1;       // the usage's; -1 until it arrives
  std::string stream_error_;         // an error event's message
};

}  // namespace gqa::loadgen
