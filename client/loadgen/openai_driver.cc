#include "client/loadgen/openai_driver.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/loadgen/bench_clock.h"
#include "client/loadgen/openai_stream.h"

namespace gqa::loadgen {
namespace {

// Slots and counts, shared by the dispatcher and the request threads.
class Slots {
 public:
  explicit Slots(int max_concurrency) : max_(max_concurrency) {}

  // Dispatcher: waits until `arrival` has passed and a slot is free, or
  // until `tick`. True: the slot is taken.
  bool Take(Clock::time_point arrival, Clock::time_point tick) {
    std::unique_lock<std::mutex> lock(mu_);
    // Before the arrival time, wake at it; after it, only for a slot or a tick.
    const Clock::time_point wake = Clock::now() < arrival ? std::min(arrival, tick) : tick;
    const bool ready = cv_.wait_until(
        lock, wake, [&] { return Clock::now() >= arrival && (max_ <= 0 || in_flight_ < max_); });
    if (!ready) return false;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    return true;
  }
  // A request thread, at its end.
  void Done(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    ++(ok ? completed_ : failed_);
    cv_.notify_all();
  }
  bool WaitAllDone(int total, Clock::time_point tick) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, tick, [&] { return completed_ + failed_ >= total; });
  }
  void Counts(int* completed, int* failed, int* max_in_flight) {
    std::lock_guard<std::mutex> lock(mu_);
    *completed = completed_;
    *failed = failed_;
    *max_in_flight = max_in_flight_;
  }

 private:
  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  int completed_ = 0;
  int failed_ = 0;
};

// One streaming request, start to end, on the calling thread.
void RunOne(const std::string& base_url, const OpenAiCall& call, double timeout_s,
            Clock::time_point t0, RequestRecord* record) {
  OpenAiStreamRecorder recorder(call.chat, record);
  httplib::Client client(base_url);
  client.set_keep_alive(false);
  client.set_connection_timeout(30);
  // Per read; the whole request's deadline is checked as bytes arrive.
  client.set_read_timeout(timeout_s > 0 ? static_cast<time_t>(timeout_s) + 1 : 24 * 3600);
  const Clock::time_point deadline =
      timeout_s > 0 ? At(Clock::now(), timeout_s) : Clock::time_point::max();
  httplib::Request req;
  req.method = "POST";
  req.path = call.path;
  req.body = call.body;
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", "text/event-stream");
  int status = 0;
  std::string error_body;
  bool timed_out = false;
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (status == 200) {
      recorder.OnBody(std::string_view(data, n), SecondsSince(t0));
    } else if (error_body.size() < 4096) {
      error_body.append(data, n);
    }
    timed_out = Clock::now() > deadline;
    return !timed_out;
  };
  record->start_s = SecondsSince(t0);
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool sent = client.send(req, res, error);
  std::string transport_error;
  if (timed_out) {
    recorder.Finish(504, "", "the request's deadline (--request-timeout) passed", SecondsSince(t0));
    return;
  }
  if (!sent && status == 0) transport_error = absl::StrCat("HTTP: ", httplib::to_string(error));
  recorder.Finish(status, transport_error, error_body, SecondsSince(t0));
}

}  // namespace

absl::StatusOr<std::string> FetchOpenAiModelId(const std::string& base_url, double timeout_s) {
  httplib::Client client(base_url);
  if (!client.is_valid()) return absl::InvalidArgumentError("not an http:// URL: " + base_url);
  const auto t = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::duration<double>(timeout_s > 0 ? timeout_s : 10));
  client.set_connection_timeout(t);
  client.set_read_timeout(t);
  httplib::Result r = client.Get("/v1/models");
  if (!r) {
    return absl::UnavailableError(
        absl::StrCat("GET ", base_url, "/v1/models: ", httplib::to_string(r.error())));
  }
  const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status == 200 && j.is_object() && j.contains("data") && j["data"].is_array() &&
      !j["data"].empty() && j["data"][0].is_object() && j["data"][0].contains("id") &&
      j["data"][0]["id"].is_string()) {
    return j["data"][0]["id"].get<std::string>();
  }
  return absl::InternalError(absl::StrCat("GET ", base_url, "/v1/models answered ", r->status,
                                          " without a model: ", r->body.substr(0, 300)));
}

absl::StatusOr<DriverResult> RunOpenAiStreams(const OpenAiTarget& target,
                                              const std::vector<WorkItem>& items,
                                              const DriverOptions& options,
                                              const ProgressFn& on_progress) {
  const int n = static_cast<int>(items.size());
  std::vector<OpenAiCall> calls;
  calls.reserve(n);
  for (const WorkItem& item : items) {
    if (item.previous_turn >= 0) {
      return absl::FailedPreconditionError(
          "multi-turn chat (--turns > 1) runs over gRPC only, not --backend openai");
    }
    absl::StatusOr<OpenAiCall> call = OpenAiCallFor(item.request, target.model);
    if (!call.ok()) return call.status();
    calls.push_back(*std::move(call));
  }
  DriverResult result;
  result.records.resize(n);
  Slots slots(options.max_concurrency);
  std::vector<std::thread> threads;
  threads.reserve(n);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.01, options.progress_interval_s)));
  const Clock::time_point t0 = Clock::now();
  Clock::time_point next_tick = t0 + interval;
  auto report = [&] {
    next_tick = Clock::now() + interval;
    if (!on_progress) return;
    int completed, failed, max_in_flight;
    slots.Counts(&completed, &failed, &max_in_flight);
    on_progress(completed, failed, SecondsSince(t0));
  };
  for (int i = 0; i < n;) {
    if (!slots.Take(At(t0, items[i].arrival_s), next_tick)) {
      if (Clock::now() >= next_tick) report();
      continue;
    }
    RequestRecord& r = result.records[i];
    r.index = i;
    r.input_len = items[i].input_len;
    r.expected_output_len = items[i].output_len;
    r.arrival_s = items[i].arrival_s;
    threads.emplace_back([&, i] {
      RunOne(target.base_url, calls[i], options.request_timeout_s, t0, &result.records[i]);
      slots.Done(result.records[i].ok());
    });
    ++i;
    if (Clock::now() >= next_tick) report();
  }
  while (!slots.WaitAllDone(n, next_tick)) report();
  report();
  for (std::thread& t : threads) t.join();
  int completed, failed;
  slots.Counts(&completed, &failed, &result.max_concurrency_observed);
  for (const RequestRecord& r : result.records) {
    result.duration_s = std::max(result.duration_s, r.end_s);
  }
  return result;
}

}  // namespace gqa::loadgen
