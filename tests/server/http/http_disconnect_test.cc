// A client that hangs up aborts its request before the engine's next step,
// streaming or not, and every KV block comes back. As in the gRPC
// cancellation test, the StepGate holds the engine right after the step that
// produced the first token and opens only once the abort is queued, so the
// request must end with exactly one generated token. The same over HTTPS: the
// hang-up shows on the socket under the TLS session just the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/cleanup/cleanup.h"
#include "tests/server/http/https_test_util.h"

namespace gqa::testing {
namespace {

bool AllFree(const ServiceStats& s) {
  return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total;
}

struct Transport {
  bool stream;
  bool tls;
};

class HttpDisconnectTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    ServerOptions o = HttpTestServerOptions();
    if (GetParam().tls) {
      if (!certs_.Make()) GTEST_SKIP() << "no openssl CLI to make test certificates";
      o.security.tls.cert_file = certs_.Path("server.pem");
      o.security.tls.key_file = certs_.Path("server.key");
      client_tls_ = ClientTlsContext(certs_.Path("ca.pem"));
    }
    app_ = StartTestServerWith(TinyByteChatModel(), o, &gate_);
    ASSERT_NE(app_, nullptr);
  }
  void TearDown() override { gate_.Open(); }  // never leave the engine held

  std::unique_ptr<httplib::Client> Client() {
    return GetParam().tls ? HttpsClient(*app_, certs_) : HttpClient(*app_);
  }

  TestCertificates certs_;
  SslCtxPtr client_tls_;  // null: plaintext
  StepGate gate_;
  std::unique_ptr<ServerApp> app_;
};

TEST_P(HttpDisconnectTest, HangingUpAbortsWithinOneStepAndFreesEveryBlock) {
  const bool stream = GetParam().stream;
  gate_.CloseOnFirstToken();
  RawConnection client(app_->http_port(), client_tls_.get());
  client.SendPost("/v1/completions", json{{"prompt", std::string(40, 'a')},
                                          {"max_tokens", 200},
                                          {"temperature", 0},
                                          {"ignore_eos", true},
                                          {"stream", stream}}
                                         .dump());
  ASSERT_TRUE(gate_.WaitUntilHeld());
  if (stream) {
    // The first token's chunk went out while the engine is held.
    const std::string got = client.ReadUntil("\"text_completion\"");
    EXPECT_THAT(got, ::testing::HasSubstr("HTTP/1.1 200 OK"));
  }
  EXPECT_LT(app_->engine()->Stats().num_kv_blocks_free,
            app_->engine()->Stats().num_kv_blocks_total);
  client.Close();
  // The server saw the hang-up and queued the abort; only then may the engine go on.
  ASSERT_TRUE(app_->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_aborts_pending == 1; }, kWait));
  gate_.Open();
  ASSERT_TRUE(app_->engine()->WaitFor(AllFree, kWait));
  const std::vector<StepGate::Finished> finished = gate_.finished();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].reason, FinishReason::kAborted);
  EXPECT_EQ(finished[0].generation_tokens, 1);  // no step ran after the hang-up

  // The server is unharmed: the next request is answered in full.
  auto http = Client();
  httplib::Result r =
      PostJson(*http, "/v1/completions", {{"prompt", "b"}, {"max_tokens", 3}, {"stream", stream}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

INSTANTIATE_TEST_SUITE_P(StreamingOrNotPlainOrTls, HttpDisconnectTest,
                         ::testing::Values(Transport{true, false}, Transport{false, false},
                                           Transport{true, true}, Transport{false, true}),
                         [](const ::testing::TestParamInfo<Transport>& p) {
                           return std::string(p.param.stream ? "Streaming" : "NonStreaming") +
                                  (p.param.tls ? "Https" : "Http");
                         });

}  // namespace
}  // namespace gqa::testing
