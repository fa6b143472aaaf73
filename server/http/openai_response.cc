#include "server/http/openai_response.h"

#include "engine/tokenizer/utf8.h"

namespace gqa {
namespace {

using json = nlohmann::json;

bool Chat(const OpenAiRequest& r) { return r.api == OpenAiApi::kChat; }

std::string Event(const json& j) { return "data: " + Dump(j) + "\n\n"; }

json BytesJson(const std::string& bytes) {
  json out = json::array();
  for (unsigned char c : bytes) out.push_back(static_cast<int>(c));
  return out;
}

}  // namespace

json FinishReasonJson(v1::FinishReason reason) {
  switch (reason) {
    case v1::FINISH_REASON_LENGTH:
      return "length";
    case v1::FINISH_REASON_STOP:
    case v1::FINISH_REASON_EOS:
      return "stop";
    case v1::FINISH_REASON_ABORTED:
      return "abort";
    case v1::FINISH_REASON_ERROR:  // vLLM's name; the call also fails with an error
      return "error";
    default:
      return nullptr;
  }
}

json UsageJson(const v1::Usage& u) {
  return json{{"prompt_tokens", u.prompt_tokens()},
              {"completion_tokens", u.completion_tokens()},
              {"total_tokens", u.prompt_tokens() + u.completion_tokens()},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_prompt_tokens()}}}};
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

OpenAiResponder::OpenAiResponder(const OpenAiRequest& request, const Tokenizer* tokenizer,
                                 std::string model, std::string id, int64_t created)
    : request_(request),
      tokenizer_(tokenizer),
      model_(std::move(model)),
      id_(std::move(id)),
      created_(created) {}

std::string OpenAiResponder::TokenText(int32_t id, std::string* bytes) const {
  std::string raw;
  if (tokenizer_ && id >= 0 && id < tokenizer_->vocab_size()) {
    const int ids[] = {id};
    raw = tokenizer_->Decode(ids, /*skip_special_tokens=*/false);
  }
  if (bytes) *bytes = raw;
  return Utf8ReplaceInvalid(raw);
}

json OpenAiResponder::TokenJson(int32_t id, float logprob) const {
  std::string bytes;
  std::string text = TokenText(id, &bytes);
  return json{{"token", std::move(text)}, {"logprob", logprob}, {"bytes", BytesJson(bytes)}};
}

json OpenAiResponder::Logprobs(const v1::GenerateResponse& r) {
  if (!request_.logprobs) return nullptr;
  if (Chat(request_)) {
    json content = json::array();
    for (const v1::TokenLogprob& t : r.logprobs()) {
      json entry = TokenJson(t.token_id(), t.logprob());
      json top = json::array();
      for (const v1::TopLogprob& x : t.top_logprobs())
        top.push_back(TokenJson(x.token_id(), x.logprob()));
      entry["top_logprobs"] = std::move(top);
      content.push_back(std::move(entry));
    }
    return json{{"content", std::move(content)}, {"refusal", nullptr}};
  }
  json tokens = json::array(), token_logprobs = json::array(), tops = json::array(),
       offsets = json::array();
  for (const v1::TokenLogprob& t : r.logprobs()) {
    const std::string text = TokenText(t.token_id(), nullptr);
    tokens.push_back(text);
    token_logprobs.push_back(t.logprob());
    // The top entries and always the sampled token, as vLLM does.
    json top = json::object();
    for (const v1::TopLogprob& x : t.top_logprobs())
      top[TokenText(x.token_id(), nullptr)] = x.logprob();
    top[text] = t.logprob();
    tops.push_back(std::move(top));
    offsets.push_back(text_offset_);
    text_offset_ += text.size();
  }
  return json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(token_logprobs)},
              {"top_logprobs", std::move(tops)},
              {"text_offset", std::move(offsets)}};
}

json OpenAiResponder::Body(const v1::GenerateResponse& whole) {
  json choice{{"index", 0}};
  if (Chat(request_)) {
    choice["message"] = json{{"role", "assistant"}, {"content", whole.text()}};
  } else {
    choice["text"] = whole.text();
  }
  choice["logprobs"] = Logprobs(whole);
  choice["finish_reason"] = FinishReasonJson(whole.finish_reason());
  return json{{"id", id_},
              {"object", Chat(request_) ? "chat.completion" : "text_completion"},
              {"created", created_},
              {"model", model_},
              {"choices", json::array({std::move(choice)})},
              {"usage", UsageJson(whole.usage())}};
}

json OpenAiResponder::Chunk(json choice) const {
  json chunk{{"id", id_},
             {"object", Chat(request_) ? "chat.completion.chunk" : "text_completion"},
             {"created", created_},
             {"model", model_},
             {"choices", choice.is_null() ? json::array() : json::array({std::move(choice)})}};
  if (request_.include_usage) chunk["usage"] = nullptr;
  return chunk;
}

std::string OpenAiResponder::StartEvents() {
  if (!Chat(request_)) return "";
  return Event(Chunk(json{{"index", 0},
                          {"delta", {{"role", "assistant"}, {"content", ""}}},
                          {"logprobs", nullptr},
                          {"finish_reason", nullptr}}));
}

std::string OpenAiResponder::UpdateEvents(const v1::GenerateResponse& u, bool final) {
  std::string out;
  const bool has_news = !u.text().empty() || u.token_ids_size() > 0;
  if (Chat(request_)) {
    if (has_news) {
      out += Event(Chunk(json{{"index", 0},
                              {"delta", {{"content", u.text()}}},
                              {"logprobs", Logprobs(u)},
                              {"finish_reason", nullptr}}));
    }
    if (final) {
      out += Event(Chunk(json{{"index", 0},
                              {"delta", json::object()},
                              {"logprobs", nullptr},
                              {"finish_reason", FinishReasonJson(u.finish_reason())}}));
    }
  } else if (has_news || final) {
    out +=
        Event(Chunk(json{{"index", 0},
                         {"text", u.text()},
                         {"logprobs", Logprobs(u)},
                         {"finish_reason", final ? FinishReasonJson(u.finish_reason()) : json()}}));
  }
  if (final) {
    if (request_.include_usage) {
      json usage = Chunk(nullptr);
      usage["usage"] = UsageJson(u.usage());
      out += Event(usage);
    }
    out += "data: [DONE]\n\n";
  }
  return out;
}

std::string OpenAiResponder::ErrorEvents(const HttpError& error) {
  return Event(error.ToJson()) + "data: [DONE]\n\n";
}

}  // namespace gqa
