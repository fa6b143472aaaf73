// How gqa-client and gqa-bench reach a secured gqa-server: TLS (with a CA to
// trust, a client certificate for mutual TLS, a name to verify) and an API
// key sent as "authorization: Bearer <key>" on every call.
//
//   ChannelSecurityOptions security;
//   AddChannelSecurityFlags(parser, &security);   // --tls, --tls-ca, ...
//   absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(target, security);
//
// The key goes in through a client interceptor, so it reaches every call on
// the channel (health checks and generic calls included) and works in
// plaintext too (gRPC's call credentials refuse insecure channels).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flags/flag_parser.h"

namespace gqa {

struct ChannelSecurityOptions {
  bool tls = false;          // implied by any file below
  std::string ca_file;       // PEM roots to trust; empty: the system's
  std::string cert_file;     // mutual TLS: this client's PEM certificate chain
  std::string key_file;      // ... and its PEM key
  std::string server_name;   // name to verify in the server's certificate
  std::string api_key_file;  // first key line; empty: $GQA_API_KEY, if set
  bool uses_tls() const {
    return tls || !ca_file.empty() || !cert_file.empty() || !key_file.empty() ||
           !server_name.empty();
  }
};

// --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name, --api-key-file.
void AddChannelSecurityFlags(FlagParser& parser, ChannelSecurityOptions* options);

// A channel to `target` ("host:port"). INVALID_ARGUMENT naming the flag for
// an unreadable file, a --tls-cert without --tls-key (or the reverse), a key
// file without a key.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const ChannelSecurityOptions& options);

}  // namespace gqa
