// GenerationCall: one Generate / GenerateStream call's link to the engine,
// shared by both reactors. It validates and submits the request, receives the
// engine's deltas from the RequestChannel, and turns them into GenerateResponse
// pieces (detokenized text, stop strings, logprobs, usage) on gRPC threads.
//
// Who runs when (the "pump"): exactly one of these holds the right to call
// Next() at any time, so the call needs no lock of its own:
//   - the reactor, from its constructor and OnWriteDone;
//   - the engine, after Next() found nothing and armed the channel; when it
//     pushes news it calls Wake(), which hops onto a gRPC thread through a
//     grpc::Alarm that fires at once and calls `pump` there (PumpOn::kGrpcThread,
//     the reactors: their pump runs reactor code, which must not run on the
//     engine thread), or calls `pump` right there on the engine thread
//     (PumpOn::kEngineThread: a pump that only signals another thread without
//     blocking and touches nothing of the call, BlockingCall's eventfd write;
//     no alarm then outlives the call or races its destruction).
// The reactor's pump calls Next() until it returns false (or it starts a
// write, whose OnWriteDone pumps again). A final update always comes, so the
// reactor always Finishes, and nothing touches the call after that.
//
// A non-empty request_id is held in ServingContext::live_ids from Start
// (ALREADY_EXISTS if live) until the final update is made, so Abort finds the
// request by it; an Abort ends the call with finish_reason ABORTED, status OK.
//
// Thread ownership: Start and Next on the pump holder's thread; Cancel on
// any thread (OnCancel).
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/serving/request_channel.h"
#include "engine/serving/text_stream.h"
#include "gqa/v1/generation.pb.h"
#include "server/serving_context.h"

namespace gqa {

class GenerationCall {
 public:
  enum class PumpOn { kGrpcThread, kEngineThread };
  GenerationCall(const ServingContext& context, std::function<void()> pump,
                 PumpOn pump_on = PumpOn::kGrpcThread);
  ~GenerationCall() { context_.calls.End(); }
  GenerationCall(const GenerationCall&) = delete;
  GenerationCall& operator=(const GenerationCall&) = delete;

  // Validates and submits `request`. Not OK: nothing was submitted (and the
  // request id is free); the reactor finishes with this status.
  grpc::Status Start(const v1::GenerateRequest& request);

  struct Update {
    v1::GenerateResponse response;  // new tokens, text, logprobs; final: reason + usage
    bool final = false;
    grpc::Status status;  // the call's status (final only)
  };
  // The next non-empty piece, or false when nothing is pending (the channel
  // is armed: `pump` runs again once the engine pushes).
  bool Next(Update* update);

  // The client cancelled, disconnected or ran out of time: abort the request
  // before the next engine step. The final update then carries CANCELLED.
  void Cancel();

 private:
  void Wake();  // engine thread
  bool Convert(RequestDelta& delta, Update* update);

  const ServingContext& context_;
  const std::function<void()> pump_;
  const PumpOn pump_on_;
  std::string engine_id_;
  std::string client_id_;
  LiveRequestIds::Lease id_lease_;  // released at the final update
  std::vector<int32_t> prompt_ids_;
  std::shared_ptr<RequestChannel> channel_;
  std::optional<TextStream> text_;
  std::unique_ptr<grpc::Alarm> alarm_;  // the latest wake-up; replaced by Wake()
  bool want_logprobs_ = false;
  int num_prompt_logprobs_ = 0;  // prompt logprobs returned so far
  bool stop_sent_ = false;       // a stop string matched; the abort is on its way
  std::atomic<bool> cancelled_{false};
  bool submitted_ = false;
};

}  // namespace gqa
