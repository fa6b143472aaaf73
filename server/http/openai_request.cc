#include "server/http/openai_request.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

using json = nlohmann::json;

// Typed reads of the body's top-level fields. Each returns false (and fills
// the error) on a wrong type; absent and null fields leave `out` unset.
class Fields {
 public:
  Fields(const json& body, HttpError* error) : body_(body), error_(error) {}

  const json* Find(const char* name) const {
    auto it = body_.find(name);
    return it == body_.end() || it->is_null() ? nullptr : &*it;
  }
  bool Fail(const std::string& param, const std::string& message) {
    *error_ = BadParameter(param, param + ": " + message);
    return false;
  }
  bool Number(const char* name, std::optional<double>* out) {
    const json* v = Find(name);
    if (!v) return true;
    if (!v->is_number()) return Fail(name, "must be a number");
    *out = v->get<double>();
    return true;
  }
  bool Int(const char* name, std::optional<int64_t>* out) {
    const json* v = Find(name);
    if (!v) return true;
    if (v->is_number_integer()) {
      *out = v->get<int64_t>();
      return true;
    }
    // 5.0 is an integer too (JSON has one number type); 5.5 is not.
    if (v->is_number_float()) {
      const double d = v->get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e15) {
        *out = static_cast<int64_t>(d);
        return true;
      }
    }
    return Fail(name, "must be an integer");
  }
  bool Int32(const char* name, std::optional<int>* out) {
    std::optional<int64_t> v;
    if (!Int(name, &v)) return false;
    if (v && (*v < INT32_MIN || *v > INT32_MAX)) return Fail(name, "is out of range");
    if (v) *out = static_cast<int>(*v);
    return true;
  }
  bool Bool(const char* name, std::optional<bool>* out) {
    const json* v = Find(name);
    if (!v) return true;
    if (!v->is_boolean()) return Fail(name, "must be a boolean");
    *out = v->get<bool>();
    return true;
  }
  bool String(const char* name, std::optional<std::string>* out) {
    const json* v = Find(name);
    if (!v) return true;
    if (!v->is_string()) return Fail(name, "must be a string");
    *out = v->get<std::string>();
    return true;
  }

 private:
  const json& body_;
  HttpError* const error_;
};

bool IsIntArray(const json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const json& x : v) {
    if (!x.is_number_integer()) return false;
  }
  return true;
}

bool ParsePrompt(Fields& f, v1::GenerateRequest* g) {
  const json* p = f.Find("prompt");
  if (!p) return f.Fail("prompt", "is required");
  const json* one = p;
  if (p->is_array() && !p->empty() && !p->front().is_number()) {
    if (p->size() != 1) return f.Fail("prompt", "only one prompt per request is supported");
    one = &p->front();
  }
  if (one->is_string()) {
    g->set_prompt(one->get<std::string>());
    return true;
  }
  if (IsIntArray(*one)) {
    for (const json& id : *one) {
      const int64_t v = id.get<int64_t>();
      if (v < INT32_MIN || v > INT32_MAX) return f.Fail("prompt", "token id out of range");
      g->mutable_prompt_token_ids()->add_ids(static_cast<int32_t>(v));
    }
    return true;
  }
  return f.Fail("prompt", "must be a string, an array of token ids, or an array of one of those");
}

bool ParseMessages(Fields& f, v1::GenerateRequest* g) {
  const json* m = f.Find("messages");
  if (!m) return f.Fail("messages", "is required");
  if (!m->is_array()) return f.Fail("messages", "must be an array");
  v1::Chat* chat = g->mutable_chat();
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    const std::string field = absl::StrCat("messages[", i, "]");
    if (!msg.is_object()) return f.Fail(field, "must be an object");
    v1::ChatMessage* out = chat->add_messages();
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string()) return f.Fail(field + ".role", "must be a string");
    const std::string r = role->get<std::string>();
    out->set_role(r == "developer" ? "system" : r);
    auto content = msg.find("content");
    if (content == msg.end() || content->is_null()) continue;
    if (content->is_string()) {
      out->set_content(content->get<std::string>());
      continue;
    }
    if (!content->is_array()) {
      return f.Fail(field + ".content", "must be a string or an array of text parts");
    }
    // Text parts joined with newlines, as vLLM does.
    std::string text;
    for (size_t j = 0; j < content->size(); ++j) {
      const json& part = (*content)[j];
      const std::string pf = absl::StrCat(field, ".content[", j, "]");
      if (!part.is_object() || part.value("type", json()) != "text" || !part.contains("text") ||
          !part["text"].is_string()) {
        return f.Fail(pf, "only {\"type\": \"text\", \"text\": ...} parts are supported");
      }
      if (j > 0) text += "\n";
      text += part["text"].get<std::string>();
    }
    out->set_content(std::move(text));
  }
  return true;
}

bool ParseStop(Fields& f, v1::StoppingCriteria* s) {
  if (const json* stop = f.Find("stop")) {
    if (stop->is_string()) {
      s->add_stop(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (const json& x : *stop) {
        if (!x.is_string()) return f.Fail("stop", "must be a string or an array of strings");
        s->add_stop(x.get<std::string>());
      }
    } else {
      return f.Fail("stop", "must be a string or an array of strings");
    }
  }
  if (const json* ids = f.Find("stop_token_ids")) {
    if (!ids->is_array()) return f.Fail("stop_token_ids", "must be an array of integers");
    for (const json& x : *ids) {
      if (!x.is_number_integer()) return f.Fail("stop_token_ids", "must be an array of integers");
      s->add_stop_token_ids(x.get<int32_t>());
    }
  }
  return true;
}

// Parameters both APIs share.
bool ParseCommon(Fields& f, OpenAiRequest* r) {
  v1::GenerateRequest& g = r->generate;
  v1::SamplingParams* sp = g.mutable_sampling();
  v1::StoppingCriteria* st = g.mutable_stopping();
  std::optional<double> d;
  struct FloatParam {
    const char* name;
    void (v1::SamplingParams::*set)(float);
  };
  const FloatParam floats[] = {
      {"temperature", &v1::SamplingParams::set_temperature},
      {"top_p", &v1::SamplingParams::set_top_p},
      {"min_p", &v1::SamplingParams::set_min_p},
      {"repetition_penalty", &v1::SamplingParams::set_repetition_penalty},
      {"presence_penalty", &v1::SamplingParams::set_presence_penalty},
      {"frequency_penalty", &v1::SamplingParams::set_frequency_penalty},
  };
  for (const FloatParam& p : floats) {
    d.reset();
    if (!f.Number(p.name, &d)) return false;
    if (d) (sp->*p.set)(static_cast<float>(*d));
  }
  std::optional<int> i;
  if (!f.Int32("top_k", &i)) return false;
  if (i) sp->set_top_k(*i);
  std::optional<int64_t> seed;
  if (!f.Int("seed", &seed)) return false;
  if (seed) {
    if (*seed < 0) return f.Fail("seed", absl::StrCat("must be >= 0, got ", *seed));
    sp->set_seed(static_cast<uint64_t>(*seed));
  }
  i.reset();
  if (!f.Int32("n", &i)) return false;
  if (i && *i != 1) return f.Fail("n", absl::StrCat("only n = 1 is supported, got ", *i));
  i.reset();
  if (!f.Int32("min_tokens", &i)) return false;
  if (i) st->set_min_tokens(*i);
  i.reset();
  if (!f.Int32("priority", &i)) return false;
  if (i) g.set_priority(*i);
  std::optional<bool> b;
  if (!f.Bool("ignore_eos", &b)) return false;
  if (b) st->set_ignore_eos(*b);
  b.reset();
  if (!f.Bool("include_stop_str_in_output", &b)) return false;
  if (b) st->set_include_stop_str_in_output(*b);
  if (!ParseStop(f, st)) return false;
  b.reset();
  if (!f.Bool("stream", &b)) return false;
  r->stream = b.value_or(false);
  if (const json* so = f.Find("stream_options")) {
    if (!so->is_object()) return f.Fail("stream_options", "must be an object");
    auto u = so->find("include_usage");
    if (u != so->end() && !u->is_null()) {
      if (!u->is_boolean()) return f.Fail("stream_options.include_usage", "must be a boolean");
      r->include_usage = u->get<bool>();
    }
  }
  return true;
}

bool ParseCompletions(Fields& f, OpenAiRequest* r) {
  if (!ParsePrompt(f, &r->generate)) return false;
  std::optional<int> i;
  if (!f.Int32("max_tokens", &i)) return false;
  if (i) r->generate.mutable_stopping()->set_max_tokens(*i);
  i.reset();
  if (!f.Int32("logprobs", &i)) return false;
  if (i) {
    r->logprobs = true;
    r->top_logprobs = *i;
    r->generate.set_logprobs(true);
    r->generate.set_top_logprobs(*i);
  }
  std::optional<bool> echo;
  if (!f.Bool("echo", &echo)) return false;
  if (echo.value_or(false)) return f.Fail("echo", "is not supported");
  std::optional<std::string> suffix;
  if (!f.String("suffix", &suffix)) return false;
  if (suffix && !suffix->empty()) return f.Fail("suffix", "is not supported");
  i.reset();
  if (!f.Int32("best_of", &i)) return false;
  if (i && *i != 1) return f.Fail("best_of", "only best_of = 1 is supported");
  return true;
}

bool ParseChat(Fields& f, OpenAiRequest* r) {
  if (!ParseMessages(f, &r->generate)) return false;
  std::optional<int> max_tokens, max_completion_tokens;
  if (!f.Int32("max_tokens", &max_tokens)) return false;
  if (!f.Int32("max_completion_tokens", &max_completion_tokens)) return false;
  if (max_completion_tokens) {
    r->names.max_tokens = "max_completion_tokens";
    r->generate.mutable_stopping()->set_max_tokens(*max_completion_tokens);
  } else if (max_tokens) {
    r->generate.mutable_stopping()->set_max_tokens(*max_tokens);
  }
  std::optional<bool> logprobs, add_generation_prompt;
  std::optional<int> top;
  if (!f.Bool("logprobs", &logprobs) || !f.Int32("top_logprobs", &top)) return false;
  if (top && !logprobs.value_or(false)) {
    return f.Fail("top_logprobs", "needs \"logprobs\": true");
  }
  if (logprobs.value_or(false)) {
    r->logprobs = true;
    r->top_logprobs = top.value_or(0);
    r->generate.set_logprobs(true);
    r->generate.set_top_logprobs(r->top_logprobs);
  }
  if (!f.Bool("add_generation_prompt", &add_generation_prompt)) return false;
  if (add_generation_prompt) {
    r->generate.mutable_chat()->set_add_generation_prompt(*add_generation_prompt);
  }
  if (const json* tools = f.Find("tools")) {
    if (!tools->is_array() || !tools->empty()) return f.Fail("tools", "is not supported");
  }
  if (const json* rf = f.Find("response_format")) {
    if (!rf->is_object() || rf->value("type", json()) != "text") {
      return f.Fail("response_format", "only {\"type\": \"text\"} is supported");
    }
  }
  return true;
}

}  // namespace

bool ParseOpenAiRequest(OpenAiApi api, const std::string& body, const std::string& served_model,
                        OpenAiRequest* out, HttpError* error) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = BadParameter("", "the request body must be a JSON object");
    return false;
  }
  *out = OpenAiRequest();
  out->api = api;
  out->names.api = api;
  Fields f(j, error);
  std::optional<std::string> model;
  if (!f.String("model", &model)) return false;
  if (model && *model != served_model) {
    *error = HttpError();
    error->status = 404;
    error->param = "model";
    error->code = "model_not_found";
    error->message = absl::StrCat("The model `", *model, "` does not exist; this server serves `",
                                  served_model, "` (GET /v1/models)");
    return false;
  }
  if (!ParseCommon(f, out)) return false;
  return api == OpenAiApi::kChat ? ParseChat(f, out) : ParseCompletions(f, out);
}

}  // namespace gqa
