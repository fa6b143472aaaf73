#include "server/metrics_observer.h"

#include "server/proto_conversion.h"

namespace gqa {

void MetricsObserver::OnStep(const StepObservation& step) {
  metrics_->ObserveStep(step.duration_seconds, step.num_batch_tokens, step.num_prompt_tokens,
                        step.num_generation_tokens);
  if (step.num_preemptions > 0) metrics_->CountPreemptions(step.num_preemptions);
  if (step.num_prefix_cache_queries > 0) {
    metrics_->CountPrefixCache(step.num_prefix_cache_queries, step.num_prefix_cache_hits);
  }
}

void MetricsObserver::OnEngineState(const EngineStateObservation& state) {
  metrics_->SetRequestCounts(state.num_running, state.num_waiting);
  metrics_->SetKvCacheBlocks(state.num_kv_blocks_total, state.num_kv_blocks_used);
  metrics_->SetKvCacheBlocksCached(state.num_kv_blocks_cached);
}

void MetricsObserver::OnRequestScheduled(double queue_seconds) {
  metrics_->ObserveQueueTime(queue_seconds);
}

void MetricsObserver::OnFirstToken(double ttft_seconds) {
  metrics_->ObserveTimeToFirstToken(ttft_seconds);
}

void MetricsObserver::OnInterTokenLatency(double seconds) {
  metrics_->ObserveInterTokenLatency(seconds);
}

void MetricsObserver::OnRequestFinished(double e2e_seconds, int prompt_tokens,
                                        int generation_tokens, FinishReason reason) {
  metrics_->ObserveRequestFinished(e2e_seconds, prompt_tokens, generation_tokens,
                                   FinishReasonName(reason));
}

}  // namespace gqa
