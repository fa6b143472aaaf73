// Each kind of bad request gets INVALID_ARGUMENT naming the field, from both
// Generate and GenerateStream, before anything reaches the engine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

struct BadRequest {
  const char* name;
  std::function<void(v1::GenerateRequest&)> mutate;
  const char* field;  // the error message must name it
};

void PrintTo(const BadRequest& r, std::ostream* os) { *os << r.name; }

class ValidationTest : public ::testing::TestWithParam<BadRequest> {
 protected:
  static void SetUpTestSuite() { app_ = StartTestServer().release(); }
  static void TearDownTestSuite() {
    delete app_;
    app_ = nullptr;
  }
  static ServerApp* app_;
};
ServerApp* ValidationTest::app_ = nullptr;

TEST_P(ValidationTest, IsInvalidArgumentNamingTheField) {
  ASSERT_NE(app_, nullptr);
  v1::GenerateRequest request = GreedyTextRequest("Hello", 8);
  GetParam().mutate(request);
  auto stub = NewStub(*app_);
  v1::GenerateResponse r;
  grpc::Status unary = Generate(*stub, request, &r);
  EXPECT_EQ(unary.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << unary.error_message();
  EXPECT_THAT(unary.error_message(), HasSubstr(GetParam().field));
  std::vector<v1::GenerateResponse> messages;
  grpc::Status stream = Stream(*stub, request, &messages);
  EXPECT_EQ(stream.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(stream.error_message(), HasSubstr(GetParam().field));
  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(app_->engine()->Stats().num_active, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ValidationTest,
    ::testing::Values(
        BadRequest{"NoInput", [](auto& r) { r.clear_input(); }, "input"},
        BadRequest{"EmptyPrompt", [](auto& r) { r.set_prompt(""); }, "prompt"},
        BadRequest{"EmptyTokenIds", [](auto& r) { r.mutable_prompt_token_ids(); },
                   "prompt_token_ids"},
        BadRequest{"UnknownTokenId",
                   [](auto& r) {
                     r.mutable_prompt_token_ids()->add_ids(1);
                     r.mutable_prompt_token_ids()->add_ids(259);
                   },
                   "prompt_token_ids[1]"},
        BadRequest{"NegativeTokenId", [](auto& r) { r.mutable_prompt_token_ids()->add_ids(-1); },
                   "prompt_token_ids[0]"},
        BadRequest{"BeyondContext", [](auto& r) { r.mutable_stopping()->set_max_tokens(251); },
                   "stopping.max_tokens"},
        BadRequest{"PromptFillsContext",
                   [](auto& r) {
                     r.set_prompt(std::string(300, 'x'));
                     r.mutable_stopping()->clear_max_tokens();
                   },
                   "prompt"},
        BadRequest{"ZeroMaxTokens", [](auto& r) { r.mutable_stopping()->set_max_tokens(0); },
                   "stopping.max_tokens"},
        BadRequest{"MinAboveMax", [](auto& r) { r.mutable_stopping()->set_min_tokens(9); },
                   "stopping.min_tokens"},
        BadRequest{"NegativeTemperature",
                   [](auto& r) { r.mutable_sampling()->set_temperature(-0.5f); },
                   "sampling.temperature"},
        BadRequest{"NanTemperature",
                   [](auto& r) { r.mutable_sampling()->set_temperature(std::nanf("")); },
                   "sampling.temperature"},
        BadRequest{"TopPZero", [](auto& r) { r.mutable_sampling()->set_top_p(0.0f); },
                   "sampling.top_p"},
        BadRequest{"TopPAboveOne", [](auto& r) { r.mutable_sampling()->set_top_p(1.5f); },
                   "sampling.top_p"},
        BadRequest{"TopKNegative", [](auto& r) { r.mutable_sampling()->set_top_k(-2); },
                   "sampling.top_k"},
        BadRequest{"MinPAboveOne", [](auto& r) { r.mutable_sampling()->set_min_p(2.0f); },
                   "sampling.min_p"},
        BadRequest{"RepetitionPenaltyZero",
                   [](auto& r) { r.mutable_sampling()->set_repetition_penalty(0.0f); },
                   "sampling.repetition_penalty"},
        BadRequest{"PresencePenalty",
                   [](auto& r) { r.mutable_sampling()->set_presence_penalty(2.5f); },
                   "sampling.presence_penalty"},
        BadRequest{"FrequencyPenalty",
                   [](auto& r) { r.mutable_sampling()->set_frequency_penalty(-3.0f); },
                   "sampling.frequency_penalty"},
        BadRequest{"TopLogprobs", [](auto& r) { r.set_top_logprobs(21); }, "top_logprobs"},
        BadRequest{"TooManyStopStrings",
                   [](auto& r) {
                     for (int i = 0; i < 17; ++i)
                       r.mutable_stopping()->add_stop("s" + std::to_string(i));
                   },
                   "stopping.stop"},
        BadRequest{"EmptyStopString", [](auto& r) { r.mutable_stopping()->add_stop(""); },
                   "stopping.stop[0]"},
        BadRequest{"LongStopString",
                   [](auto& r) { r.mutable_stopping()->add_stop(std::string(257, 's')); },
                   "stopping.stop[0]"},
        BadRequest{"UnknownStopTokenId",
                   [](auto& r) { r.mutable_stopping()->add_stop_token_ids(999); },
                   "stopping.stop_token_ids[0]"},
        BadRequest{"TooManyStopTokenIds",
                   [](auto& r) {
                     for (int i = 0; i < 65; ++i) r.mutable_stopping()->add_stop_token_ids(3);
                   },
                   "stopping.stop_token_ids"},
        BadRequest{"LongRequestId", [](auto& r) { r.set_request_id(std::string(300, 'i')); },
                   "request_id"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ValidationCountTest, RejectionsAreCounted) {
  auto app = StartTestServer();
  ASSERT_NE(app, nullptr);
  auto stub = NewStub(*app);
  v1::GenerateRequest request = GreedyTextRequest("Hello", 8);
  request.mutable_sampling()->set_top_p(3);
  v1::GenerateResponse r;
  EXPECT_FALSE(Generate(*stub, request, &r).ok());
  EXPECT_THAT(app->metrics()->Render(),
              HasSubstr("gqa_requests_rejected_total{code=\"INVALID_ARGUMENT\"} 1"));
}

}  // namespace
}  // namespace gqa::testing
