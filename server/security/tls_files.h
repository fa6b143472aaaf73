// The files of --tls-cert / --tls-key / --tls-client-ca, read and checked
// once for every TLS listener (gRPC: server_credentials.h, HTTP:
// server_ssl_context.h), so that a wrong file is the same clear startup error
// naming the flag on both, not a failed handshake later.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "server/security/security_options.h"

namespace gqa {

struct TlsFiles {
  std::string cert_chain_pem;  // --tls-cert: leaf first, then intermediates
  std::string key_pem;         // --tls-key: unencrypted, matches the leaf
  std::string client_ca_pem;   // --tls-client-ca; empty: no client certificates asked
};

// `tls` must be enabled(). INVALID_ARGUMENT naming the flag and file:
// unreadable, no PEM certificate, no unencrypted PEM key, a key that does not
// match the certificate.
absl::StatusOr<TlsFiles> LoadTlsFiles(const TlsServerOptions& tls);

}  // namespace gqa
