// ParseOpenAiRequest: the body of POST /v1/completions or
// /v1/chat/completions -> the gqa.v1 GenerateRequest that GenerationCall runs
// (the one validation both front ends share), plus what only the HTTP answer
// needs (streaming, usage chunk, the logprobs shape).
//
// Accepted (null = absent; unknown fields ignored, as OpenAI does; a wrong
// type is a 400 naming the parameter):
//   completions: prompt (string, [string], [int], [[int]]: one prompt),
//                logprobs (int N: N top entries), echo false, suffix empty,
//                best_of 1
//   chat:        messages [{role, content: string | [{type: text, text}] |
//                null}] ("developer" counts as "system"), logprobs (bool),
//                top_logprobs (int, needs logprobs), max_completion_tokens,
//                add_generation_prompt (vLLM), tools empty,
//                response_format text
//   both:        model (the served name, or absent), max_tokens, temperature,
//                top_p, n (1), stop (string | [string]), seed (>= 0),
//                presence_penalty, frequency_penalty, stream, stream_options
//                {include_usage}, user (ignored); vLLM's top_k, min_p,
//                repetition_penalty, min_tokens, ignore_eos, priority,
//                stop_token_ids, include_stop_str_in_output.
// Value ranges are the shared validation's job (request_validation.h).
#pragma once

#include <string>

#include "gqa/v1/generation.pb.h"
#include "server/http/http_errors.h"

namespace gqa {

struct OpenAiRequest {
  OpenAiApi api = OpenAiApi::kCompletions;
  v1::GenerateRequest generate;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;       // answer with a logprobs object
  int top_logprobs = 0;        // top entries per token
  ParamNames names;            // for error messages
};

// false: `error` says why (400, or 404 for a model we do not serve).
bool ParseOpenAiRequest(OpenAiApi api, const std::string& body, const std::string& served_model,
                        OpenAiRequest* out, HttpError* error);

}  // namespace gqa
