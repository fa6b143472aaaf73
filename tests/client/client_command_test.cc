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

TEST(ClientArgsTest, ChatIsGreedyUnlessTold) {
  absl::StatusOr<ClientOptions> chat = Parse({"chat", "--message", "Hi", "--system", "S"});
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->chat.message, "Hi");
  EXPECT_EQ(chat->chat.system, "S");
  EXPECT_EQ(chat->request.sampling().temperature(), 0.0f);
  EXPECT_FALSE(chat->request.stopping().has_max_tokens());  // the server's: what fits
  chat = Parse({"chat", "--temperature", "0.7", "--max-tokens", "9"});
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->request.sampling().temperature(), 0.7f);
  EXPECT_EQ(chat->request.stopping().max_tokens(), 9);
  // Other commands keep the server's defaults.
  absl::StatusOr<ClientOptions> stream = Parse({"stream", "--prompt", "Hi"});
  EXPECT_FALSE(stream->request.sampling().has_temperature());
  EXPECT_FALSE(stream->request.stopping().has_max_tokens());
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
    std::istringstream in(stdin_);
    return RunClientCommand(*o, *client_, in, out_, err_);
  }
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<GenerationClient> client_;
  std::string stdin_;
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

// chat against a server whose tiny byte model has a ChatML template: the reply
// is the same as generating from the rendered conversation's ids.
class ClientChatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartTestServerWith(TinyByteChatModel());
    ASSERT_NE(app_, nullptr);
    client_ = GenerationClient::Connect(app_->address());
  }
  // Runs `args`, with `input` on stdin; `interactive` as main() sets it for a terminal.
  int Run(std::vector<const char*> args, const std::string& input, bool interactive = false) {
    out_.str("");
    err_.str("");
    absl::StatusOr<ClientOptions> o = Parse(std::move(args));
    EXPECT_TRUE(o.ok()) << o.status();
    o->chat.interactive = interactive;
    std::istringstream in(input);
    return RunClientCommand(*o, *client_, in, out_, err_);
  }
  // The greedy text of `max_tokens` tokens after the ids of `rendered` (byte
  // tokenizer, no BOS), through the plain prompt path.
  std::string Expected(const std::string& rendered, int max_tokens) {
    ByteTokenizer bytes;
    v1::GenerateRequest r = GreedyTextRequest("", max_tokens);
    for (int id : bytes.Encode(rendered, /*add_special_tokens=*/false)) {
      r.mutable_prompt_token_ids()->add_ids(id);
    }
    v1::GenerateResponse response;
    EXPECT_TRUE(client_->Generate(r, &response).ok());
    return response.text();
  }
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<GenerationClient> client_;
  std::ostringstream out_, err_;
};

TEST_F(ClientChatTest, OneShotMessageAndSystem) {
  ASSERT_EQ(Run({"chat", "--system", "Be brief.", "--message", "Hi", "--temperature", "0",
                 "--max-tokens", "6", "--ignore-eos"},
                ""),
            0)
      << err_.str();
  const std::string reply = out_.str();
  EXPECT_EQ(reply, Expected("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi"
                            "<|im_end|>\n<|im_start|>assistant\n",
                            6) +
                       "\n");
  EXPECT_THAT(err_.str(), HasSubstr("6 generated tokens"));
}

TEST_F(ClientChatTest, PipedStdinIsTheMessage) {
  ASSERT_EQ(Run({"chat", "--temperature", "0", "--max-tokens", "4", "--ignore-eos"}, "Hi\n"), 0);
  EXPECT_EQ(out_.str(),
            Expected("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", 4) + "\n");
  EXPECT_EQ(Run({"chat"}, ""), 1);
  EXPECT_THAT(err_.str(), HasSubstr("no message"));
}

TEST_F(ClientChatTest, InteractiveKeepsTheHistory) {
  ASSERT_EQ(Run({"chat", "--temperature", "0", "--max-tokens", "3", "--ignore-eos"},
                "Hi\n\nAgain\n/exit\nnot read\n", /*interactive=*/true),
            0);
  const std::string first = Expected("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", 3);
  const std::string second =
      Expected("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" + first +
                   "<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n",
               3);
  // Prompts, the two replies, the skipped empty line's prompt, and the last prompt.
  EXPECT_EQ(out_.str(), "> " + first + "\n> > " + second + "\n> \n");
}

TEST(ClientUnreachableTest, DeadlineEndsTheCall) {
  auto client = GenerationClient::Connect("127.0.0.1:1");  // nothing listens there
  ClientOptions o;
  o.command = "info";
  o.deadline_seconds = 0.5;
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(RunClientCommand(o, *client, in, out, err), 1);
  EXPECT_THAT(err.str(),
              ::testing::AnyOf(HasSubstr("UNAVAILABLE"), HasSubstr("DEADLINE_EXCEEDED")));
}

}  // namespace
}  // namespace gqa::testing
