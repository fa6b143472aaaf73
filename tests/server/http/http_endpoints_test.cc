// GET /v1/models, GET /health, POST /tokenize and /detokenize, the
// gqa_http_requests_total counter, and the built-in demo model served over
// HTTP as gqa-server serves it without --model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/http/http_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

class HttpEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o = HttpTestServerOptions();
    o.served_model_name = "my-model";
    app_ = StartTestServerWith(TinyByteChatModel(), o);
    ASSERT_NE(app_, nullptr);
    http_ = HttpClient(*app_);
  }
  json PostOk(const std::string& path, const json& body) {
    httplib::Result r = PostJson(*http_, path, body);
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
  }

  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(HttpEndpointsTest, ModelsListsTheServedModelWithItsContextLength) {
  httplib::Result r = http_->Get("/v1/models");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json models = json::parse(r->body);
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "my-model");
  EXPECT_EQ(models["data"][0]["object"], "model");
  EXPECT_EQ(models["data"][0]["max_model_len"], 256);
  // The served name is the one requests must use.
  EXPECT_EQ(PostOk("/v1/completions",
                   {{"model", "my-model"}, {"prompt", "a"}, {"max_tokens", 1}})["model"],
            "my-model");
}

TEST_F(HttpEndpointsTest, HealthIs200WhileServing) {
  httplib::Result r = http_->Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpEndpointsTest, TokenizeAndDetokenizeAsVllm) {
  const json t = PostOk("/tokenize", {{"prompt", "Hi"}});
  EXPECT_EQ(t["tokens"], json({1, 75, 108}));  // BOS, then byte + 3
  EXPECT_EQ(t["count"], 3);
  EXPECT_EQ(t["max_model_len"], 256);
  EXPECT_EQ(PostOk("/tokenize", {{"prompt", "Hi"}, {"add_special_tokens", false}})["tokens"],
            json({75, 108}));
  EXPECT_EQ(PostOk("/detokenize", {{"tokens", {75, 108}}})["prompt"], "Hi");
  // A chat is rendered with the template, special tokens not added again.
  const json chat = PostOk("/tokenize", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}});
  const std::string rendered = PostOk("/detokenize", {{"tokens", chat["tokens"]}})["prompt"];
  EXPECT_THAT(rendered, HasSubstr("user\nHi"));
  httplib::Result bad = PostJson(*http_, "/detokenize", {{"tokens", {75, 100000}}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"]["param"], "tokens[1]");
}

TEST_F(HttpEndpointsTest, RequestsAreCountedByEndpointAndCode) {
  ASSERT_TRUE(http_->Get("/v1/models"));
  ASSERT_TRUE(http_->Get("/v1/models"));
  ASSERT_TRUE(PostJson(*http_, "/v1/completions", {{"prompt", "a"}, {"max_tokens", 0}}));
  ASSERT_TRUE(http_->Get("/elsewhere"));
  // The logger counts after the response is written: a last request on the
  // same connection has been read only after the earlier ones were counted.
  ASSERT_TRUE(http_->Get("/health"));
  const std::string text = app_->metrics()->Render();
  EXPECT_THAT(text, HasSubstr("gqa_http_requests_total{code=\"200\",endpoint=\"/v1/models\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("gqa_http_requests_total{code=\"400\",endpoint=\"/v1/completions\"} 1"));
  EXPECT_THAT(text, HasSubstr("gqa_http_requests_total{code=\"404\",endpoint=\"other\"} 1"));
}

TEST(HttpDemoModelTest, TheBuiltInDemoModelAnswersChats) {
  ModelSetupOptions m;  // no --model: the demo model
  std::ostringstream log;
  absl::StatusOr<LoadedModel> model = SetUpModel(m, log);
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string name = model->weights.config.name;
  std::unique_ptr<ServerApp> app = StartTestServerWith(*std::move(model), HttpTestServerOptions());
  ASSERT_NE(app, nullptr);
  auto http = HttpClient(*app);
  httplib::Result models = http->Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], name);
  const json body = {{"model", name},
                     {"messages", {{{"role", "user"}, {"content", "Hello"}}}},
                     {"max_tokens", 8},
                     {"temperature", 0},
                     {"stream", true}};
  httplib::Result r = PostJson(*http, "/v1/chat/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::vector<json> events = SseEvents(r->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events.back(), "[DONE]");
}

}  // namespace
}  // namespace gqa::testing
