// HttpMetrics: the HTTP front end's own Prometheus family on the server's
// shared registry (ServingMetrics::registry(), so /metrics shows it beside the
// engine's metrics, which both front ends share):
//   gqa_http_requests_total{endpoint, code}   requests answered, by route
//       ("/v1/completions", ..., "other" for unknown routes) and HTTP status.
// Series are looked up by label (a hash and a mutex in prometheus-cpp) per
// request: one lookup per HTTP request, next to a JSON parse.
//
// Thread ownership: thread-safe (HTTP worker threads count, the exposer
// collects).
#pragma once

#include <memory>
#include <string_view>

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace gqa {

class HttpMetrics {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);

  void CountRequest(std::string_view endpoint, int status);

 private:
  prometheus::Family<prometheus::Counter>* requests_;
};

}  // namespace gqa
