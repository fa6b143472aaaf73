// RequestQueue: the way into the engine. Any thread submits and aborts; the
// engine thread takes the work once per step. Bounded: past
// max_queued_requests (or max_queued_tokens of prompt) requests that have not
// started yet, Submit answers RESOURCE_EXHAUSTED at once, so a load balancer
// can send the request elsewhere instead of letting it wait.
//
// "Queued" means submitted and not yet scheduled for the first time: in this
// queue or in the scheduler's waiting list. The engine thread reports when
// requests leave that state (first scheduled, or finished before it).
//
// It also holds the few numbers other threads may read about the engine
// (ServiceStats), published by the engine thread after every step, so that
// "one mutex on the way in" stays the only lock a reactor takes to get in.
//
// Thread ownership: every public method is thread-safe. Take and the
// Publish/Finish calls are for the engine thread only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/scheduler/request.h"
#include "engine/serving/request_channel.h"

namespace gqa {

using ServingClock = std::chrono::steady_clock;

struct QueueLimits {
  int max_queued_requests = 256;  // requests submitted and not started; <= 0: no limit
  int64_t max_queued_tokens = 0;  // their prompt tokens; <= 0: no limit
};

// A snapshot for other threads (tests, health, logs).
struct ServiceStats {
  int num_queued_requests = 0;  // submitted, not yet scheduled
  int64_t num_queued_tokens = 0;
  int num_active = 0;   // submitted, final delta not yet pushed
  int num_running = 0;  // scheduler's running sequences
  int num_waiting = 0;  // scheduler's waiting sequences
  int num_kv_blocks_total = 0;
  int num_kv_blocks_free = 0;    // includes the cached ones below (evictable on demand)
  int num_kv_blocks_cached = 0;  // free blocks still holding a cached prefix (refcount 0)
  int64_t prefix_cache_queries_tokens = 0;  // cumulative: prompt tokens looked up
  int64_t prefix_cache_hits_tokens = 0;     // cumulative: of those, found in the cache
  int64_t num_steps = 0;
  int64_t num_preemptions = 0;
  bool draining = false;
  // The engine failed (a backend error, a step past the watchdog): Submit
  // refuses everything with UNAVAILABLE from then on.
  bool failed = false;
  // Aborts queued for the engine thread's next AdmitAndAbort (tests use these
  // to know an abort is on its way before letting the engine step).
  int num_aborts_pending = 0;
  bool abort_all_pending = false;
};

struct PendingRequest {
  GenerationRequest request;
  std::shared_ptr<RequestChannel> channel;
  ServingClock::time_point arrival;
};

struct PendingAbort {
  std::string request_id;
  FinishReason reason = FinishReason::kAborted;
};

class RequestQueue {
 public:
  explicit RequestQueue(const QueueLimits& limits) : limits_(limits) {}

  // UNAVAILABLE while draining or stopped; RESOURCE_EXHAUSTED past the
  // limits (a request alone in the queue is always accepted, however long).
  // Ids are not checked here: the engine's request table is the one place
  // that knows which are active.
  absl::Status Submit(PendingRequest pending);
  // Queues an abort for the engine thread, which ignores ids it does not
  // know. `reason` is the finish reason its final delta reports (kStop for a
  // stop string).
  void Abort(const std::string& request_id, FinishReason reason);
  // Submit refuses new requests from now on.
  void StartDrain();
  // The engine can serve nothing more (`why`: what failed): from now on
  // Submit answers UNAVAILABLE naming it. For good; any thread.
  void MarkFailed(const absl::Status& why);
  // Every active request is to be finished with `status` (not OK).
  void AbortAll(absl::Status status);
  // The engine thread ends its loop (aborting what is left).
  void Stop();

  ServiceStats Stats() const;
  // Waits until `done(stats)` holds (true) or `timeout` passes (false). The
  // state is re-checked after every change (submission, step, finish).
  bool WaitFor(const std::function<bool(const ServiceStats&)>& done,
               std::chrono::nanoseconds timeout) const;

  // ---- engine thread ----
  struct Work {
    std::vector<PendingRequest> submissions;
    std::vector<PendingAbort> aborts;
    std::optional<absl::Status> abort_all;
    bool stop = false;
  };
  // Takes what arrived since the last call. When `engine_idle`, first waits
  // until something arrives.
  Work Take(bool engine_idle);
  // After a step: the engine part of ServiceStats, how many requests left the
  // queued state (and their prompt tokens), and how many got their final delta.
  void Publish(const ServiceStats& engine, int num_left_queue, int64_t tokens_left_queue,
               int num_finished);

 private:
  const QueueLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;           // the engine thread waits here
  mutable std::condition_variable state_cv_;  // WaitFor waits here
  // Everything below is guarded by mu_.
  std::vector<PendingRequest> submissions_;
  std::vector<PendingAbort> aborts_;
  std::optional<absl::Status> abort_all_;
  bool stop_ = false;
  absl::Status failure_;  // set once by MarkFailed
  ServiceStats stats_;
};

}  // namespace gqa
