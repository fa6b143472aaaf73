// AuthenticatedService: gqa.v1.Generation behind --api-key-file. Every method
// checks the call's "authorization: Bearer <key>" (CheckCallKey) and then
// hands the call to the GenerationService; without a valid key the call ends
// with UNAUTHENTICATED before the service sees it.
//
// ServerApp registers this in place of the GenerationService when an API key
// file is given (and the service itself otherwise). A method added to the
// proto but not here answers UNIMPLEMENTED through it: closed, never open
// (authenticated_service_test calls every method of the descriptor).
//
// Thread ownership: as GenerationService's; the store is thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include "gqa/v1/generation.grpc.pb.h"
#include "server/auth/api_key_store.h"
#include "server/generation_service.h"

namespace gqa {

class AuthenticatedService final : public v1::Generation::CallbackService {
 public:
  // Both must outlive the gRPC server.
  AuthenticatedService(GenerationService* service, ApiKeyStore* keys)
      : service_(service), keys_(keys) {}

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* ctx,
                                     const v1::GenerateRequest* request,
                                     v1::GenerateResponse* response) override;
  grpc::ServerWriteReactor<v1::GenerateResponse>* GenerateStream(
      grpc::CallbackServerContext* ctx, const v1::GenerateRequest* request) override;
  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* ctx,
                                     const v1::TokenizeRequest* request,
                                     v1::TokenizeResponse* response) override;
  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* ctx,
                                         const v1::GetModelInfoRequest* request,
                                         v1::ModelInfo* response) override;
  grpc::ServerUnaryReactor* Abort(grpc::CallbackServerContext* ctx, const v1::AbortRequest* request,
                                  v1::AbortResponse* response) override;
  grpc::ServerUnaryReactor* GetLoad(grpc::CallbackServerContext* ctx,
                                    const v1::GetLoadRequest* request, v1::Load* response) override;

 private:
  GenerationService* const service_;
  ApiKeyStore* const keys_;
};

}  // namespace gqa
