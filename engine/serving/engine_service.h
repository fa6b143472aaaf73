// EngineService: runs an LlmEngine on its own thread for many concurrent
// callers. The whole serving loop (engine thread):
//
//   while (AdmitAndAbort()) {                  // new requests in, cancelled ones out, blocks freed
//     outputs = engine_->Step();               // Schedule; Execute (one forward pass); Update
//     Emit(outputs);                           // deltas to per-request channels; metrics
//     PublishStats();                          // what other threads may read (Stats())
//   }
//
// Callers (gRPC reactors) Submit a request with a RequestChannel and read
// their deltas from it; Abort takes effect before the next step, so a
// cancelled request costs at most the step already running. Neither call
// blocks beyond one short critical section: the only lock on the way in is
// the RequestQueue's, the only one on the way out is each channel's.
//
// Every submitted request gets exactly one final delta: finished normally,
// aborted (kAborted, or the reason Abort named), or failed with a status
// (e.g. UNAVAILABLE when the drain timeout cut it off).
//
// Thread ownership: the engine thread owns the LlmEngine (scheduler, KV
// cache, model) and the table of active requests. Public methods are
// thread-safe; info() is immutable after construction.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/runner/llm_engine.h"
#include "engine/serving/engine_observer.h"
#include "engine/serving/request_channel.h"
#include "engine/serving/request_queue.h"

namespace gqa {

// What the engine serves; fixed at construction.
struct EngineInfo {
  ModelConfig model;
  EngineConfig config;  // with max_model_len resolved
  int num_kv_blocks = 0;
  size_t weight_bytes = 0;
  size_t kv_cache_bytes = 0;
  size_t activation_bytes = 0;
  int kv_capacity_tokens() const { return num_kv_blocks * config.block_size; }
};

class EngineService {
 public:
  // `observer` (may be null) must outlive the service.
  EngineService(std::unique_ptr<LlmEngine> engine, const QueueLimits& limits,
                EngineObserver* observer = nullptr);
  ~EngineService();  // Stop()
  EngineService(const EngineService&) = delete;
  EngineService& operator=(const EngineService&) = delete;

  void Start();  // launches the engine thread
  // Finishes every active request with UNAVAILABLE and joins the thread.
  void Stop();

  // INVALID_ARGUMENT naming the field, or RESOURCE_EXHAUSTED when the request
  // can never fit the KV cache. Any thread; the checks Submit's caller should
  // run first (Submit does not repeat them: the engine does, on its thread).
  absl::Status Validate(const GenerationRequest& request) const;
  // Queues `request` (its id must be unique among active requests); deltas
  // go to `channel`. UNAVAILABLE while draining, RESOURCE_EXHAUSTED when the
  // waiting queue is full. On error nothing is ever pushed to `channel`.
  absl::Status Submit(GenerationRequest request, std::shared_ptr<RequestChannel> channel);
  // Aborts an active request before the next step; its final delta reports
  // `reason`. Unknown or finished ids are ignored.
  void Abort(const std::string& request_id, FinishReason reason = FinishReason::kAborted);

  // From now on Submit refuses new requests with UNAVAILABLE.
  void StartDrain() { queue_.StartDrain(); }
  // Graceful drain: StartDrain, then waits up to `timeout` for the active
  // requests to finish; then aborts the rest (they end with UNAVAILABLE).
  // Returns true when everything finished in time.
  bool Drain(std::chrono::nanoseconds timeout);
  bool draining() const { return queue_.Stats().draining; }

  const EngineInfo& info() const { return info_; }
  ServiceStats Stats() const { return queue_.Stats(); }
  // Waits (bounded) until `done(Stats())`; re-checked after every change.
  bool WaitFor(const std::function<bool(const ServiceStats&)>& done,
               std::chrono::nanoseconds timeout) const {
    return queue_.WaitFor(done, timeout);
  }

 private:
  // Engine-thread record of one active request.
  struct Active {
    std::shared_ptr<RequestChannel> channel;
    ServingClock::time_point arrival;
    ServingClock::time_point last_token;
    int num_prompt_tokens = 0;
    int num_generated = 0;
    bool scheduled = false;
    double queue_seconds = -1;
    double ttft_seconds = -1;
  };
  using ActiveMap = absl::flat_hash_map<std::string, Active>;

  void Run();
  bool AdmitAndAbort();
  void Emit(const std::vector<RequestOutput>& outputs, ServingClock::time_point step_start);
  // Pushes the final delta of an aborted or failed request and forgets it.
  void FinishEarly(ActiveMap::iterator it, FinishReason reason, const absl::Status& status);
  void PublishStats();
  // Finishes every active request with `why` (kAborted), freeing its blocks.
  void AbortAllActive(const absl::Status& why);
  // The backend failed (engine_->status()): reports it once to the observer
  // and ends everything active with that error; later submissions fail at
  // admission, since LlmEngine::AddRequest returns it too.
  void FailAll(const absl::Status& why);

  const std::unique_ptr<LlmEngine> engine_;
  EngineObserver* const observer_;
  EngineInfo info_;
  RequestQueue queue_;
  std::thread thread_;

  // Engine thread only.
  ActiveMap active_;
  int64_t num_steps_ = 0;
  int64_t last_preemptions_ = 0;
  bool failure_reported_ = false;
  std::optional<StepObservation> step_observation_;  // of the step being published
  // Accumulated between two PublishStats calls.
  std::vector<std::string> finished_ids_;
  int num_left_queue_ = 0;
  int64_t tokens_left_queue_ = 0;
};

}  // namespace gqa
