// gqa-server's gRPC listening port: TLS or plaintext credentials from
// SecurityOptions, and the transport limits (message size, streams per
// connection). The TLS files are read and checked here, at startup, so that
// a wrong file is a clear error naming the flag, not a failed handshake later.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/security/security_options.h"

namespace gqa {

// Plaintext without a certificate; otherwise TLS with the certificate chain
// and key, and with a client CA: client certificates required and verified.
// INVALID_ARGUMENT naming the flag and file: unreadable, not PEM, a key that
// does not match the certificate.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsServerOptions& tls);

// Adds the listening port on `address` with MakeServerCredentials and applies
// --max-message-bytes and --max-concurrent-streams to `builder`. `port` is
// filled in by BuildAndStart (0 when binding failed).
absl::Status ConfigureListeningPort(const SecurityOptions& options, const std::string& address,
                                    grpc::ServerBuilder* builder, int* port);

}  // namespace gqa
