#include "server/generate_reactors.h"

#include "server/generation_call.h"

namespace gqa {
namespace {

grpc::Status Loading() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the model is still loading; retry shortly");
}

class GenerateStreamReactor final : public grpc::ServerWriteReactor<v1::GenerateResponse> {
 public:
  GenerateStreamReactor(const ServingContext& context, const v1::GenerateRequest& request)
      : call_(context, [this] { Pump(); }) {
    if (grpc::Status s = call_.Start(request); !s.ok()) {
      Finish(s);
      return;
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the stream broke: stop writing, let the engine confirm the abort
      broken_ = true;
      call_.Cancel();
    }
    Pump();
  }
  void OnCancel() override { call_.Cancel(); }
  void OnDone() override { delete this; }

 private:
  // Holds the pump (see GenerationCall). Finish is the last thing it does.
  void Pump() {
    GenerationCall::Update u;
    while (call_.Next(&u)) {
      if (u.final) {
        if (!u.status.ok() || broken_) {
          Finish(u.status.ok() ? grpc::Status::CANCELLED : u.status);
          return;
        }
        response_ = std::move(u.response);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
        return;
      }
      if (broken_) continue;
      response_ = std::move(u.response);
      StartWrite(&response_);  // OnWriteDone pumps again
      return;
    }
  }

  GenerationCall call_;
  v1::GenerateResponse response_;  // the write in flight
  bool broken_ = false;            // pump holder only
};

class GenerateReactor final : public grpc::ServerUnaryReactor {
 public:
  GenerateReactor(const ServingContext& context, const v1::GenerateRequest& request,
                  v1::GenerateResponse* response)
      : call_(context, [this] { Pump(); }), response_(response) {
    if (grpc::Status s = call_.Start(request); !s.ok()) {
      Finish(s);
      return;
    }
    Pump();
  }

  void OnCancel() override { call_.Cancel(); }
  void OnDone() override { delete this; }

 private:
  void Pump() {
    GenerationCall::Update u;
    while (call_.Next(&u)) {
      MergeResponse(std::move(u.response), response_);
      if (u.final) {
        Finish(u.status);
        return;
      }
    }
  }

  GenerationCall call_;
  v1::GenerateResponse* const response_;  // owned by gRPC
};

// Ends a stream at once (model still loading).
class RejectedStreamReactor final : public grpc::ServerWriteReactor<v1::GenerateResponse> {
 public:
  explicit RejectedStreamReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

void MergeResponse(v1::GenerateResponse&& update, v1::GenerateResponse* whole) {
  whole->set_request_id(update.request_id());
  whole->mutable_token_ids()->Add(update.token_ids().begin(), update.token_ids().end());
  whole->mutable_text()->append(update.text());
  for (v1::TokenLogprob& l : *update.mutable_logprobs()) *whole->add_logprobs() = std::move(l);
  for (v1::TokenLogprob& l : *update.mutable_prompt_logprobs()) {
    *whole->add_prompt_logprobs() = std::move(l);
  }
  if (update.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
    whole->set_finish_reason(update.finish_reason());
  }
  if (update.has_usage()) *whole->mutable_usage() = update.usage();
}

grpc::ServerWriteReactor<v1::GenerateResponse>* NewGenerateStreamReactor(
    const ServingContext* context, const v1::GenerateRequest& request) {
  if (!context) return new RejectedStreamReactor(Loading());
  return new GenerateStreamReactor(*context, request);
}

grpc::ServerUnaryReactor* NewGenerateReactor(grpc::CallbackServerContext* server_context,
                                             const ServingContext* context,
                                             const v1::GenerateRequest& request,
                                             v1::GenerateResponse* response) {
  if (!context) {
    grpc::ServerUnaryReactor* reactor = server_context->DefaultReactor();
    reactor->Finish(Loading());
    return reactor;
  }
  return new GenerateReactor(*context, request, response);
}

}  // namespace gqa
