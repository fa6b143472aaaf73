// A TLS client probing which handshakes a server's two ports (gRPC and
// HTTPS) accept, for the tests that check both follow one TLS policy
// (server/security/server_ssl_context.h).
#pragma once

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/server/http/https_test_util.h"

namespace gqa::testing {

struct Probe {
  int version = TLS1_3_VERSION;  // the only version offered
  std::string cipher;            // TLS 1.2 cipher list; "": the default
  std::string suite;             // TLS 1.3 suites; "": the default
  std::string group;             // key exchange groups; "": the default
};

inline Probe Version(int version) {
  Probe p;
  p.version = version;
  return p;
}

// A server with TLS on both ports, and the probe.
class HttpsPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certs_.Make()) GTEST_SKIP() << "no openssl CLI to make test certificates";
    ServerOptions o = HttpTestServerOptions();
    o.security.tls.cert_file = certs_.Path("server.pem");
    o.security.tls.key_file = certs_.Path("server.key");
    app_ = StartTestServer(o);
    ASSERT_NE(app_, nullptr);
  }

  // Whether a TLS handshake under `probe` completes with `port`.
  bool Handshakes(int port, const Probe& probe) {
    SslCtxPtr ctx = ClientTlsContext(certs_.Path("ca.pem"));
    SSL_CTX_set_min_proto_version(ctx.get(), probe.version);
    SSL_CTX_set_max_proto_version(ctx.get(), probe.version);
    // Level 0 lets the client offer what Debian's defaults would not (TLS
    // 1.0/1.1, weak ciphers): the server must be the one refusing.
    const std::string cipher = (probe.cipher.empty() ? "DEFAULT" : probe.cipher) + ":@SECLEVEL=0";
    EXPECT_EQ(SSL_CTX_set_cipher_list(ctx.get(), cipher.c_str()), 1) << cipher;
    if (!probe.suite.empty()) {
      EXPECT_EQ(SSL_CTX_set_ciphersuites(ctx.get(), probe.suite.c_str()), 1) << probe.suite;
    }
    if (!probe.group.empty()) {
      EXPECT_EQ(SSL_CTX_set1_groups_list(ctx.get(), probe.group.c_str()), 1) << probe.group;
    }
    static constexpr unsigned char kAlpn[] = "\x02h2\x08http/1.1";  // as a browser or gRPC
    SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn) - 1);
    const int fd = ConnectLoopback(port);
    EXPECT_GE(fd, 0);
    SSL* ssl = SSL_new(ctx.get());
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    const bool ok = SSL_connect(ssl) == 1;
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return ok;
  }

  // The probes (named `name`) both ports accept; fails the test where the
  // ports disagree.
  std::vector<std::string> AcceptedByBoth(
      const std::vector<std::pair<std::string, Probe>>& probes) {
    std::vector<std::string> accepted;
    for (const auto& [name, probe] : probes) {
      const bool grpc = Handshakes(app_->port(), probe);
      const bool https = Handshakes(app_->http_port(), probe);
      EXPECT_EQ(grpc, https) << name << ": gRPC port " << (grpc ? "accepts" : "refuses")
                             << ", HTTPS port " << (https ? "accepts" : "refuses");
      if (grpc && https) accepted.push_back(name);
    }
    return accepted;
  }

  TestCertificates certs_;
  std::unique_ptr<ServerApp> app_;
};

// Every TLS 1.2 (and older) cipher this OpenSSL can offer, one per probe,
// named by the cipher.
inline std::vector<std::pair<std::string, Probe>> AllTls12CipherProbes() {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  EXPECT_EQ(SSL_CTX_set_cipher_list(ctx.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0"), 1);
  SSL* ssl = SSL_new(ctx.get());
  std::vector<std::pair<std::string, Probe>> probes;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_get_ciphers(ssl);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    if (std::string(SSL_CIPHER_get_version(c)) == "TLSv1.3") continue;
    Probe p = Version(TLS1_2_VERSION);
    p.cipher = SSL_CIPHER_get_name(c);
    probes.emplace_back(p.cipher, p);
  }
  SSL_free(ssl);
  return probes;
}

}  // namespace gqa::testing
