// CheckHealth: one grpc.health.v1.Health/Check call, for `gqa-client health`
// (the Docker HEALTHCHECK) and the server tests.
//
// Debian ships no health.proto, so the call goes over a generic stub with the
// two tiny messages encoded by hand:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }
//
// Thread ownership: none; safe from any thread (gRPC channels are).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace gqa {

// grpc.health.v1.HealthCheckResponse.ServingStatus; the values are the wire's.
enum class HealthState {
  kUnknown = 0,
  kServing = 1,
  kNotServing = 2,
  kServiceUnknown = 3,  // only Health/Watch sends it; Check answers NOT_FOUND
};

// "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN".
const char* HealthStateName(HealthState state);

// Asks the server behind `channel` for the serving status of `service` (""
// is the whole server). `deadline_seconds` <= 0: no deadline.
// Errors carry the call's gRPC code and message: NOT_FOUND when the server
// reports no status for `service`, UNAVAILABLE when it cannot be reached,
// DEADLINE_EXCEEDED; INTERNAL when the response does not decode.
absl::StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, double deadline_seconds);

}  // namespace gqa
