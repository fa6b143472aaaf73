#include "engine/serving/request_queue.h"

#include "absl/strings/str_cat.h"

namespace gqa {

absl::Status RequestQueue::Submit(PendingRequest pending) {
  const int64_t num_tokens = static_cast<int64_t>(pending.request.prompt_token_ids.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || stats_.draining) {
      return absl::UnavailableError("the server is shutting down; send the request elsewhere");
    }
    if (stats_.failed) {
      return absl::UnavailableError(absl::StrCat("the engine failed (", failure_.message(),
                                                 "); this server serves nothing more: send the "
                                                 "request elsewhere"));
    }
    const bool alone = stats_.num_queued_requests == 0;
    if (limits_.max_queued_requests > 0 &&
        stats_.num_queued_requests >= limits_.max_queued_requests) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the waiting queue is full: ", stats_.num_queued_requests, " requests wait to start (",
          "--max-queued-requests ", limits_.max_queued_requests, "); retry later or elsewhere"));
    }
    if (!alone && limits_.max_queued_tokens > 0 &&
        stats_.num_queued_tokens + num_tokens > limits_.max_queued_tokens) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the waiting queue is full: ", stats_.num_queued_tokens, " prompt tokens wait to start, ",
          num_tokens, " more would pass --max-queued-tokens ", limits_.max_queued_tokens,
          "; retry later or elsewhere"));
    }
    ++stats_.num_queued_requests;
    stats_.num_queued_tokens += num_tokens;
    ++stats_.num_active;
    submissions_.push_back(std::move(pending));
  }
  work_cv_.notify_one();
  state_cv_.notify_all();
  return absl::OkStatus();
}

void RequestQueue::Abort(const std::string& request_id, FinishReason reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    aborts_.push_back(PendingAbort{request_id, reason});
    stats_.num_aborts_pending = static_cast<int>(aborts_.size());
  }
  work_cv_.notify_one();
  state_cv_.notify_all();
}

void RequestQueue::StartDrain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.draining = true;
  }
  state_cv_.notify_all();
}

void RequestQueue::MarkFailed(const absl::Status& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stats_.failed) return;
    failure_ = why;
    stats_.failed = true;
  }
  state_cv_.notify_all();
}

void RequestQueue::AbortAll(absl::Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    abort_all_ = std::move(status);
    stats_.abort_all_pending = true;
  }
  work_cv_.notify_one();
  state_cv_.notify_all();
}

void RequestQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  state_cv_.notify_all();
}

ServiceStats RequestQueue::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool RequestQueue::WaitFor(const std::function<bool(const ServiceStats&)>& done,
                           std::chrono::nanoseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return state_cv_.wait_for(lock, timeout, [&] { return done(stats_); });
}

RequestQueue::Work RequestQueue::Take(bool engine_idle) {
  Work work;
  std::unique_lock<std::mutex> lock(mu_);
  if (engine_idle) {
    work_cv_.wait(lock,
                  [&] { return stop_ || abort_all_ || !submissions_.empty() || !aborts_.empty(); });
  }
  work.submissions.swap(submissions_);
  work.aborts.swap(aborts_);
  work.abort_all.swap(abort_all_);
  work.stop = stop_;
  stats_.num_aborts_pending = 0;
  stats_.abort_all_pending = false;
  return work;
}

void RequestQueue::Publish(const ServiceStats& engine, int num_left_queue,
                           int64_t tokens_left_queue, int num_finished) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.num_queued_requests -= num_left_queue;
    stats_.num_queued_tokens -= tokens_left_queue;
    stats_.num_active -= num_finished;
    stats_.num_running = engine.num_running;
    stats_.num_waiting = engine.num_waiting;
    stats_.num_kv_blocks_total = engine.num_kv_blocks_total;
    stats_.num_kv_blocks_free = engine.num_kv_blocks_free;
    stats_.num_kv_blocks_cached = engine.num_kv_blocks_cached;
    stats_.prefix_cache_queries_tokens = engine.prefix_cache_queries_tokens;
    stats_.prefix_cache_hits_tokens = engine.prefix_cache_hits_tokens;
    stats_.num_steps = engine.num_steps;
    stats_.num_preemptions = engine.num_preemptions;
  }
  state_cv_.notify_all();
}

}  // namespace gqa
