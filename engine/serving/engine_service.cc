#include "engine/serving/engine_service.h"

#include <utility>

namespace gqa {
namespace {

double Seconds(ServingClock::duration d) { return std::chrono::duration<double>(d).count(); }

// How long Drain waits for the engine thread to abort what the timeout left:
// one step at most, so this bound is only a guard against a stuck engine.
constexpr std::chrono::seconds kAbortGrace{30};

}  // namespace

EngineService::EngineService(std::unique_ptr<LlmEngine> engine, const QueueLimits& limits,
                             EngineObserver* observer)
    : engine_(std::move(engine)), observer_(observer), queue_(limits) {
  info_.model = engine_->model_config();
  info_.config = engine_->config();
  info_.num_kv_blocks = engine_->kv_cache().pool().num_blocks_total();
  info_.weight_bytes = engine_->runner().model().weight_bytes();
  info_.activation_bytes = engine_->runner().model().activation_bytes();
  info_.kv_cache_bytes = engine_->runner().kv_cache().total_bytes();
  PublishStats();
}

EngineService::~EngineService() { Stop(); }

void EngineService::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void EngineService::Stop() {
  queue_.Stop();
  if (thread_.joinable()) thread_.join();
}

absl::Status EngineService::Validate(const GenerationRequest& request) const {
  return engine_->ValidateRequest(request);  // immutable state only: safe off the engine thread
}

absl::Status EngineService::Submit(GenerationRequest request,
                                   std::shared_ptr<RequestChannel> channel) {
  return queue_.Submit(PendingRequest{std::move(request), std::move(channel), ServingClock::now()});
}

void EngineService::Abort(const std::string& request_id, FinishReason reason) {
  queue_.Abort(request_id, reason);
}

bool EngineService::Drain(std::chrono::nanoseconds timeout) {
  queue_.StartDrain();
  auto all_done = [](const ServiceStats& s) { return s.num_active == 0; };
  if (queue_.WaitFor(all_done, timeout)) return true;
  queue_.AbortAll(absl::UnavailableError(
      "the server shut down before this request finished (drain timeout); retry elsewhere"));
  queue_.WaitFor(all_done, kAbortGrace);
  return false;
}

// ---- engine thread ----

void EngineService::Run() {
  while (AdmitAndAbort()) {
    if (engine_->HasUnfinished()) {
      const ServingClock::time_point start = ServingClock::now();
      const std::vector<RequestOutput> outputs = engine_->Step();  // Schedule; Execute; Update
      Emit(outputs, start);
      if (absl::Status s = engine_->status(); !s.ok()) FailAll(s);
    }
    PublishStats();
  }
  PublishStats();
}

bool EngineService::AdmitAndAbort() {
  RequestQueue::Work work = queue_.Take(/*engine_idle=*/!engine_->HasUnfinished());
  for (PendingRequest& p : work.submissions) {
    const std::string id = p.request.request_id;
    Active a;
    a.channel = std::move(p.channel);
    a.arrival = p.arrival;
    a.num_prompt_tokens = static_cast<int>(p.request.prompt_token_ids.size());
    auto [it, inserted] = active_.emplace(id, std::move(a));
    if (!inserted) continue;  // RequestQueue admits each id once; never reached
    if (absl::Status s = engine_->AddRequest(std::move(p.request)); !s.ok()) {
      FinishEarly(it, FinishReason::kAborted, s);
    }
  }
  for (const PendingAbort& abort : work.aborts) {
    auto it = active_.find(abort.request_id);
    if (it == active_.end()) continue;  // finished in the meantime
    engine_->Abort(abort.request_id);   // frees its blocks now
    FinishEarly(it, abort.reason, absl::OkStatus());
  }
  if (work.abort_all || work.stop) {
    AbortAllActive(work.abort_all.value_or(
        absl::UnavailableError("the server stopped before this request finished")));
  }
  return !work.stop;
}

void EngineService::AbortAllActive(const absl::Status& why) {
  while (!active_.empty()) {
    auto it = active_.begin();
    engine_->Abort(it->first);  // frees its blocks
    FinishEarly(it, FinishReason::kAborted, why);
  }
}

void EngineService::FailAll(const absl::Status& why) {
  if (!failure_reported_ && observer_) observer_->OnEngineFailed(why);
  failure_reported_ = true;
  AbortAllActive(why);
}

void EngineService::FinishEarly(ActiveMap::iterator it, FinishReason reason,
                                const absl::Status& status) {
  Active& a = it->second;
  const double e2e = Seconds(ServingClock::now() - a.arrival);
  if (!a.scheduled) {
    ++num_left_queue_;
    tokens_left_queue_ += a.num_prompt_tokens;
  }
  if (observer_) {
    observer_->OnRequestFinished(e2e, a.num_prompt_tokens, a.num_generated, reason);
  }
  RequestDelta d;
  d.finished = true;
  d.finish_reason = reason;
  d.status = status;
  d.num_prompt_tokens = a.num_prompt_tokens;
  d.queue_seconds = a.queue_seconds;
  d.ttft_seconds = a.ttft_seconds;
  d.e2e_seconds = e2e;
  a.channel->Push(std::move(d));
  finished_ids_.push_back(it->first);
  active_.erase(it);
}

void EngineService::Emit(const std::vector<RequestOutput>& outputs,
                         ServingClock::time_point step_start) {
  const ServingClock::time_point now = ServingClock::now();
  ++num_steps_;
  const StepStats& stats = engine_->last_step_stats();
  StepObservation step;
  step.duration_seconds = Seconds(now - step_start);
  step.num_batch_tokens = stats.num_batch_tokens;
  step.num_generation_tokens = stats.num_sampled;

  for (const std::string& id : stats.first_scheduled) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    Active& a = it->second;
    a.scheduled = true;
    a.queue_seconds = Seconds(step_start - a.arrival);
    ++num_left_queue_;
    tokens_left_queue_ += a.num_prompt_tokens;
    if (observer_) observer_->OnRequestScheduled(a.queue_seconds);
  }

  for (const RequestOutput& o : outputs) {
    auto it = active_.find(o.request_id);
    if (it == active_.end()) continue;
    Active& a = it->second;
    RequestDelta d;
    d.tokens = o.new_tokens;
    d.prompt_logprobs = o.new_prompt_logprobs;
    d.num_prompt_tokens = o.num_prompt_tokens;
    d.num_preemptions = o.num_preemptions;
    if (!o.new_tokens.empty()) {
      if (a.num_generated == 0) {
        a.ttft_seconds = Seconds(now - a.arrival);
        step.num_prompt_tokens += a.num_prompt_tokens;
        if (observer_) observer_->OnFirstToken(a.ttft_seconds);
      } else if (observer_) {
        observer_->OnInterTokenLatency(Seconds(now - a.last_token));
      }
      a.last_token = now;
      a.num_generated += static_cast<int>(o.new_tokens.size());
    }
    d.queue_seconds = a.queue_seconds;
    d.ttft_seconds = a.ttft_seconds;
    if (o.finished) {
      d.finished = true;
      d.finish_reason = o.finish_reason;
      d.e2e_seconds = Seconds(now - a.arrival);
      if (observer_) {
        observer_->OnRequestFinished(d.e2e_seconds, a.num_prompt_tokens, a.num_generated,
                                     o.finish_reason);
      }
    }
    a.channel->Push(std::move(d));
    if (o.finished) {
      finished_ids_.push_back(it->first);
      active_.erase(it);
    }
  }

  const int64_t preemptions = engine_->scheduler().num_preemptions_total();
  step.num_preemptions = static_cast<int>(preemptions - last_preemptions_);
  last_preemptions_ = preemptions;
  step_observation_ = step;  // reported after PublishStats
}

void EngineService::PublishStats() {
  ServiceStats s;
  s.num_running = engine_->scheduler().num_running();
  s.num_waiting = engine_->scheduler().num_waiting();
  s.num_kv_blocks_total = engine_->kv_cache().pool().num_blocks_total();
  s.num_kv_blocks_free = engine_->kv_cache().pool().num_blocks_free();
  s.num_steps = num_steps_;
  s.num_preemptions = engine_->scheduler().num_preemptions_total();
  if (observer_) {
    observer_->OnEngineState(EngineStateObservation{s.num_running, s.num_waiting,
                                                    s.num_kv_blocks_total,
                                                    s.num_kv_blocks_total - s.num_kv_blocks_free});
  }
  queue_.Publish(s, num_left_queue_, tokens_left_queue_, finished_ids_);
  finished_ids_.clear();
  num_left_queue_ = 0;
  tokens_left_queue_ = 0;
  // Last, so an observer that inspects Stats() from here sees this step.
  if (observer_ && step_observation_) observer_->OnStep(*step_observation_);
  step_observation_.reset();
}

}  // namespace gqa
