#include "client/loadgen/openai_stream.h"

#include <grpcpp/support/status_code_enum.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace gqa::loadgen {
namespace {

using json = nlohmann::json;

void SetStatus(RequestRecord* r, grpc::StatusCode code, const char* name, std::string message) {
  r->status_code = static_cast<int>(code);
  r->status_name = name;
  r->error = std::move(message);
}

// An OpenAI error body's message, or the body itself.
std::string ErrorMessage(const std::string& body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("message") && j["error"]["message"].is_string()) {
    return j["error"]["message"].get<std::string>();
  }
  return body.substr(0, 300);
}

}  // namespace

absl::StatusOr<OpenAiCall> OpenAiCallFor(const v1::GenerateRequest& r, const std::string& model) {
  if (r.stopping().stop_token_ids_size() > 0 || r.logprobs() || r.prompt_logprobs() ||
      r.top_logprobs() > 0) {
    return absl::InvalidArgumentError(
        "--backend openai sends no stop_token_ids or logprobs (the gRPC backend does)");
  }
  OpenAiCall call;
  json j = json::object();
  if (!model.empty()) j["model"] = model;
  switch (r.input_case()) {
    case v1::GenerateRequest::kPrompt:
      j["prompt"] = r.prompt();
      break;
    case v1::GenerateRequest::kPromptTokenIds:
      j["prompt"] = json(std::vector<int32_t>(r.prompt_token_ids().ids().begin(),
                                              r.prompt_token_ids().ids().end()));
      break;
    case v1::GenerateRequest::kChat: {
      call.chat = true;
      json messages = json::array();
      for (const v1::ChatMessage& m : r.chat().messages()) {
        messages.push_back({{"role", m.role()}, {"content", m.content()}});
      }
      j["messages"] = std::move(messages);
      break;
    }
    default:
      return absl::InvalidArgumentError("the request has no prompt");
  }
  call.path = call.chat ? "/v1/chat/completions" : "/v1/completions";
  const v1::SamplingParams& s = r.sampling();
  if (s.has_temperature()) j["temperature"] = s.temperature();
  if (s.has_top_p()) j["top_p"] = s.top_p();
  if (s.has_top_k()) j["top_k"] = s.top_k();
  if (s.has_min_p()) j["min_p"] = s.min_p();
  if (s.has_repetition_penalty()) j["repetition_penalty"] = s.repetition_penalty();
  if (s.has_presence_penalty()) j["presence_penalty"] = s.presence_penalty();
  if (s.has_frequency_penalty()) j["frequency_penalty"] = s.frequency_penalty();
  if (s.has_seed()) j["seed"] = s.seed();
  const v1::StoppingCriteria& st = r.stopping();
  if (st.has_max_tokens()) j["max_tokens"] = st.max_tokens();
  if (st.min_tokens() > 0) j["min_tokens"] = st.min_tokens();
  if (st.stop_size() > 0)
    j["stop"] = json(std::vector<std::string>(st.stop().begin(), st.stop().end()));
  if (st.ignore_eos()) j["ignore_eos"] = true;
  if (st.include_stop_str_in_output()) j["include_stop_str_in_output"] = true;
  if (r.priority() != 0) j["priority"] = r.priority();
  j["stream"] = true;
  j["stream_options"] = {{"include_usage", true}};
  call.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return call;
}

void OpenAiStreamRecorder::OnBody(std::string_view bytes, double now_s) {
  events_.clear();
  parser_.Feed(bytes, &events_);
  for (const std::string& e : events_) Event(e, now_s);
}

void OpenAiStreamRecorder::Event(const std::string& data, double now_s) {
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  const json j = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    if (stream_error_.empty()) stream_error_ = "an event that is not a JSON object: " + data;
    return;
  }
  if (auto e = j.find("error"); e != j.end()) {
    if (stream_error_.empty()) stream_error_ = ErrorMessage(j.dump());
    return;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    const int prompt = u->value("prompt_tokens", 0);
    if (prompt > 0) record_->input_len = prompt;
    completion_tokens_ = u->value("completion_tokens", 0);
    if (auto d = u->find("prompt_tokens_details"); d != u->end() && d->is_object()) {
      record_->cached_prompt_tokens = d->value("cached_tokens", 0);
    }
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return;
  const json& choice = (*choices)[0];
  bool token = false;
  if (chat_) {
    auto delta = choice.find("delta");
    token = delta != choice.end() && delta->is_object() && delta->contains("content") &&
            !delta->contains("role");
  } else {
    token = choice.contains("text");
  }
  if (!token) return;
  record_->message_times_s.push_back(now_s);
  record_->message_tokens.push_back(1);
  ++record_->output_len;
}

void OpenAiStreamRecorder::Finish(int http_status, const std::string& transport_error,
                                  const std::string& error_body, double now_s) {
  RequestRecord& r = *record_;
  r.end_s = now_s;
  if (http_status != 200 && http_status != 0) {
    const std::string message = absl::StrCat("HTTP ", http_status, ": ", ErrorMessage(error_body));
    switch (http_status) {
      case 400:
        return SetStatus(&r, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT", message);
      case 404:
        return SetStatus(&r, grpc::StatusCode::NOT_FOUND, "NOT_FOUND", message);
      case 429:
        return SetStatus(&r, grpc::StatusCode::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED", message);
      case 503:
        return SetStatus(&r, grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE", message);
      case 408:
      case 504:
        return SetStatus(&r, grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", message);
      default:
        return SetStatus(&r, grpc::StatusCode::INTERNAL, "INTERNAL", message);
    }
  }
  if (!transport_error.empty()) {
    return SetStatus(&r, grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE", transport_error);
  }
  if (!stream_error_.empty()) {
    return SetStatus(&r, grpc::StatusCode::INTERNAL, "INTERNAL", stream_error_);
  }
  if (!done_) {
    return SetStatus(&r, grpc::StatusCode::INTERNAL, "INTERNAL",
                     "the stream ended before data: [DONE]");
  }
  if (completion_tokens_ < 0) return;
  // The server's count decides: extra tokens on the last message, surplus
  // messages off the end.
  while (r.output_len > completion_tokens_ && !r.message_tokens.empty()) {
    const int drop = std::min(r.message_tokens.back(), r.output_len - completion_tokens_);
    r.message_tokens.back() -= drop;
    r.output_len -= drop;
    if (r.message_tokens.back() == 0) {
      r.message_tokens.pop_back();
      r.message_times_s.pop_back();
    }
  }
  if (r.output_len < completion_tokens_ && !r.message_tokens.empty()) {
    r.message_tokens.back() += completion_tokens_ - r.output_len;
    r.output_len = completion_tokens_;
  }
}

}  // namespace gqa::loadgen
