// HandleGenerate: POST /v1/completions and /v1/chat/completions.
#include <ctime>
#include <memory>
#include <random>

#include "absl/strings/str_format.h"
#include "server/generate_reactors.h"
#include "server/http/blocking_call.h"
#include "server/http/http_handlers.h"
#include "server/http/openai_response.h"
#include "server/http/socket_server.h"

namespace gqa {
namespace {

// The client hung up: nobody reads the answer; the metrics count it as
// nginx does.
constexpr int kClientClosedRequest = 499;

// "cmpl-<16 hex>" / "chatcmpl-<16 hex>": unique enough for logs and clients.
std::string ResponseId(OpenAiApi api) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return absl::StrFormat("%s-%016x", api == OpenAiApi::kChat ? "chatcmpl" : "cmpl", random());
}

// One streaming request; shared by the handler and the content provider
// (std::function needs a copyable callable).
struct Stream {
  OpenAiRequest request;
  std::unique_ptr<BlockingCall> call;
  std::unique_ptr<OpenAiResponder> responder;
};

// The content provider's whole job, in one call: every event until the final
// update. A failed write means the client left: the request is aborted and
// the rest only waited for (BlockingCall).
bool WriteEvents(Stream& s, httplib::DataSink& sink) {
  auto write = [&](const std::string& events) {
    if (!events.empty() && !s.call->cancelled() && !sink.write(events.data(), events.size())) {
      s.call->Cancel();
    }
  };
  write(s.responder->StartEvents());
  GenerationCall::Update u;
  do {
    s.call->Next(&u);
    if (u.final && !u.status.ok() && !s.call->cancelled()) {
      write(s.responder->ErrorEvents(FromGrpcStatus(u.status, s.request.names)));
    } else {
      write(s.responder->UpdateEvents(u.response, u.final));
    }
  } while (!u.final);
  if (s.call->cancelled()) return false;  // httplib closes the connection
  sink.done();
  return true;
}

}  // namespace

void SetError(const HttpError& error, httplib::Response& res) {
  res.status = error.status;
  if (error.retry_after_seconds > 0) {
    res.set_header("Retry-After", std::to_string(error.retry_after_seconds));
  }
  res.set_content(Dump(error.ToJson()), "application/json");
}

HttpError LoadingError() {
  HttpError e;
  e.status = 503;
  e.type = "service_unavailable";
  e.message = "the model is still loading; retry shortly";
  e.retry_after_seconds = 1;
  return e;
}

void HandleGenerate(const HttpState& state, OpenAiApi api, const httplib::Request& req,
                    httplib::Response& res) {
  const ServingContext* context = state.context.load(std::memory_order_acquire);
  if (!context) return SetError(LoadingError(), res);
  auto s = std::make_shared<Stream>();
  HttpError error;
  if (!ParseOpenAiRequest(api, req.body, state.served_model, &s->request, &error)) {
    return SetError(error, res);
  }
  s->call = std::make_unique<BlockingCall>(*context, SocketServer::CurrentSocket());
  if (grpc::Status status = s->call->Start(s->request.generate); !status.ok()) {
    return SetError(FromGrpcStatus(status, s->request.names), res);
  }
  s->responder =
      std::make_unique<OpenAiResponder>(s->request, context->tokenizer, state.served_model,
                                        ResponseId(api), static_cast<int64_t>(std::time(nullptr)));

  if (s->request.stream) {
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [s](size_t, httplib::DataSink& sink) { return WriteEvents(*s, sink); },
        // Runs when the response is done or abandoned: the call ends with it
        // (a call never started by the provider is cancelled and waited for).
        [s](bool) { s->call.reset(); });
    return;
  }
  v1::GenerateResponse whole;
  GenerationCall::Update u;
  do {
    s->call->Next(&u);
    MergeResponse(std::move(u.response), &whole);
  } while (!u.final);
  if (s->call->cancelled()) {
    res.status = kClientClosedRequest;
    return;
  }
  if (!u.status.ok()) return SetError(FromGrpcStatus(u.status, s->request.names), res);
  res.set_content(Dump(s->responder->Body(whole)), "application/json");
}

}  // namespace gqa
