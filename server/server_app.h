// ServerApp: gqa-server assembled: the gRPC server (Generation service,
// grpc.health.v1, reflection), and once a model is loaded, the engine service,
// the metrics registry and its /metrics endpoint.
//
//   auto app = ServerApp::Start(options, log);   // listening; health NOT_SERVING
//   app->Serve(std::move(loaded_model), log);   // engine running; health SERVING
//   app->Drain(timeout);                         // SIGTERM: see HealthAndDrain
//
// Faults. A failed forward pass (a CUDA error the backend latched): every
// running and waiting request ends with INTERNAL (finish reason ERROR), health
// turns NOT_SERVING for good, new requests get UNAVAILABLE,
// gqa_engine_failures_total{cause="backend_error"} counts it, and the process
// keeps running (the failed state is visible; a supervisor restarts it when
// health says so). A step that runs past --step-timeout-seconds (a hung
// device, which can't be recovered in-process: the stuck engine thread owns
// every request's state): the StepWatchdog turns health NOT_SERVING, counts
// cause="step_timeout", makes new requests UNAVAILABLE, and after
// step_timeout_exit_grace_seconds the process exits with
// kStepTimeoutExitCode; in-flight calls then end as the connection closes
// (UNAVAILABLE at the client).
//
// main() and the tests use it the same way (tests pass tiny models and port 0).
//
// Thread ownership: the owner's thread calls every method; gRPC and the
// engine run on their own threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/runner/engine.h"
#include "engine/runner/model_setup.h"
#include "server/auth/api_key_store.h"
#include "server/authenticated_service.h"
#include "engine/runner/step_watchdog.h"
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
  // gqa-server's exit status after a step ran past --step-timeout-seconds.
  static constexpr int kStepTimeoutExitCode = 3;

  // Seams for tests, set before Serve. wrap_backend: wraps the backend Serve
  // set up (a fault injector). exit_process: replaces the process exit after
  // a hung step (default: flush the logs, std::_Exit: no destructor may run,
  // the engine thread being stuck).
  struct TestHooks {
    std::function<std::unique_ptr<Backend>(std::unique_ptr<Backend>)> wrap_backend;
    std::function<void(int exit_code)> exit_process;
  };
  void SetTestHooks(TestHooks hooks) { hooks_ = std::move(hooks); }

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
  // What the front ends serve through (open calls, live ids); null until Serve.
  const ServingContext* serving_context() const { return context_.get(); }
  grpc::Server* grpc_server() { return server_.get(); }
  // --api-key-file's keys (null: no authentication); other front ends check
  // their requests against the same store.
  ApiKeyStore* api_keys() { return api_keys_.get(); }

 private:
  ServerApp() = default;
  const std::string& MetricsHost() const;  // --metrics-host, else --host
  // On the watchdog's thread: see "Faults" above.
  void OnStepTimeout(std::chrono::nanoseconds ran_for, StepWatchdog& watchdog);

  ServerOptions options_;
  int port_ = 0;
  GenerationService service_;
  std::unique_ptr<ApiKeyStore> api_keys_;
  std::unique_ptr<AuthenticatedService> authenticated_service_;  // registered with api_keys_
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
  TestHooks hooks_;
  std::unique_ptr<StepWatchdog> watchdog_;  // after engine_ starts; first to go
};

}  // namespace gqa
