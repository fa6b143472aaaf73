// HttpState: what the HTTP handlers share with the front end that owns them:
// the serving context once the model is loaded, the served model name, the
// health state and the request counter.
//
// Thread ownership: written by the owner's thread (HttpFrontEnd), read by
// every HTTP worker; the context pointer is published with release/acquire
// after served_model and metrics are set, as GenerationService publishes its
// context.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "server/http/http_metrics.h"
#include "server/serving_context.h"

namespace gqa {

struct HttpState {
  enum class Health { kLoading, kServing, kDraining, kFailed };

  std::atomic<const ServingContext*> context{nullptr};
  std::string served_model;                    // set before `context`
  std::atomic<HttpMetrics*> metrics{nullptr};  // null: no metrics
  std::atomic<Health> health{Health::kLoading};
  int64_t created = 0;  // unix seconds the model was loaded (/v1/models)
};

}  // namespace gqa
