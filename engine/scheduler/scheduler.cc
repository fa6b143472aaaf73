#include "engine/scheduler/scheduler.h"

#include <algorithm>

namespace gqa {

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
  if (start == 0 && seq->num_preemptions == 0) {
    plan.new_requests.push_back(NewRequestData{seq->request_id(), seq->request().prompt_token_ids,
                                               seq->request().sampling, seq->fallback_seed()});
  }
  ScheduledRequest r;
  r.request_id = seq->request_id();
  r.start_position = start;
  r.token_ids.assign(seq->token_ids().begin() + start, seq->token_ids().begin() + end);
  r.block_table = seq->block_table;
  r.sample = end == seq->num_tokens();
  if (seq->request().prompt_logprobs && !seq->prompt_logprobs_done) {
    // Row `pos` predicts token pos + 1: score it when it is a prompt token.
    for (int pos = start; pos < end && pos + 1 < seq->num_prompt_tokens(); ++pos) {
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
  while (!preempted && !waiting_.empty() && budget > 0 && num_running() < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    const int num_new = std::min(seq->num_uncomputed_tokens(), budget);
    if (!kv_cache_->Grow(seq->block_table, seq->num_computed_tokens + num_new)) break;
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    InsertSorted(running_, seq);
    add(seq, num_new);
  }
  plan.num_preemptions = static_cast<int>(num_preemptions_total_ - preemptions_before);
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
    if (seq->num_computed_tokens >= seq->num_prompt_tokens()) seq->prompt_logprobs_done = true;
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
