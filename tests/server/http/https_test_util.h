// Helpers for the HTTPS tests: certificates (tests/server/security's
// TestCertificates; a test using them needs GQA_SOURCE_DIR, see
// tests/CMakeLists.txt), cpp-httplib HTTPS clients and OpenSSL client contexts.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "server/security/server_ssl_context.h"
#include "tests/server/http/http_test_util.h"
#include "tests/server/security/test_certificates.h"

namespace gqa::testing {

// An HTTPS client of the test server trusting `certs`' ca.pem; with
// `client` ("client", "other_client"): presenting NAME.pem / NAME.key.
inline std::unique_ptr<httplib::Client> HttpsClient(const ServerApp& app,
                                                    const TestCertificates& certs,
                                                    const std::string& client = "") {
  const std::string url = "https://127.0.0.1:" + std::to_string(app.http_port());
  auto c = client.empty() ? std::make_unique<httplib::Client>(url)
                          : std::make_unique<httplib::Client>(url, certs.Path(client + ".pem"),
                                                              certs.Path(client + ".key"));
  c->set_ca_cert_path(certs.Path("ca.pem"));
  c->enable_server_certificate_verification(true);
  c->set_read_timeout(kWait);
  c->set_write_timeout(kWait);
  c->set_keep_alive(true);
  return c;
}

// A TLS client context trusting `ca_file` (PEM), with an optional client
// certificate and key.
inline SslCtxPtr ClientTlsContext(const std::string& ca_file, const std::string& cert_file = "",
                                  const std::string& key_file = "") {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  EXPECT_EQ(SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!cert_file.empty()) {
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM), 1);
  }
  return ctx;
}

}  // namespace gqa::testing
