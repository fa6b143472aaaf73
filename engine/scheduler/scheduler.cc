#include "engine/scheduler/scheduler.h"

#include <algorithm>

namespace gqa {
namespace {

// Prompt logprobs need every prompt row computed (as in vLLM): no hits until
// they are done (a preempted sequence that finished them may hit).
bool SkipsPrefixCache(const Sequence& seq) {
  return seq.request().prompt_logprobs && !seq.prompt_logprobs_done();
}

}  // namespace

Scheduler::Scheduler(const SchedulerConfig& config, KvCacheManager* kv_cache)
    : config_(config), kv_cache_(kv_cache) {}

void Scheduler::InsertSorted(std::vector<Sequence*>& list, Sequence* seq) {
  auto at =
      std::upper_bound(list.begin(), list.end(), seq,
                       [](const Sequence* a, const Sequence* b) { return a->RunsBefore(*b); });
  list.insert(at, seq);
}

void Scheduler::InsertSorted(std::deque<Sequence*>& list, Sequence* seq) {
  auto at =
      std::upper_bound(list.begin(), list.end(), seq,
                       [](const Sequence* a, const Sequence* b) { return a->RunsBefore(*b); });
  list.insert(at, seq);
}

void Scheduler::AddWaiting(Sequence* seq) {
  seq->status = SequenceStatus::kWaiting;
  InsertSorted(waiting_, seq);
}

void Scheduler::Abort(Sequence* seq, FinishReason reason) {
  std::erase(running_, seq);
  std::erase(waiting_, seq);
  Finish(seq, reason);
}

void Scheduler::Finish(Sequence* seq, FinishReason reason) {
  kv_cache_->Free(seq->block_table);
  seq->status = SequenceStatus::kFinished;
  seq->finish_reason = reason;
  finished_ids_.push_back(seq->request_id());
}

void Scheduler::Preempt(Sequence* victim) {
  std::erase(running_, victim);
  kv_cache_->Free(victim->block_table);
  victim->ResetForRecompute();
  InsertSorted(waiting_, victim);
  ++num_preemptions_total_;
}

std::vector<int32_t> Scheduler::FindCachedPrefix(Sequence* seq) {
  if (!kv_cache_->prefix_caching() || SkipsPrefixCache(*seq)) return {};
  // Full blocks only, and never the last token: it must be computed for its logits.
  const int max_blocks = (seq->num_tokens() - 1) / kv_cache_->block_size();
  return kv_cache_->FindCachedPrefix(seq->token_ids(), max_blocks, seq->cache_state);
}

bool Scheduler::GrowOrPreempt(Sequence* seq, int num_new) {
  const int needed_tokens = seq->num_computed_tokens + num_new;
  while (!kv_cache_->Grow(seq->block_table, needed_tokens)) {
    Sequence* victim = running_.back();
    Preempt(victim);
    if (victim == seq) return false;
  }
  return true;
}

void Scheduler::AddToPlan(SchedulerOutput& plan, Sequence* seq, int num_new) {
  const int start = seq->num_computed_tokens;
  const int end = start + num_new;
  if (!seq->introduced) {
    seq->introduced = true;
    plan.new_requests.push_back(NewRequestData{seq->request_id(), seq->request().prompt_token_ids,
                                               seq->request().sampling, seq->fallback_seed()});
  }
  ScheduledRequest r;
  r.request_id = seq->request_id();
  r.start_position = start;
  r.token_ids.assign(seq->token_ids().begin() + start, seq->token_ids().begin() + end);
  r.block_table = seq->block_table;
  r.sample = end == seq->num_tokens();
  if (seq->request().prompt_logprobs) {
    // Row `pos` predicts token pos + 1: score it when it is a prompt token
    // not scored before (a recompute after preemption skips those).
    const int first = std::max(start, seq->num_prompt_rows_scored);
    r.prompt_logprob_row = std::max(0, first - start);
    for (int pos = first; pos < end && pos + 1 < seq->num_prompt_tokens(); ++pos) {
      r.prompt_logprob_targets.push_back(seq->token_ids()[pos + 1]);
    }
  }
  plan.requests.push_back(std::move(r));
  plan.num_tokens += num_new;
  scheduled_.push_back(seq);
}

SchedulerOutput Scheduler::Schedule() {
  SchedulerOutput plan;
  plan.finished_request_ids.swap(finished_ids_);
  scheduled_.clear();
  const int64_t preemptions_before = num_preemptions_total_;
  int budget = config_.max_num_batched_tokens;
  auto add = [&](Sequence* seq, int num_new) {
    AddToPlan(plan, seq, num_new);
    budget -= num_new;
  };

  // 1. Running sequences, in scheduling order. Preemption removes from the back,
  //    so index i stays valid for the sequences before it.
  bool preempted = false;
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    Sequence* seq = running_[i];
    const int num_new = std::min(seq->num_uncomputed_tokens(), budget);
    const size_t before = running_.size();
    if (!GrowOrPreempt(seq, num_new)) {
      preempted = true;
      break;  // `seq` was the last running sequence
    }
    preempted |= running_.size() != before;
    add(seq, num_new);
  }

  // 2. Admit waiting sequences while blocks, budget and the sequence cap allow.
  //    Not in a step that had to preempt: the pool is under pressure.
  //    A waiting sequence has nothing computed (new, or preempted): it starts
  //    after its cached prefix, if any.
  while (!preempted && !waiting_.empty() && budget > 0 && num_running() < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    const std::vector<int32_t> hits = FindCachedPrefix(seq);
    const int num_cached = static_cast<int>(hits.size()) * kv_cache_->block_size();
    const int num_new = std::min(seq->num_tokens() - num_cached, budget);
    if (!kv_cache_->AllocateWithPrefix(seq->block_table, hits, num_cached + num_new,
                                       seq->cache_state)) {
      break;
    }
    seq->num_computed_tokens = num_cached;
    if (!seq->introduced && kv_cache_->prefix_caching() && !SkipsPrefixCache(*seq)) {
      seq->num_cached_prompt_tokens = num_cached;
      plan.num_prefix_cache_queries += seq->num_prompt_tokens();
      plan.num_prefix_cache_hits += num_cached;
    }
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    InsertSorted(running_, seq);
    add(seq, num_new);
  }
  plan.num_preemptions = static_cast<int>(num_preemptions_total_ - preemptions_before);
  prefix_cache_queries_tokens_ += plan.num_prefix_cache_queries;
  prefix_cache_hits_tokens_ += plan.num_prefix_cache_hits;
  return plan;
}

FinishReason Scheduler::CheckStop(const Sequence& seq, int32_t token) const {
  const StoppingCriteria& stop = seq.request().stopping;
  if (seq.num_output_tokens() >= stop.min_tokens) {
    const auto& eos = config_.eos_token_ids;
    if (!stop.ignore_eos && std::find(eos.begin(), eos.end(), token) != eos.end()) {
      return FinishReason::kEos;
    }
    const auto& ids = stop.stop_token_ids;
    if (std::find(ids.begin(), ids.end(), token) != ids.end()) return FinishReason::kStop;
  }
  if (stop.max_tokens && seq.num_output_tokens() >= *stop.max_tokens) return FinishReason::kLength;
  if (seq.num_tokens() >= config_.max_model_len) return FinishReason::kLength;
  return FinishReason::kNone;
}

std::vector<Sequence*> Scheduler::Update(const SchedulerOutput& plan, const ModelOutput& out) {
  std::vector<Sequence*> finished;
  for (size_t i = 0; i < plan.requests.size() && i < scheduled_.size(); ++i) {
    const ScheduledRequest& r = plan.requests[i];
    Sequence* seq = scheduled_[i];
    seq->num_computed_tokens += r.num_new_tokens();
    // Before any Finish below frees the blocks: they stay cached at count 0.
    kv_cache_->CacheFullBlocks(seq->block_table, seq->token_ids(), seq->num_computed_tokens,
                               seq->cache_state);
    if (seq->request().prompt_logprobs) {
      seq->num_prompt_rows_scored =
          std::max(seq->num_prompt_rows_scored,
                   std::min(seq->num_computed_tokens, seq->num_prompt_tokens() - 1));
    }
    if (!r.sample) continue;
    const int32_t token = out.requests[i].sample.token_id;
    seq->AppendOutputToken(token);
    const FinishReason reason = CheckStop(*seq, token);
    if (reason == FinishReason::kNone) continue;
    std::erase(running_, seq);
    Finish(seq, reason);
    finished.push_back(seq);
  }
  scheduled_.clear();
  return finished;
}

}  // namespace gqa
