// ServingContext: what a Generation call needs once the model is loaded: the
// engine service, the tokenizer and the metrics. Owned by ServerApp; reactors
// hold a const reference for their whole life (the gRPC server is shut down
// before the context goes away).
//
// Thread ownership: immutable after construction except the id counter
// (atomic), the call tracker and the live ids (locked); the pointees are
// thread-safe. Every front end (gRPC here, HTTP) serves through one context.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "engine/runner/chat_setup.h"
#include "engine/runner/engine.h"
#include "engine/tokenizer/tokenizer.h"
#include "server/call_tracker.h"
#include "server/live_request_ids.h"
#include "server/metrics/serving_metrics.h"
#include "server/security/security_options.h"

namespace gqa {

struct ServingContext {
  Engine* engine = nullptr;
  const Tokenizer* tokenizer = nullptr;              // null: the model has no tokenizer (ids only)
  const ModelChatTemplate* chat_template = nullptr;  // null: GenerateRequest.chat is refused
  ServingMetrics* metrics = nullptr;                 // null: no metrics
  std::string backend_name;                          // "cpu", "cuda"
  std::string description;                           // what was loaded, in words
  PromptLimits prompt_limits;  // --max-prompt-bytes, --max-prompt-tokens (every front end)

  // Generate / GenerateStream calls still open (each GenerationCall's lifetime).
  mutable CallTracker calls;

  // The ids clients gave their live requests -> engine ids (Abort by id,
  // ALREADY_EXISTS for a live id).
  mutable LiveRequestIds live_ids;

  // Engine-side request ids: unique per server, whatever ids clients send.
  mutable std::atomic<uint64_t> next_request_id{0};
  std::string NewRequestId() const { return std::to_string(next_request_id.fetch_add(1)); }

  // gqa_requests_rejected_total{code}; no-op without metrics.
  void CountRejected(std::string_view code) const {
    if (metrics) metrics->CountRejected(code);
  }
};

}  // namespace gqa
