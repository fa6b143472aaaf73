// TLS and mutual TLS, end to end: gqa-server's --tls-* options against the
// clients' channel options (client/channel_security.h), with certificates
// made at test time. Refusals are what a client sees: UNAVAILABLE, the
// connection never carries a call.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/channel_security.h"
#include "tests/server/security/test_certificates.h"
#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certs_.Make()) GTEST_SKIP() << "no openssl CLI to make test certificates";
  }

  ServerOptions Options(bool mutual) {
    ServerOptions o = TestServerOptions();
    o.security.tls.cert_file = certs_.Path("server.pem");
    o.security.tls.key_file = certs_.Path("server.key");
    if (mutual) o.security.tls.client_ca_file = certs_.Path("ca.pem");
    return o;
  }

  // GetModelInfo over a channel made from `security`: its status code.
  grpc::StatusCode Call(const ServerApp& app, const ChannelSecurityOptions& security) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(app.address(), security);
    EXPECT_TRUE(channel.ok()) << channel.status();
    if (!channel.ok()) return grpc::StatusCode::UNKNOWN;
    auto stub = v1::Generation::NewStub(*channel);
    grpc::ClientContext ctx;
    SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
    v1::ModelInfo info;
    const grpc::Status s = stub->GetModelInfo(&ctx, v1::GetModelInfoRequest(), &info);
    if (s.ok()) EXPECT_EQ(info.name(), "tiny-test");
    return s.error_code();
  }

  ChannelSecurityOptions Trusting(const std::string& ca) {
    ChannelSecurityOptions c;
    c.ca_file = certs_.Path(ca);
    return c;
  }

  TestCertificates certs_;
};

TEST_F(TlsTest, ServesTlsAndRefusesPlaintextAndUntrustedClients) {
  std::unique_ptr<ServerApp> app = StartTestServer(Options(/*mutual=*/false));
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(Call(*app, Trusting("ca.pem")), grpc::StatusCode::OK);
  // The certificate names localhost too.
  ChannelSecurityOptions by_name = Trusting("ca.pem");
  by_name.server_name = "localhost";
  EXPECT_EQ(Call(*app, by_name), grpc::StatusCode::OK);

  EXPECT_EQ(Call(*app, ChannelSecurityOptions()), grpc::StatusCode::UNAVAILABLE);  // plaintext
  EXPECT_EQ(Call(*app, Trusting("other_ca.pem")), grpc::StatusCode::UNAVAILABLE);  // wrong CA
  ChannelSecurityOptions wrong_name = Trusting("ca.pem");
  wrong_name.server_name = "not-this-server.example";
  EXPECT_EQ(Call(*app, wrong_name), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificateFromTheClientCa) {
  std::unique_ptr<ServerApp> app = StartTestServer(Options(/*mutual=*/true));
  ASSERT_NE(app, nullptr);
  ChannelSecurityOptions client = Trusting("ca.pem");
  client.cert_file = certs_.Path("client.pem");
  client.key_file = certs_.Path("client.key");
  EXPECT_EQ(Call(*app, client), grpc::StatusCode::OK);

  EXPECT_EQ(Call(*app, Trusting("ca.pem")), grpc::StatusCode::UNAVAILABLE);  // no client cert
  ChannelSecurityOptions stranger = Trusting("ca.pem");
  stranger.cert_file = certs_.Path("other_client.pem");  // signed by another CA
  stranger.key_file = certs_.Path("other_client.key");
  EXPECT_EQ(Call(*app, stranger), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(*app, ChannelSecurityOptions()), grpc::StatusCode::UNAVAILABLE);  // plaintext
  // Health stays reachable to a trusted client.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(app->address(), client);
  ASSERT_TRUE(channel.ok());
  EXPECT_EQ(HealthStatus(*channel, ""), 1);
}

TEST_F(TlsTest, BadFilesAreStartupErrorsNamingTheFlag) {
  struct Case {
    std::string cert, key, client_ca, flag, why;
  };
  const std::vector<Case> cases = {
      {"server.pem", "mismatched.key", "", "--tls-key", "does not match the certificate"},
      {"server.pem", "absent.key", "", "--tls-key", "cannot read it"},
      {"absent.pem", "server.key", "", "--tls-cert", "cannot read it"},
      {"server.key", "server.key", "", "--tls-cert", "holds no PEM certificate"},
      {"server.pem", "server.pem", "", "--tls-key", "holds no unencrypted PEM private key"},
      {"server.pem", "server.key", "absent_ca.pem", "--tls-client-ca", "cannot read it"},
      {"server.pem", "server.key", "client.key", "--tls-client-ca", "holds no PEM certificate"},
  };
  for (const Case& c : cases) {
    ServerOptions o = TestServerOptions();
    o.security.tls = {certs_.Path(c.cert), certs_.Path(c.key),
                      c.client_ca.empty() ? "" : certs_.Path(c.client_ca)};
    std::ostringstream log;
    absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(o, log);
    EXPECT_EQ(app.status().code(), absl::StatusCode::kInvalidArgument) << c.flag << " " << c.why;
    EXPECT_THAT(app.status().message(), HasSubstr(c.flag)) << c.why;
    EXPECT_THAT(app.status().message(), HasSubstr(c.why)) << c.flag;
  }
}

TEST_F(TlsTest, ClientFlagErrorsNameTheFlag) {
  ChannelSecurityOptions half;
  half.cert_file = certs_.Path("client.pem");
  EXPECT_THAT(MakeChannel("localhost:1", half).status().message(),
              HasSubstr("--tls-cert and --tls-key go together"));
  ChannelSecurityOptions absent = Trusting("absent.pem");
  EXPECT_THAT(MakeChannel("localhost:1", absent).status().message(),
              HasSubstr("--tls-ca " + certs_.Path("absent.pem") + ": cannot read it"));
}

}  // namespace
}  // namespace gqa::testing
