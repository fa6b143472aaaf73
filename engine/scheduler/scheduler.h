// Scheduler: unified, iteration-level continuous batching (vLLM v1 style).
// Every step, running sequences get their uncomputed tokens first (one for a
// decode, a chunk for a long prompt), then waiting sequences are admitted in
// priority/arrival order, all under a token budget and a sequence cap. When the
// KV pool runs dry, the last running sequence in scheduling order (lowest
// priority, newest) is preempted: its blocks are freed and it is recomputed
// later.
//
// Prefix cache: a sequence admitted with nothing computed (new, or preempted)
// starts after the longest run of cached full blocks of its tokens, capped so
// that at least its last token is computed (there must be logits to sample
// from). A request asking for prompt logprobs takes no hits until they are
// done (they need every row), but fills the cache like any other. After each
// step, Update registers every newly completed full block.
//
// Its output is plain data (scheduler_output.h); Update maps the runner's
// results back onto the sequences of the last plan.
//
// Thread ownership: the engine thread. Sequences are owned by the caller (the
// Engine's request table); the scheduler holds pointers to the waiting and
// running ones.
#pragma once

#include <deque>
#include <vector>

#include "engine/kv_cache/kv_cache_manager.h"
#include "engine/scheduler/scheduler_output.h"
#include "engine/scheduler/sequence.h"

namespace gqa {

struct SchedulerConfig {
  int max_num_seqs = 64;             // sequences per step
  int max_num_batched_tokens = 512;  // tokens per step (chunked prefill beyond it)
  int max_model_len = 0;             // context length; a sequence stops at it
  std::vector<int> eos_token_ids;
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, KvCacheManager* kv_cache);

  void AddWaiting(Sequence* seq);
  // Removes `seq` from the queues, frees its blocks and marks it finished
  // with `reason` (kAborted, or kError).
  void Abort(Sequence* seq, FinishReason reason = FinishReason::kAborted);

  SchedulerOutput Schedule();
  // Applies the results of `plan` (the last Schedule()'s): advances
  // num_computed_tokens, appends sampled tokens, applies stop rules. Finished
  // sequences have their blocks freed and are returned (they leave the
  // scheduler), in plan order.
  std::vector<Sequence*> Update(const SchedulerOutput& plan, const ModelOutput& out);

  int num_running() const { return static_cast<int>(running_.size()); }
  int num_waiting() const { return static_cast<int>(waiting_.size()); }
  bool HasUnfinished() const { return !running_.empty() || !waiting_.empty(); }
  int64_t num_preemptions_total() const { return num_preemptions_total_; }
  // Cumulative, in tokens, counted at each request's first scheduling.
  int64_t prefix_cache_queries_tokens() const { return prefix_cache_queries_tokens_; }
  int64_t prefix_cache_hits_tokens() const { return prefix_cache_hits_tokens_; }

 private:
  // Allocates KV for `num_new` more tokens of `seq`, preempting from the back
  // of running_ as needed. Returns false if `seq` itself had to be preempted.
  bool GrowOrPreempt(Sequence* seq, int num_new);
  void Preempt(Sequence* victim);
  // Cached blocks `seq` may start with (empty: none, or the cache is off).
  std::vector<int32_t> FindCachedPrefix(Sequence* seq);
  void InsertSorted(std::vector<Sequence*>& list, Sequence* seq);
  void InsertSorted(std::deque<Sequence*>& list, Sequence* seq);
  FinishReason CheckStop(const Sequence& seq, int32_t token) const;
  void Finish(Sequence* seq, FinishReason reason);
  void AddToPlan(SchedulerOutput& plan, Sequence* seq, int num_new);

  SchedulerConfig config_;
  KvCacheManager* kv_cache_;
  std::deque<Sequence*> waiting_;          // scheduling order
  std::vector<Sequence*> running_;         // scheduling order; preemption takes the back
  std::vector<Sequence*> scheduled_;       // the last plan's sequences, in row order
  std::vector<std::string> finished_ids_;  // for the next plan's finished_request_ids
  int64_t num_preemptions_total_ = 0;
  int64_t prefix_cache_queries_tokens_ = 0;
  int64_t prefix_cache_hits_tokens_ = 0;
};

}  // namespace gqa
