// HealthAndDrain: the server's serving status as grpc.health.v1 reports it,
// and the graceful drain that SIGTERM/SIGINT start.
//
//   constructed   health NOT_SERVING (the model is loading)
//   MarkServing   health SERVING
//   Drain         health NOT_SERVING; the engine refuses new requests
//                 (UNAVAILABLE); running ones finish, up to `timeout`, the rest
//                 are aborted (UNAVAILABLE); then the gRPC server shuts down
//                 (in-flight calls have all finished by then).
//
// Health is gRPC's default service (grpc::EnableDefaultHealthCheckService),
// reporting for "" (the whole server) and for "gqa.v1.Generation".
//
// Thread ownership: any one thread at a time (main, or a test).
#pragma once

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "engine/serving/engine_service.h"

namespace gqa {

class HealthAndDrain {
 public:
  // The service name health reports besides "".
  static constexpr char kServiceName[] = "gqa.v1.Generation";

  // `server` must have been built with the default health service enabled.
  explicit HealthAndDrain(grpc::Server* server);

  void MarkServing();
  // Returns true when every running request finished within `timeout`.
  // `engine` may be null (drained before the model loaded).
  bool Drain(EngineService* engine, std::chrono::nanoseconds timeout);

 private:
  void SetServing(bool serving);

  grpc::Server* const server_;
};

}  // namespace gqa
