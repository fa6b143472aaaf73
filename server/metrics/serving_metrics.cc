#include "server/metrics/serving_metrics.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/metrics/registry.h"
#include "server/metrics/text_format.h"

namespace gqa {
namespace {

using metrics::Counter;
using metrics::Family;
using metrics::Gauge;
using metrics::Histogram;
using metrics::Registry;

// Bucket layouts, in seconds or tokens. Latencies span sub-millisecond
// inter-token gaps of a small model on a GPU to minutes for long generations
// on a CPU, so the edges are roughly 1-2.5-5 per decade across that range.
const std::vector<double>& InterTokenBuckets() {
  static const auto* b = new std::vector<double>{
      0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075,
      0.1,    0.15,  0.2,    0.3,   0.4,    0.5,  0.75,  1,    2.5,  5,    10};
  return *b;
}
const std::vector<double>& FirstTokenBuckets() {
  static const auto* b = new std::vector<double>{0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08,
                                                 0.1,   0.25,   0.5,   0.75, 1,    2.5,  5,    7.5,
                                                 10,    20,     40,    80,   160,  320,  640};
  return *b;
}
// End-to-end and queueing: up to the 10+ minutes of a long CPU generation.
const std::vector<double>& RequestBuckets() {
  static const auto* b = new std::vector<double>{
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,    10,  15,
      20,    30,    40,   50,    60,   120, 240,  480, 960, 1920, 3840, 7680};
  return *b;
}
const std::vector<double>& StepBuckets() {
  static const auto* b =
      new std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
                              0.075,  0.1,   0.25,   0.5,   1,      2.5,  5,     10,   30};
  return *b;
}
constexpr int kMaxRequestTokensBucket = 131072;  // 128K context
constexpr int kMaxStepTokensBucket = 32768;

// The finish reasons exported from the start, so dashboards see zeros.
constexpr std::array<std::string_view, 5> kFinishReasons = {"length", "stop", "eos", "aborted",
                                                            "error"};

// Registration only fails on a malformed constant name in this file, which
// the unit tests catch; there is no caller to return an error to from a
// constructor, so this is a CHECK.
template <typename T>
T Must(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "gqa ServingMetrics: %s\n", value.status().ToString().c_str());
    std::abort();
  }
  return *std::move(value);
}

template <typename M>
M* Single(Family<M>* family) {
  return Must(family->WithLabels({}));
}

}  // namespace

struct ServingMetrics::Impl {
  explicit Impl(const ModelInfoLabels& info);

  Registry registry;

  Histogram* queue_time;
  Histogram* time_to_first_token;
  Histogram* inter_token_latency;
  Histogram* e2e_latency;
  Histogram* request_prompt_tokens;
  Histogram* request_generation_tokens;
  Histogram* step_duration;
  Histogram* step_batch_tokens;

  Gauge* requests_running;
  Gauge* requests_waiting;
  Gauge* kv_blocks_total;
  Gauge* kv_blocks_used;
  Gauge* kv_usage_ratio;
  Gauge* memory_weights;
  Gauge* memory_kv_cache;
  Gauge* memory_activations;

  Counter* prompt_tokens;
  Counter* generation_tokens;
  Counter* preemptions;
  Family<Counter>* finished;
  std::array<Counter*, kFinishReasons.size()> finished_by_reason;  // kFinishReasons order
  Family<Counter>* rejected;
};

ServingMetrics::Impl::Impl(const ModelInfoLabels& info) {
  Registry& r = registry;
  const auto histogram = [&r](const char* name, const char* help,
                              const std::vector<double>& bounds) {
    return Single(Must(r.AddHistogram(name, help, {}, bounds)));
  };
  const auto gauge = [&r](const char* name, const char* help) {
    return Single(Must(r.AddGauge(name, help, {})));
  };
  const auto counter = [&r](const char* name, const char* help) {
    return Single(Must(r.AddCounter(name, help, {})));
  };

  Family<Gauge>* model_info =
      Must(r.AddGauge("gqa_model_info", "The served model; the value is always 1.",
                      {"model", "backend", "dtype", "n_heads", "n_kv_heads", "block_size"}));
  Must(model_info->WithLabels({info.model, info.backend, info.dtype, std::to_string(info.n_heads),
                               std::to_string(info.n_kv_heads), std::to_string(info.block_size)}))
      ->Set(1);

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
                metrics::PowersOfTwoBuckets(kMaxRequestTokensBucket));
  request_generation_tokens =
      histogram("gqa_request_generation_tokens", "Tokens generated by finished requests.",
                metrics::PowersOfTwoBuckets(kMaxRequestTokensBucket));
  finished = Must(r.AddCounter("gqa_requests_finished_total",
                               "Requests finished, by reason (length, stop, eos, aborted, error).",
                               {"reason"}));
  for (size_t i = 0; i < kFinishReasons.size(); ++i) {
    finished_by_reason[i] = Must(finished->WithLabels({std::string(kFinishReasons[i])}));
  }
  rejected = Must(r.AddCounter("gqa_requests_rejected_total",
                               "Requests refused before running, by gRPC status code.", {"code"}));
  // The codes the server refuses with exist from the start at 0, so the first
  // rejection is a visible increase to rate() (a new series is not).
  for (const char* code : {"INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "UNAVAILABLE"}) {
    Must(rejected->WithLabels({code}));
  }

  // ---- per engine step ----
  step_duration =
      histogram("gqa_step_duration_seconds",
                "Wall time of one engine step (schedule, forward pass, update).", StepBuckets());
  step_batch_tokens = histogram("gqa_step_batch_tokens", "Tokens computed in one engine step.",
                                metrics::PowersOfTwoBuckets(kMaxStepTokensBucket));
  prompt_tokens = counter("gqa_prompt_tokens_total", "Prompt tokens computed (prefill).");
  generation_tokens = counter("gqa_generation_tokens_total", "Tokens generated (decode).");
  preemptions = counter("gqa_preemptions_total",
                        "Sequences preempted (KV blocks freed, re-queued for recompute).");
  requests_running = gauge("gqa_requests_running", "Requests in the running batch.");
  requests_waiting = gauge("gqa_requests_waiting", "Requests waiting to be scheduled.");
  kv_blocks_total = gauge("gqa_kv_cache_blocks_total", "KV cache blocks in the pool.");
  kv_blocks_used = gauge("gqa_kv_cache_blocks_used", "KV cache blocks in use.");
  kv_usage_ratio = gauge("gqa_kv_cache_usage_ratio", "Fraction of KV cache blocks in use, 0 to 1.");
  Family<Gauge>* memory =
      Must(r.AddGauge("gqa_memory_bytes",
                      "Device memory held, by kind (weights, kv_cache, activations).", {"kind"}));
  memory_weights = Must(memory->WithLabels({"weights"}));
  memory_kv_cache = Must(memory->WithLabels({"kv_cache"}));
  memory_activations = Must(memory->WithLabels({"activations"}));
}

ServingMetrics::ServingMetrics(const ModelInfoLabels& info) : impl_(std::make_unique<Impl>(info)) {}

ServingMetrics::~ServingMetrics() = default;

void ServingMetrics::ObserveQueueTime(double seconds) { impl_->queue_time->Observe(seconds); }

void ServingMetrics::ObserveTimeToFirstToken(double seconds) {
  impl_->time_to_first_token->Observe(seconds);
}

void ServingMetrics::ObserveInterTokenLatency(double seconds) {
  impl_->inter_token_latency->Observe(seconds);
}

void ServingMetrics::ObserveRequestFinished(double e2e_seconds, int prompt_tokens,
                                            int generation_tokens, std::string_view reason) {
  impl_->e2e_latency->Observe(e2e_seconds);
  impl_->request_prompt_tokens->Observe(prompt_tokens);
  impl_->request_generation_tokens->Observe(generation_tokens);
  for (size_t i = 0; i < kFinishReasons.size(); ++i) {
    if (reason == kFinishReasons[i]) {
      impl_->finished_by_reason[i]->Increment();
      return;
    }
  }
  // An unknown reason still counts, under its own series (WithLabels only
  // fails on a label-count mismatch, impossible here).
  if (auto c = impl_->finished->WithLabels({std::string(reason)}); c.ok()) (*c)->Increment();
}

void ServingMetrics::CountRejected(std::string_view code) {
  if (auto c = impl_->rejected->WithLabels({std::string(code)}); c.ok()) (*c)->Increment();
}

void ServingMetrics::ObserveStep(double seconds, int batch_tokens, int prompt_tokens,
                                 int generation_tokens) {
  impl_->step_duration->Observe(seconds);
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
}

void ServingMetrics::CountPreemptions(int n) { impl_->preemptions->Increment(n); }

void ServingMetrics::SetMemoryBytes(double weights, double kv_cache, double activations) {
  impl_->memory_weights->Set(weights);
  impl_->memory_kv_cache->Set(kv_cache);
  impl_->memory_activations->Set(activations);
}

std::string ServingMetrics::Render() const {
  return metrics::RenderTextFormat(impl_->registry.Collect());
}

}  // namespace gqa
