// MetricsExposer: serves a ServingMetrics registry at GET /metrics with
// prometheus-cpp's pull Exposer (an embedded civetweb server). The body is
// ServingMetrics::Render()'s text plus the exposer's own exposer_* families
// (scrapes served, bytes sent, request latencies), as Content-Type
// "text/plain; charset=utf-8"; gzip when the scraper accepts it, as
// Prometheus does. /metrics/<anything> serves the same (civetweb matches
// handlers by prefix); other paths answer 404.
//
// Thread ownership: civetweb runs its own listener and worker threads and
// collects the registry on them (ServingMetrics is thread-safe). Start and the
// destructor run on the owner's thread; the destructor returns only after
// every civetweb thread has finished (up to ~2 s: civetweb 1.15's listener
// polls in 2 s quanta), and the exposer holds only a weak reference to the
// registry, so the ServingMetrics may die first.
//
// Those threads have civetweb's small (~100 KiB) stacks. cuBLASLt's ~94 KiB
// of static TLS, were it linked into the server, would leave them unable to
// start: that is why the CUDA backend is a dlopened plugin
// (engine/runner/cuda_plugin_loader.h), whose TLS is allocated dynamically.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/metrics/serving_metrics.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace gqa {

class MetricsExposer {
 public:
  // Listens on host:port. `host` is an IPv4 address or name ("127.0.0.1",
  // "0.0.0.0", "localhost"); empty means every IPv4 interface. IPv6 only where
  // civetweb was built with it (Debian 12's is not). Port 0 picks a free port
  // (see port()). Errors: INVALID_ARGUMENT for a port outside 0..65535 or
  // unsupported IPv6; UNAVAILABLE naming the address and civetweb's reason
  // when the port is taken or the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(const std::string& host, int port,
                                                               const ServingMetrics& metrics);

  ~MetricsExposer();
  MetricsExposer(const MetricsExposer&) = delete;
  MetricsExposer& operator=(const MetricsExposer&) = delete;

  // The port actually bound (the chosen one when Start got port 0).
  int port() const { return port_; }

 private:
  MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer, int port);

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace gqa
