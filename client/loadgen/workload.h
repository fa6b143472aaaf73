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
  int num_prompts = 100;  // single-turn requests; with turns > 1: conversations
  LengthSpec input;       // random dataset only: the unique part of a prompt (one turn's
                          // new user part in a chat)
  LengthSpec output;      // random dataset, and jsonl lines without "output_len"
  uint64_t seed = 0;
  float temperature = 0;   // sent as sampling.temperature
  bool ignore_eos = true;  // exact output lengths
  // Random dataset only. Every prompt (a chat's first turn) starts with the
  // same shared_prefix_len ids, drawn once from `seed` (its own stream).
  int shared_prefix_len = 0;
  // Random dataset only. > 1: num_prompts conversations of `turns` requests
  // each; see WorkItem::previous_turn.
  int turns = 1;
};

struct WorkItem {
  v1::GenerateRequest request;
  int input_len = 0;     // prompt tokens sent; 0 for a text prompt (the server reports it)
  int output_len = 0;    // = request.stopping.max_tokens
  double arrival_s = 0;  // seconds after the benchmark's start; follow-up turns:
                         // unused (they arrive when the previous turn ends)
  // Multi-turn chat: conversation index and turn (0-based); -1 / 0 otherwise.
  int conversation = -1;
  int turn = 0;
  // -1: `request` is complete, sent at arrival_s. Otherwise the item index of
  // this conversation's previous turn: `request` then holds only the new
  // user part, and the driver sends previous prompt + previous output ids +
  // this part once the previous turn has ended (see stream_driver.h).
  // input_len is then the full prompt's length, assuming the previous turns
  // return exactly their output_len tokens (ignore_eos).
  int previous_turn = -1;
};

// The most tokens (prompt + output) one request may hold on this server:
// context_length, or the KV cache capacity when that is smaller.
int MaxTotalLen(const v1::ModelInfo& info);

// num_prompts requests of random token ids in [0, vocab_size), never the
// model's EOS or BOS ids, lengths from options.input / options.output clipped
// to MaxTotalLen (ClipToContext) less the shared prefix. With turns > 1:
// num_prompts * turns items, conversation c's turn k at index c * turns + k;
// no clipping: FAILED_PRECONDITION when a conversation's last turn would not
// fit (prefix + every turn's input and output > MaxTotalLen). Also
// FAILED_PRECONDITION when the model leaves no room (MaxTotalLen < 2 or the
// prefix leaves < 2, or no usable token id).
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

// Items sent at an arrival time: those with previous_turn == -1 (every item
// without multi-turn chat).
int NumArrivals(const std::vector<WorkItem>& items);

// Sets the arrival_s of the k-th item with previous_turn == -1 to times[k].
// Precondition: times.size() == NumArrivals(*items).
void AssignArrivals(const std::vector<double>& times, std::vector<WorkItem>* items);

}  // namespace gqa::loadgen
