// ServerApp: gqa-server assembled: the gRPC server (Generation service,
// grpc.health.v1, reflection), and once a model is loaded, the engine service,
// the metrics registry and its /metrics endpoint.
//
//   auto app = ServerApp::Start(options, log);   // listening; health NOT_SERVING
//   app->Serve(std::move(loaded_model), log);   // engine running; health SERVING
//   app->Drain(timeout);                         // SIGTERM: see HealthAndDrain
//
// main() and the tests use it the same way (tests pass tiny models and port 0).
//
// Thread ownership: the owner's thread calls every method; gRPC and the
// engine run on their own threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/runner/engine.h"
#include "engine/runner/model_setup.h"
#include "server/generation_service.h"
#include "server/health_and_drain.h"
#include "server/http/http_front_end.h"
#include "server/http/http_metrics.h"
#include "server/metrics/metrics_exposer.h"
#include "server/metrics/serving_metrics.h"
#include "server/metrics_observer.h"
#include "server/server_options.h"
#include "server/serving_context.h"

namespace gqa {

class ServerApp {
 public:
  // Listens on options.host:options.port. UNAVAILABLE when it cannot bind.
  static absl::StatusOr<std::unique_ptr<ServerApp>> Start(const ServerOptions& options,
                                                          std::ostream& log);
  ~ServerApp();  // drains with no timeout left if Drain was not called

  // Creates the engine over `model` (CPU backend) and starts serving it.
  // `observer_for_tests`, if set, also sees every engine event.
  absl::Status Serve(LoadedModel model, std::ostream& log,
                     EngineObserver* observer_for_tests = nullptr);

  // Graceful drain, then the gRPC server stops. True when every running
  // request finished within `timeout`.
  bool Drain(std::chrono::nanoseconds timeout);

  int port() const { return port_; }
  int metrics_port() const { return metrics_exposer_ ? metrics_exposer_->port() : -1; }
  int http_port() const { return http_ ? http_->port() : -1; }  // -1: HTTP off
  std::string address() const;  // "host:port" to dial
  Engine* engine() { return engine_.get(); }
  ServingMetrics* metrics() { return metrics_.get(); }
  grpc::Server* grpc_server() { return server_.get(); }

 private:
  ServerApp() = default;

  ServerOptions options_;
  int port_ = 0;
  GenerationService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HealthAndDrain> health_;
  // Set by Serve; destroyed after the gRPC server has shut down.
  LoadedModel model_;
  std::unique_ptr<ServingMetrics> metrics_;
  std::unique_ptr<EngineObserver> observer_;
  std::unique_ptr<Engine> engine_;  // goes before observer_ and metrics_
  std::unique_ptr<ServingContext> context_;
  std::unique_ptr<MetricsExposer> metrics_exposer_;
  // The OpenAI HTTP API: started with the gRPC server, joined by Drain
  // (before the context and the engine go).
  std::unique_ptr<HttpMetrics> http_metrics_;
  std::unique_ptr<HttpFrontEnd> http_;
  bool drained_ = false;
};

}  // namespace gqa
