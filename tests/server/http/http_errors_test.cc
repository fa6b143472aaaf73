// Errors in OpenAI's shape {"error": {"message", "type", "param", "code"}},
// with the HTTP status of each kind: 400 naming the parameter as the client
// spelled it, 404 for an unknown model or route, 405 for a wrong method, 429
// with Retry-After when the queue is full, 503 while loading or draining.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/cleanup/cleanup.h"
#include "tests/server/http/http_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct ErrorReply {
  int status = 0;
  json error;
  httplib::Headers headers;
};

ErrorReply Expect(httplib::Result r) {
  ErrorReply e;
  EXPECT_TRUE(r);
  if (!r) return e;
  e.status = r->status;
  e.headers = r->headers;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json body = json::parse(r->body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body.size() == 1 && body.contains("error")) << r->body;
  if (!body.contains("error")) return e;
  e.error = body["error"];
  for (const char* key : {"message", "type", "param", "code"}) {
    EXPECT_TRUE(e.error.contains(key)) << key << " in " << r->body;
  }
  EXPECT_TRUE(e.error["message"].is_string());
  return e;
}

class HttpErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = StartTestServerWith(TinyByteChatModel(), HttpTestServerOptions());
    ASSERT_NE(app_, nullptr);
    http_ = HttpClient(*app_);
  }
  ErrorReply Completion(json body) {
    if (!body.contains("prompt")) body["prompt"] = "hi";
    return Expect(PostJson(*http_, "/v1/completions", body));
  }
  ErrorReply Chat(json body) {
    if (!body.contains("messages")) body["messages"] = {{{"role", "user"}, {"content", "hi"}}};
    return Expect(PostJson(*http_, "/v1/chat/completions", body));
  }
  void ExpectBadParam(const ErrorReply& e, const std::string& param) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.error["type"], "invalid_request_error");
    EXPECT_EQ(e.error["param"], param);
    EXPECT_THAT(e.error["message"].get<std::string>(), StartsWith(param));
  }

  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(HttpErrorsTest, SharedValidationNamesTheClientsParameter) {
  ExpectBadParam(Completion({{"top_p", 3}}), "top_p");
  ExpectBadParam(Completion({{"temperature", -1}}), "temperature");
  ExpectBadParam(Completion({{"presence_penalty", 5}}), "presence_penalty");
  ExpectBadParam(Completion({{"max_tokens", 0}}), "max_tokens");
  ExpectBadParam(Completion({{"max_tokens", 100000}}), "max_tokens");
  ExpectBadParam(Completion({{"logprobs", 21}}), "logprobs");
  ExpectBadParam(Completion({{"prompt", ""}}), "prompt");
  ExpectBadParam(Completion({{"prompt", {1, 5, 999999}}}), "prompt[2]");
  ExpectBadParam(Completion({{"stop", {"ok", ""}}}), "stop[1]");
  ExpectBadParam(Chat({{"max_completion_tokens", 0}}), "max_completion_tokens");
  ExpectBadParam(Chat({{"max_tokens", 0}}), "max_tokens");
  ExpectBadParam(Chat({{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}),
                 "messages[0].role");
  ExpectBadParam(Chat({{"messages", json::array()}}), "messages");
  ExpectBadParam(Chat({{"logprobs", true}, {"top_logprobs", 30}}), "top_logprobs");
}

TEST_F(HttpErrorsTest, WrongTypesAndUnsupportedValuesName400) {
  ExpectBadParam(Completion({{"temperature", "hot"}}), "temperature");
  ExpectBadParam(Completion({{"max_tokens", 2.5}}), "max_tokens");
  ExpectBadParam(Completion({{"stream", "yes"}}), "stream");
  ExpectBadParam(Completion({{"stop", 7}}), "stop");
  ExpectBadParam(Completion({{"seed", -1}}), "seed");
  ExpectBadParam(Completion({{"n", 2}}), "n");
  ExpectBadParam(Completion({{"echo", true}}), "echo");
  ExpectBadParam(Completion({{"prompt", {"a", "b"}}}), "prompt");
  ExpectBadParam(Completion({{"prompt", 5}}), "prompt");
  ExpectBadParam(Chat({{"messages", {{{"role", "user"}, {"content", 5}}}}}), "messages[0].content");
  ExpectBadParam(Chat({{"messages", {{{"content", "x"}}}}}), "messages[0].role");
  ExpectBadParam(Chat({{"top_logprobs", 2}}), "top_logprobs");
  ExpectBadParam(Chat({{"tools", {{{"type", "function"}}}}}), "tools");
  ExpectBadParam(Chat({{"logprobs", 1}}), "logprobs");
}

TEST_F(HttpErrorsTest, UnknownFieldsAndNullsAreIgnored) {
  httplib::Result r = PostJson(*http_, "/v1/completions",
                               {{"prompt", "hi"},
                                {"max_tokens", 2},
                                {"user", "someone"},
                                {"some_future_field", {{"x", 1}}},
                                {"stop", nullptr},
                                {"temperature", nullptr}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST_F(HttpErrorsTest, NotJsonIsA400) {
  const ErrorReply e = Expect(http_->Post("/v1/completions", "{not json", "application/json"));
  EXPECT_EQ(e.status, 400);
  EXPECT_TRUE(e.error["param"].is_null());
  const ErrorReply array = Expect(http_->Post("/v1/completions", "[1]", "application/json"));
  EXPECT_EQ(array.status, 400);
}

TEST_F(HttpErrorsTest, AnotherModelIs404) {
  const ErrorReply e = Completion({{"model", "gpt-4"}});
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.error["code"], "model_not_found");
  EXPECT_EQ(e.error["param"], "model");
  EXPECT_THAT(e.error["message"].get<std::string>(), HasSubstr("tiny-test"));
}

TEST_F(HttpErrorsTest, UnknownRouteIs404AndWrongMethodIs405) {
  const ErrorReply route = Expect(http_->Get("/v1/nothing"));
  EXPECT_EQ(route.status, 404);
  EXPECT_EQ(route.error["message"], "Invalid URL (GET /v1/nothing)");
  httplib::Result r = http_->Get("/v1/chat/completions");
  const ErrorReply method = Expect(std::move(r));
  EXPECT_EQ(method.status, 405);
  ASSERT_EQ(method.headers.count("Allow"), 1u);
  EXPECT_EQ(method.headers.find("Allow")->second, "POST");
  EXPECT_EQ(Expect(http_->Post("/v1/models", "{}", "application/json")).status, 405);
}

TEST_F(HttpErrorsTest, DrainingIs503WithRetryAfter) {
  app_->engine()->StartDrain();
  const ErrorReply e = Completion({});
  EXPECT_EQ(e.status, 503);
  EXPECT_EQ(e.headers.count("Retry-After"), 1u);
}

TEST(HttpLoadingTest, EverythingButRoutingIs503UntilTheModelIsLoaded) {
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(HttpTestServerOptions(), log);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_GT((*app)->http_port(), 0);
  EXPECT_THAT(log.str(), HasSubstr("HTTP (OpenAI API) listening on 127.0.0.1:"));
  auto http = HttpClient(**app);
  EXPECT_EQ(Expect(http->Get("/health")).status, 503);
  EXPECT_EQ(Expect(http->Get("/v1/models")).status, 503);
  const ErrorReply e = Expect(PostJson(*http, "/v1/completions", {{"prompt", "hi"}}));
  EXPECT_EQ(e.status, 503);
  EXPECT_EQ(e.headers.count("Retry-After"), 1u);
  EXPECT_EQ(Expect(http->Get("/nope")).status, 404);
}

TEST(HttpOverloadTest, AFullQueueIs429WithRetryAfter) {
  ServerOptions o = HttpTestServerOptions();
  o.engine.max_num_seqs = 1;
  o.queue.max_queued_requests = 1;
  StepGate gate;
  std::unique_ptr<ServerApp> app = StartTestServerWith(TinyByteChatModel(), o, &gate);
  ASSERT_NE(app, nullptr);
  absl::Cleanup open_gate = [&] { gate.Open(); };  // never leave the engine held
  gate.CloseOnFirstToken();
  const std::string body = json{{"prompt", "abc"}, {"max_tokens", 50}, {"stream", true}}.dump();
  RawConnection running(app->http_port()), queued(app->http_port());
  running.SendPost("/v1/completions", body);
  ASSERT_TRUE(gate.WaitUntilHeld());
  queued.SendPost("/v1/completions", body);
  ASSERT_TRUE(app->engine()->WaitFor(
      [](const ServiceStats& s) { return s.num_queued_requests == 1; }, kWait));
  auto http = HttpClient(*app);
  const ErrorReply e = Expect(PostJson(*http, "/v1/completions", {{"prompt", "x"}}));
  EXPECT_EQ(e.status, 429);
  EXPECT_EQ(e.error["code"], "queue_full");
  ASSERT_EQ(e.headers.count("Retry-After"), 1u);
  EXPECT_EQ(e.headers.find("Retry-After")->second, "1");
}

}  // namespace
}  // namespace gqa::testing
