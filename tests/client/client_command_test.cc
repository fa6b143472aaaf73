// gqa-client's flag parsing, and its commands against an in-process server.
#include "client/client_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ClientOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "gqa-client");
  return ParseClientArgs(static_cast<int>(args.size()), args.data());
}

TEST(ClientArgsTest, FlagsFillTheRequest) {
  absl::StatusOr<ClientOptions> o = Parse({"--server",
                                           "h:1",
                                           "--deadline",
                                           "2.5",
                                           "stream",
                                           "--prompt",
                                           "Hi",
                                           "--max-tokens",
                                           "7",
                                           "--temperature",
                                           "0",
                                           "--top-k",
                                           "5",
                                           "--seed",
                                           "9",
                                           "--stop",
                                           "a",
                                           "--stop=b",
                                           "--stop-token-ids",
                                           "3,4",
                                           "--ignore-eos",
                                           "--top-logprobs",
                                           "2",
                                           "--priority",
                                           "-1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->server, "h:1");
  EXPECT_EQ(o->deadline_seconds, 2.5);
  EXPECT_EQ(o->command, "stream");
  const v1::GenerateRequest& r = o->request;
  EXPECT_EQ(r.prompt(), "Hi");
  EXPECT_EQ(r.stopping().max_tokens(), 7);
  EXPECT_TRUE(r.sampling().has_temperature());
  EXPECT_EQ(r.sampling().temperature(), 0.0f);
  EXPECT_EQ(r.sampling().top_k(), 5);
  EXPECT_EQ(r.sampling().seed(), 9u);
  EXPECT_FALSE(r.sampling().has_top_p());  // not given: the server's default
  ASSERT_EQ(r.stopping().stop_size(), 2);
  EXPECT_EQ(r.stopping().stop(1), "b");
  EXPECT_EQ(r.stopping().stop_token_ids_size(), 2);
  EXPECT_TRUE(r.stopping().ignore_eos());
  EXPECT_EQ(r.top_logprobs(), 2);
  EXPECT_EQ(r.priority(), -1);
}

TEST(ClientArgsTest, ErrorsNameTheProblem) {
  EXPECT_THAT(std::string(Parse({"fly"}).status().message()), HasSubstr("unknown command 'fly'"));
  EXPECT_THAT(std::string(Parse({}).status().message()), HasSubstr("one command"));
  EXPECT_THAT(std::string(Parse({"generate", "--top-k", "x"}).status().message()),
              HasSubstr("--top-k"));
  EXPECT_THAT(std::string(Parse({"generate", "--prompt-ids", "1,x"}).status().message()),
              HasSubstr("--prompt-ids"));
  EXPECT_TRUE(Parse({"--help"})->help);
}

class ClientCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartTestServer();
    ASSERT_NE(app_, nullptr);
    client_ = GenerationClient::Connect(app_->address());
  }
  int Run(std::vector<const char*> args) {
    out_.str("");
    err_.str("");
    absl::StatusOr<ClientOptions> o = Parse(std::move(args));
    EXPECT_TRUE(o.ok()) << o.status();
    return RunClientCommand(*o, *client_, out_, err_);
  }
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<GenerationClient> client_;
  std::ostringstream out_, err_;
};

TEST_F(ClientCommandTest, GenerateAndStreamPrintTheSameIds) {
  ASSERT_EQ(Run({"generate", "--prompt", "Hello", "--max-tokens", "9", "--temperature", "0",
                 "--ignore-eos", "--print-ids"}),
            0);
  const std::string unary = out_.str();
  EXPECT_THAT(err_.str(), HasSubstr("finish: length; 6 prompt + 9 generated tokens"));
  ASSERT_EQ(Run({"stream", "--prompt", "Hello", "--max-tokens", "9", "--temperature", "0",
                 "--ignore-eos", "--print-ids"}),
            0);
  EXPECT_EQ(out_.str(), unary);
  EXPECT_EQ(std::count(unary.begin(), unary.end(), ' '), 9);
}

TEST_F(ClientCommandTest, TokenizeInfoAndErrors) {
  ASSERT_EQ(Run({"tokenize", "--prompt", "ab"}), 0);
  EXPECT_EQ(out_.str(), "1 100 101\n");
  ASSERT_EQ(Run({"tokenize", "--prompt", "ab", "--no-special-tokens"}), 0);
  EXPECT_EQ(out_.str(), "100 101\n");
  ASSERT_EQ(Run({"info"}), 0);
  EXPECT_THAT(out_.str(), HasSubstr("n_kv_heads: 2"));
  EXPECT_EQ(Run({"generate", "--prompt", "x", "--top-p", "2"}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("INVALID_ARGUMENT: sampling.top_p"));
}

TEST(ClientUnreachableTest, DeadlineEndsTheCall) {
  auto client = GenerationClient::Connect("127.0.0.1:1");  // nothing listens there
  ClientOptions o;
  o.command = "info";
  o.deadline_seconds = 0.5;
  std::ostringstream out, err;
  EXPECT_EQ(RunClientCommand(o, *client, out, err), 1);
  EXPECT_THAT(err.str(),
              ::testing::AnyOf(HasSubstr("UNAVAILABLE"), HasSubstr("DEADLINE_EXCEEDED")));
}

}  // namespace
}  // namespace gqa::testing
