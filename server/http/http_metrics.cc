#include "server/http/http_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <string>

namespace gqa {
namespace {

// Exported at 0 from the start (code 200), so the family is on /metrics
// before the first request and a first increase is one rate() sees.
constexpr const char* kEndpoints[] = {
    "/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/tokenize", "/detokenize"};

}  // namespace

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(&prometheus::BuildCounter()
                     .Name("gqa_http_requests_total")
                     .Help("HTTP (OpenAI API) requests answered, by endpoint and HTTP status code")
                     .Register(registry)) {
  for (const char* endpoint : kEndpoints) requests_->Add({{"endpoint", endpoint}, {"code", "200"}});
}

void HttpMetrics::CountRequest(std::string_view endpoint, int status) {
  requests_->Add({{"endpoint", std::string(endpoint)}, {"code", std::to_string(status)}})
      .Increment();
}

}  // namespace gqa
