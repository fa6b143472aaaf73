// The OpenSSL context of the HTTP (OpenAI API) port's TLS: the same
// --tls-cert / --tls-key / --tls-client-ca files as the gRPC port
// (tls_files.h), and the same TLS policy as gRPC's own (Debian's gRPC 1.51
// over the system OpenSSL 3, src/core/tsi/ssl_transport_security.cc), so that
// a client that can reach one port can reach the other and no weaker
// handshake is accepted on either:
//   - versions TLS 1.2 and 1.3 (gRPC's default min/max; 1.0/1.1 refused);
//   - TLS 1.2 cipher list: GRPC_SSL_CIPHER_SUITES when set (gRPC reads the
//     same variable), else gRPC's default kGrpcCipherSuites; TLS 1.3 suites:
//     OpenSSL's default, which gRPC 1.51 does not change;
//   - key exchange group P-256 only (gRPC's kSslEcCurveNames with OpenSSL 3;
//     a client that sends an X25519 key share first, as curl does, gets a
//     HelloRetryRequest: one more round trip, on both ports);
//   - with --tls-client-ca: a client certificate is required and verified
//     against that bundle (gRPC's REQUEST_AND_REQUIRE_..._AND_VERIFY), its
//     subjects sent as the acceptable CAs;
//   - the certificates are read once at startup: neither port reloads them.
// tests/server/http/https_policy_test.cc handshakes with both ports under each
// version, cipher and group and checks they answer alike.
// HTTP-only choices: ALPN "http/1.1" (gRPC: "h2"), no renegotiation.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "absl/status/statusor.h"
#include "server/security/security_options.h"

namespace gqa {

// gRPC's GRPC_SSL_CIPHER_SUITES default (TLS 1.2 suites).
inline constexpr char kGrpcCipherSuites[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// `tls` must be enabled(). INVALID_ARGUMENT naming the flag for a bad file
// (LoadTlsFiles) or a cipher list OpenSSL rejects; INTERNAL when OpenSSL
// cannot make a context.
absl::StatusOr<SslCtxPtr> MakeServerSslContext(const TlsServerOptions& tls);

}  // namespace gqa
