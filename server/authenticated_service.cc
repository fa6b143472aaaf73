#include "server/authenticated_service.h"

#include "server/auth/call_auth.h"

namespace gqa {
namespace {

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

}  // namespace

// Each method: the key first, then the service (which answers as it would
// without authentication).

grpc::ServerUnaryReactor* AuthenticatedService::Generate(grpc::CallbackServerContext* ctx,
                                                         const v1::GenerateRequest* request,
                                                         v1::GenerateResponse* response) {
  if (grpc::Status s = CheckCallKey(*ctx, keys_); !s.ok()) return Refuse(ctx, s);
  return service_->Generate(ctx, request, response);
}

grpc::ServerWriteReactor<v1::GenerateResponse>* AuthenticatedService::GenerateStream(
    grpc::CallbackServerContext* ctx, const v1::GenerateRequest* request) {
  if (grpc::Status s = CheckCallKey(*ctx, keys_); !s.ok()) {
    return new FinishedWriteReactor<v1::GenerateResponse>(s);
  }
  return service_->GenerateStream(ctx, request);
}

grpc::ServerUnaryReactor* AuthenticatedService::Tokenize(grpc::CallbackServerContext* ctx,
                                                         const v1::TokenizeRequest* request,
                                                         v1::TokenizeResponse* response) {
  if (grpc::Status s = CheckCallKey(*ctx, keys_); !s.ok()) return Refuse(ctx, s);
  return service_->Tokenize(ctx, request, response);
}

grpc::ServerUnaryReactor* AuthenticatedService::GetModelInfo(grpc::CallbackServerContext* ctx,
                                                             const v1::GetModelInfoRequest* request,
                                                             v1::ModelInfo* response) {
  if (grpc::Status s = CheckCallKey(*ctx, keys_); !s.ok()) return Refuse(ctx, s);
  return service_->GetModelInfo(ctx, request, response);
}

grpc::ServerUnaryReactor* AuthenticatedService::Abort(grpc::CallbackServerContext* ctx,
                                                      const v1::AbortRequest* request,
                                                      v1::AbortResponse* response) {
  if (grpc::Status s = CheckCallKey(*ctx, keys_); !s.ok()) return Refuse(ctx, s);
  return service_->Abort(ctx, request, response);
}

grpc::ServerUnaryReactor* AuthenticatedService::GetLoad(grpc::CallbackServerContext* ctx,
                                                        const v1::GetLoadRequest* request,
                                                        v1::Load* response) {
  if (grpc::Status s = CheckCallKey(*ctx, keys_); !s.ok()) return Refuse(ctx, s);
  return service_->GetLoad(ctx, request, response);
}

}  // namespace gqa
