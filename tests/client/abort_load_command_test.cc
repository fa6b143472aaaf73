// gqa-client abort and load: their arguments, and both against an in-process
// server (the StepGate holds a request live while `abort` names it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "client/client_command.h"
#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<ClientOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "gqa-client");
  return ParseClientArgs(static_cast<int>(args.size()), args.data());
}

TEST(AbortLoadArgsTest, AbortTakesTheIdsAfterIt) {
  absl::StatusOr<ClientOptions> o = Parse({"abort", "job-1", "job-2"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, "abort");
  EXPECT_THAT(o->abort.request_ids(), ElementsAre("job-1", "job-2"));
  EXPECT_THAT(std::string(Parse({"abort"}).status().message()), HasSubstr("request ids"));
  EXPECT_TRUE(Parse({"load"}).ok());
  EXPECT_THAT(std::string(Parse({"load", "x"}).status().message()), HasSubstr("'x'"));
}

class AbortLoadCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartTestServer(TestServerOptions(), &gate_);
    ASSERT_NE(app_, nullptr);
    client_ = GenerationClient::Connect(app_->address());
  }
  void TearDown() override { gate_.Open(); }
  int Run(std::vector<const char*> args) {
    out_.str("");
    err_.str("");
    absl::StatusOr<ClientOptions> o = Parse(std::move(args));
    EXPECT_TRUE(o.ok()) << o.status();
    std::istringstream in;
    return RunClientCommand(*o, *client_, in, out_, err_);
  }
  StepGate gate_;
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<GenerationClient> client_;
  std::ostringstream out_, err_;
};

TEST_F(AbortLoadCommandTest, LoadPrintsEveryFieldZerosIncluded) {
  ASSERT_EQ(Run({"load"}), 0);
  const int total = app_->engine()->info().num_kv_blocks;
  EXPECT_THAT(out_.str(), HasSubstr("num_running_requests: 0\nnum_waiting_requests: 0\n"));
  EXPECT_THAT(out_.str(), HasSubstr("num_kv_blocks_total: " + std::to_string(total) + "\n"));
  EXPECT_THAT(out_.str(), HasSubstr("num_kv_blocks_used: 0\n"));
  EXPECT_THAT(out_.str(), HasSubstr("draining: false\n"));
}

TEST_F(AbortLoadCommandTest, AbortPrintsTheLiveIdsItEnded) {
  ASSERT_EQ(Run({"abort", "nobody"}), 0);
  EXPECT_EQ(out_.str(), "");
  EXPECT_THAT(err_.str(), HasSubstr("0 of 1 ids"));

  gate_.CloseOnFirstToken();
  v1::GenerateRequest request = GreedyTextRequest("a long one", 200);
  request.set_request_id("job-7");
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  auto stub = NewStub(*app_);
  auto reader = stub->GenerateStream(&ctx, request);
  v1::GenerateResponse m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(gate_.WaitUntilHeld());
  ASSERT_EQ(Run({"abort", "job-7", "nobody"}), 0);
  EXPECT_EQ(out_.str(), "job-7\n");
  EXPECT_THAT(err_.str(), HasSubstr("1 of 2 ids"));
  gate_.Open();
  v1::GenerateResponse last = m;
  while (reader->Read(&m)) last = m;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_ABORTED);
}

}  // namespace
}  // namespace gqa::testing
