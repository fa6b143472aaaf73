// The gRPC side of --api-key-file: a call's "authorization" metadata checked
// against the ApiKeyStore, at the top of every gqa.v1.Generation method.
//
// Why in the handlers: gRPC 1.51's C++ server interceptors cannot end a call
// (no Hijack on the server; grpc/grpc#24017), and an AuthMetadataProcessor
// only runs on secure ports (InsecureServerCredentials asserts on it), while
// --api-key-file must also work in plaintext behind a TLS-terminating proxy.
// grpc.health.v1 and reflection are gRPC's own services: they stay open.
#pragma once

#include <grpcpp/grpcpp.h>

#include "server/auth/api_key_store.h"

namespace gqa {

// OK when `keys` is null (no --api-key-file) or the call carries
// "authorization: Bearer <key>" with a key of `keys`; UNAUTHENTICATED
// otherwise (the message never echoes what was sent).
grpc::Status CheckCallKey(const grpc::CallbackServerContext& context, ApiKeyStore* keys);

// A server-streaming reactor that ends the call with `status` at once.
template <typename Response>
class FinishedWriteReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FinishedWriteReactor(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace gqa
