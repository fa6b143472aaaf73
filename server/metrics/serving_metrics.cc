#include "server/metrics/serving_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gqa {
namespace {

// Bucket layouts, in seconds or tokens. Latencies span sub-millisecond
// inter-token gaps of a small model on a GPU to minutes for long generations
// on a CPU, so the edges are roughly 1-2.5-5 per decade across that range.
std::vector<double> InterTokenBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075,
          0.1,    0.15,  0.2,    0.3,   0.4,    0.5,  0.75,  1,    2.5,  5,    10};
}
std::vector<double> FirstTokenBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
          1,     2.5,    5,     7.5,  10,   20,   40,   80,   160, 320,  640};
}
// End-to-end and queueing: up to the 10+ minutes of a long CPU generation.
std::vector<double> RequestBuckets() {
  return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,    10,  15,
          20,    30,    40,   50,    60,   120, 240,  480, 960, 1920, 3840, 7680};
}
std::vector<double> StepBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
          0.075,  0.1,   0.25,   0.5,   1,      2.5,  5,     10,   30};
}
constexpr int kMaxRequestTokensBucket = 131072;  // 128K context
constexpr int kMaxStepTokensBucket = 32768;

// {1, 2, 4, ..., max_power_of_two}, for token counts.
std::vector<double> PowersOfTwoBuckets(int max_power_of_two) {
  std::vector<double> bounds;
  for (int64_t b = 1; b <= max_power_of_two; b *= 2) bounds.push_back(static_cast<double>(b));
  return bounds;
}

// The finish reasons exported from the start, so dashboards and alerts see
// zeros (a series that appears at 1 is no increase to rate()).
constexpr std::array<std::string_view, 5> kFinishReasons = {"length", "stop", "eos", "aborted",
                                                            "error"};
// The codes the server refuses with, likewise at 0 from the start.
constexpr std::array<std::string_view, 3> kRejectCodes = {"INVALID_ARGUMENT", "RESOURCE_EXHAUSTED",
                                                          "UNAVAILABLE"};

// `s` with every byte that is not part of a well-formed UTF-8 sequence
// replaced by U+FFFD: Prometheus rejects a whole scrape over one invalid byte
// in a label value, and the model name is input (prometheus-cpp escapes
// backslash, quote and newline but passes bytes through).
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = k == 1 ? byte(i + k) >= lo && byte(i + k) <= hi : (byte(i + k) & 0xC0) == 0x80;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

}  // namespace

struct ServingMetrics::Impl {
  explicit Impl(const ModelInfoLabels& info);

  const std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  prometheus::Histogram* queue_time;
  prometheus::Histogram* time_to_first_token;
  prometheus::Histogram* inter_token_latency;
  prometheus::Histogram* e2e_latency;
  prometheus::Histogram* request_prompt_tokens;
  prometheus::Histogram* request_generation_tokens;
  prometheus::Histogram* step_duration;
  prometheus::Histogram* step_batch_tokens;

  prometheus::Gauge* requests_running;
  prometheus::Gauge* requests_waiting;
  prometheus::Gauge* kv_blocks_total;
  prometheus::Gauge* kv_blocks_used;
  prometheus::Gauge* kv_usage_ratio;
  prometheus::Gauge* kv_blocks_cached;
  prometheus::Gauge* memory_weights;
  prometheus::Gauge* memory_kv_cache;
  prometheus::Gauge* memory_activations;

  // gqa_cache_config_info{block_size,num_gpu_blocks} 1, once the pool size is
  // known (the first SetKvCacheBlocks with total > 0); the series is replaced
  // if the pool size ever changes. Guarded by cache_config_mu.
  const int block_size;
  prometheus::Family<prometheus::Gauge>* cache_config;
  std::mutex cache_config_mu;
  prometheus::Gauge* cache_config_series = nullptr;
  int cache_config_blocks = 0;

  prometheus::Counter* prompt_tokens;
  prometheus::Counter* generation_tokens;
  prometheus::Counter* preemptions;
  prometheus::Counter* prefix_cache_queries;
  prometheus::Counter* prefix_cache_hits;
  prometheus::Family<prometheus::Counter>* finished;
  std::array<prometheus::Counter*, kFinishReasons.size()> finished_by_reason;  // that order
  prometheus::Family<prometheus::Counter>* rejected;
  std::array<prometheus::Counter*, kRejectCodes.size()> rejected_by_code;  // that order
  prometheus::Family<prometheus::Counter>* engine_failures;
  prometheus::Counter* engine_failures_backend_error;
  prometheus::Counter* engine_failures_step_timeout;
};

// prometheus-cpp throws std::invalid_argument on a malformed name or a name
// registered twice: only a bug in the constants here, which every test that
// builds a ServingMetrics would hit.
ServingMetrics::Impl::Impl(const ModelInfoLabels& info) : block_size(info.block_size) {
  prometheus::Registry& r = *registry;
  const auto histogram = [&r](const char* name, const char* help,
                              const std::vector<double>& buckets) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, buckets);
  };
  const auto gauge = [&r](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  const auto counter = [&r](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
  };

  prometheus::BuildGauge()
      .Name("gqa_model_info")
      .Help("The served model; the value is always 1.")
      .Register(r)
      .Add({{"model", ValidUtf8(info.model)},
            {"backend", ValidUtf8(info.backend)},
            {"dtype", ValidUtf8(info.dtype)},
            {"n_heads", std::to_string(info.n_heads)},
            {"n_kv_heads", std::to_string(info.n_kv_heads)},
            {"block_size", std::to_string(info.block_size)}})
      .Set(1);

  // ---- per request ----
  time_to_first_token =
      histogram("gqa_time_to_first_token_seconds",
                "Time from request arrival to its first generated token.", FirstTokenBuckets());
  inter_token_latency =
      histogram("gqa_inter_token_latency_seconds",
                "Time between consecutive generated tokens of a request.", InterTokenBuckets());
  e2e_latency = histogram("gqa_e2e_request_latency_seconds",
                          "Time from request arrival to its last token, for finished requests.",
                          RequestBuckets());
  queue_time =
      histogram("gqa_request_queue_time_seconds",
                "Time a request waited before its first scheduled step.", RequestBuckets());
  request_prompt_tokens =
      histogram("gqa_request_prompt_tokens", "Prompt length of finished requests, in tokens.",
                PowersOfTwoBuckets(kMaxRequestTokensBucket));
  request_generation_tokens =
      histogram("gqa_request_generation_tokens", "Tokens generated by finished requests.",
                PowersOfTwoBuckets(kMaxRequestTokensBucket));
  finished = &prometheus::BuildCounter()
                  .Name("gqa_requests_finished_total")
                  .Help("Requests finished, by reason (length, stop, eos, aborted, error).")
                  .Register(r);
  for (size_t i = 0; i < kFinishReasons.size(); ++i) {
    finished_by_reason[i] = &finished->Add({{"reason", std::string(kFinishReasons[i])}});
  }
  rejected = &prometheus::BuildCounter()
                  .Name("gqa_requests_rejected_total")
                  .Help("Requests refused before running, by gRPC status code.")
                  .Register(r);
  for (size_t i = 0; i < kRejectCodes.size(); ++i) {
    rejected_by_code[i] = &rejected->Add({{"code", std::string(kRejectCodes[i])}});
  }
  engine_failures = &prometheus::BuildCounter()
                         .Name("gqa_engine_failures_total")
                         .Help(
                             "Engine failures after which the server serves nothing more, by "
                             "cause (backend_error, step_timeout).")
                         .Register(r);
  engine_failures_backend_error = &engine_failures->Add({{"cause", "backend_error"}});
  engine_failures_step_timeout = &engine_failures->Add({{"cause", "step_timeout"}});

  // ---- per engine step ----
  step_duration =
      histogram("gqa_step_duration_seconds",
                "Wall time of one engine step (schedule, forward pass, update).", StepBuckets());
  step_batch_tokens = histogram("gqa_step_batch_tokens", "Tokens computed in one engine step.",
                                PowersOfTwoBuckets(kMaxStepTokensBucket));
  prompt_tokens = counter("gqa_prompt_tokens_total", "Prompt tokens computed (prefill).");
  generation_tokens = counter("gqa_generation_tokens_total", "Tokens generated (decode).");
  preemptions = counter("gqa_preemptions_total",
                        "Sequences preempted (KV blocks freed, re-queued for recompute).");
  requests_running = gauge("gqa_requests_running", "Requests in the running batch.");
  requests_waiting = gauge("gqa_requests_waiting", "Requests waiting to be scheduled.");
  kv_blocks_total = gauge("gqa_kv_cache_blocks_total", "KV cache blocks in the pool.");
  kv_blocks_used = gauge("gqa_kv_cache_blocks_used", "KV cache blocks in use.");
  kv_usage_ratio = gauge("gqa_kv_cache_usage_ratio", "Fraction of KV cache blocks in use, 0 to 1.");
  kv_blocks_cached = gauge("gqa_kv_cache_blocks_cached",
                           "Free KV cache blocks still holding a cached prompt prefix (reusable, "
                           "evicted least recently used first).");
  // In tokens, as vLLM's prefix_cache_queries / prefix_cache_hits: the hit
  // rate is rate(hits) / rate(queries).
  prefix_cache_queries = counter("gqa_prefix_cache_queries_total",
                                 "Prompt tokens looked up in the prefix cache.");
  prefix_cache_hits = counter("gqa_prefix_cache_hits_total",
                              "Prompt tokens found in the prefix cache (their KV reused).");
  // vLLM's cache_config_info shape (labels block_size, num_gpu_blocks), which
  // the Gateway API Inference Extension's endpoint picker reads for its
  // prefix-cache scorer.
  cache_config = &prometheus::BuildGauge()
                      .Name("gqa_cache_config_info")
                      .Help(
                          "KV cache layout: block size in tokens and blocks in the pool; the "
                          "value is always 1.")
                      .Register(r);
  auto& memory = prometheus::BuildGauge()
                     .Name("gqa_memory_bytes")
                     .Help("Device memory held, by kind (weights, kv_cache, activations).")
                     .Register(r);
  memory_weights = &memory.Add({{"kind", "weights"}});
  memory_kv_cache = &memory.Add({{"kind", "kv_cache"}});
  memory_activations = &memory.Add({{"kind", "activations"}});
}

ServingMetrics::ServingMetrics(const ModelInfoLabels& info) : impl_(std::make_unique<Impl>(info)) {}

ServingMetrics::~ServingMetrics() = default;

namespace {
void ObserveUnlessNan(prometheus::Histogram* h, double value) {
  if (!std::isnan(value)) h->Observe(value);
}
}  // namespace

void ServingMetrics::ObserveQueueTime(double seconds) {
  ObserveUnlessNan(impl_->queue_time, seconds);
}

void ServingMetrics::ObserveTimeToFirstToken(double seconds) {
  ObserveUnlessNan(impl_->time_to_first_token, seconds);
}

void ServingMetrics::ObserveInterTokenLatency(double seconds) {
  ObserveUnlessNan(impl_->inter_token_latency, seconds);
}

void ServingMetrics::ObserveRequestFinished(double e2e_seconds, int prompt_tokens,
                                            int generation_tokens, std::string_view reason) {
  ObserveUnlessNan(impl_->e2e_latency, e2e_seconds);
  impl_->request_prompt_tokens->Observe(prompt_tokens);
  impl_->request_generation_tokens->Observe(generation_tokens);
  for (size_t i = 0; i < kFinishReasons.size(); ++i) {
    if (reason == kFinishReasons[i]) {
      impl_->finished_by_reason[i]->Increment();
      return;
    }
  }
  // An unknown reason still counts, under its own series.
  impl_->finished->Add({{"reason", ValidUtf8(reason)}}).Increment();
}

void ServingMetrics::CountRejected(std::string_view code) {
  for (size_t i = 0; i < kRejectCodes.size(); ++i) {
    if (code == kRejectCodes[i]) {
      impl_->rejected_by_code[i]->Increment();
      return;
    }
  }
  impl_->rejected->Add({{"code", ValidUtf8(code)}}).Increment();
}

void ServingMetrics::CountEngineFailure(std::string_view cause) {
  if (cause == "backend_error") {
    impl_->engine_failures_backend_error->Increment();
  } else if (cause == "step_timeout") {
    impl_->engine_failures_step_timeout->Increment();
  } else {
    impl_->engine_failures->Add({{"cause", ValidUtf8(cause)}}).Increment();
  }
}

void ServingMetrics::ObserveStep(double seconds, int batch_tokens, int prompt_tokens,
                                 int generation_tokens) {
  ObserveUnlessNan(impl_->step_duration, seconds);
  impl_->step_batch_tokens->Observe(batch_tokens);
  impl_->prompt_tokens->Increment(prompt_tokens);
  impl_->generation_tokens->Increment(generation_tokens);
}

void ServingMetrics::SetRequestCounts(int running, int waiting) {
  impl_->requests_running->Set(running);
  impl_->requests_waiting->Set(waiting);
}

void ServingMetrics::SetKvCacheBlocks(int total, int used) {
  impl_->kv_blocks_total->Set(total);
  impl_->kv_blocks_used->Set(used);
  impl_->kv_usage_ratio->Set(total > 0 ? static_cast<double>(used) / total : 0.0);
  if (total <= 0) return;
  std::lock_guard<std::mutex> lock(impl_->cache_config_mu);
  if (total == impl_->cache_config_blocks) return;
  if (impl_->cache_config_series != nullptr) {
    impl_->cache_config->Remove(impl_->cache_config_series);
  }
  impl_->cache_config_series =
      &impl_->cache_config->Add({{"block_size", std::to_string(impl_->block_size)},
                                 {"num_gpu_blocks", std::to_string(total)}});
  impl_->cache_config_series->Set(1);
  impl_->cache_config_blocks = total;
}

void ServingMetrics::CountPreemptions(int n) { impl_->preemptions->Increment(n); }

void ServingMetrics::SetKvCacheBlocksCached(int cached) { impl_->kv_blocks_cached->Set(cached); }

void ServingMetrics::CountPrefixCache(int query_tokens, int hit_tokens) {
  impl_->prefix_cache_queries->Increment(query_tokens);
  impl_->prefix_cache_hits->Increment(hit_tokens);
}

void ServingMetrics::SetMemoryBytes(double weights, double kv_cache, double activations) {
  impl_->memory_weights->Set(weights);
  impl_->memory_kv_cache->Set(kv_cache);
  impl_->memory_activations->Set(activations);
}

std::string ServingMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

std::shared_ptr<prometheus::Registry> ServingMetrics::registry() const { return impl_->registry; }

}  // namespace gqa
