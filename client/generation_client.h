// GenerationClient: a thin blocking client of gqa.v1.Generation, for
// gqa-client and tests. Each call takes an optional deadline (seconds from
// now; <= 0: none).
//
// Thread ownership: thread-safe (gRPC stubs are).
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "gqa/v1/generation.grpc.pb.h"

namespace gqa {

class GenerationClient {
 public:
  explicit GenerationClient(std::shared_ptr<grpc::Channel> channel);
  // An insecure channel to "host:port".
  static std::unique_ptr<GenerationClient> Connect(const std::string& target);

  grpc::Status Generate(const v1::GenerateRequest& request, v1::GenerateResponse* response,
                        double deadline_seconds = 0);
  // Calls `on_response` for every streamed message, in order, until the
  // stream ends; returns the stream's status.
  grpc::Status GenerateStream(const v1::GenerateRequest& request,
                              const std::function<void(const v1::GenerateResponse&)>& on_response,
                              double deadline_seconds = 0);
  grpc::Status Tokenize(const v1::TokenizeRequest& request, v1::TokenizeResponse* response,
                        double deadline_seconds = 0);
  grpc::Status GetModelInfo(v1::ModelInfo* info, double deadline_seconds = 0);
  grpc::Status Abort(const v1::AbortRequest& request, v1::AbortResponse* response,
                     double deadline_seconds = 0);
  grpc::Status GetLoad(v1::Load* load, double deadline_seconds = 0);

  // The channel the calls go over (grpc.health.v1 checks use it too).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Generation::Stub> stub_;
};

// "length", "stop", "eos", "aborted", "unspecified".
const char* FinishReasonName(v1::FinishReason reason);

// "RESOURCE_EXHAUSTED: the waiting queue is full ..." for messages.
std::string StatusText(const grpc::Status& status);

}  // namespace gqa
