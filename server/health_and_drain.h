// HealthAndDrain: the server's serving status as grpc.health.v1 reports it,
// and the graceful drain that SIGTERM/SIGINT start.
//
//   constructed   health NOT_SERVING (the model is loading)
//   MarkServing   health SERVING
//   MarkNotServing  health NOT_SERVING for good (the backend failed)
//   Drain         the engine refuses new requests (UNAVAILABLE); health
//                 NOT_SERVING; running ones finish, up to `timeout`, the rest
//                 are aborted (UNAVAILABLE); once every Generate call has sent
//                 its last message the gRPC server shuts down.
//
// Health is gRPC's default service (grpc::EnableDefaultHealthCheckService),
// reporting for "" (the whole server) and for "gqa.v1.Generation".
//
// Thread ownership: any one thread at a time (main, or a test), except
// MarkNotServing, which the engine thread (a failed backend) and the step
// watchdog's thread (a hung step) may call at any time (gRPC's health service
// locks its own state).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "engine/runner/engine.h"
#include "server/call_tracker.h"

namespace gqa {

class HealthAndDrain {
 public:
  // The service name health reports besides "".
  static constexpr char kServiceName[] = "gqa.v1.Generation";

  // `server` must have been built with the default health service enabled.
  explicit HealthAndDrain(grpc::Server* server);

  void MarkServing();
  void MarkNotServing() { SetServing(false); }
  // Returns true when every running request finished within `timeout`.
  // `engine` and `calls` are null when the model never loaded.
  bool Drain(Engine* engine, CallTracker* calls, std::chrono::nanoseconds timeout);

 private:
  void SetServing(bool serving);

  grpc::Server* const server_;
};

}  // namespace gqa
