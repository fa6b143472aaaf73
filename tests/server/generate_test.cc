// Generate and GenerateStream end to end on loopback: unary vs streaming,
// seeds, concurrency, stop strings, logprobs, and the small RPCs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "engine/serving/text_stream.h"
#include "engine/tokenizer/utf8.h"
#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartTestServer();
    ASSERT_NE(app_, nullptr);
    stub_ = NewStub(*app_);
  }
  // Every request finished: nothing active, every KV block free.
  void ExpectAllBlocksFree() {
    EXPECT_TRUE(app_->engine()->WaitFor(
        [](const ServiceStats& s) {
          return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total;
        },
        kWait));
  }

  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::Generation::Stub> stub_;
};

TEST_F(GenerateTest, UnaryReturnsTheWholeCompletion) {
  v1::GenerateRequest request = GreedyTextRequest("Hello", 12);
  request.set_request_id("my-id");
  v1::GenerateResponse r;
  ASSERT_TRUE(Generate(*stub_, request, &r).ok());
  EXPECT_EQ(r.request_id(), "my-id");
  EXPECT_EQ(r.token_ids_size(), 12);
  EXPECT_EQ(r.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(r.usage().prompt_tokens(), 6);  // BOS + 5 bytes
  EXPECT_EQ(r.usage().completion_tokens(), 12);
  EXPECT_EQ(r.usage().cached_prompt_tokens(), 0);
  EXPECT_EQ(r.usage().num_preemptions(), 0);
  EXPECT_GE(r.usage().e2e_seconds(), r.usage().time_to_first_token_seconds());
  // The text is what the tokenizer makes of the ids (valid UTF-8 throughout).
  ByteTokenizer tok;
  const std::vector<int> ids(r.token_ids().begin(), r.token_ids().end());
  EXPECT_EQ(r.text(), Utf8ReplaceInvalid(tok.Decode(ids)));
  ExpectAllBlocksFree();
}

TEST_F(GenerateTest, StreamSendsDeltasAndEndsWithReasonAndUsage) {
  std::vector<v1::GenerateResponse> messages;
  ASSERT_TRUE(Stream(*stub_, GreedyTextRequest("Hello", 20), &messages).ok());
  // How many messages depends on how fast the client reads: deltas that pile
  // up while a write is in flight go out together (cancellation_test shows
  // the first token leaving while the engine is held).
  ASSERT_GE(messages.size(), 1u);
  for (size_t i = 0; i + 1 < messages.size(); ++i) {
    EXPECT_EQ(messages[i].finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
    EXPECT_FALSE(messages[i].has_usage());
  }
  EXPECT_EQ(messages.back().finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(messages.back().usage().completion_tokens(), 20);
  EXPECT_EQ(Join(messages).token_ids_size(), 20);
}

TEST_F(GenerateTest, StreamedTextEqualsUnaryTextForTheSameSeed) {
  v1::GenerateRequest request;
  request.set_prompt("Once upon a time");
  request.mutable_sampling()->set_temperature(0.9f);
  request.mutable_sampling()->set_top_p(0.95f);
  request.mutable_sampling()->set_seed(1234);
  request.mutable_stopping()->set_max_tokens(40);
  request.mutable_stopping()->set_ignore_eos(true);
  v1::GenerateResponse unary;
  ASSERT_TRUE(Generate(*stub_, request, &unary).ok());
  std::vector<v1::GenerateResponse> messages;
  ASSERT_TRUE(Stream(*stub_, request, &messages).ok());
  const v1::GenerateResponse streamed = Join(messages);
  EXPECT_THAT(streamed.token_ids(), ElementsAreArray(unary.token_ids()));
  EXPECT_EQ(streamed.text(), unary.text());
  EXPECT_EQ(streamed.finish_reason(), unary.finish_reason());

  request.mutable_sampling()->set_seed(99);  // another seed, another completion
  v1::GenerateResponse other;
  ASSERT_TRUE(Generate(*stub_, request, &other).ok());
  EXPECT_NE(std::vector<int>(other.token_ids().begin(), other.token_ids().end()),
            std::vector<int>(unary.token_ids().begin(), unary.token_ids().end()));
}

TEST_F(GenerateTest, ConcurrentRequestsMatchTheirSoloRuns) {
  constexpr int kThreads = 6, kPerThread = 3;
  auto request_for = [](int i) {
    v1::GenerateRequest r = GreedyTextRequest(
        "prompt number " + std::to_string(i) + std::string(i % 4 * 7, 'x'), 10 + i % 5 * 6);
    if (i % 3 == 0) {  // some seeded sampling too
      r.mutable_sampling()->set_temperature(1.0f);
      r.mutable_sampling()->set_seed(i);
    }
    return r;
  };
  std::vector<v1::GenerateResponse> solo(kThreads * kPerThread);
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ASSERT_TRUE(Generate(*stub_, request_for(i), &solo[i]).ok());
  }
  std::vector<v1::GenerateResponse> together(kThreads * kPerThread);
  std::vector<grpc::Status> statuses(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = NewStub(*app_);
      for (int k = 0; k < kPerThread; ++k) {
        const int i = t * kPerThread + k;
        if (i % 2) {
          statuses[i] = Generate(*stub, request_for(i), &together[i]);
        } else {
          std::vector<v1::GenerateResponse> messages;
          statuses[i] = Stream(*stub, request_for(i), &messages);
          together[i] = Join(messages);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    EXPECT_THAT(together[i].token_ids(), ElementsAreArray(solo[i].token_ids())) << i;
    EXPECT_EQ(together[i].text(), solo[i].text()) << i;
  }
  ExpectAllBlocksFree();
}

TEST_F(GenerateTest, StopStringCutsTheTextAndFinishesWithStop) {
  // Find what greedy decoding says, then stop on a piece of it: two UTF-8
  // characters from the fourth on (the random model's text is mostly
  // non-ASCII bytes and U+FFFD; any valid UTF-8 piece will do).
  v1::GenerateResponse full;
  ASSERT_TRUE(Generate(*stub_, GreedyTextRequest("Hello", 30), &full).ok());
  const std::string& text = full.text();
  auto next_char = [&](size_t i) {
    do ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80);
    return i;
  };
  size_t begin = 0;
  for (int c = 0; c < 3; ++c) begin = next_char(begin);
  const size_t stop_end = next_char(next_char(begin));
  ASSERT_LE(stop_end, text.size());
  const std::string stop = text.substr(begin, stop_end - begin);
  const size_t cut = text.find(stop);
  // The token that completes the stop string's first occurrence is the last one
  // returned: replay the text as the server streams it.
  ByteTokenizer tok;
  const std::vector<int> encoded = tok.Encode("Hello");
  const std::vector<int32_t> prompt(encoded.begin(), encoded.end());
  TextStream replay(&tok, prompt, {});
  std::string streamed;
  int n = 0;
  while (streamed.find(stop) == std::string::npos) {
    const TokenOutput t{full.token_ids(n++), 0.0f, {}};
    streamed += replay.Push(std::span<const TokenOutput>(&t, 1)).text;
  }

  v1::GenerateRequest request = GreedyTextRequest("Hello", 30);
  request.mutable_stopping()->add_stop(stop);
  v1::GenerateResponse r;
  ASSERT_TRUE(Generate(*stub_, request, &r).ok());
  EXPECT_EQ(r.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(r.text(), text.substr(0, cut));
  EXPECT_EQ(r.token_ids_size(), n);
  EXPECT_EQ(r.usage().completion_tokens(), n);

  request.mutable_stopping()->set_include_stop_str_in_output(true);
  std::vector<v1::GenerateResponse> messages;
  ASSERT_TRUE(Stream(*stub_, request, &messages).ok());
  EXPECT_EQ(Join(messages).text(), text.substr(0, cut + stop.size()));
  EXPECT_EQ(messages.back().finish_reason(), v1::FINISH_REASON_STOP);
  ExpectAllBlocksFree();
}

TEST_F(GenerateTest, StopTokenIdFinishesWithStop) {
  v1::GenerateResponse full;
  ASSERT_TRUE(Generate(*stub_, GreedyTextRequest("Hello", 16), &full).ok());
  v1::GenerateRequest request = GreedyTextRequest("Hello", 16);
  request.mutable_stopping()->add_stop_token_ids(full.token_ids(4));
  v1::GenerateResponse r;
  ASSERT_TRUE(Generate(*stub_, request, &r).ok());
  EXPECT_EQ(r.finish_reason(), v1::FINISH_REASON_STOP);
  int first = 0;
  while (full.token_ids(first) != full.token_ids(4)) ++first;
  EXPECT_EQ(r.token_ids_size(), first + 1);
  EXPECT_EQ(r.token_ids(first), full.token_ids(4));
}

TEST_F(GenerateTest, LogprobsAndPromptLogprobs) {
  v1::GenerateRequest request = GreedyTextRequest("Hello", 5);
  request.set_top_logprobs(3);
  request.set_prompt_logprobs(true);
  v1::GenerateResponse r;
  ASSERT_TRUE(Generate(*stub_, request, &r).ok());
  ASSERT_EQ(r.logprobs_size(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(r.logprobs(i).token_id(), r.token_ids(i));
    EXPECT_LE(r.logprobs(i).logprob(), 0.0f);
    ASSERT_EQ(r.logprobs(i).top_logprobs_size(), 3);
    // Greedy without penalties: the sampled token is the most likely one.
    EXPECT_EQ(r.logprobs(i).top_logprobs(0).token_id(), r.token_ids(i));
  }
  ByteTokenizer tok;
  const std::vector<int> prompt = tok.Encode("Hello");
  ASSERT_EQ(r.prompt_logprobs_size(), static_cast<int>(prompt.size()) - 1);
  for (int i = 0; i < r.prompt_logprobs_size(); ++i) {
    EXPECT_EQ(r.prompt_logprobs(i).token_id(), prompt[i + 1]);
    EXPECT_LE(r.prompt_logprobs(i).logprob(), 0.0f);
  }
  // The plain request returns no logprobs.
  v1::GenerateResponse plain;
  ASSERT_TRUE(Generate(*stub_, GreedyTextRequest("Hello", 5), &plain).ok());
  EXPECT_EQ(plain.logprobs_size(), 0);
  EXPECT_EQ(plain.prompt_logprobs_size(), 0);
  EXPECT_THAT(plain.token_ids(), ElementsAreArray(r.token_ids()));
}

TEST_F(GenerateTest, PromptTokenIdsWork) {
  v1::GenerateRequest request = GreedyTextRequest("Hello", 8);
  v1::GenerateResponse by_text;
  ASSERT_TRUE(Generate(*stub_, request, &by_text).ok());
  ByteTokenizer tok;
  for (int id : tok.Encode("Hello")) request.mutable_prompt_token_ids()->add_ids(id);
  v1::GenerateResponse by_ids;
  ASSERT_TRUE(Generate(*stub_, request, &by_ids).ok());
  EXPECT_THAT(by_ids.token_ids(), ElementsAreArray(by_text.token_ids()));
}

TEST_F(GenerateTest, DefaultMaxTokensFillsTheContext) {
  v1::GenerateRequest request = GreedyTextRequest("Hi", 1);
  request.mutable_stopping()->clear_max_tokens();
  v1::GenerateResponse r;
  ASSERT_TRUE(Generate(*stub_, request, &r).ok());
  EXPECT_EQ(r.usage().prompt_tokens() + r.usage().completion_tokens(), 256);
  EXPECT_EQ(r.finish_reason(), v1::FINISH_REASON_LENGTH);
}

TEST_F(GenerateTest, TokenizeAndModelInfo) {
  grpc::ClientContext ctx;
  v1::TokenizeRequest t;
  t.set_text("Hi!");
  v1::TokenizeResponse tr;
  ASSERT_TRUE(stub_->Tokenize(&ctx, t, &tr).ok());
  EXPECT_THAT(tr.token_ids(), ElementsAreArray({1, 'H' + 3, 'i' + 3, '!' + 3}));
  EXPECT_EQ(tr.tokens(0), "<s>");
  grpc::ClientContext ctx2;
  t.set_add_special_tokens(false);
  ASSERT_TRUE(stub_->Tokenize(&ctx2, t, &tr).ok());
  EXPECT_THAT(tr.token_ids(), ElementsAreArray({'H' + 3, 'i' + 3, '!' + 3}));

  grpc::ClientContext ctx3;
  v1::ModelInfo info;
  ASSERT_TRUE(stub_->GetModelInfo(&ctx3, v1::GetModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.name(), "tiny-test");
  EXPECT_EQ(info.vocab_size(), 259);
  EXPECT_EQ(info.context_length(), 256);
  EXPECT_EQ(info.n_heads(), 8);
  EXPECT_EQ(info.n_kv_heads(), 2);
  EXPECT_EQ(info.dtype(), "f32");
  EXPECT_EQ(info.backend(), "cpu");
  EXPECT_EQ(info.block_size(), 16);
  EXPECT_EQ(info.num_kv_blocks(), app_->engine()->info().num_kv_blocks);
  EXPECT_EQ(info.kv_cache_tokens(), info.num_kv_blocks() * 16);
  EXPECT_TRUE(info.has_tokenizer());
}

TEST_F(GenerateTest, HealthIsServingForTheServerAndTheService) {
  EXPECT_EQ(HealthStatus(Connect(*app_), ""), 1);
  EXPECT_EQ(HealthStatus(Connect(*app_), "gqa.v1.Generation"), 1);
}

TEST(GenerateLoadingTest, CallsBeforeTheModelIsLoadedAreUnavailable) {
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(TestServerOptions(), log);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_THAT(log.str(), HasSubstr("listening on 127.0.0.1:"));
  EXPECT_EQ(HealthStatus(Connect(**app), ""), 2);  // NOT_SERVING
  auto stub = NewStub(**app);
  v1::GenerateResponse r;
  EXPECT_EQ(Generate(*stub, GreedyTextRequest("x", 2), &r).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  std::vector<v1::GenerateResponse> messages;
  EXPECT_EQ(Stream(*stub, GreedyTextRequest("x", 2), &messages).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  ASSERT_TRUE((*app)->Serve(TinyByteModel(), log).ok());
  EXPECT_THAT(log.str(), HasSubstr("KV cache"));
  EXPECT_EQ(HealthStatus(Connect(**app), ""), 1);
  EXPECT_TRUE(Generate(*stub, GreedyTextRequest("x", 2), &r).ok());
}

}  // namespace
}  // namespace gqa::testing
