// Engine: the serving loop over one model, and the one table of the requests
// it serves. Callers (gRPC reactors, gqa-generate, tests) Submit a request
// with a RequestChannel and read their deltas from it. Once per step, on the
// engine thread (Step() in engine.cc is this, line for line):
//
//   AdmitAndAbort();                               // new requests in, cancelled ones out
//   SchedulerOutput plan = scheduler_->Schedule();  // plain data
//   ModelOutput out = runner_->Execute(plan);       // one forward pass, then sampling
//   finished = scheduler_->Update(plan, out);       // append tokens, stop checks, free blocks
//   Emit(plan, out, finished);                      // deltas to channels, the step to metrics
//
// Start() runs that loop on its own thread (the server); RunOnce() runs one
// iteration on the caller's thread (gqa-generate, tests: never with Start).
// Abort takes effect before the next step, so a cancelled request costs at
// most the step already running. Neither Submit nor Abort blocks beyond one
// short critical section: the only lock on the way in is the RequestQueue's,
// the only one on the way out is each channel's.
//
// Every submitted request gets exactly one final delta: finished normally,
// aborted (kAborted, or the reason Abort named), or failed (kError, with a
// status: the engine refused it, the backend failed, or the drain timeout cut
// it off).
//
// Faults: a backend error latched during a step (a CUDA error) fails every
// active request with it (kError, INTERNAL), calls OnEngineFailed once and
// MarkFailed: from then on Submit answers UNAVAILABLE. The process goes on.
// A step that never returns (a hung device) is the StepWatchdog's to notice
// (step_watchdog.h); the engine thread cannot, being the one stuck.
//
// Thread ownership: the engine thread owns the scheduler, KV cache, model
// runner and the request table. Validate, Submit, Abort, the drain calls,
// MarkFailed, Stats, WaitFor and step_running_for are thread-safe; info() is
// immutable after Create.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/model/model_config.h"
#include "engine/scheduler/request.h"
#include "engine/serving/engine_observer.h"
#include "engine/serving/request_channel.h"
#include "engine/serving/request_queue.h"

namespace gqa {

class KvCacheManager;
class ModelRunner;
class Scheduler;
class Sequence;
struct ModelOutput;
struct ModelWeights;
struct SchedulerOutput;

struct EngineConfig {
  int block_size = 16;
  int max_num_seqs = 64;
  int max_num_batched_tokens = 512;
  int max_model_len = 0;      // 0: the model's context length
  size_t kv_cache_bytes = 0;  // KV pool budget; 0: what max_num_seqs full contexts need
  int num_kv_blocks = 0;      // > 0 overrides kv_cache_bytes (tests)
  int max_logit_rows = 64;    // rows per logits GEMM chunk
  uint64_t seed = 0;          // base of per-request seeds when a request sets none
  bool enable_prefix_caching = true;  // reuse the KV blocks of shared prompt prefixes
};

// What the engine serves; fixed at Create.
struct EngineInfo {
  ModelConfig model;
  EngineConfig config;  // with max_model_len resolved
  std::string backend_name;
  int num_kv_blocks = 0;
  size_t weight_bytes = 0;
  size_t kv_cache_bytes = 0;
  DType kv_cache_dtype = DType::kF32;
  size_t activation_bytes = 0;
  int kv_capacity_tokens() const { return num_kv_blocks * config.block_size; }
};

class Engine {
 public:
  // `observer` (may be null) must outlive the engine.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const ModelWeights& weights,
                                                        std::unique_ptr<Backend> backend,
                                                        const EngineConfig& config,
                                                        const QueueLimits& limits = {},
                                                        EngineObserver* observer = nullptr);
  ~Engine();  // Stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Every rule a request must pass, in one place: INVALID_ARGUMENT naming the
  // field (empty prompt, token ids outside the vocabulary, bad sampling
  // values, max_tokens < 1, min_tokens outside [0, max_tokens], prompt +
  // max_tokens beyond the context), RESOURCE_EXHAUSTED when it could never
  // fit the KV cache. An unset max_tokens becomes as many as fit the context
  // and the KV cache. Any thread (reads configuration fixed at Create); the
  // server calls it before Submit to answer at once, and admission repeats it.
  absl::Status Validate(GenerationRequest& request) const;

  // Queues `request`; deltas go to `channel`. UNAVAILABLE while draining,
  // RESOURCE_EXHAUSTED when the waiting queue is full: then nothing is ever
  // pushed to `channel`. A request the engine refuses at admission (a
  // duplicate active id, a rule Validate checks) gets a final kError delta.
  absl::Status Submit(GenerationRequest request, std::shared_ptr<RequestChannel> channel);
  // Aborts an active request before the next step; its final delta reports
  // `reason`. Unknown or finished ids are ignored.
  void Abort(const std::string& request_id, FinishReason reason = FinishReason::kAborted);

  // Launches the engine thread. When OMP_WAIT_POLICY or GOMP_SPINCOUNT is set,
  // ends the calling thread's OpenMP workers first (openmp_threads.h): call it
  // from the thread that loaded the model.
  void Start();
  // Finishes every active request with UNAVAILABLE (kError) and joins the thread.
  void Stop();
  // Synchronous driving, on the caller's thread (never with Start): admits
  // and aborts what arrived, runs one step if anything is running, publishes
  // the stats. Returns true while requests remain active.
  bool RunOnce();

  // From now on Submit refuses new requests with UNAVAILABLE.
  void StartDrain() { queue_.StartDrain(); }
  // Graceful drain: StartDrain, then waits up to `timeout` for the active
  // requests to finish; then fails the rest (kError, UNAVAILABLE). Returns
  // true when everything finished in time.
  bool Drain(std::chrono::nanoseconds timeout);
  bool draining() const { return queue_.Stats().draining; }

  // The engine can serve nothing more (`why`: what failed): Submit refuses
  // new requests with UNAVAILABLE from now on. What is active is untouched.
  void MarkFailed(const absl::Status& why) { queue_.MarkFailed(why); }
  // How long the step now running has been running; nullopt between steps.
  std::optional<std::chrono::nanoseconds> step_running_for() const;

  const EngineInfo& info() const { return info_; }
  ServiceStats Stats() const { return queue_.Stats(); }
  // Waits (bounded) until `done(Stats())`; re-checked after every change.
  bool WaitFor(const std::function<bool(const ServiceStats&)>& done,
               std::chrono::nanoseconds timeout) const {
    return queue_.WaitFor(done, timeout);
  }

 private:
  // The one record of an active request: submitted, final delta not yet pushed.
  struct RequestState {
    std::unique_ptr<Sequence> seq;  // null when refused at admission
    std::shared_ptr<RequestChannel> channel;
    ServingClock::time_point arrival;
    ServingClock::time_point last_token;
    int num_prompt_tokens = 0;
    int num_generated = 0;
    bool scheduled = false;     // left the queued state
    double queue_seconds = -1;  // arrival to first scheduled
    double ttft_seconds = -1;   // arrival to first token
  };
  using RequestTable = absl::flat_hash_map<std::string, RequestState>;

  Engine(const QueueLimits& limits, EngineObserver* observer);
  void Loop();
  // Returns false when the engine is to stop. `wait`: block until work arrives
  // when nothing is running.
  bool AdmitAndAbort(bool wait);
  void Admit(PendingRequest pending);
  void Step();
  void Emit(const SchedulerOutput& plan, const ModelOutput& out,
            const std::vector<Sequence*>& finished, ServingClock::time_point step_start);
  // Pushes the final delta of an aborted or failed request and forgets it.
  void FinishEarly(RequestTable::iterator it, FinishReason reason, const absl::Status& status);
  // Finishes every active request with `reason` and `why`, freeing its blocks.
  void FinishAll(FinishReason reason, const absl::Status& why);
  void Publish();
  bool HasUnfinished() const;
  absl::Status backend_status() const;

  EngineObserver* const observer_;
  EngineInfo info_;
  RequestQueue queue_;
  std::thread thread_;
  // When the running step began (ServingClock ticks); kNoStep between steps.
  // Written by the engine thread, read by any (the watchdog).
  static constexpr int64_t kNoStep = INT64_MIN;
  std::atomic<int64_t> step_start_ticks_{kNoStep};

  // Engine thread only.
  std::unique_ptr<ModelRunner> runner_;
  std::unique_ptr<KvCacheManager> kv_cache_;
  std::unique_ptr<Scheduler> scheduler_;
  RequestTable requests_;
  int64_t next_arrival_ = 0;
  int64_t num_steps_ = 0;
  int64_t num_preemptions_ = 0;
  bool failure_reported_ = false;
  std::optional<StepObservation> step_observation_;  // of the step being published
  // Accumulated between two Publish calls, for the queue's accounting.
  int num_finished_ = 0;
  int num_left_queue_ = 0;
  int64_t tokens_left_queue_ = 0;
};

}  // namespace gqa
