#include "server/auth/call_auth.h"

#include <string_view>

namespace gqa {

grpc::Status CheckCallKey(const grpc::CallbackServerContext& context, ApiKeyStore* keys) {
  if (!keys) return grpc::Status::OK;
  // gRPC lower-cases metadata keys. One authorization header: a second one
  // (ambiguous) fails like a wrong key.
  const auto [begin, end] = context.client_metadata().equal_range("authorization");
  if (begin != end && std::next(begin) == end &&
      keys->Check(std::string_view(begin->second.data(), begin->second.size()))) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "this server needs an API key: send the metadata "
                      "\"authorization: Bearer <key>\" with a key of its --api-key-file");
}

}  // namespace gqa
