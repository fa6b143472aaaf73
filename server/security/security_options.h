// SecurityOptions: gqa-server's transport security and abuse limits, and the
// flags that set them (bound into ServerOptions' FlagParser):
//   --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]   TLS, mutual TLS
//   --api-key-file FILE                                      bearer keys
//   --max-message-bytes --max-prompt-bytes --max-prompt-tokens
//   --max-concurrent-streams                                 limits
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "flags/flag_parser.h"

namespace gqa {

struct TlsServerOptions {
  std::string cert_file;       // PEM certificate chain, leaf first; empty: plaintext
  std::string key_file;        // PEM private key of the leaf
  std::string client_ca_file;  // PEM CA bundle; set: clients must present a cert it signed
  bool enabled() const { return !cert_file.empty(); }
};

// Request limits a front end applies before anything reaches the engine.
struct PromptLimits {
  size_t max_prompt_bytes = size_t{1} << 20;  // prompt text / chat contents; 0 = no limit
  int max_prompt_tokens = 0;                  // 0 = the context length (the engine's own bound)
};

struct SecurityOptions {
  TlsServerOptions tls;
  std::string api_key_file;  // empty: no authentication
  // A received message larger than this ends the call with RESOURCE_EXHAUSTED
  // (gRPC's own check). gRPC's default, stated.
  size_t max_message_bytes = size_t{4} << 20;
  PromptLimits prompt;
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: streams one connection may have
  // open; clients queue the rest. Generous, since gqa-bench multiplexes a
  // whole run over one connection; the engine's queue limits bound the work.
  int max_concurrent_streams = 1024;
};

// Binds the flags above to `options` (kept until Finish). Usage:
//   SecurityFlags security(parser, &o.security);  parser.Parse(...);
//   GQA_RETURN_IF_ERROR(security.Finish());
class SecurityFlags {
 public:
  SecurityFlags(FlagParser& parser, SecurityOptions* options);
  // After parsing: sizes converted, ranges and flag combinations checked.
  // INVALID_ARGUMENT names the flag. Files are read later, at startup.
  absl::Status Finish();

 private:
  SecurityOptions* const options_;
  std::string max_message_bytes_;
  std::string max_prompt_bytes_;
};

}  // namespace gqa
