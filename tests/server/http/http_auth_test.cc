// --api-key-file on the HTTP front end: every route but /health needs
// "Authorization: Bearer <key>"; without one, or with a wrong one, the answer
// is OpenAI's 401 (invalid_request_error, code invalid_api_key) that never
// echoes what was sent, before any routing (unknown routes too). Over HTTPS:
// https_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/server/http/http_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class HttpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string keys = dir_.File("keys");
    std::ofstream(keys) << "# test keys\nkey-alpha-123\nkey-beta-456\n";
    ServerOptions o = HttpTestServerOptions();
    o.security.api_key_file = keys;
    app_ = StartTestServer(o);
    ASSERT_NE(app_, nullptr);
    http_ = HttpClient(*app_);
  }
  // A request with `authorization` as its header ("" = none).
  httplib::Result Send(const std::string& method, const std::string& path,
                       const std::string& authorization, const json& body = json()) {
    httplib::Headers headers;
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    if (method == "GET") return http_->Get(path.c_str(), headers);
    return http_->Post(path.c_str(), headers, body.dump(), "application/json");
  }
  static void ExpectInvalidKey(const httplib::Result& r, const std::string& sent) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(r->get_header_value("Connection"), "close");  // its body was not read
    const json e = json::parse(r->body);
    ASSERT_TRUE(e.contains("error")) << r->body;
    EXPECT_EQ(e["error"]["type"], "invalid_request_error");
    EXPECT_EQ(e["error"]["code"], "invalid_api_key");
    EXPECT_TRUE(e["error"]["param"].is_null());
    EXPECT_FALSE(e["error"]["message"].get<std::string>().empty());
    if (!sent.empty()) {
      EXPECT_THAT(r->body, Not(HasSubstr(sent)));
    }
  }

  ScratchDir dir_;
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<httplib::Client> http_;
};

const json kCompletion = {{"model", "tiny-byte"}, {"prompt", "a"}, {"max_tokens", 1}};

TEST_F(HttpAuthTest, EveryRouteButHealthNeedsAKey) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/v1/completions"}, {"POST", "/v1/chat/completions"}, {"GET", "/v1/models"},
      {"POST", "/tokenize"},       {"POST", "/detokenize"},          {"GET", "/no/such/route"},
  };
  for (const auto& [method, path] : routes) {
    SCOPED_TRACE(method + " " + path);
    ExpectInvalidKey(Send(method, path, ""), "");
    ExpectInvalidKey(Send(method, path, "Bearer not-a-key-789"), "not-a-key-789");
    ExpectInvalidKey(Send(method, path, "key-alpha-123"), "");  // no Bearer scheme
  }
  httplib::Result health = Send("GET", "/health", "");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpAuthTest, AKeyOfTheFileIsServed) {
  httplib::Result models = Send("GET", "/v1/models", "Bearer key-alpha-123");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200) << models->body;
  const std::string model = json::parse(models->body)["data"][0]["id"];
  json body = kCompletion;
  body["model"] = model;
  httplib::Result completion = Send("POST", "/v1/completions", "bearer key-beta-456", body);
  ASSERT_TRUE(completion);
  EXPECT_EQ(completion->status, 200) << completion->body;
  EXPECT_EQ(json::parse(completion->body)["usage"]["completion_tokens"], 1);
  httplib::Result tokens = Send("POST", "/tokenize", "Bearer key-beta-456", {{"prompt", "Hi"}});
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->status, 200) << tokens->body;
  // With a key, routing errors are the usual ones.
  httplib::Result missing = Send("GET", "/no/such/route", "Bearer key-alpha-123");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

}  // namespace
}  // namespace gqa::testing
