#include "engine/scheduler/scheduler.h"

#include <algorithm>

namespace gqa {

Scheduler::Scheduler(const SchedulerConfig& config, KvCacheManager* kv_cache)
    : config_(config), kv_cache_(kv_cache) {}

void Scheduler::InsertSorted(std::vector<Sequence*>& list, Sequence* seq) {
  auto at = std::upper_bound(list.begin(), list.end(), seq,
                             [](const Sequence* a, const Sequence* b) { return a->RunsBefore(*b); });
  list.insert(at, seq);
}

void Scheduler::InsertSorted(std::deque<Sequence*>& list, Sequence* seq) {
  auto at = std::upper_bound(list.begin(), list.end(), seq,
                             [](const Sequence* a, const Sequence* b) { return a->RunsBefore(*b); });
  list.insert(at, seq);
}

void Scheduler::AddWaiting(Sequence* seq) {
  seq->status = SequenceStatus::kWaiting;
  InsertSorted(waiting_, seq);
}

void Scheduler::Abort(Sequence* seq) {
  std::erase(running_, seq);
  std::erase(waiting_, seq);
  Finish(seq, FinishReason::kAborted);
}

void Scheduler::Finish(Sequence* seq, FinishReason reason) {
  kv_cache_->Free(seq->block_table);
  seq->status = SequenceStatus::kFinished;
  seq->finish_reason = reason;
}

void Scheduler::Preempt(Sequence* victim) {
  std::erase(running_, victim);
  kv_cache_->Free(victim->block_table);
  victim->ResetForRecompute();
  InsertSorted(waiting_, victim);
  ++num_preemptions_total_;
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

ScheduledBatch Scheduler::Schedule() {
  ScheduledBatch batch;
  int budget = config_.max_num_batched_tokens;
  auto add = [&](Sequence* seq, int num_new) {
    const bool scores_prompt = seq->request().prompt_logprobs && !seq->prompt_logprobs_done &&
                               seq->num_computed_tokens < seq->num_prompt_tokens();
    batch.seqs.push_back(ScheduledSequence{
        seq, num_new, seq->num_computed_tokens + num_new == seq->num_tokens(), scores_prompt});
    batch.num_tokens += num_new;
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
  while (!preempted && !waiting_.empty() && budget > 0 &&
         num_running() < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    const int num_new = std::min(seq->num_uncomputed_tokens(), budget);
    if (!kv_cache_->Grow(seq->block_table, seq->num_computed_tokens + num_new)) break;
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    InsertSorted(running_, seq);
    add(seq, num_new);
  }
  return batch;
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
  if (seq.num_output_tokens() >= stop.max_tokens) return FinishReason::kLength;
  if (seq.num_tokens() >= config_.max_model_len) return FinishReason::kLength;
  return FinishReason::kNone;
}

std::vector<Sequence*> Scheduler::Update(const ScheduledBatch& batch, const StepOutput& out) {
  std::vector<Sequence*> finished;
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    const ScheduledSequence& s = batch.seqs[i];
    Sequence* seq = s.seq;
    seq->num_computed_tokens += s.num_new_tokens;
    if (seq->num_computed_tokens >= seq->num_prompt_tokens()) seq->prompt_logprobs_done = true;
    if (!s.sample) continue;
    const int32_t token = out.seqs[i].sample.token_id;
    seq->AppendOutputToken(token);
    const FinishReason reason = CheckStop(*seq, token);
    if (reason == FinishReason::kNone) continue;
    std::erase(running_, seq);
    Finish(seq, reason);
    finished.push_back(seq);
  }
  return finished;
}

}  // namespace gqa
