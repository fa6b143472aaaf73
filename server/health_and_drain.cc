#include "server/health_and_drain.h"

#include <grpcpp/health_check_service_interface.h>

namespace gqa {
namespace {

// How long calls get to send their final messages after the engine drained
// (slow readers); calls still open then are cancelled by the shutdown.
constexpr std::chrono::seconds kShutdownGrace{10};

}  // namespace

HealthAndDrain::HealthAndDrain(grpc::Server* server) : server_(server) { SetServing(false); }

void HealthAndDrain::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (!health) return;
  health->SetServingStatus(serving);  // "" and every registered name
  health->SetServingStatus(kServiceName, serving);
}

void HealthAndDrain::MarkServing() { SetServing(true); }

bool HealthAndDrain::Drain(Engine* engine, CallTracker* calls,
                           std::chrono::nanoseconds timeout) {
  // Refuse new requests first, so none slips in after health says NOT_SERVING.
  if (engine) engine->StartDrain();
  SetServing(false);
  const bool finished = engine ? engine->Drain(timeout) : true;
  if (calls) calls->WaitForNone(kShutdownGrace);
  // Whatever is left (health watches, reflection streams, idle connections)
  // is cut now.
  server_->Shutdown(std::chrono::system_clock::now());
  return finished;
}

}  // namespace gqa
