#include "engine/runner/engine.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/kv_cache/kv_cache_manager.h"
#include "engine/runner/model_runner.h"
#include "engine/runner/openmp_threads.h"
#include "engine/scheduler/scheduler.h"
#include "engine/scheduler/sequence.h"

namespace gqa {
namespace {

double Seconds(ServingClock::duration d) { return std::chrono::duration<double>(d).count(); }

// How long Drain waits for the engine thread to fail what the timeout left:
// one step at most, so this bound is only a guard against a stuck engine.
constexpr std::chrono::seconds kAbortGrace{30};

// Blocks for the KV budget: bytes / bytes-per-block, or, with no budget, what
// max_num_seqs sequences of max_model_len tokens need.
int NumKvBlocks(const EngineConfig& c, const ModelConfig& model, DType kv_dtype) {
  if (c.num_kv_blocks > 0) return c.num_kv_blocks;
  const int full = c.max_num_seqs * ((c.max_model_len + c.block_size - 1) / c.block_size);
  if (c.kv_cache_bytes == 0) return full;
  const size_t per_block = KvCacheStorage::BytesPerBlock(model, c.block_size, kv_dtype);
  return static_cast<int>(std::min<size_t>(full, c.kv_cache_bytes / per_block));
}

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// The prefix cache's salt, the parent hash of every first block: the model's
// identity (its shape, RoPE, specials and weight dtype) and the KV cache's
// dtype, so that a block computed by a different model never matches.
BlockHash PrefixCacheSalt(const ModelConfig& m, DType kv_dtype) {
  uint64_t h = MixBits(0x6771612d70726566ull);  // "gqa-pref"
  for (unsigned char c : m.name) h = HashCombine(h, c);
  const RopeScaling& rs = m.rope_scaling;
  for (int v : {m.dim, m.hidden_dim, m.n_layers, m.n_heads, m.n_kv_heads, m.head_dim, m.vocab_size,
                m.max_seq_len, m.bos_token_id, rs.original_max_position_embeddings,
                static_cast<int>(m.rope_style), static_cast<int>(m.tie_word_embeddings),
                static_cast<int>(m.attention_bias), static_cast<int>(m.dtype),
                static_cast<int>(kv_dtype)}) {
    h = HashCombine(h, static_cast<uint32_t>(v));
  }
  for (float f :
       {m.rms_norm_eps, m.rope_theta, rs.factor, rs.low_freq_factor, rs.high_freq_factor}) {
    h = HashCombine(h, std::bit_cast<uint32_t>(f));
  }
  return h;
}

}  // namespace

Engine::Engine(const QueueLimits& limits, EngineObserver* observer)
    : observer_(observer), queue_(limits) {}

Engine::~Engine() { Stop(); }

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const ModelWeights& weights,
                                                       std::unique_ptr<Backend> backend,
                                                       const EngineConfig& config,
                                                       const QueueLimits& limits,
                                                       EngineObserver* observer) {
  GQA_RETURN_IF_ERROR(weights.config.Validate());
  std::unique_ptr<Engine> e(new Engine(limits, observer));
  EngineConfig c = config;
  if (c.max_model_len <= 0 || c.max_model_len > weights.config.max_seq_len) {
    c.max_model_len = weights.config.max_seq_len;
  }
  if (c.block_size <= 0 || c.max_num_seqs <= 0 || c.max_num_batched_tokens <= 0 ||
      c.max_logit_rows <= 0) {
    return absl::InvalidArgumentError(
        "block_size, max_num_seqs, max_num_batched_tokens and max_logit_rows must be positive");
  }
  const DType kv_dtype = backend->kv_cache_dtype();
  const int num_blocks = NumKvBlocks(c, weights.config, kv_dtype);
  if (num_blocks <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("the KV cache budget of ", c.kv_cache_bytes,
                                                   " bytes holds not even one block"));
  }
  RunnerLimits runner_limits;
  runner_limits.max_num_tokens = c.max_num_batched_tokens;
  runner_limits.max_num_seqs = c.max_num_seqs;
  runner_limits.max_model_len = c.max_model_len;
  runner_limits.max_logit_rows = c.max_logit_rows;
  EngineInfo& info = e->info_;
  info.backend_name = std::string(backend->name());
  GQA_ASSIGN_OR_RETURN(e->runner_, ModelRunner::Create(weights, std::move(backend), runner_limits,
                                                       c.block_size, num_blocks));
  PrefixCacheOptions prefix_cache;
  prefix_cache.enabled = c.enable_prefix_caching;
  prefix_cache.salt = PrefixCacheSalt(weights.config, kv_dtype);
  e->kv_cache_ = std::make_unique<KvCacheManager>(num_blocks, c.block_size, prefix_cache);
  SchedulerConfig sc;
  sc.max_num_seqs = c.max_num_seqs;
  sc.max_num_batched_tokens = c.max_num_batched_tokens;
  sc.max_model_len = c.max_model_len;
  sc.eos_token_ids = weights.config.eos_token_ids;
  e->scheduler_ = std::make_unique<Scheduler>(sc, e->kv_cache_.get());

  info.model = weights.config;
  info.config = c;
  info.num_kv_blocks = num_blocks;
  info.weight_bytes = e->runner_->model().weight_bytes();
  info.activation_bytes = e->runner_->model().activation_bytes();
  info.kv_cache_bytes = e->runner_->kv_cache().total_bytes();
  info.kv_cache_dtype = kv_dtype;
  e->Publish();
  return e;
}

absl::Status Engine::Validate(GenerationRequest& r) const {
  const int vocab = info_.model.vocab_size;
  const int max_model_len = info_.config.max_model_len;
  if (r.prompt_token_ids.empty()) return Invalid("prompt: must not be empty");
  for (size_t i = 0; i < r.prompt_token_ids.size(); ++i) {
    const int32_t id = r.prompt_token_ids[i];
    if (id < 0 || id >= vocab) {
      return Invalid(absl::StrCat("prompt_token_ids[", i, "]: token id ", id,
                                  " is outside the vocabulary [0, ", vocab, ")"));
    }
  }
  StoppingCriteria& s = r.stopping;
  for (size_t i = 0; i < s.stop_token_ids.size(); ++i) {
    const int32_t id = s.stop_token_ids[i];
    if (id < 0 || id >= vocab) {
      return Invalid(absl::StrCat("stopping.stop_token_ids[", i, "]: token id ", id,
                                  " is outside the vocabulary [0, ", vocab, ")"));
    }
  }
  GQA_RETURN_IF_ERROR(r.sampling.Validate());
  if (s.max_tokens && *s.max_tokens < 1) {
    return Invalid(absl::StrCat("stopping.max_tokens: must be >= 1, got ", *s.max_tokens));
  }
  if (s.min_tokens < 0) {
    return Invalid(absl::StrCat("stopping.min_tokens: must be >= 0, got ", s.min_tokens));
  }
  const int prompt_len = static_cast<int>(r.prompt_token_ids.size());
  if (!s.max_tokens) {
    if (prompt_len >= max_model_len) {
      return Invalid(absl::StrCat("prompt: ", prompt_len,
                                  " tokens leave no room in the context of ", max_model_len,
                                  " tokens"));
    }
    // As many as fit the context and the KV cache.
    s.max_tokens = std::max(std::min(max_model_len, info_.kv_capacity_tokens()) - prompt_len, 1);
  }
  if (s.min_tokens > *s.max_tokens) {
    return Invalid(absl::StrCat("stopping.min_tokens: ", s.min_tokens, " is more than max_tokens (",
                                *s.max_tokens, ")"));
  }
  const int64_t total = int64_t{prompt_len} + *s.max_tokens;
  if (total > max_model_len) {
    return Invalid(absl::StrCat("stopping.max_tokens: prompt (", prompt_len,
                                " tokens) + max_tokens (", *s.max_tokens,
                                ") exceeds the context length ", max_model_len));
  }
  const int block_size = info_.config.block_size;
  if ((total + block_size - 1) / block_size > info_.num_kv_blocks) {
    return absl::ResourceExhaustedError(absl::StrCat("prompt + max_tokens = ", total,
                                                     " tokens can never fit the KV cache of ",
                                                     info_.kv_capacity_tokens(), " tokens"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Submit(GenerationRequest request, std::shared_ptr<RequestChannel> channel) {
  return queue_.Submit(PendingRequest{std::move(request), std::move(channel), ServingClock::now()});
}

void Engine::Abort(const std::string& request_id, FinishReason reason) {
  queue_.Abort(request_id, reason);
}

void Engine::Start() {
  if (thread_.joinable()) return;
  // With the starting thread's OpenMP pool (model loading ran parallel regions
  // here) alive too, libgomp counts more threads than CPUs and sleeps the
  // engine's workers at every barrier whatever the user chose: when they
  // chose a wait policy, make the engine thread's team the only one
  // (openmp_threads.h says why not always).
  if (OpenMpWaitPolicyChosen()) ReleaseThisThreadsOpenMpWorkers();
  thread_ = std::thread([this] { Loop(); });
}

void Engine::Stop() {
  queue_.Stop();
  if (thread_.joinable()) thread_.join();
}

bool Engine::Drain(std::chrono::nanoseconds timeout) {
  queue_.StartDrain();
  auto all_done = [](const ServiceStats& s) { return s.num_active == 0; };
  if (queue_.WaitFor(all_done, timeout)) return true;
  queue_.AbortAll(absl::UnavailableError(
      "the server shut down before this request finished (drain timeout); retry elsewhere"));
  queue_.WaitFor(all_done, kAbortGrace);
  return false;
}

std::optional<std::chrono::nanoseconds> Engine::step_running_for() const {
  const int64_t start = step_start_ticks_.load(std::memory_order_relaxed);
  if (start == kNoStep) return std::nullopt;
  return ServingClock::now() - ServingClock::time_point(ServingClock::duration(start));
}

// ---- engine thread ----

bool Engine::HasUnfinished() const { return scheduler_->HasUnfinished(); }

absl::Status Engine::backend_status() const { return runner_->backend_status(); }

void Engine::Loop() {
  while (AdmitAndAbort(/*wait=*/true)) {
    if (HasUnfinished()) Step();
    Publish();
  }
  Publish();
}

bool Engine::RunOnce() {
  const bool go_on = AdmitAndAbort(/*wait=*/false);
  if (go_on && HasUnfinished()) Step();
  Publish();
  return go_on && !requests_.empty();
}

// The loop of ../shared/DESIGN.md, "The hot path".
void Engine::Step() {
  const ServingClock::time_point start = ServingClock::now();
  step_start_ticks_.store(start.time_since_epoch().count(), std::memory_order_relaxed);
  const SchedulerOutput plan = scheduler_->Schedule();
  const ModelOutput out = runner_->Execute(plan);
  step_start_ticks_.store(kNoStep, std::memory_order_relaxed);
  if (absl::Status s = backend_status(); !s.ok()) {
    // The device's state is unknown and the step sampled from garbage: keep
    // none of it, end everything with the error, refuse what comes later
    // (UNAVAILABLE at Submit; what was queued before fails at admission).
    if (!failure_reported_) {
      queue_.MarkFailed(s);
      if (observer_) observer_->OnEngineFailed(s);
    }
    failure_reported_ = true;
    FinishAll(FinishReason::kError, s);
    return;
  }
  const std::vector<Sequence*> finished = scheduler_->Update(plan, out);
  Emit(plan, out, finished, start);
}

bool Engine::AdmitAndAbort(bool wait) {
  RequestQueue::Work work = queue_.Take(/*engine_idle=*/wait && !HasUnfinished());
  for (PendingRequest& p : work.submissions) Admit(std::move(p));
  for (const PendingAbort& abort : work.aborts) {
    auto it = requests_.find(abort.request_id);
    if (it != requests_.end()) FinishEarly(it, abort.reason, absl::OkStatus());
  }
  if (work.abort_all) FinishAll(FinishReason::kError, *work.abort_all);
  if (work.stop) {
    FinishAll(FinishReason::kError,
              absl::UnavailableError("the server stopped before this request finished"));
  }
  return !work.stop;
}

void Engine::Admit(PendingRequest p) {
  const int num_prompt_tokens = static_cast<int>(p.request.prompt_token_ids.size());
  auto [it, inserted] = requests_.try_emplace(p.request.request_id);
  if (!inserted) {  // the id is active: refuse the newcomer, leave the first alone
    RequestDelta d;
    d.finished = true;
    d.finish_reason = FinishReason::kError;
    d.status = Invalid(absl::StrCat("request_id: '", p.request.request_id, "' is already active"));
    d.num_prompt_tokens = num_prompt_tokens;
    p.channel->Push(std::move(d));
    ++num_finished_;
    ++num_left_queue_;
    tokens_left_queue_ += num_prompt_tokens;
    return;
  }
  RequestState& st = it->second;
  st.channel = std::move(p.channel);
  st.arrival = p.arrival;
  st.num_prompt_tokens = num_prompt_tokens;
  absl::Status s = backend_status();
  if (s.ok()) s = Validate(p.request);
  if (!s.ok()) return FinishEarly(it, FinishReason::kError, s);
  const int64_t arrival = next_arrival_++;
  // Unseeded requests still get distinct, reproducible streams per engine seed.
  const uint64_t fallback_seed = info_.config.seed * 0x9E3779B97F4A7C15ull + uint64_t(arrival);
  st.seq = std::make_unique<Sequence>(std::move(p.request), arrival, fallback_seed);
  scheduler_->AddWaiting(st.seq.get());
}

void Engine::FinishAll(FinishReason reason, const absl::Status& why) {
  while (!requests_.empty()) FinishEarly(requests_.begin(), reason, why);
}

void Engine::FinishEarly(RequestTable::iterator it, FinishReason reason,
                         const absl::Status& status) {
  RequestState& st = it->second;
  if (st.seq && st.seq->status != SequenceStatus::kFinished) {
    scheduler_->Abort(st.seq.get(), reason);  // frees its blocks now
  }
  const double e2e = Seconds(ServingClock::now() - st.arrival);
  if (!st.scheduled) {
    ++num_left_queue_;
    tokens_left_queue_ += st.num_prompt_tokens;
  }
  if (observer_) {
    observer_->OnRequestFinished(e2e, st.num_prompt_tokens, st.num_generated, reason);
  }
  RequestDelta d;
  d.finished = true;
  d.finish_reason = reason;
  d.status = status;
  d.num_prompt_tokens = st.num_prompt_tokens;
  if (st.seq) d.num_cached_prompt_tokens = st.seq->num_cached_prompt_tokens;
  d.queue_seconds = st.queue_seconds;
  d.ttft_seconds = st.ttft_seconds;
  d.e2e_seconds = e2e;
  st.channel->Push(std::move(d));
  ++num_finished_;
  requests_.erase(it);
}

void Engine::Emit(const SchedulerOutput& plan, const ModelOutput& out,
                  const std::vector<Sequence*>& finished, ServingClock::time_point step_start) {
  const ServingClock::time_point now = ServingClock::now();
  ++num_steps_;
  StepObservation step;
  step.duration_seconds = Seconds(now - step_start);
  step.num_batch_tokens = plan.num_tokens;
  step.num_preemptions = plan.num_preemptions;
  step.num_prefix_cache_queries = plan.num_prefix_cache_queries;
  step.num_prefix_cache_hits = plan.num_prefix_cache_hits;
  num_preemptions_ += plan.num_preemptions;

  for (const NewRequestData& n : plan.new_requests) {  // scheduled for the first time
    auto it = requests_.find(n.request_id);
    if (it == requests_.end()) continue;
    RequestState& st = it->second;
    st.scheduled = true;
    st.queue_seconds = Seconds(step_start - st.arrival);
    ++num_left_queue_;
    tokens_left_queue_ += st.num_prompt_tokens;
    if (observer_) observer_->OnRequestScheduled(st.queue_seconds);
  }

  for (size_t i = 0; i < plan.requests.size(); ++i) {
    const ScheduledRequest& r = plan.requests[i];
    const RequestModelOutput& o = out.requests[i];
    step.num_generation_tokens += r.sample ? 1 : 0;
    if (!r.sample && o.prompt_logprobs.empty()) continue;  // a prompt chunk: nothing to say
    auto it = requests_.find(r.request_id);
    if (it == requests_.end()) continue;
    RequestState& st = it->second;
    RequestDelta d;
    d.prompt_logprobs = o.prompt_logprobs;
    d.num_prompt_tokens = st.num_prompt_tokens;
    d.num_cached_prompt_tokens = st.seq->num_cached_prompt_tokens;
    d.num_preemptions = st.seq->num_preemptions;
    if (r.sample) {
      d.tokens.push_back(o.sample);
      if (st.num_generated == 0) {
        st.ttft_seconds = Seconds(now - st.arrival);
        step.num_prompt_tokens += st.num_prompt_tokens;
        if (observer_) observer_->OnFirstToken(st.ttft_seconds);
      } else if (observer_) {
        observer_->OnInterTokenLatency(Seconds(now - st.last_token));
      }
      st.last_token = now;
      ++st.num_generated;
    }
    d.queue_seconds = st.queue_seconds;
    d.ttft_seconds = st.ttft_seconds;
    if (st.seq->status == SequenceStatus::kFinished) {
      d.finished = true;
      d.finish_reason = st.seq->finish_reason;
      d.e2e_seconds = Seconds(now - st.arrival);
      if (observer_) {
        observer_->OnRequestFinished(d.e2e_seconds, st.num_prompt_tokens, st.num_generated,
                                     d.finish_reason);
      }
    }
    st.channel->Push(std::move(d));
  }
  for (const Sequence* seq : finished) {  // their final deltas are out: forget them
    const std::string id = seq->request_id();
    requests_.erase(id);
    ++num_finished_;
  }
  step_observation_ = step;  // reported after Publish
}

void Engine::Publish() {
  ServiceStats s;
  s.num_running = scheduler_->num_running();
  s.num_waiting = scheduler_->num_waiting();
  s.num_kv_blocks_total = kv_cache_->pool().num_blocks_total();
  s.num_kv_blocks_free = kv_cache_->pool().num_blocks_free();
  s.num_kv_blocks_cached = kv_cache_->pool().num_blocks_cached();
  s.prefix_cache_queries_tokens = scheduler_->prefix_cache_queries_tokens();
  s.prefix_cache_hits_tokens = scheduler_->prefix_cache_hits_tokens();
  s.num_steps = num_steps_;
  s.num_preemptions = num_preemptions_;
  if (observer_) {
    observer_->OnEngineState(EngineStateObservation{
        s.num_running, s.num_waiting, s.num_kv_blocks_total,
        s.num_kv_blocks_total - s.num_kv_blocks_free, s.num_kv_blocks_cached});
  }
  queue_.Publish(s, num_left_queue_, tokens_left_queue_, num_finished_);
  num_finished_ = 0;
  num_left_queue_ = 0;
  tokens_left_queue_ = 0;
  // Last, so an observer that inspects Stats() from here sees this step.
  if (observer_ && step_observation_) observer_->OnStep(*step_observation_);
  step_observation_.reset();
}

}  // namespace gqa
