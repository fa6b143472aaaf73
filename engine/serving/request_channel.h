// RequestChannel: the way out of the engine for one request. The engine
// thread pushes what each step produced; the request's consumer (a gRPC
// reactor) takes everything pushed so far in one go, so a slow client sees
// fewer, larger deltas instead of slowing the engine down.
//
// Wake-up protocol (no thread ever blocks on a channel):
//   consumer: TakeOrArm(&d) -> true: d holds the news; false: nothing was
//             pending and the channel is now armed.
//   producer: Push(d) merges d into the pending delta; if the channel was
//             armed it disarms it and calls on_ready once, after unlocking.
// So after TakeOrArm returns false the consumer does nothing until on_ready
// runs; on_ready must be cheap and must not block (the server's hops the work
// onto a gRPC thread). Exactly one final delta (finished = true) is pushed per
// request, and nothing after it.
//
// Thread ownership: Push on the engine thread; TakeOrArm on the consumer's
// threads, one call at a time. One mutex, held only to move a delta.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/scheduler/request.h"

namespace gqa {

// What happened to a request since the consumer last looked. Deltas merge:
// tokens and prompt logprobs append, the rest keeps the newest value.
struct RequestDelta {
  std::vector<TokenOutput> tokens;     // new output tokens, in order
  std::vector<float> prompt_logprobs;  // continues the earlier ones
  bool finished = false;
  FinishReason finish_reason = FinishReason::kNone;
  // Not OK when the request failed or was cut off by the server (e.g. the
  // drain timeout); `finished` is then true.
  absl::Status status;
  int num_prompt_tokens = 0;
  int num_cached_prompt_tokens = 0;  // prompt tokens found in the prefix cache (first scheduling)
  int num_preemptions = 0;
  double queue_seconds = -1;  // arrival to first scheduled; < 0: not yet
  double ttft_seconds = -1;   // arrival to first token; < 0: not yet
  double e2e_seconds = -1;    // arrival to finish; set with `finished`

  bool empty() const {
    return tokens.empty() && prompt_logprobs.empty() && !finished && queue_seconds < 0 &&
           ttft_seconds < 0;
  }
  // Appends `later` (the newer delta) to this one.
  void MergeFrom(RequestDelta&& later);
};

class RequestChannel {
 public:
  explicit RequestChannel(std::function<void()> on_ready) : on_ready_(std::move(on_ready)) {}

  // Engine thread.
  void Push(RequestDelta delta);
  // Consumer.
  bool TakeOrArm(RequestDelta* out);

 private:
  const std::function<void()> on_ready_;
  std::mutex mu_;
  RequestDelta pending_;  // guarded by mu_
  bool has_pending_ = false;
  bool armed_ = false;
};

}  // namespace gqa
