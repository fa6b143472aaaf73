// The reactors of Generate (unary) and GenerateStream (server streaming), in
// the style of gRPC's route_guide_callback_server: one reactor object per
// call, created by the service and deleted in OnDone; nothing in a reaction
// blocks. Both drive a GenerationCall (see its header for who pumps when):
//
//   GenerateStream: each update becomes one Write; OnWriteDone pumps the next;
//                   the final one goes out with StartWriteAndFinish.
//   Generate:       updates accumulate into the response; Finish on the final.
//
// OnCancel (client cancel, disconnect, deadline) aborts the engine request;
// the reactor still finishes once the engine confirms, which frees its blocks.
#pragma once

#include <grpcpp/grpcpp.h>

#include "gqa/v1/generation.pb.h"
#include "server/serving_context.h"

namespace gqa {

// Both return a reactor that owns itself. `context` is null while the model
// is loading (the call then ends with UNAVAILABLE).
grpc::ServerWriteReactor<v1::GenerateResponse>* NewGenerateStreamReactor(
    const ServingContext* context, const v1::GenerateRequest& request);
grpc::ServerUnaryReactor* NewGenerateReactor(grpc::CallbackServerContext* server_context,
                                             const ServingContext* context,
                                             const v1::GenerateRequest& request,
                                             v1::GenerateResponse* response);

// Appends an update's response to the whole-completion response.
void MergeResponse(v1::GenerateResponse&& update, v1::GenerateResponse* whole);

}  // namespace gqa
