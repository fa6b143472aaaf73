// ServingMetrics: every Prometheus metric gqa-server exports, behind methods
// named for the events that move them, on prometheus-cpp (Debian's
// prometheus-cpp-dev 1.0.1). MetricsExposer serves registry() over HTTP;
// Render() gives the same text for tests and logs.
//
// Cost: each method is a few atomic adds (a counter or gauge) or one
// uncontended mutex (a histogram observation); every labelled series the
// methods touch is looked up once, in the constructor. Only CountRejected with
// a code outside the pre-created ones and an unknown finish reason look a
// series up by its labels (a hash and a mutex).
//
// Thread ownership: every method is thread-safe (reactor threads observe
// request events, the engine thread observes steps, the exposer's civetweb
// threads collect).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace gqa {

// Labels of the info gauge gqa_model_info{...} 1.
struct ModelInfoLabels {
  std::string model;
  std::string backend;
  std::string dtype;
  int n_heads = 0;
  int n_kv_heads = 0;
  int block_size = 0;
};

class ServingMetrics {
 public:
  explicit ServingMetrics(const ModelInfoLabels& info);
  ~ServingMetrics();
  ServingMetrics(const ServingMetrics&) = delete;
  ServingMetrics& operator=(const ServingMetrics&) = delete;

  // ---- per request ----
  // NaN observations are dropped: one would poison a histogram's _sum for the
  // life of the process.
  void ObserveQueueTime(double seconds);          // gqa_request_queue_time_seconds
  void ObserveTimeToFirstToken(double seconds);   // gqa_time_to_first_token_seconds
  void ObserveInterTokenLatency(double seconds);  // gqa_inter_token_latency_seconds
  // gqa_e2e_request_latency_seconds, gqa_request_prompt_tokens,
  // gqa_request_generation_tokens, gqa_requests_finished_total{reason}.
  // reason: "length" | "stop" | "eos" | "aborted" | "error" (each exported at 0
  // from the start); any other string counts under its own series.
  void ObserveRequestFinished(double e2e_seconds, int prompt_tokens, int generation_tokens,
                              std::string_view reason);
  // gqa_requests_rejected_total{code}; code: the gRPC status name, e.g. "RESOURCE_EXHAUSTED".
  void CountRejected(std::string_view code);
  // gqa_engine_failures_total{cause}: the engine can serve nothing more.
  // cause: "backend_error" (a forward pass failed: a CUDA error) or
  // "step_timeout" (a step ran past --step-timeout-seconds); both exported at
  // 0 from the start.
  void CountEngineFailure(std::string_view cause);

  // ---- per engine step ----
  // gqa_step_duration_seconds, gqa_step_batch_tokens, gqa_prompt_tokens_total,
  // gqa_generation_tokens_total.
  void ObserveStep(double seconds, int batch_tokens, int prompt_tokens, int generation_tokens);
  void SetRequestCounts(int running, int waiting);  // gqa_requests_running / _waiting
  // gqa_kv_cache_blocks_*, _usage_ratio (used / total, 0 to 1; 0 while
  // total is 0) and, once total > 0, gqa_cache_config_info{block_size,
  // num_gpu_blocks} (replaced if total changes). The engine thread calls it
  // after every step; it takes one uncontended mutex.
  void SetKvCacheBlocks(int total, int used);
  void CountPreemptions(int n);  // gqa_preemptions_total
  // gqa_kv_cache_blocks_cached: free blocks still holding a cached prefix.
  void SetKvCacheBlocksCached(int cached);
  // gqa_prefix_cache_queries_total, gqa_prefix_cache_hits_total: prompt
  // tokens looked up in the prefix cache during a step, and those found.
  void CountPrefixCache(int query_tokens, int hit_tokens);
  // gqa_memory_bytes{kind="weights|kv_cache|activations"}
  void SetMemoryBytes(double weights, double kv_cache, double activations);

  // The registry in the Prometheus text exposition format (0.0.4), as an
  // exposer serves it (without the exposer's own exposer_* families). The
  // order of series within a family is unspecified.
  std::string Render() const;

  // The prometheus-cpp registry holding every family above; shared so that an
  // exposer can hold a weak reference to it.
  std::shared_ptr<prometheus::Registry> registry() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gqa
