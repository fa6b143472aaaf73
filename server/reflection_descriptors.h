// Makes every service gqa-server lists through reflection describable.
//
// Server reflection (v1alpha: gRPC 1.51 has no v1 reflection service) answers
// from protobuf's generated descriptor pool. gRPC's built-in
// grpc.health.v1.Health is registered without a descriptor there (it encodes
// with upb), so grpcurl could list it but not describe or call it. Linking
// proto/grpc/health/v1/health.proto's generated code adds it; this function
// is what pulls that object file out of the static proto library.
#pragma once

namespace gqa {

// Idempotent; call before the server starts.
void RegisterReflectionDescriptors();

}  // namespace gqa
