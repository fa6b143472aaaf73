// BlockingCall: one GenerationCall (the same validation, submission,
// detokenization, stop strings, logprobs and usage as the gRPC reactors) run
// on the calling HTTP worker thread, which blocks between updates.
//
// The pump: GenerationCall wakes its consumer through `pump`; here the pump
// only writes an eventfd, on the engine thread itself (PumpOn::kEngineThread,
// see generation_call.h). Next()
// polls that eventfd together with the client's socket (POLLRDHUP), so it
// wakes at once both for new tokens and for a client that hung up; a hang-up
// cancels the call (the engine aborts it before its next step) and Next()
// goes on to the final update, which always comes. The destructor does the
// same for a call abandoned before its final update, so the engine never
// pushes to a call that is gone.
//
// Thread ownership: one thread (the HTTP worker) for every method; the pump
// runs on the engine thread and touches only the eventfd.
#pragma once

#include "server/generation_call.h"

namespace gqa {

class BlockingCall {
 public:
  // `client_socket`: the connection to watch for a hang-up; -1: none.
  BlockingCall(const ServingContext& context, int client_socket);
  ~BlockingCall();
  BlockingCall(const BlockingCall&) = delete;
  BlockingCall& operator=(const BlockingCall&) = delete;

  // Validates and submits; not OK: nothing was submitted (no update follows).
  grpc::Status Start(const v1::GenerateRequest& request);

  // Blocks until the next update; the last one has final set. Call only
  // after a successful Start and until the final update.
  void Next(GenerationCall::Update* update);

  // The client went away (hang-up seen, or the caller's write failed): the
  // request is aborted; keep calling Next for the final update.
  void Cancel();
  bool cancelled() const { return cancelled_; }

 private:
  const int wake_fd_;  // eventfd: the pump's wake-ups
  const int socket_;
  bool started_ = false;
  bool finished_ = false;
  bool armed_ = false;  // Next() found nothing; only the pump may resume us
  bool cancelled_ = false;
  GenerationCall call_;
};

}  // namespace gqa
