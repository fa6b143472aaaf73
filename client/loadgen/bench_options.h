// BenchOptions: gqa-bench's command line (FlagParser; errors name the flag).
// `gqa-bench --help` lists every flag with its default.
//
// Thread ownership: plain data.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/channel_security.h"
#include "client/loadgen/bench_metrics.h"
#include "client/loadgen/length_distribution.h"

namespace gqa::loadgen {

struct BenchOptions {
  std::string server = "localhost:50051";
  ChannelSecurityOptions security;  // --tls*, --api-key-file of the gRPC channel
  // "grpc": GenerateStream on `server`. "openai": streaming /v1/completions
  // on openai_url (openai_driver.h); the model info still comes over gRPC.
  std::string backend = "grpc";
  std::string openai_url = "http://localhost:8000";
  int num_prompts = 100;
  // One entry: a single run (--request-rate). Several: a sweep
  // (--request-rates), one run per rate with the same workload.
  std::vector<double> request_rates = {
      std::numeric_limits<double>::infinity()};  // requests/s; inf = all at once
  bool sweep = false;
  double burstiness = 1;    // gamma shape of the inter-arrival gaps; 1 = Poisson
  int max_concurrency = 0;  // 0 = unbounded
  uint64_t seed = 0;
  std::string dataset = "random";  // "random" | "jsonl"
  std::string dataset_path;        // jsonl
  LengthSpec input;
  LengthSpec output;
  // Random dataset: every prompt starts with the same random ids (prefix caching).
  int shared_prefix_len = 0;
  // Random dataset: > 1 = multi-turn chat, num_conversations conversations
  // of `turns` requests each (0 = num_prompts conversations); see workload.h.
  int turns = 1;
  int num_conversations = 0;
  bool ignore_eos = true;
  // Greedy by default: deterministic outputs, and the cheapest sampler path;
  // the benchmark measures serving, not sampling (vLLM's benchmark client
  // also sends temperature 0 unless told otherwise).
  float temperature = 0;
  SloConfig slo;
  std::string result_json;        // "" = none
  double request_timeout_s = 0;   // per request; 0 = none
  double connect_timeout_s = 10;  // GetModelInfo at startup
  bool progress = true;
  bool help = false;
  std::string help_text;
};

// Parses argv. INVALID_ARGUMENT names the offending flag.
absl::StatusOr<BenchOptions> ParseBenchArgs(int argc, const char* const* argv);

}  // namespace gqa::loadgen
