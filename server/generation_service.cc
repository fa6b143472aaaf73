#include "server/generation_service.h"

#include "server/generate_reactors.h"
#include "server/proto_conversion.h"

namespace gqa {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

const grpc::Status kLoading(grpc::StatusCode::UNAVAILABLE,
                            "the model is still loading; retry shortly");

}  // namespace

grpc::ServerUnaryReactor* GenerationService::Generate(grpc::CallbackServerContext* ctx,
                                                      const v1::GenerateRequest* request,
                                                      v1::GenerateResponse* response) {
  return NewGenerateReactor(ctx, context_.load(), *request, response);
}

grpc::ServerWriteReactor<v1::GenerateResponse>* GenerationService::GenerateStream(
    grpc::CallbackServerContext* ctx, const v1::GenerateRequest* request) {
  return NewGenerateStreamReactor(context_.load(), *request);
}

grpc::ServerUnaryReactor* GenerationService::Tokenize(grpc::CallbackServerContext* ctx,
                                                      const v1::TokenizeRequest* request,
                                                      v1::TokenizeResponse* response) {
  const ServingContext* context = context_.load();
  if (!context) return FinishNow(ctx, kLoading);
  const Tokenizer* tokenizer = context->tokenizer;
  if (!tokenizer) {
    return FinishNow(ctx, grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                       "this model has no tokenizer (start the server with "
                                       "--tokenizer)"));
  }
  const bool special = !request->has_add_special_tokens() || request->add_special_tokens();
  for (int id : tokenizer->Encode(request->text(), special)) {
    response->add_token_ids(id);
    response->add_tokens(TokenText(tokenizer, id));
  }
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GenerationService::GetModelInfo(grpc::CallbackServerContext* ctx,
                                                          const v1::GetModelInfoRequest* request,
                                                          v1::ModelInfo* response) {
  const ServingContext* context = context_.load();
  if (!context) return FinishNow(ctx, kLoading);
  FillModelInfo(context->engine->info(), context->tokenizer, context->backend_name,
                context->description, response);
  response->set_has_chat_template(context->chat_template != nullptr);
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GenerationService::Abort(grpc::CallbackServerContext* ctx,
                                                   const v1::AbortRequest* request,
                                                   v1::AbortResponse* response) {
  const ServingContext* context = context_.load();
  if (!context) return FinishNow(ctx, kLoading);
  Engine* engine = context->engine;
  const std::vector<std::string> ids(request->request_ids().begin(), request->request_ids().end());
  for (std::string& id : context->live_ids.Abort(ids, [engine](const std::string& engine_id) {
         engine->Abort(engine_id, FinishReason::kAborted);
       })) {
    response->add_aborted_request_ids(std::move(id));
  }
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GenerationService::GetLoad(grpc::CallbackServerContext* ctx,
                                                     const v1::GetLoadRequest* request,
                                                     v1::Load* response) {
  const ServingContext* context = context_.load();
  if (!context) return FinishNow(ctx, kLoading);
  FillLoad(context->engine->Stats(), response);
  return FinishNow(ctx, grpc::Status::OK);
}

}  // namespace gqa
