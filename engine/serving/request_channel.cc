#include "engine/serving/request_channel.h"

#include <algorithm>
#include <iterator>

namespace gqa {

void RequestDelta::MergeFrom(RequestDelta&& later) {
  tokens.insert(tokens.end(), std::make_move_iterator(later.tokens.begin()),
                std::make_move_iterator(later.tokens.end()));
  prompt_logprobs.insert(prompt_logprobs.end(), later.prompt_logprobs.begin(),
                         later.prompt_logprobs.end());
  finished = finished || later.finished;
  if (later.finish_reason != FinishReason::kNone) finish_reason = later.finish_reason;
  if (!later.status.ok()) status = later.status;
  if (later.num_prompt_tokens > 0) num_prompt_tokens = later.num_prompt_tokens;
  if (later.num_cached_prompt_tokens > 0) num_cached_prompt_tokens = later.num_cached_prompt_tokens;
  num_preemptions = std::max(num_preemptions, later.num_preemptions);
  if (later.queue_seconds >= 0) queue_seconds = later.queue_seconds;
  if (later.ttft_seconds >= 0) ttft_seconds = later.ttft_seconds;
  if (later.e2e_seconds >= 0) e2e_seconds = later.e2e_seconds;
}

void RequestChannel::Push(RequestDelta delta) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (has_pending_) {
      pending_.MergeFrom(std::move(delta));
    } else {
      pending_ = std::move(delta);
      has_pending_ = true;
    }
    wake = armed_;
    armed_ = false;
  }
  if (wake) on_ready_();
}

bool RequestChannel::TakeOrArm(RequestDelta* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!has_pending_) {
    armed_ = true;
    return false;
  }
  *out = std::move(pending_);
  pending_ = RequestDelta();
  has_pending_ = false;
  return true;
}

}  // namespace gqa
