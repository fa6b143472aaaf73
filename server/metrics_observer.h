// MetricsObserver: feeds the engine service's events into ServingMetrics
// (the Prometheus registry). The one place engine events meet server/metrics.
//
// Thread ownership: called on the engine thread; ServingMetrics is thread-safe.
#pragma once

#include "engine/serving/engine_observer.h"
#include "server/metrics/serving_metrics.h"

namespace gqa {

class MetricsObserver final : public EngineObserver {
 public:
  explicit MetricsObserver(ServingMetrics* metrics) : metrics_(metrics) {}

  void OnStep(const StepObservation& step) override;
  void OnEngineState(const EngineStateObservation& state) override;
  void OnRequestScheduled(double queue_seconds) override;
  void OnFirstToken(double ttft_seconds) override;
  void OnInterTokenLatency(double seconds) override;
  void OnRequestFinished(double e2e_seconds, int prompt_tokens, int generation_tokens,
                         FinishReason reason) override;

 private:
  ServingMetrics* const metrics_;
};

}  // namespace gqa
