// The HTTP front end's endpoints, one function each, over HttpState. Each
// runs on an httplib worker thread and blocks it while it waits for the
// engine (see blocking_call.h); none touches engine state beyond the calls
// GenerationCall makes.
//
//   POST /v1/completions, /v1/chat/completions   HandleGenerate (openai_request.h,
//                                                openai_response.h)
//   GET  /v1/models     {"object": "list", "data": [{"id": served name,
//                       "object": "model", "max_model_len": context length, ...}]}
//   GET  /health        200 serving; 503 loading, draining or failed
//   POST /tokenize      vLLM's: {"prompt"} or {"messages", "add_generation_prompt"},
//                       "add_special_tokens" -> {"count", "max_model_len", "tokens"}
//   POST /detokenize    vLLM's: {"tokens": [ids]} -> {"prompt": text}
#pragma once

#include <httplib.h>

#include "server/http/http_errors.h"
#include "server/http/http_state.h"

namespace gqa {

void HandleGenerate(const HttpState& state, OpenAiApi api, const httplib::Request& req,
                    httplib::Response& res);
void HandleModels(const HttpState& state, const httplib::Request& req, httplib::Response& res);
void HandleHealth(const HttpState& state, const httplib::Request& req, httplib::Response& res);
void HandleTokenize(const HttpState& state, const httplib::Request& req, httplib::Response& res);
void HandleDetokenize(const HttpState& state, const httplib::Request& req, httplib::Response& res);

// Writes `error` as the response (status, OpenAI's JSON, Retry-After).
void SetError(const HttpError& error, httplib::Response& res);
// 503 while the model loads.
HttpError LoadingError();

}  // namespace gqa
