#include "server/security/server_ssl_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "server/security/tls_files.h"

namespace gqa {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr Bio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The last OpenSSL error, for INTERNAL errors (which LoadTlsFiles' checks
// make unlikely).
std::string OpenSslError() {
  char text[256] = "unknown OpenSSL error";
  const unsigned long e = ERR_get_error();
  if (e != 0) ERR_error_string_n(e, text, sizeof(text));
  ERR_clear_error();
  return text;
}

absl::Status Internal(const std::string& what) {
  return absl::InternalError(absl::StrCat("HTTPS: ", what, ": ", OpenSslError()));
}

// Leaf and chain from PEM text (SSL_CTX_use_certificate_chain_file, from memory).
absl::Status UseCertificateChain(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = Bio(pem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
    X509_free(leaf);
    return Internal("--tls-cert");
  }
  X509_free(leaf);
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {  // takes `ca` on success
      X509_free(ca);
      return Internal("--tls-cert chain");
    }
  }
  ERR_clear_error();  // the end of the PEM text
  return absl::OkStatus();
}

absl::Status UsePrivateKey(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = Bio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  const bool ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx);
  EVP_PKEY_free(key);
  return ok ? absl::OkStatus() : Internal("--tls-key");
}

// Client certificates: verified against the bundle, required, and the
// bundle's subjects sent in the CertificateRequest.
absl::Status RequireClientCertificates(SSL_CTX* ctx, const std::string& pem) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  BioPtr bio = Bio(pem);
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, ca);  // takes its own reference
    if (X509_NAME* name = X509_NAME_dup(X509_get_subject_name(ca))) sk_X509_NAME_push(names, name);
    X509_free(ca);
  }
  ERR_clear_error();
  SSL_CTX_set_client_CA_list(ctx, names);  // takes `names`
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Sessions resumed on a context that verifies clients need an id context.
  static constexpr unsigned char kSessionContext[] = "gqa-server-https";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  return absl::OkStatus();
}

// ALPN: HTTP/1.1 when the client offers it; otherwise no ALPN (a client that
// offers only h2 falls back or gives up, its choice).
int SelectHttp11(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                 unsigned int in_len, void*) {
  static constexpr unsigned char kHttp11[] = "\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof(kHttp11) - 1, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<SslCtxPtr> MakeServerSslContext(const TlsServerOptions& tls) {
  absl::StatusOr<TlsFiles> files = LoadTlsFiles(tls);
  if (!files.ok()) return files.status();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Internal("SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  // The policy gRPC's port has (see the header).
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1) {
    return Internal("TLS versions");
  }
  const char* env_ciphers = std::getenv("GRPC_SSL_CIPHER_SUITES");
  const char* ciphers = env_ciphers && *env_ciphers ? env_ciphers : kGrpcCipherSuites;
  if (SSL_CTX_set_cipher_list(c, ciphers) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("GRPC_SSL_CIPHER_SUITES \"", ciphers, "\": OpenSSL knows none of them"));
  }
  if (SSL_CTX_set1_groups_list(c, "P-256") != 1) return Internal("key exchange groups");
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_alpn_select_cb(c, SelectHttp11, nullptr);
  GQA_RETURN_IF_ERROR(UseCertificateChain(c, files->cert_chain_pem));
  GQA_RETURN_IF_ERROR(UsePrivateKey(c, files->key_pem));
  if (!files->client_ca_pem.empty()) {
    GQA_RETURN_IF_ERROR(RequireClientCertificates(c, files->client_ca_pem));
  }
  return ctx;
}

}  // namespace gqa
