#include "client/loadgen/stream_driver.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "client/generation_client.h"
#include "gqa/v1/generation.grpc.pb.h"

namespace gqa::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Clock::time_point At(Clock::time_point t0, double seconds) {
  return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Slots and counts shared by the dispatcher and the reactors' OnDone.
class CallTracker {
 public:
  explicit CallTracker(int max_concurrency) : max_concurrency_(max_concurrency) {}

  // Dispatcher: waits until `arrival` has passed and a slot is free, waking
  // at least at every `tick` (a progress report). Returns true when the
  // slot was taken; false on a tick (call again).
  bool TakeSlot(Clock::time_point arrival, Clock::time_point tick) {
    std::unique_lock<std::mutex> lock(mu_);
    // Before the arrival time, wake at it; after it, only for a slot or a tick.
    const Clock::time_point wake = Clock::now() < arrival ? std::min(arrival, tick) : tick;
    const bool ready = cv_.wait_until(lock, wake, [&] {
      return Clock::now() >= arrival && (max_concurrency_ <= 0 || in_flight_ < max_concurrency_);
    });
    if (!ready) return false;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    return true;
  }
  // Dispatcher: waits until `total` calls have ended, or until `tick`.
  bool WaitAllDone(int total, Clock::time_point tick) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, tick, [&] { return completed_ + failed_ >= total; });
  }
  // Any reactor thread, from OnDone.
  // Notifies under the lock: once it is released the dispatcher may return
  // and destroy this tracker.
  void Done(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    ++(ok ? completed_ : failed_);
    cv_.notify_all();
  }
  void Counts(int* completed, int* failed, int* max_in_flight) {
    std::lock_guard<std::mutex> lock(mu_);
    *completed = completed_;
    *failed = failed_;
    *max_in_flight = max_in_flight_;
  }

 private:
  const int max_concurrency_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  int completed_ = 0;
  int failed_ = 0;
};

// One GenerateStream call. Owns itself: deleted at the end of OnDone.
// Only gRPC's reaction threads touch it after Start (one reaction at a time).
class StreamCall final : public grpc::ClientReadReactor<v1::GenerateResponse> {
 public:
  StreamCall(const v1::GenerateRequest* request, RequestRecord* record, Clock::time_point t0,
             CallTracker* tracker)
      : request_(request), record_(record), t0_(t0), tracker_(tracker) {}

  void Start(v1::Generation::Stub* stub, double timeout_s) {
    if (timeout_s > 0) {
      context_.set_deadline(std::chrono::system_clock::now() +
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::duration<double>(timeout_s)));
    }
    record_->start_s = SecondsSince(t0_);
    stub->async()->GenerateStream(&context_, request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended; OnDone follows
    const double now = SecondsSince(t0_);
    const int n = response_.token_ids_size();
    if (n > 0) {
      record_->message_times_s.push_back(now);
      record_->message_tokens.push_back(n);
      record_->output_len += n;
    }
    // The last message carries usage: the server's prompt length (text prompts).
    if (response_.has_usage() && response_.usage().prompt_tokens() > 0) {
      record_->input_len = response_.usage().prompt_tokens();
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    record_->end_s = SecondsSince(t0_);
    record_->status_code = static_cast<int>(status.error_code());
    if (!status.ok()) {
      const std::string text = StatusText(status);  // "CODE: message"
      record_->status_name = text.substr(0, text.find(':'));
      record_->error = status.error_message();
    }
    CallTracker* tracker = tracker_;
    const bool ok = status.ok();
    delete this;  // before Done: once Done runs, the dispatcher may return
    tracker->Done(ok);
  }

 private:
  const v1::GenerateRequest* const request_;
  RequestRecord* const record_;
  const Clock::time_point t0_;
  CallTracker* const tracker_;
  grpc::ClientContext context_;
  v1::GenerateResponse response_;
};

}  // namespace

DriverResult RunStreams(const std::shared_ptr<grpc::Channel>& channel,
                        const std::vector<WorkItem>& items, const DriverOptions& options,
                        const ProgressFn& on_progress) {
  std::unique_ptr<v1::Generation::Stub> stub = v1::Generation::NewStub(channel);
  DriverResult result;
  result.records.resize(items.size());
  CallTracker tracker(options.max_concurrency);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.01, options.progress_interval_s)));
  const Clock::time_point t0 = Clock::now();
  Clock::time_point next_tick = t0 + interval;
  auto report = [&] {
    next_tick = Clock::now() + interval;
    if (!on_progress) return;
    int completed, failed, max_in_flight;
    tracker.Counts(&completed, &failed, &max_in_flight);
    on_progress(completed, failed, SecondsSince(t0));
  };

  for (size_t i = 0; i < items.size(); ++i) {
    RequestRecord& r = result.records[i];
    r.index = static_cast<int>(i);
    r.input_len = items[i].input_len;
    r.expected_output_len = items[i].output_len;
    r.arrival_s = items[i].arrival_s;
    const Clock::time_point arrival = At(t0, items[i].arrival_s);
    while (!tracker.TakeSlot(arrival, next_tick)) {
      if (Clock::now() >= next_tick) report();
    }
    (new StreamCall(&items[i].request, &r, t0, &tracker))
        ->Start(stub.get(), options.request_timeout_s);
    if (Clock::now() >= next_tick) report();
  }
  while (!tracker.WaitAllDone(static_cast<int>(items.size()), next_tick)) report();
  report();

  int completed, failed;
  tracker.Counts(&completed, &failed, &result.max_concurrency_observed);
  for (const RequestRecord& r : result.records) {
    result.duration_s = std::max(result.duration_s, r.end_s);
  }
  return result;
}

}  // namespace gqa::loadgen
