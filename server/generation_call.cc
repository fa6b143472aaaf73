#include "server/generation_call.h"

#include <grpc/support/time.h>

#include "server/proto_conversion.h"
#include "server/request_validation.h"

namespace gqa {

GenerationCall::GenerationCall(const ServingContext& context, std::function<void()> pump,
                               PumpOn pump_on)
    : context_(context), pump_(std::move(pump)), pump_on_(pump_on) {
  context_.calls.Begin();
}

grpc::Status GenerationCall::Start(const v1::GenerateRequest& request) {
  absl::StatusOr<ValidatedRequest> v =
      ValidateGenerateRequest(request, *context_.engine, context_.tokenizer, context_.chat_template,
                              context_.prompt_limits);
  if (!v.ok()) {
    context_.CountRejected(StatusCodeName(v.status().code()));
    return ToGrpcStatus(v.status());
  }
  client_id_ = request.request_id();
  engine_id_ = context_.NewRequestId();
  absl::StatusOr<LiveRequestIds::Lease> lease = context_.live_ids.Acquire(client_id_, engine_id_);
  if (!lease.ok()) {
    context_.CountRejected(StatusCodeName(lease.status().code()));
    return ToGrpcStatus(lease.status());
  }
  id_lease_ = *std::move(lease);
  prompt_ids_ = v->engine.prompt_token_ids;
  want_logprobs_ = v->logprobs;
  text_.emplace(context_.tokenizer, prompt_ids_, std::move(v->text));
  v->engine.request_id = engine_id_;
  channel_ = std::make_shared<RequestChannel>([this] { Wake(); });
  if (absl::Status s = context_.engine->Submit(std::move(v->engine), channel_); !s.ok()) {
    id_lease_.Release();
    context_.CountRejected(StatusCodeName(s.code()));
    return ToGrpcStatus(s);
  }
  submitted_ = true;
  // An Abort between Acquire and Submit could not reach the engine yet.
  if (id_lease_.MarkSubmitted()) context_.engine->Abort(engine_id_, FinishReason::kAborted);
  return grpc::Status::OK;
}

void GenerationCall::Wake() {
  if (pump_on_ == PumpOn::kEngineThread) {
    // The consumer may destroy this call as soon as the pump has signalled
    // it: nothing here touches the call after pump_() (see the header).
    pump_();
    return;
  }
  // Called by the engine thread only while the channel was armed, i.e. while
  // nobody else runs this call. The previous alarm has fired (its callback may
  // still be unwinding: grpc::Alarm keeps its state alive until then, so
  // replacing it here is safe). One alarm per wake-up: a grpc::Alarm must not
  // be Set again while its callback might still run.
  alarm_ = std::make_unique<grpc::Alarm>();
  alarm_->Set(gpr_now(GPR_CLOCK_MONOTONIC), [this](bool) { pump_(); });
}

void GenerationCall::Cancel() {
  if (cancelled_.exchange(true) || !submitted_) return;
  context_.engine->Abort(engine_id_, FinishReason::kAborted);
}

bool GenerationCall::Next(Update* update) {
  RequestDelta delta;
  while (channel_->TakeOrArm(&delta)) {
    *update = Update();
    if (Convert(delta, update)) return true;
  }
  return false;
}

bool GenerationCall::Convert(RequestDelta& d, Update* u) {
  v1::GenerateResponse& r = u->response;
  r.set_request_id(client_id_);
  const TextStream::Piece piece = text_->Push(d.tokens);
  for (int i = 0; i < piece.num_tokens; ++i) {
    r.add_token_ids(d.tokens[i].token_id);
    if (want_logprobs_) AppendTokenLogprob(d.tokens[i], context_.tokenizer, r.add_logprobs());
  }
  r.set_text(piece.text);
  if (piece.stopped && !stop_sent_ && !d.finished) {
    stop_sent_ = true;
    context_.engine->Abort(engine_id_, FinishReason::kStop);
  }
  for (float logprob : d.prompt_logprobs) {
    // prompt_logprobs[i] scores prompt token i + 1.
    if (num_prompt_logprobs_ + 1 >= static_cast<int>(prompt_ids_.size())) break;
    const int32_t id = prompt_ids_[++num_prompt_logprobs_];
    v1::TokenLogprob* p = r.add_prompt_logprobs();
    p->set_token_id(id);
    p->set_logprob(logprob);
    p->set_token(TokenText(context_.tokenizer, id));
  }
  if (!d.finished) {
    return r.token_ids_size() > 0 || !r.text().empty() || r.prompt_logprobs_size() > 0;
  }

  u->final = true;
  id_lease_.Release();  // before the client can see the end: the id is reusable then
  if (!d.status.ok()) {
    u->status = ToGrpcStatus(d.status);
  } else if (cancelled_.load()) {
    u->status = grpc::Status::CANCELLED;
  }
  r.set_text(r.text() + text_->Finish());
  r.set_finish_reason(
      FinishReasonToProto(text_->stopped() ? FinishReason::kStop : d.finish_reason));
  FillUsage(d, text_->num_tokens(), r.mutable_usage());
  return true;
}

}  // namespace gqa
