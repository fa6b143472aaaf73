// HTTPS on the HTTP port: --tls-cert/--tls-key (and --tls-client-ca) serve the
// OpenAI API over TLS with the gRPC port's certificate, through cpp-httplib's
// own TLS client: completions streamed (SSE) and not, with texts equal to the
// gRPC API's; plain HTTP to the HTTPS port answered with a clear 400 and
// closed; an untrusted server refused by the client; mutual TLS (no client
// certificate or one from another CA: no request is served); API keys over
// HTTPS. Hang-ups over TLS: http_disconnect_test.cc; the TLS policy against
// gRPC's: https_policy_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "client/channel_security.h"
#include "tests/server/http/https_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

const json kGreedy = {
    {"prompt", "Hello"}, {"max_tokens", 6}, {"temperature", 0}, {"ignore_eos", true}};

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certs_.Make()) GTEST_SKIP() << "no openssl CLI to make test certificates";
  }

  ServerOptions Options(bool mutual) {
    ServerOptions o = HttpTestServerOptions();
    o.security.tls.cert_file = certs_.Path("server.pem");
    o.security.tls.key_file = certs_.Path("server.key");
    if (mutual) o.security.tls.client_ca_file = certs_.Path("ca.pem");
    return o;
  }

  // The gRPC port's greedy text for kGreedy, over TLS (mutual with `client`).
  std::string GrpcText(const ServerApp& app, const std::string& client = "") {
    ChannelSecurityOptions security;
    security.ca_file = certs_.Path("ca.pem");
    if (!client.empty()) {
      security.cert_file = certs_.Path(client + ".pem");
      security.key_file = certs_.Path(client + ".key");
    }
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(app.address(), security);
    EXPECT_TRUE(channel.ok()) << channel.status();
    if (!channel.ok()) return "";
    auto stub = v1::Generation::NewStub(*channel);
    v1::GenerateResponse r;
    const grpc::Status s = Generate(*stub, GreedyTextRequest("Hello", 6), &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.text();
  }

  TestCertificates certs_;
};

TEST_F(HttpsTest, ServesCompletionsStreamedAndNotAsTheGrpcPortDoes) {
  std::unique_ptr<ServerApp> app = StartTestServer(Options(/*mutual=*/false));
  ASSERT_NE(app, nullptr);
  const std::string grpc_text = GrpcText(*app);
  ASSERT_FALSE(grpc_text.empty());
  auto https = HttpsClient(*app, certs_);

  httplib::Result health = https->Get("/health");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);

  httplib::Result r = PostJson(*https, "/v1/completions", kGreedy);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200) << r->body;
  const json completion = json::parse(r->body);
  EXPECT_EQ(completion["choices"][0]["text"], grpc_text);
  EXPECT_EQ(completion["usage"]["completion_tokens"], 6);

  json streamed = kGreedy;
  streamed["stream"] = true;
  r = PostJson(*https, "/v1/completions", streamed);  // the same connection, kept alive
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  const std::vector<json> events = SseEvents(r->body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    text += events[i]["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, grpc_text);
}

TEST_F(HttpsTest, PlainHttpToTheHttpsPortIsAnsweredWith400AndClosed) {
  std::unique_ptr<ServerApp> app = StartTestServer(Options(/*mutual=*/false));
  ASSERT_NE(app, nullptr);
  auto plain = HttpClient(*app);
  for (int i = 0; i < 2; ++i) {  // the server is unharmed by the first
    httplib::Result r = PostJson(*plain, "/v1/completions", kGreedy);
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->get_header_value("Connection"), "close");
    const json e = json::parse(r->body);
    EXPECT_EQ(e["error"]["type"], "invalid_request_error");
    EXPECT_THAT(e["error"]["message"].get<std::string>(), HasSubstr("this port serves HTTPS"));
  }
  // Nothing reached the engine; HTTPS still works.
  EXPECT_EQ(app->engine()->Stats().num_steps, 0);
  httplib::Result r = PostJson(*HttpsClient(*app, certs_), "/v1/completions", kGreedy);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsTest, AClientThatDoesNotTrustTheServerRefusesIt) {
  std::unique_ptr<ServerApp> app = StartTestServer(Options(/*mutual=*/false));
  ASSERT_NE(app, nullptr);
  auto https = HttpsClient(*app, certs_);
  https->set_ca_cert_path(certs_.Path("other_ca.pem"));
  httplib::Result r = https->Get("/health");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), httplib::Error::SSLServerVerification);
}

TEST_F(HttpsTest, MutualTlsNeedsAClientCertificateFromTheClientCa) {
  std::unique_ptr<ServerApp> app = StartTestServer(Options(/*mutual=*/true));
  ASSERT_NE(app, nullptr);
  httplib::Result r = PostJson(*HttpsClient(*app, certs_, "client"), "/v1/completions", kGreedy);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["choices"][0]["text"], GrpcText(*app, "client"));

  const int64_t steps = app->engine()->Stats().num_steps;
  for (const std::string& refused : {std::string(), std::string("other_client")}) {
    SCOPED_TRACE(refused.empty() ? "no client certificate" : refused);
    httplib::Result no = PostJson(*HttpsClient(*app, certs_, refused), "/v1/completions", kGreedy);
    EXPECT_FALSE(no) << no->status;
    // /health too: a refused handshake serves nothing.
    EXPECT_FALSE(HttpsClient(*app, certs_, refused)->Get("/health"));
  }
  EXPECT_EQ(app->engine()->Stats().num_steps, steps);
}

TEST_F(HttpsTest, ApiKeysOverHttps) {
  ServerOptions o = Options(/*mutual=*/false);
  o.security.api_key_file = certs_.Path("keys");
  std::ofstream(o.security.api_key_file) << "key-alpha-123\n";
  std::unique_ptr<ServerApp> app = StartTestServer(o);
  ASSERT_NE(app, nullptr);
  auto https = HttpsClient(*app, certs_);
  httplib::Result r = https->Post("/v1/completions", kGreedy.dump(), "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "invalid_api_key");
  https = HttpsClient(*app, certs_);
  https->set_bearer_token_auth("key-alpha-123");
  r = PostJson(*https, "/v1/completions", kGreedy);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["usage"]["completion_tokens"], 6);
}

TEST_F(HttpsTest, StartupLogSaysHttps) {
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(Options(/*mutual=*/false), log);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_THAT(log.str(), HasSubstr("gqa-server: HTTPS (OpenAI API) listening on"));
}

}  // namespace
}  // namespace gqa::testing
