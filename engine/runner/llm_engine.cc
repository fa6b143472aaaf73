#include "engine/runner/llm_engine.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace gqa {

absl::StatusOr<std::unique_ptr<LlmEngine>> LlmEngine::Create(const ModelWeights& weights,
                                                             std::unique_ptr<Backend> backend,
                                                             const EngineConfig& config) {
  // No queue limits: the caller adds what it means to run.
  QueueLimits unlimited;
  unlimited.max_queued_requests = 0;
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine,
                       Engine::Create(weights, std::move(backend), config, unlimited));
  return std::unique_ptr<LlmEngine>(new LlmEngine(std::move(engine)));
}

absl::Status LlmEngine::AddRequest(GenerationRequest request) {
  GQA_RETURN_IF_ERROR(engine_->Validate(request));
  GQA_RETURN_IF_ERROR(status_);
  if (requests_.count(request.request_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: '", request.request_id, "' is already running"));
  }
  Tracked t;
  t.channel = std::make_shared<RequestChannel>([] {});
  const std::string id = request.request_id;
  GQA_RETURN_IF_ERROR(engine_->Submit(std::move(request), t.channel));
  requests_.emplace(id, std::move(t));
  return absl::OkStatus();
}

bool LlmEngine::Abort(const std::string& request_id) {
  if (!requests_.erase(request_id)) return false;
  engine_->Abort(request_id);
  return true;
}

std::vector<RequestOutput> LlmEngine::Step() {
  engine_->RunOnce();
  std::vector<RequestOutput> outputs;
  for (auto it = requests_.begin(); it != requests_.end();) {
    RequestDelta d;
    if (!it->second.channel->TakeOrArm(&d)) {
      ++it;
      continue;
    }
    if (!d.status.ok() && status_.ok()) status_ = d.status;
    RequestOutput o;
    o.request_id = it->first;
    it->second.num_output_tokens += static_cast<int>(d.tokens.size());
    o.new_tokens = std::move(d.tokens);
    o.new_prompt_logprobs = std::move(d.prompt_logprobs);
    o.finished = d.finished;
    o.finish_reason = d.finish_reason;
    o.num_prompt_tokens = d.num_prompt_tokens;
    o.num_cached_prompt_tokens = d.num_cached_prompt_tokens;
    o.num_output_tokens = it->second.num_output_tokens;
    o.num_preemptions = d.num_preemptions;
    outputs.push_back(std::move(o));
    it = d.finished ? requests_.erase(it) : std::next(it);
  }
  return outputs;
}

}  // namespace gqa
