// The abuse limits, each at its edge and one past it: --max-message-bytes
// (gRPC's RESOURCE_EXHAUSTED), --max-prompt-bytes and --max-prompt-tokens
// (INVALID_ARGUMENT naming the field), --max-concurrent-streams (the
// connection holds the extra call until a stream closes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;
namespace health = grpc::health::v1;

constexpr auto kWaitMs = std::chrono::duration_cast<std::chrono::milliseconds>(kWait);

TEST(LimitsTest, MaxMessageBytes) {
  ServerOptions o = TestServerOptions();
  o.security.max_message_bytes = 1000;
  std::unique_ptr<ServerApp> app = StartTestServer(o);
  ASSERT_NE(app, nullptr);
  auto stub = NewStub(*app);
  v1::TokenizeRequest request;
  request.set_text(std::string(990, 'a'));
  while (request.ByteSizeLong() < 1000) request.mutable_text()->push_back('a');
  ASSERT_EQ(request.ByteSizeLong(), 1000u);
  {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kWaitMs);
    v1::TokenizeResponse response;
    ASSERT_TRUE(stub->Tokenize(&ctx, request, &response).ok());
    EXPECT_EQ(response.token_ids_size(), static_cast<int>(request.text().size()) + 1);  // + BOS
  }
  request.mutable_text()->push_back('a');  // 1001 bytes
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kWaitMs);
  v1::TokenizeResponse response;
  EXPECT_EQ(stub->Tokenize(&ctx, request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

class PromptLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServerOptions o = TestServerOptions();
    o.security.prompt.max_prompt_bytes = 64;
    o.security.prompt.max_prompt_tokens = 200;  // a chat of 64 bytes renders to ~110
    app_ = StartTestServerWith(TinyByteChatModel(), o).release();
  }
  static void TearDownTestSuite() {
    delete app_;
    app_ = nullptr;
  }
  static grpc::Status Unary(const v1::GenerateRequest& r) {
    v1::GenerateResponse response;
    return Generate(*NewStub(*app_), r, &response);
  }
  static grpc::Status Streamed(const v1::GenerateRequest& r) {
    std::vector<v1::GenerateResponse> messages;
    return Stream(*NewStub(*app_), r, &messages);
  }
  static v1::GenerateRequest Chat(const std::string& content) {
    v1::GenerateRequest r = GreedyTextRequest("", 2);
    v1::ChatMessage* m = r.mutable_chat()->add_messages();
    m->set_role("user");
    m->set_content(content);
    return r;
  }
  static v1::GenerateRequest Ids(int n) {
    v1::GenerateRequest r = GreedyTextRequest("", 2);
    for (int i = 0; i < n; ++i) r.mutable_prompt_token_ids()->add_ids(65);
    return r;
  }
  static ServerApp* app_;
};
ServerApp* PromptLimitsTest::app_ = nullptr;

TEST_F(PromptLimitsTest, PromptBytes) {
  ASSERT_NE(app_, nullptr);
  EXPECT_TRUE(Unary(GreedyTextRequest(std::string(64, 'x'), 2)).ok());
  for (const grpc::Status& s : {Unary(GreedyTextRequest(std::string(65, 'x'), 2)),
                                Streamed(GreedyTextRequest(std::string(65, 'x'), 2))}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("prompt: 65 bytes, more than the 64"));
    EXPECT_THAT(s.error_message(), HasSubstr("--max-prompt-bytes"));
  }
}

TEST_F(PromptLimitsTest, ChatBytesCountRolesAndContents) {
  ASSERT_NE(app_, nullptr);
  const grpc::Status at_edge = Unary(Chat(std::string(60, 'x')));  // "user" + 60 = 64
  EXPECT_TRUE(at_edge.ok()) << at_edge.error_message();
  const grpc::Status s = Streamed(Chat(std::string(61, 'x')));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("chat: 65 bytes"));
}

TEST_F(PromptLimitsTest, PromptTokens) {
  ASSERT_NE(app_, nullptr);
  EXPECT_TRUE(Unary(Ids(200)).ok());
  for (const grpc::Status& s : {Unary(Ids(201)), Streamed(Ids(201))}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(),
                HasSubstr("prompt_token_ids: 201 tokens, more than the 200 this server takes "
                          "(--max-prompt-tokens)"));
  }
}

TEST(PromptTokensTest, TextPromptsCountTokensAfterTokenizing) {
  ServerOptions o = TestServerOptions();
  o.security.prompt.max_prompt_tokens = 10;
  std::unique_ptr<ServerApp> app = StartTestServer(o);
  ASSERT_NE(app, nullptr);
  auto stub = NewStub(*app);
  v1::GenerateResponse r;
  EXPECT_TRUE(Generate(*stub, GreedyTextRequest("123456789", 2), &r).ok());  // BOS + 9
  const grpc::Status s = Generate(*stub, GreedyTextRequest("1234567890", 2), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("prompt: 11 tokens"));
}

// Opens grpc.health.v1 Watch streams, which stay open until cancelled.
struct OpenWatch {
  explicit OpenWatch(health::Health::Stub& stub) {
    SetDeadline(&ctx, kWaitMs);
    reader = stub.Watch(&ctx, health::HealthCheckRequest());
    health::HealthCheckResponse first;
    ok = reader->Read(&first) && first.status() == health::HealthCheckResponse::SERVING;
  }
  void Close() {
    ctx.TryCancel();
    health::HealthCheckResponse more;
    while (reader->Read(&more)) {
    }
    reader->Finish().IgnoreError();
  }
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<health::HealthCheckResponse>> reader;
  bool ok = false;
};

grpc::StatusCode Check(health::Health::Stub& stub, std::chrono::milliseconds deadline) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, deadline);
  health::HealthCheckResponse response;
  return stub.Check(&ctx, health::HealthCheckRequest(), &response).error_code();
}

TEST(ConcurrentStreamsTest, AtTheLimitEveryStreamRuns) {
  ServerOptions o = TestServerOptions();
  o.security.max_concurrent_streams = 3;
  std::unique_ptr<ServerApp> app = StartTestServer(o);
  ASSERT_NE(app, nullptr);
  auto stub = health::Health::NewStub(Connect(*app));      // one channel: one connection
  ASSERT_EQ(Check(*stub, kWaitMs), grpc::StatusCode::OK);  // the server's SETTINGS are in
  OpenWatch a(*stub), b(*stub);
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_EQ(Check(*stub, kWaitMs), grpc::StatusCode::OK);  // the third of 3
  a.Close();
  b.Close();
}

TEST(ConcurrentStreamsTest, PastTheLimitACallWaitsForAStreamToClose) {
  ServerOptions o = TestServerOptions();
  o.security.max_concurrent_streams = 2;
  std::unique_ptr<ServerApp> app = StartTestServer(o);
  ASSERT_NE(app, nullptr);
  auto stub = health::Health::NewStub(Connect(*app));
  ASSERT_EQ(Check(*stub, kWaitMs), grpc::StatusCode::OK);
  OpenWatch a(*stub), b(*stub);
  ASSERT_TRUE(a.ok && b.ok);
  // A third stream cannot start while both are open: its deadline passes.
  EXPECT_EQ(Check(*stub, std::chrono::milliseconds(300)), grpc::StatusCode::DEADLINE_EXCEEDED);
  a.Close();
  EXPECT_EQ(Check(*stub, kWaitMs), grpc::StatusCode::OK);
  b.Close();
}

}  // namespace
}  // namespace gqa::testing
