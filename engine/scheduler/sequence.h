// Sequence: one request's state inside the engine: its tokens (prompt, then
// output), how many of them have K/V in the cache, its block table and its
// place in the prefix cache (its sampler lives in the model runner: see
// scheduler_output.h). Unified scheduling needs nothing else: a sequence runs
// whenever num_computed_tokens < num_tokens(), be it a prompt, a chunk of
// one, a decode step or a recompute after preemption.
//
// Thread ownership: the engine thread.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/kv_cache/kv_cache_manager.h"
#include "engine/scheduler/request.h"

namespace gqa {

enum class SequenceStatus { kWaiting, kRunning, kFinished };

class Sequence {
 public:
  // `arrival` orders sequences of equal priority; `fallback_seed` seeds the
  // runner's sampler when the request sets no seed.
  Sequence(GenerationRequest request, int64_t arrival, uint64_t fallback_seed);

  const GenerationRequest& request() const { return request_; }
  const std::string& request_id() const { return request_.request_id; }
  int64_t arrival() const { return arrival_; }
  int priority() const { return request_.priority; }
  uint64_t fallback_seed() const { return fallback_seed_; }

  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  int num_tokens() const { return static_cast<int>(token_ids_.size()); }
  int num_prompt_tokens() const { return num_prompt_tokens_; }
  int num_output_tokens() const { return num_tokens() - num_prompt_tokens_; }
  int num_uncomputed_tokens() const { return num_tokens() - num_computed_tokens; }

  void AppendOutputToken(int32_t token) { token_ids_.push_back(token); }
  // Drops the KV state (blocks already freed by the caller): recompute from 0,
  // or from what the prefix cache still holds when it is admitted again.
  void ResetForRecompute();

  // Sorts before `other` in scheduling order: priority, then arrival.
  bool RunsBefore(const Sequence& other) const {
    return priority() != other.priority() ? priority() < other.priority()
                                          : arrival_ < other.arrival_;
  }

  SequenceStatus status = SequenceStatus::kWaiting;
  FinishReason finish_reason = FinishReason::kNone;
  int num_computed_tokens = 0;  // tokens whose K/V is in the cache
  BlockTable block_table;
  SequenceCacheState cache_state;  // the prefix cache's view of the block table
  int num_preemptions = 0;
  // Prompt-logprob rows [0, n) sent (row pos scores prompt token pos + 1):
  // scored once, never again when a preemption recomputes them.
  int num_prompt_rows_scored = 0;
  bool prompt_logprobs_done() const { return num_prompt_rows_scored >= num_prompt_tokens_ - 1; }
  // Set when first planned (its NewRequestData went to the runner). Its first
  // chunk need not start at position 0: a prefix-cache hit skips blocks.
  bool introduced = false;
  int num_cached_prompt_tokens = 0;  // prefix-cache hit at the first scheduling, in tokens

 private:
  GenerationRequest request_;
  int64_t arrival_;
  uint64_t fallback_seed_;
  std::vector<int32_t> token_ids_;
  int num_prompt_tokens_;
};

}  // namespace gqa
