#include "client/loadgen/stream_driver.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

#include "client/generation_client.h"
#include "client/loadgen/bench_clock.h"
#include "gqa/v1/generation.grpc.pb.h"

namespace gqa::loadgen {
namespace {

// Slots, counts and due follow-up turns, shared by the dispatcher and the
// reactors' OnDone.
class CallTracker {
 public:
  // next_turn[i]: the item sent after item i ends (its conversation's next
  // turn), or -1.
  CallTracker(int max_concurrency, std::vector<int> next_turn)
      : max_concurrency_(max_concurrency), next_turn_(std::move(next_turn)) {}

  // Dispatcher: waits until a slot is free and an item is due: a follow-up
  // turn whose previous turn has ended (those first, in the order they
  // became due), or else `root` once `arrival` has passed (root -1: none
  // left). Wakes at least at every `tick` (a progress report). Returns the
  // item whose slot was taken, or -1 on a tick (call again).
  int Next(int root, Clock::time_point arrival, Clock::time_point tick) {
    std::unique_lock<std::mutex> lock(mu_);
    // Before the arrival time, wake at it; after it, only for a slot, a
    // follow-up or a tick.
    const Clock::time_point wake =
        root >= 0 && Clock::now() < arrival ? std::min(arrival, tick) : tick;
    const bool ready = cv_.wait_until(lock, wake, [&] {
      if (max_concurrency_ > 0 && in_flight_ >= max_concurrency_) return false;
      return !due_.empty() || (root >= 0 && Clock::now() >= arrival);
    });
    if (!ready) return -1;
    int item = root;
    if (!due_.empty()) {
      item = due_.front();
      due_.pop_front();
    }
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    return item;
  }
  // Dispatcher: waits until `total` calls have ended, or until `tick`.
  bool WaitAllDone(int total, Clock::time_point tick) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, tick, [&] { return completed_ + failed_ >= total; });
  }
  // Item `item` ended (any reactor thread, from OnDone; or the dispatcher
  // for an item it did not send). Its next turn, if any, becomes due.
  // Notifies under the lock: once it is released the dispatcher may return
  // and destroy this tracker.
  void Done(int item, bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    ++(ok ? completed_ : failed_);
    if (next_turn_[item] >= 0) due_.push_back(next_turn_[item]);
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
  const std::vector<int> next_turn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> due_;  // follow-up turns ready to send
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  int completed_ = 0;
  int failed_ = 0;
};

// One GenerateStream call. Owns itself: deleted at the end of OnDone.
// Only gRPC's reaction threads touch it after Start (one reaction at a time).
class StreamCall final : public grpc::ClientReadReactor<v1::GenerateResponse> {
 public:
  StreamCall(int item, const v1::GenerateRequest* request, RequestRecord* record,
             Clock::time_point t0, CallTracker* tracker)
      : item_(item), request_(request), record_(record), t0_(t0), tracker_(tracker) {}

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
      if (record_->conversation >= 0) {  // the next turn's prompt continues with them
        record_->output_token_ids.insert(record_->output_token_ids.end(),
                                         response_.token_ids().begin(),
                                         response_.token_ids().end());
      }
    }
    // The last message carries usage: the server's prompt length (text
    // prompts) and the prompt tokens its prefix cache held.
    if (response_.has_usage()) {
      if (response_.usage().prompt_tokens() > 0) {
        record_->input_len = response_.usage().prompt_tokens();
      }
      record_->cached_prompt_tokens = response_.usage().cached_prompt_tokens();
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
    const int item = item_;
    const bool ok = status.ok();
    delete this;  // before Done: once Done runs, the dispatcher may return
    tracker->Done(item, ok);
  }

 private:
  const int item_;
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
  const int n = static_cast<int>(items.size());
  DriverResult result;
  result.records.resize(n);
  // Follow-up turns' full requests (built when they become due); sized once,
  // so the calls' pointers into it stay valid.
  std::vector<v1::GenerateRequest> follow_ups(n);
  std::vector<int> next_turn(n, -1);
  for (int i = 0; i < n; ++i) {
    if (items[i].previous_turn >= 0) next_turn[items[i].previous_turn] = i;
  }
  CallTracker tracker(options.max_concurrency, std::move(next_turn));
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
  // The items sent at their arrival time, in order (arrival_s non-decreasing).
  auto next_root = [&](int from) {
    while (from < n && items[from].previous_turn >= 0) ++from;
    return from;
  };

  int root = next_root(0);
  for (int dispatched = 0; dispatched < n;) {
    const int i =
        tracker.Next(root < n ? root : -1, At(t0, root < n ? items[root].arrival_s : 0), next_tick);
    if (i < 0) {
      if (Clock::now() >= next_tick) report();
      continue;
    }
    if (i == root) root = next_root(root + 1);
    ++dispatched;
    const WorkItem& item = items[i];
    RequestRecord& r = result.records[i];
    r.index = i;
    r.conversation = item.conversation;
    r.turn = item.turn;
    r.input_len = item.input_len;
    r.expected_output_len = item.output_len;
    r.arrival_s = item.arrival_s;
    const v1::GenerateRequest* request = &item.request;
    if (item.previous_turn >= 0) {
      // Its previous turn has ended: Done() ran before Next() returned it.
      const RequestRecord& previous = result.records[item.previous_turn];
      r.arrival_s = previous.end_s;
      if (!previous.ok()) {  // no history to continue: not sent
        r.start_s = r.end_s = SecondsSince(t0);
        r.status_code = static_cast<int>(grpc::StatusCode::ABORTED);
        r.status_name = "ABORTED";
        r.error = "not sent: turn " + std::to_string(previous.turn) + " of the conversation failed";
        tracker.Done(i, false);
        continue;
      }
      v1::GenerateRequest& full = follow_ups[i];
      full = item.request;
      auto* ids = full.mutable_prompt_token_ids()->mutable_ids();
      ids->Clear();
      ids->Reserve(
          static_cast<int>(previous.prompt_token_ids.size() + previous.output_token_ids.size()) +
          item.request.prompt_token_ids().ids_size());
      ids->Add(previous.prompt_token_ids.begin(), previous.prompt_token_ids.end());
      ids->Add(previous.output_token_ids.begin(), previous.output_token_ids.end());
      ids->MergeFrom(item.request.prompt_token_ids().ids());
      r.input_len = ids->size();
      request = &full;
    }
    if (item.conversation >= 0) {
      const auto& ids = request->prompt_token_ids().ids();
      r.prompt_token_ids.assign(ids.begin(), ids.end());
    }
    (new StreamCall(i, request, &r, t0, &tracker))->Start(stub.get(), options.request_timeout_s);
    if (Clock::now() >= next_tick) report();
  }
  while (!tracker.WaitAllDone(n, next_tick)) report();
  report();

  int completed, failed;
  tracker.Counts(&completed, &failed, &result.max_concurrency_observed);
  for (const RequestRecord& r : result.records) {
    result.duration_s = std::max(result.duration_s, r.end_s);
  }
  return result;
}

}  // namespace gqa::loadgen
