#include "server/security/server_credentials.h"

#include "server/security/tls_files.h"

namespace gqa {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsServerOptions& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  absl::StatusOr<TlsFiles> files = LoadTlsFiles(tls);
  if (!files.ok()) return files.status();
  // gRPC's own TLS defaults apply (TLS 1.2 and 1.3, its cipher list);
  // server_ssl_context.h gives the HTTP port the same.
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                 : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = std::move(files->client_ca_pem);
  ssl.pem_key_cert_pairs.push_back({std::move(files->key_pem), std::move(files->cert_chain_pem)});
  return grpc::SslServerCredentials(ssl);
}

absl::Status ConfigureListeningPort(const SecurityOptions& options, const std::string& address,
                                    grpc::ServerBuilder* builder, int* port) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  builder->AddListeningPort(address, *credentials, port);
  builder->SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  return absl::OkStatus();
}

}  // namespace gqa
