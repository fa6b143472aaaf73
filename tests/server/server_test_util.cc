#include "tests/server/server_test_util.h"

#include "client/health_check.h"

namespace gqa::testing {

int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  absl::StatusOr<HealthState> state =
      CheckHealth(channel, service, std::chrono::duration<double>(kWait).count());
  return state.ok() ? static_cast<int>(*state) : -1;
}

}  // namespace gqa::testing
