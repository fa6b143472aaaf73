#include "server/security/security_options.h"

#include <limits>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "flags/byte_size.h"

namespace gqa {
namespace {

// A size flag's value in bytes; the error names the flag.
absl::StatusOr<size_t> Bytes(const std::string& flag, const std::string& text) {
  absl::StatusOr<size_t> bytes = ParseByteSize(text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", bytes.status().message()));
  }
  return bytes;
}

}  // namespace

SecurityFlags::SecurityFlags(FlagParser& p, SecurityOptions* o) : options_(o) {
  p.AddString(
      "tls-cert", &o->tls.cert_file,
      "serve gRPC and HTTP (HTTPS) over TLS with this PEM certificate chain (needs --tls-key)");
  p.AddString("tls-key", &o->tls.key_file, "the PEM private key of --tls-cert");
  p.AddString("tls-client-ca", &o->tls.client_ca_file,
              "mutual TLS: require client certificates signed by this PEM CA bundle");
  p.AddString("api-key-file", &o->api_key_file,
              "require \"authorization: Bearer <key>\" with a key of FILE (one per line, # "
              "comments); re-read on SIGHUP and when it changes (health, reflection stay open)");
  p.AddString("max-message-bytes", &max_message_bytes_,
              "largest gRPC message received; larger: RESOURCE_EXHAUSTED (default 4MiB)");
  p.AddString("max-prompt-bytes", &max_prompt_bytes_,
              "largest prompt text or chat (sum of contents), in bytes; 0 = no limit (default "
              "1MiB)");
  p.AddInt("max-prompt-tokens", &o->prompt.max_prompt_tokens,
           "longest prompt in tokens (default 0 = the context length)");
  p.AddInt("max-concurrent-streams", &o->max_concurrent_streams,
           "open calls per client connection; clients queue the rest (default 1024)");
}

absl::Status SecurityFlags::Finish() {
  SecurityOptions& o = *options_;
  if (!max_message_bytes_.empty()) {
    absl::StatusOr<size_t> b = Bytes("max-message-bytes", max_message_bytes_);
    if (!b.ok()) return b.status();
    if (*b == 0 || *b > static_cast<size_t>(std::numeric_limits<int>::max())) {
      return absl::InvalidArgumentError("--max-message-bytes must be in 1..2147483647");
    }
    o.max_message_bytes = *b;
  }
  if (!max_prompt_bytes_.empty()) {
    absl::StatusOr<size_t> b = Bytes("max-prompt-bytes", max_prompt_bytes_);
    if (!b.ok()) return b.status();
    o.prompt.max_prompt_bytes = *b;
  }
  if (o.prompt.max_prompt_tokens < 0) {
    return absl::InvalidArgumentError("--max-prompt-tokens must be >= 0");
  }
  if (o.max_concurrent_streams <= 0) {
    return absl::InvalidArgumentError("--max-concurrent-streams must be > 0");
  }
  const TlsServerOptions& tls = o.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!tls.client_ca_file.empty() && !tls.enabled()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  return absl::OkStatus();
}

}  // namespace gqa
