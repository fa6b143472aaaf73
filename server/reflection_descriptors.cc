#include "server/reflection_descriptors.h"

#include "grpc/health/v1/health.pb.h"

namespace gqa {

void RegisterReflectionDescriptors() {
  // Building the file's descriptor adds it to the generated pool, where
  // reflection's FindSymbol("grpc.health.v1.Health") looks.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
}

}  // namespace gqa
