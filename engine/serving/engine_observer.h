// EngineObserver: what the Engine reports as it runs, for metrics.
// The server implements it over ServingMetrics; engine/ never depends on
// server/. Every method has an empty default.
//
// Thread ownership: called on the engine thread, inside the step loop, so an
// implementation must be quick and must not call back into the Engine.
#pragma once

#include "absl/status/status.h"
#include "engine/scheduler/request.h"

namespace gqa {

struct StepObservation {
  double duration_seconds = 0;    // one Step(): schedule, forward pass, sample, update
  int num_batch_tokens = 0;       // tokens computed in the step
  int num_prompt_tokens = 0;      // prompt lengths of the requests that got their first token
  int num_generation_tokens = 0;  // tokens generated (sampled) in the step
  int num_preemptions = 0;        // preemptions during the step
  // Prefix cache, counted in tokens as vLLM does: prompt tokens looked up by
  // the requests admitted this step, and how many of them were cache hits.
  int num_prefix_cache_queries = 0;
  int num_prefix_cache_hits = 0;
};

// Gauges, reported after every loop iteration (a step, or aborts applied).
struct EngineStateObservation {
  int num_running = 0;  // scheduler's running sequences
  int num_waiting = 0;  // scheduler's waiting sequences (queued or preempted)
  int num_kv_blocks_total = 0;
  int num_kv_blocks_used = 0;    // held by sequences (refcount > 0)
  int num_kv_blocks_cached = 0;  // free but holding a cached prefix (evictable)
};

class EngineObserver {
 public:
  virtual ~EngineObserver() = default;

  // After the step's deltas are pushed and its stats published.
  virtual void OnStep(const StepObservation& step) {}
  virtual void OnEngineState(const EngineStateObservation& state) {}
  // Arrival to first scheduled.
  virtual void OnRequestScheduled(double queue_seconds) {}
  // Arrival to the first generated token.
  virtual void OnFirstToken(double ttft_seconds) {}
  // Time between two consecutive tokens of one request.
  virtual void OnInterTokenLatency(double seconds) {}
  // A request left the engine (finished, stopped, aborted, or failed).
  // `generation_tokens` counts what the engine generated for it.
  virtual void OnRequestFinished(double e2e_seconds, int prompt_tokens, int generation_tokens,
                                 FinishReason reason) {}
  // The backend failed (e.g. a CUDA error); the engine serves nothing from
  // now on. Called once, before the active requests are failed with `status`.
  virtual void OnEngineFailed(const absl::Status& status) {}
};

}  // namespace gqa
