#include "server/health_and_drain.h"

#include <grpcpp/health_check_service_interface.h>

namespace gqa {
namespace {

// How long in-flight calls get to end after the engine is drained: they only
// have a final message left to send.
constexpr std::chrono::seconds kShutdownGrace{5};

}  // namespace

HealthAndDrain::HealthAndDrain(grpc::Server* server) : server_(server) { SetServing(false); }

void HealthAndDrain::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (!health) return;
  health->SetServingStatus(serving);  // "" and every registered name
  health->SetServingStatus(kServiceName, serving);
}

void HealthAndDrain::MarkServing() { SetServing(true); }

bool HealthAndDrain::Drain(EngineService* engine, std::chrono::nanoseconds timeout) {
  SetServing(false);
  const bool finished = engine ? engine->Drain(timeout) : true;
  server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  return finished;
}

}  // namespace gqa
