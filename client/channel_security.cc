#include "client/channel_security.h"

#include <grpcpp/support/client_interceptor.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace gqa {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::InvalidArgumentError("--" + flag + " " + path + ": cannot read it");
  }
  return text.str();
}

// The key to send: the first key line of --api-key-file (blank lines and #
// comments skipped, as the server reads it), else $GQA_API_KEY; "" for none.
absl::StatusOr<std::string> ApiKey(const ChannelSecurityOptions& o) {
  if (o.api_key_file.empty()) {
    const char* env = std::getenv("GQA_API_KEY");
    return std::string(env ? absl::StripAsciiWhitespace(env) : "");
  }
  absl::StatusOr<std::string> text = ReadFile("api-key-file", o.api_key_file);
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty() && line.front() != '#') return std::string(line);
  }
  return absl::InvalidArgumentError("--api-key-file " + o.api_key_file + ": holds no key");
}

// Adds "authorization: Bearer <key>" to every call's initial metadata.
class BearerInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(const std::string* value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *value_});
    }
    methods->Proceed();
  }

 private:
  const std::string* const value_;  // owned by the factory, which the channel keeps
};

class BearerInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(const std::string& key) : value_("Bearer " + key) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(&value_);
  }

 private:
  const std::string value_;
};

}  // namespace

void AddChannelSecurityFlags(FlagParser& p, ChannelSecurityOptions* o) {
  p.AddBool("tls", &o->tls, "connect over TLS, trusting the system's CAs (see --tls-ca)");
  p.AddString("tls-ca", &o->ca_file, "TLS: trust this PEM CA bundle (implies --tls)");
  p.AddString("tls-cert", &o->cert_file,
              "mutual TLS: this client's PEM certificate (with --tls-key; implies --tls)");
  p.AddString("tls-key", &o->key_file, "mutual TLS: the PEM key of --tls-cert");
  p.AddString("tls-server-name", &o->server_name,
              "TLS: the name to verify in the server's certificate (default: the host dialled)");
  p.AddString("api-key-file", &o->api_key_file,
              "send \"authorization: Bearer <key>\" with the first key in FILE (default: "
              "$GQA_API_KEY, if set)");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const ChannelSecurityOptions& o) {
  if (o.cert_file.empty() != o.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (o.uses_tls()) {
    grpc::SslCredentialsOptions ssl;
    if (!o.ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadFile("tls-ca", o.ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!o.cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadFile("tls-cert", o.cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFile("tls-key", o.key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
    if (!o.server_name.empty()) args.SetSslTargetNameOverride(o.server_name);
  }
  absl::StatusOr<std::string> key = ApiKey(o);
  if (!key.ok()) return key.status();
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  if (!key->empty()) interceptors.push_back(std::make_unique<BearerInterceptorFactory>(*key));
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, credentials, args,
                                                                 std::move(interceptors));
}

}  // namespace gqa
