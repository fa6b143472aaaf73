// LlmEngine: the Engine (engine.h) driven synchronously on the caller's
// thread, for tools and tests: AddRequest, then Step() until HasUnfinished()
// is false; each Step is one Engine::RunOnce and returns what each request
// gained in it. gqa-generate and gqa-perplexity use it; the server runs the
// same Engine on its own thread instead.
//
// Thread ownership: one thread calls every method.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/runner/engine.h"

namespace gqa {

// What one request gained in one step.
struct RequestOutput {
  std::string request_id;
  std::vector<TokenOutput> new_tokens;
  std::vector<float> new_prompt_logprobs;  // continues the previous steps' values
  bool finished = false;
  FinishReason finish_reason = FinishReason::kNone;
  int num_prompt_tokens = 0;
  int num_cached_prompt_tokens = 0;  // prefix-cache hit at the first scheduling
  int num_output_tokens = 0;
  int num_preemptions = 0;
};

class LlmEngine {
 public:
  static absl::StatusOr<std::unique_ptr<LlmEngine>> Create(const ModelWeights& weights,
                                                           std::unique_ptr<Backend> backend,
                                                           const EngineConfig& config);

  // Engine::Validate's errors, INVALID_ARGUMENT for a duplicate id, or the
  // backend's failure (status()).
  absl::Status AddRequest(GenerationRequest request);
  // Aborts a request before the next step; it reports nothing more. False if unknown.
  bool Abort(const std::string& request_id);
  // One Engine::RunOnce. When the backend fails during it, every request ends
  // with kError and status() says why.
  std::vector<RequestOutput> Step();
  bool HasUnfinished() const { return !requests_.empty(); }
  absl::Status status() const { return status_; }

  const EngineInfo& info() const { return engine_->info(); }
  const ModelConfig& model_config() const { return engine_->info().model; }
  const EngineConfig& config() const { return engine_->info().config; }
  ServiceStats Stats() const { return engine_->Stats(); }

 private:
  struct Tracked {
    std::shared_ptr<RequestChannel> channel;
    int num_output_tokens = 0;
  };
  explicit LlmEngine(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}

  std::unique_ptr<Engine> engine_;
  std::map<std::string, Tracked> requests_;  // added, final delta not yet returned
  absl::Status status_;
};

}  // namespace gqa
