#include "server/metrics/metrics_exposer.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <exception>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

// Where Prometheus scrapes (deploy/k8s's prometheus.io/path annotation says
// the same; tests/deploy/validate_k8s.py reads it from here).
constexpr char kMetricsPath[] = "/metrics";

// Scrapes are rare and cheap; two workers let one slow client not block the
// next scrape (civetweb's default is 50).
constexpr char kNumThreads[] = "2";

// civetweb wants this once per process before the first server starts
// (mg_start calls it otherwise, unsynchronized); no TLS.
void InitCivetwebOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

// Why a start failed (e.g. "cannot bind to 127.0.0.1:9400: 98 (Address
// already in use)") civetweb says only through its log callback; the
// exception prometheus-cpp throws says "null context when constructing
// CivetServer". The server starts on the caller's thread, so Start points
// this at a buffer for the call; messages from civetweb's own threads later
// are dropped.
thread_local std::string* t_start_log = nullptr;

int CaptureStartLog(const mg_connection* /*conn*/, const char* message) {
  if (t_start_log != nullptr && message != nullptr) {
    if (!t_start_log->empty()) t_start_log->append("; ");
    t_start_log->append(message);
  }
  return 1;  // handled: nothing on stderr
}

// civetweb's listening_ports syntax: "port", "1.2.3.4:port", "[::1]:port".
std::string ListeningPorts(const std::string& host, int port) {
  if (host.empty()) return std::to_string(port);
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

}  // namespace

MetricsExposer::MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer, int port)
    : exposer_(std::move(exposer)), port_(port) {}

MetricsExposer::~MetricsExposer() = default;

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const std::string& host, int port, const ServingMetrics& metrics) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", port, " is outside 0..65535"));
  }
  InitCivetwebOnce();
  if (host.find(':') != std::string::npos && mg_check_feature(MG_FEATURES_IPV6) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics host '", host, "' is IPv6, which this civetweb build does not support"));
  }
  const std::string address = ListeningPorts(host, port);
  CivetCallbacks callbacks;
  callbacks.log_message = &CaptureStartLog;
  std::string start_log;
  std::unique_ptr<prometheus::Exposer> exposer;
  t_start_log = &start_log;
  try {
    exposer = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", address, "num_threads", kNumThreads},
        &callbacks);
  } catch (const std::exception& e) {
    t_start_log = nullptr;
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ",
                                               start_log.empty() ? e.what() : start_log));
  }
  t_start_log = nullptr;
  exposer->RegisterCollectable(metrics.registry(), kMetricsPath);
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty() || ports[0] <= 0) {
    return absl::InternalError(
        absl::StrCat("metrics server on ", address, " started but reports no bound port"));
  }
  return std::unique_ptr<MetricsExposer>(new MetricsExposer(std::move(exposer), ports[0]));
}

}  // namespace gqa
