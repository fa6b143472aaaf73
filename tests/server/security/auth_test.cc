// --api-key-file on the gRPC server: every gqa.v1.Generation method needs
// "authorization: Bearer <key>"; health stays open; SIGHUP reloads the keys;
// the clients' --api-key-file sends it; no key reaches the log.
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "client/channel_security.h"
#include "tests/server/server_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path + ".new", std::ios::trunc) << text;
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
}

// A unary call of `method` with an empty request message and `authorization`
// metadata (none when empty), over the generic stub: works for every method
// of the descriptor, server-streaming ones included (the status is what counts).
grpc::Status CallWithEmptyRequest(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& method,
                                  const std::vector<std::string>& authorization) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  for (const std::string& a : authorization) ctx.AddMetadata("authorization", a);
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return status;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_file_ = dir_.File("keys");
    Write(key_file_, "# test keys\nkey-alpha-123\nkey-beta-456\n");
    ServerOptions o = TestServerOptions();
    o.security.api_key_file = key_file_;
    absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(o, log_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = *std::move(app);
    ASSERT_TRUE(app_->Serve(TinyByteModel(), log_).ok());
  }

  std::shared_ptr<grpc::Channel> ChannelWithKeyFile(const std::string& text) {
    const std::string path = dir_.File("client_key");
    Write(path, text);
    ChannelSecurityOptions security;
    security.api_key_file = path;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(app_->address(), security);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *channel : nullptr;
  }

  ScratchDir dir_;
  std::string key_file_;
  std::ostringstream log_;
  std::unique_ptr<ServerApp> app_;
};

TEST_F(AuthTest, EveryGenerationMethodNeedsAKey) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("gqa.v1.Generation");
  ASSERT_NE(service, nullptr);
  ASSERT_GE(service->method_count(), 4);
  std::shared_ptr<grpc::Channel> channel = Connect(*app_);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = "/gqa.v1.Generation/" + service->method(i)->name();
    for (const std::vector<std::string>& authorization :
         std::vector<std::vector<std::string>>{{},
                                               {"Bearer wrong-key"},
                                               {"key-alpha-123"},  // no scheme
                                               {"Basic key-alpha-123"},
                                               {"Bearer key-alpha-12"},
                                               {"Bearer key-alpha-123", "Bearer key-beta-456"}}) {
      const grpc::Status s = CallWithEmptyRequest(channel, method, authorization);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with " << authorization.size() << " headers";
      // Never echoes what was sent.
      EXPECT_THAT(s.error_message(), Not(HasSubstr("alpha")));
      EXPECT_THAT(s.error_message(), Not(HasSubstr("wrong")));
    }
    // With a key the call reaches the service (which may refuse the empty
    // request, but never as unauthenticated or unimplemented).
    const grpc::Status s = CallWithEmptyRequest(channel, method, {"Bearer key-beta-456"});
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << method;
  }
}

TEST_F(AuthTest, TheClientsKeyFileAuthenticatesEveryCall) {
  std::shared_ptr<grpc::Channel> channel = ChannelWithKeyFile("\n# mine\n key-beta-456 \n");
  auto stub = v1::Generation::NewStub(channel);
  v1::GenerateResponse unary;
  ASSERT_TRUE(Generate(*stub, GreedyTextRequest("Hi", 5), &unary).ok());
  EXPECT_EQ(unary.token_ids_size(), 5);
  std::vector<v1::GenerateResponse> streamed;
  ASSERT_TRUE(Stream(*stub, GreedyTextRequest("Hi", 5), &streamed).ok());
  EXPECT_THAT(Join(streamed).token_ids(), ::testing::ElementsAreArray(unary.token_ids()));

  auto wrong = v1::Generation::NewStub(ChannelWithKeyFile("key-gamma-789\n"));
  v1::GenerateResponse r;
  EXPECT_EQ(Generate(*wrong, GreedyTextRequest("Hi", 5), &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::vector<v1::GenerateResponse> none;
  EXPECT_EQ(Stream(*wrong, GreedyTextRequest("Hi", 5), &none).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(none.empty());
}

TEST_F(AuthTest, HealthStaysOpen) {
  EXPECT_EQ(HealthStatus(Connect(*app_), ""), 1);
  EXPECT_EQ(HealthStatus(Connect(*app_), "gqa.v1.Generation"), 1);
}

TEST_F(AuthTest, SighupReloadsTheKeys) {
  auto stub = v1::Generation::NewStub(ChannelWithKeyFile("key-new-000\n"));
  grpc::ClientContext before;
  v1::ModelInfo info;
  EXPECT_EQ(stub->GetModelInfo(&before, v1::GetModelInfoRequest(), &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  Write(key_file_, "key-new-000\n");
  ASSERT_EQ(std::raise(SIGHUP), 0);  // ServerApp::Start installed the handler
  grpc::ClientContext after;
  EXPECT_TRUE(stub->GetModelInfo(&after, v1::GetModelInfoRequest(), &info).ok());
  // The old keys are gone.
  EXPECT_EQ(CallWithEmptyRequest(Connect(*app_), "/gqa.v1.Generation/GetModelInfo",
                                 {"Bearer key-alpha-123"})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, NoKeyInTheLog) {
  EXPECT_THAT(log_.str(), HasSubstr("API keys required (2 keys"));
  EXPECT_THAT(log_.str(), Not(HasSubstr("key-alpha")));
  EXPECT_THAT(log_.str(), Not(HasSubstr("key-beta")));
}

TEST(AuthStartupTest, AKeyFileWithoutKeysIsAStartupError) {
  ScratchDir dir;
  std::ofstream(dir.File("keys")) << "# nothing yet\n";
  ServerOptions o = TestServerOptions();
  o.security.api_key_file = dir.File("keys");
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(o, log);
  EXPECT_EQ(app.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(app.status().message(), HasSubstr("--api-key-file " + dir.File("keys")));
}

}  // namespace
}  // namespace gqa::testing
