// The requests of one benchmark: prompts, output lengths and arrival times,
// from the synthetic "random" dataset or a JSONL file. Everything is drawn
// from --seed, so the same flags give the same workload.
//
// Lengths and prompts use one random stream and arrivals another, so a sweep
// over request rates (same seed) sends the same prompts at every rate.
//
// Thread ownership: pure functions; the result is read-only while it runs.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "client/loadgen/jsonl_dataset.h"
#include "client/loadgen/length_distribution.h"
#include "gqa/v1/generation.pb.h"

namespace gqa::loadgen {

struct WorkloadOptions {
  int num_prompts = 100;
  LengthSpec input;   // random dataset only
  LengthSpec output;  // random dataset, and jsonl lines without "output_len"
  uint64_t seed = 0;
  float temperature = 0;   // sent as sampling.temperature
  bool ignore_eos = true;  // exact output lengths
};

struct WorkItem {
  v1::GenerateRequest request;
  int input_len = 0;     // prompt tokens sent; 0 for a text prompt (the server reports it)
  int output_len = 0;    // = request.stopping.max_tokens
  double arrival_s = 0;  // seconds after the benchmark's start
};

// The most tokens (prompt + output) one request may hold on this server:
// context_length, or the KV cache capacity when that is smaller.
int MaxTotalLen(const v1::ModelInfo& info);

// num_prompts requests of random token ids in [0, vocab_size), never the
// model's EOS or BOS ids, lengths from options.input / options.output clipped
// to MaxTotalLen (ClipToContext). FAILED_PRECONDITION when the model leaves
// no room (MaxTotalLen < 2, or no usable token id).
absl::StatusOr<std::vector<WorkItem>> BuildRandomWorkload(const WorkloadOptions& options,
                                                          const v1::ModelInfo& info);

// num_prompts requests from `entries` in file order, cycled if fewer. Token
// ids are checked against vocab_size; a token prompt longer than
// MaxTotalLen - 1 is an error naming the line; its output is clipped to fit.
// (A text prompt's length is unknown here: it is sent unclipped.)
absl::StatusOr<std::vector<WorkItem>> BuildDatasetWorkload(const WorkloadOptions& options,
                                                           const std::vector<DatasetEntry>& entries,
                                                           const std::string& source,
                                                           const v1::ModelInfo& info);

// Sets items[i].arrival_s = times[i]. Precondition: equal sizes.
void AssignArrivals(const std::vector<double>& times, std::vector<WorkItem>* items);

}  // namespace gqa::loadgen
