#include "client/generation_client.h"

#include <chrono>

namespace gqa {
namespace {

void SetDeadline(grpc::ClientContext* context, double seconds) {
  if (seconds <= 0) return;
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            std::chrono::duration<double>(seconds)));
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      break;
  }
  return "UNKNOWN_CODE";
}

}  // namespace

std::string StatusText(const grpc::Status& status) {
  std::string text = CodeName(status.error_code());
  if (!status.error_message().empty()) text += ": " + status.error_message();
  return text;
}

GenerationClient::GenerationClient(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(v1::Generation::NewStub(channel_)) {}

std::unique_ptr<GenerationClient> GenerationClient::Connect(const std::string& target) {
  return std::make_unique<GenerationClient>(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

grpc::Status GenerationClient::Generate(const v1::GenerateRequest& request,
                                        v1::GenerateResponse* response, double deadline_seconds) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_seconds);
  return stub_->Generate(&context, request, response);
}

grpc::Status GenerationClient::GenerateStream(
    const v1::GenerateRequest& request,
    const std::function<void(const v1::GenerateResponse&)>& on_response, double deadline_seconds) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_seconds);
  std::unique_ptr<grpc::ClientReader<v1::GenerateResponse>> reader =
      stub_->GenerateStream(&context, request);
  v1::GenerateResponse response;
  while (reader->Read(&response)) on_response(response);
  return reader->Finish();
}

grpc::Status GenerationClient::Tokenize(const v1::TokenizeRequest& request,
                                        v1::TokenizeResponse* response, double deadline_seconds) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_seconds);
  return stub_->Tokenize(&context, request, response);
}

grpc::Status GenerationClient::GetModelInfo(v1::ModelInfo* info, double deadline_seconds) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_seconds);
  return stub_->GetModelInfo(&context, v1::GetModelInfoRequest(), info);
}

grpc::Status GenerationClient::Abort(const v1::AbortRequest& request, v1::AbortResponse* response,
                                     double deadline_seconds) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_seconds);
  return stub_->Abort(&context, request, response);
}

grpc::Status GenerationClient::GetLoad(v1::Load* load, double deadline_seconds) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_seconds);
  return stub_->GetLoad(&context, v1::GetLoadRequest(), load);
}

const char* FinishReasonName(v1::FinishReason r) {
  switch (r) {
    case v1::FINISH_REASON_LENGTH:
      return "length";
    case v1::FINISH_REASON_STOP:
      return "stop";
    case v1::FINISH_REASON_EOS:
      return "eos";
    case v1::FINISH_REASON_ABORTED:
      return "aborted";
    case v1::FINISH_REASON_ERROR:
      return "error";
    default:
      return "unspecified";
  }
}

}  // namespace gqa
