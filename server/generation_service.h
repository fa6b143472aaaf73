// GenerationService: the gqa.v1.Generation service on gRPC's callback API.
// Generate and GenerateStream get a reactor each (generate_reactors.h);
// Tokenize, GetModelInfo, Abort and GetLoad answer inline (none blocks:
// Abort only queues engine aborts, GetLoad reads the published stats).
//
// Until SetServing() hands it a ServingContext (the model is loaded), every
// call ends with UNAVAILABLE.
//
// Thread ownership: gRPC calls the methods on its threads; the context
// pointer is atomic and set once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "gqa/v1/generation.grpc.pb.h"
#include "server/serving_context.h"

namespace gqa {

class GenerationService final : public v1::Generation::CallbackService {
 public:
  // `context` must outlive the gRPC server.
  void SetServing(const ServingContext* context) { context_.store(context); }

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
  std::atomic<const ServingContext*> context_{nullptr};
};

}  // namespace gqa
