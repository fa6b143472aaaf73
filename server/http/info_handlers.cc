// GET /v1/models, GET /health, POST /tokenize, POST /detokenize.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "server/http/http_handlers.h"
#include "server/http/openai_request.h"
#include "server/http/openai_response.h"

namespace gqa {
namespace {

using json = nlohmann::json;

void SetJson(const json& body, httplib::Response& res) {
  res.set_content(Dump(body), "application/json");
}

HttpError Unavailable(std::string message) {
  HttpError e = LoadingError();
  e.message = std::move(message);
  return e;
}

// A parsed JSON object body, or false with the 400 set.
bool ParseBody(const httplib::Request& req, httplib::Response& res, json* out) {
  *out = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded() || !out->is_object()) {
    SetError(BadParameter("", "the request body must be a JSON object"), res);
    return false;
  }
  return true;
}

// The served context, or false with the 503 set; /tokenize and /detokenize
// also need a tokenizer.
const ServingContext* Serving(const HttpState& state, httplib::Response& res, bool need_tokenizer) {
  const ServingContext* context = state.context.load(std::memory_order_acquire);
  if (!context) {
    SetError(LoadingError(), res);
    return nullptr;
  }
  if (need_tokenizer && !context->tokenizer) {
    SetError(BadParameter("", "this model has no tokenizer (start the server with --tokenizer)"),
             res);
    return nullptr;
  }
  return context;
}

}  // namespace

void HandleHealth(const HttpState& state, const httplib::Request&, httplib::Response& res) {
  switch (state.health.load()) {
    case HttpState::Health::kServing:
      res.status = 200;
      return;
    case HttpState::Health::kLoading:
      return SetError(LoadingError(), res);
    case HttpState::Health::kDraining:
      return SetError(Unavailable("the server is draining; send requests elsewhere"), res);
    case HttpState::Health::kFailed:
      return SetError(Unavailable("the backend failed; this server serves nothing more"), res);
  }
}

void HandleModels(const HttpState& state, const httplib::Request&, httplib::Response& res) {
  const ServingContext* context = Serving(state, res, /*need_tokenizer=*/false);
  if (!context) return;
  const json model{{"id", state.served_model},
                   {"object", "model"},
                   {"created", state.created},
                   {"owned_by", "gqa-serve"},
                   {"root", state.served_model},
                   {"parent", nullptr},
                   {"max_model_len", context->engine->info().config.max_model_len}};
  SetJson(json{{"object", "list"}, {"data", json::array({model})}}, res);
}

void HandleTokenize(const HttpState& state, const httplib::Request& req, httplib::Response& res) {
  const ServingContext* context = Serving(state, res, /*need_tokenizer=*/true);
  json body;
  if (!context || !ParseBody(req, res, &body)) return;
  std::vector<int> ids;
  const bool chat = body.contains("messages");
  auto special = body.find("add_special_tokens");
  if (special != body.end() && !special->is_null() && !special->is_boolean()) {
    return SetError(BadParameter("add_special_tokens", "add_special_tokens: must be a boolean"),
                    res);
  }
  // vLLM's defaults: special tokens added to a prompt, not to a chat (its
  // template writes them).
  const bool add_special =
      special != body.end() && special->is_boolean() ? special->get<bool>() : !chat;
  if (chat) {
    OpenAiRequest parsed;
    HttpError error;
    if (!ParseOpenAiRequest(OpenAiApi::kChat, req.body, state.served_model, &parsed, &error)) {
      return SetError(error, res);
    }
    if (!context->chat_template) {
      return SetError(BadParameter("messages", "messages: this model has no chat template"), res);
    }
    std::vector<ChatMessage> messages;
    for (const v1::ChatMessage& m : parsed.generate.chat().messages()) {
      messages.push_back(ChatMessage{m.role(), m.content()});
    }
    const bool generation_prompt = !parsed.generate.chat().has_add_generation_prompt() ||
                                   parsed.generate.chat().add_generation_prompt();
    absl::StatusOr<std::string> text =
        context->chat_template->Render(std::move(messages), generation_prompt);
    if (!text.ok()) {
      return SetError(BadParameter("messages", absl::StrCat("messages: the chat template refused "
                                                            "them: ",
                                                            text.status().message())),
                      res);
    }
    ids = context->tokenizer->Encode(*text, add_special);
  } else {
    auto prompt = body.find("prompt");
    if (prompt == body.end() || !prompt->is_string()) {
      return SetError(BadParameter("prompt", "prompt: must be a string (or send messages)"), res);
    }
    ids = context->tokenizer->Encode(prompt->get<std::string>(), add_special);
  }
  SetJson(json{{"count", ids.size()},
               {"max_model_len", context->engine->info().config.max_model_len},
               {"tokens", ids},
               {"token_strs", nullptr}},
          res);
}

void HandleDetokenize(const HttpState& state, const httplib::Request& req, httplib::Response& res) {
  const ServingContext* context = Serving(state, res, /*need_tokenizer=*/true);
  json body;
  if (!context || !ParseBody(req, res, &body)) return;
  auto tokens = body.find("tokens");
  if (tokens == body.end() || !tokens->is_array()) {
    return SetError(BadParameter("tokens", "tokens: must be an array of token ids"), res);
  }
  const int vocab = context->tokenizer->vocab_size();
  std::vector<int> ids;
  for (size_t i = 0; i < tokens->size(); ++i) {
    const json& t = (*tokens)[i];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= vocab) {
      return SetError(
          BadParameter(absl::StrCat("tokens[", i, "]"),
                       absl::StrCat("tokens[", i, "]: must be a token id in [0, ", vocab, ")")),
          res);
    }
    ids.push_back(t.get<int>());
  }
  SetJson(json{{"prompt", context->tokenizer->Decode(ids)}}, res);
}

}  // namespace gqa
