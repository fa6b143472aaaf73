#include "client/health_check.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace gqa {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;

constexpr char kCheckMethod[] = "/grpc.health.v1.Health/Check";
// Field 1 tags: (field_number << 3) | wire_type.
constexpr uint32_t kServiceTag = (1 << 3) | 2;  // length-delimited string
constexpr uint32_t kStatusTag = (1 << 3) | 0;   // varint enum

std::string EncodeRequest(const std::string& service) {
  std::string bytes;
  if (service.empty()) return bytes;  // proto3 default: the field is omitted
  {
    StringOutputStream stream(&bytes);
    CodedOutputStream out(&stream);
    out.WriteTag(kServiceTag);
    out.WriteVarint32(static_cast<uint32_t>(service.size()));
    out.WriteString(service);
  }  // `out` trims `bytes` to what was written when it is destroyed
  return bytes;
}

// Skips one field of `wire_type`; false when the input is malformed.
bool SkipField(CodedInputStream& in, uint32_t wire_type) {
  uint64_t varint;
  uint32_t length;
  switch (wire_type) {
    case 0:
      return in.ReadVarint64(&varint);
    case 1:
      return in.Skip(8);
    case 2:
      return in.ReadVarint32(&length) && in.Skip(static_cast<int>(length));
    case 5:
      return in.Skip(4);
    default:
      return false;  // groups (3, 4) never appear in this message
  }
}

absl::StatusOr<HealthState> DecodeResponse(const std::string& bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  uint32_t status = 0;  // absent: proto3 default UNKNOWN
  while (uint32_t tag = in.ReadTag()) {
    const bool ok = tag == kStatusTag ? in.ReadVarint32(&status) : SkipField(in, tag & 7);
    if (!ok) return absl::InternalError("malformed grpc.health.v1.HealthCheckResponse");
  }
  if (!in.ConsumedEntireMessage() || status > 3) {
    return absl::InternalError("malformed grpc.health.v1.HealthCheckResponse");
  }
  return static_cast<HealthState>(status);
}

}  // namespace

const char* HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kServing:
      return "SERVING";
    case HealthState::kNotServing:
      return "NOT_SERVING";
    case HealthState::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case HealthState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

absl::StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, double deadline_seconds) {
  const std::string request_bytes = EncodeRequest(service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  if (deadline_seconds > 0) {
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::chrono::duration<double>(deadline_seconds)));
  }
  // The generic stub's unary call is callback-only: wait for the callback.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, kCheckMethod, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_all();
                 });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError("the server reports no health status for service '" + service + "'");
  }
  if (!status.ok()) {
    // gRPC and absl status codes share their numeric values.
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) {
    return absl::InternalError("cannot read the grpc.health.v1.HealthCheckResponse");
  }
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return DecodeResponse(bytes);
}

}  // namespace gqa
