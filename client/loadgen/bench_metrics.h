// BenchmarkMetrics: the numbers gqa-bench reports for one run, computed from
// its request records (as vLLM's `bench serve` computes them).
//
// Units: durations in seconds, latencies in milliseconds (`_ms`),
// throughputs per second.
// Thread ownership: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "client/loadgen/request_record.h"
#include "client/loadgen/stats.h"

namespace gqa::loadgen {

// Service-level objectives for goodput, in milliseconds; 0 = not set.
struct SloConfig {
  double ttft_ms = 0;
  double tpot_ms = 0;
  double e2el_ms = 0;
  bool any() const { return ttft_ms > 0 || tpot_ms > 0 || e2el_ms > 0; }
};

// One turn of a multi-turn chat workload, over its completed requests.
struct TurnMetrics {
  int turn = 0;  // 0-based
  int completed = 0;
  int64_t input_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // the server's usage
  Summary ttft_ms;
};

struct BenchmarkMetrics {
  int num_requests = 0;
  int completed = 0;  // status OK
  int failed = 0;
  std::map<std::string, int> failures_by_code;  // "RESOURCE_EXHAUSTED" -> count
  double duration_s = 0;                        // start of the run to the last request's end
  // Completed requests only.
  int64_t total_input_tokens = 0;
  int64_t total_output_tokens = 0;
  // Prompt tokens the server's prefix cache held (Usage.cached_prompt_tokens;
  // 0 from a server without one).
  int64_t total_cached_prompt_tokens = 0;
  double request_throughput = 0;      // completed requests / s
  double input_throughput = 0;        // input tokens / s
  double output_throughput = 0;       // output tokens / s
  double total_token_throughput = 0;  // (input + output) tokens / s
  // Completed requests meeting every SLO that is set; goodput in requests/s.
  bool has_goodput = false;
  int good_requests = 0;
  double goodput = 0;
  // Over completed requests with >= 1 token (TPOT: >= 2 tokens; ITL: every gap).
  Summary ttft_ms, tpot_ms, itl_ms, e2el_ms;
  // Multi-turn chat only (else empty): one entry per turn, in turn order.
  std::vector<TurnMetrics> turns;
  int max_concurrency_observed = 0;
  // Tokens received (any request) per 1 s bucket: [i, i + 1) s after the start.
  std::vector<double> output_tokens_per_s;
  double peak_output_throughput = 0;  // the largest bucket, tokens/s
};

// `duration_s` <= 0: taken as the latest end_s of any record.
BenchmarkMetrics ComputeMetrics(const std::vector<RequestRecord>& records, double duration_s,
                                int max_concurrency_observed, const SloConfig& slo);

}  // namespace gqa::loadgen
