// POST /v1/completions and /v1/chat/completions, streaming and not: the
// response shapes, the SSE chunk sequence, and greedy texts equal to what the
// gRPC API returns for the same request (one GenerationCall behind both).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/http/http_test_util.h"

namespace gqa::testing {
namespace {

class HttpGenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartTestServerWith(TinyByteChatModel(), HttpTestServerOptions());
    ASSERT_NE(app_, nullptr);
    ASSERT_GT(app_->http_port(), 0);
    http_ = HttpClient(*app_);
    stub_ = NewStub(*app_);
  }

  // The gRPC API's greedy text for `request`.
  std::string GrpcText(const v1::GenerateRequest& request) {
    v1::GenerateResponse r;
    EXPECT_TRUE(Generate(*stub_, request, &r).ok());
    return r.text();
  }

  json Post(const std::string& path, const json& body, int expect_status = 200) {
    httplib::Result r = PostJson(*http_, path, body);
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, expect_status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    return json::parse(r->body);
  }

  std::vector<json> PostStream(const std::string& path, const json& body) {
    httplib::Result r = PostJson(*http_, path, body);
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    return SseEvents(r->body);
  }

  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<httplib::Client> http_;
  std::unique_ptr<v1::Generation::Stub> stub_;
};

json GreedyCompletion(const std::string& prompt, int max_tokens) {
  return json{{"model", "tiny-test"},
              {"prompt", prompt},
              {"max_tokens", max_tokens},
              {"temperature", 0},
              {"ignore_eos", true}};
}

json GreedyChat(int max_tokens) {
  return json{{"messages",
               {{{"role", "system"}, {"content", "Be brief."}},
                {{"role", "user"}, {"content", "Hello there"}}}},
              {"max_completion_tokens", max_tokens},
              {"temperature", 0},
              {"ignore_eos", true}};
}

v1::GenerateRequest GrpcChat(int max_tokens) {
  v1::GenerateRequest r;
  v1::ChatMessage* m = r.mutable_chat()->add_messages();
  m->set_role("system");
  m->set_content("Be brief.");
  m = r.mutable_chat()->add_messages();
  m->set_role("user");
  m->set_content("Hello there");
  r.mutable_sampling()->set_temperature(0);
  r.mutable_stopping()->set_max_tokens(max_tokens);
  r.mutable_stopping()->set_ignore_eos(true);
  return r;
}

TEST_F(HttpGenerateTest, CompletionEqualsTheGrpcText) {
  const json r = Post("/v1/completions", GreedyCompletion("The quick brown fox", 24));
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["model"], "tiny-test");
  EXPECT_EQ(r["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_TRUE(r["created"].is_number_integer());
  ASSERT_EQ(r["choices"].size(), 1u);
  const json& c = r["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["finish_reason"], "length");
  EXPECT_TRUE(c["logprobs"].is_null());
  EXPECT_EQ(c["text"], GrpcText(GreedyTextRequest("The quick brown fox", 24)));
  // The byte tokenizer: BOS + one token per byte.
  EXPECT_EQ(r["usage"]["prompt_tokens"], 20);
  EXPECT_EQ(r["usage"]["completion_tokens"], 24);
  EXPECT_EQ(r["usage"]["total_tokens"], 44);
}

TEST_F(HttpGenerateTest, TokenIdPromptsAreUsedAsGiven) {
  json body = GreedyCompletion("", 8);
  body["prompt"] = {1, 75, 108};  // BOS "Hi" (byte + 3)
  const json ids = Post("/v1/completions", body);
  body["prompt"] = json::array({json{1, 75, 108}});
  const json nested = Post("/v1/completions", body);
  const json text = Post("/v1/completions", GreedyCompletion("Hi", 8));
  EXPECT_EQ(ids["choices"][0]["text"], text["choices"][0]["text"]);
  EXPECT_EQ(nested["choices"][0]["text"], text["choices"][0]["text"]);
  EXPECT_EQ(ids["usage"]["prompt_tokens"], 3);
}

TEST_F(HttpGenerateTest, StreamedCompletionChunksJoinToTheSameText) {
  const json whole = Post("/v1/completions", GreedyCompletion("abc", 30));
  json body = GreedyCompletion("abc", 30);
  body["stream"] = true;
  const std::vector<json> events = PostStream("/v1/completions", body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json& e = events[i];
    EXPECT_EQ(e["object"], "text_completion");
    EXPECT_EQ(e["id"], events[0]["id"]);
    EXPECT_FALSE(e.contains("usage"));  // only with stream_options.include_usage
    ASSERT_EQ(e["choices"].size(), 1u);
    text += e["choices"][0]["text"].get<std::string>();
    const bool last = i + 2 == events.size();
    EXPECT_EQ(e["choices"][0]["finish_reason"], last ? json("length") : json()) << i;
  }
  EXPECT_EQ(text, whole["choices"][0]["text"]);
}

TEST_F(HttpGenerateTest, IncludeUsageAddsAUsageChunkBeforeDone) {
  json body = GreedyCompletion("abc", 5);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  const std::vector<json> events = PostStream("/v1/completions", body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  const json& usage = events[events.size() - 2];
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 4);
  EXPECT_EQ(usage["usage"]["completion_tokens"], 5);
  EXPECT_EQ(usage["usage"]["total_tokens"], 9);
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    ASSERT_TRUE(events[i].contains("usage"));
    EXPECT_TRUE(events[i]["usage"].is_null());
  }
}

TEST_F(HttpGenerateTest, ChatEqualsTheGrpcChat) {
  const json r = Post("/v1/chat/completions", GreedyChat(16));
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  const json& c = r["choices"][0];
  EXPECT_EQ(c["message"]["role"], "assistant");
  EXPECT_EQ(c["message"]["content"], GrpcText(GrpcChat(16)));
  EXPECT_EQ(c["finish_reason"], "length");
  EXPECT_EQ(r["usage"]["completion_tokens"], 16);
}

TEST_F(HttpGenerateTest, StreamedChatStartsWithTheRoleAndEndsWithFinishThenDone) {
  const json whole = Post("/v1/chat/completions", GreedyChat(12));
  json body = GreedyChat(12);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  const std::vector<json> events = PostStream("/v1/chat/completions", body);
  ASSERT_GE(events.size(), 4u);
  const json& role = events[0];
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"], (json{{"role", "assistant"}, {"content", ""}}));
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  const size_t n = events.size();
  EXPECT_EQ(events[n - 1], "[DONE]");
  EXPECT_EQ(events[n - 2]["choices"], json::array());
  EXPECT_EQ(events[n - 2]["usage"]["completion_tokens"], 12);
  const json& finish = events[n - 3];
  EXPECT_EQ(finish["choices"][0]["delta"], json::object());
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
  std::string text;
  for (size_t i = 1; i < n - 3; ++i) {
    const json& choice = events[i]["choices"][0];
    EXPECT_EQ(choice["delta"].size(), 1u) << "content only";
    EXPECT_TRUE(choice["finish_reason"].is_null());
    text += choice["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, whole["choices"][0]["message"]["content"]);
}

TEST_F(HttpGenerateTest, ContentPartsAndDeveloperRoleRenderLikeStringsAndSystem) {
  json parts = GreedyChat(8);
  parts["messages"][0] = {{"role", "developer"},
                          {"content", {{{"type", "text"}, {"text", "Be brief."}}}}};
  EXPECT_EQ(Post("/v1/chat/completions", parts)["choices"][0]["message"]["content"],
            Post("/v1/chat/completions", GreedyChat(8))["choices"][0]["message"]["content"]);
}

TEST_F(HttpGenerateTest, StopStringEndsWithFinishReasonStop) {
  const std::string text =
      Post("/v1/completions", GreedyCompletion("xyz", 20))["choices"][0]["text"];
  // An ASCII character of the (random model's) text after its first byte.
  size_t at = 1;
  while (at < text.size() && !(text[at] >= 0x21 && text[at] < 0x7f)) ++at;
  if (at == text.size()) GTEST_SKIP() << "no ASCII character in the text";
  const std::string stop(1, text[at]);
  json body = GreedyCompletion("xyz", 20);
  body["stop"] = stop;
  const json r = Post("/v1/completions", body);
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(r["choices"][0]["text"], text.substr(0, text.find(stop)));
  body["stop"] = json::array({"never in it \x01", stop});
  EXPECT_EQ(Post("/v1/completions", body)["choices"][0]["finish_reason"], "stop");
}

TEST_F(HttpGenerateTest, CompletionLogprobsInTheLegacyShape) {
  json body = GreedyCompletion("abc", 4);
  body["logprobs"] = 2;
  const json lp = Post("/v1/completions", body)["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 4u);
  ASSERT_EQ(lp["token_logprobs"].size(), 4u);
  ASSERT_EQ(lp["top_logprobs"].size(), 4u);
  ASSERT_EQ(lp["text_offset"].size(), 4u);
  EXPECT_EQ(lp["text_offset"][0], 0);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_LE(lp["token_logprobs"][i].get<double>(), 0.0);
    // Greedy: the sampled token is the most likely one, among the top 2.
    const json& top = lp["top_logprobs"][i];
    EXPECT_GE(top.size(), 1u);
    EXPECT_LE(top.size(), 2u);
    EXPECT_EQ(top[lp["tokens"][i].get<std::string>()], lp["token_logprobs"][i]);
  }
}

TEST_F(HttpGenerateTest, ChatLogprobsInTheChatShape) {
  json body = GreedyChat(3);
  body["logprobs"] = true;
  body["top_logprobs"] = 2;
  const json lp = Post("/v1/chat/completions", body)["choices"][0]["logprobs"];
  ASSERT_EQ(lp["content"].size(), 3u);
  for (const json& t : lp["content"]) {
    EXPECT_TRUE(t["token"].is_string());
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    EXPECT_TRUE(t["bytes"].is_array());
    ASSERT_EQ(t["top_logprobs"].size(), 2u);
    EXPECT_EQ(t["top_logprobs"][0]["logprob"], t["logprob"]);  // greedy: the top one
    EXPECT_EQ(t["top_logprobs"][0]["bytes"], t["bytes"]);
  }
}

TEST_F(HttpGenerateTest, SeededSamplingRepeats) {
  json body = {{"prompt", "seed"}, {"max_tokens", 16}, {"temperature", 1.0}, {"seed", 1234},
               {"top_k", 50},      {"top_p", 0.9},     {"min_p", 0.01},      {"ignore_eos", true}};
  const json a = Post("/v1/completions", body);
  const json b = Post("/v1/completions", body);
  EXPECT_EQ(a["choices"][0]["text"], b["choices"][0]["text"]);
}

}  // namespace
}  // namespace gqa::testing
