#include "engine/sampling/sampling_params.h"

#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// The error for params, which must be INVALID_ARGUMENT.
std::string ErrorOf(const SamplingParams& params) {
  absl::Status status = params.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(SamplingParamsTest, DefaultsAreValid) { EXPECT_TRUE(SamplingParams{}.Validate().ok()); }

TEST(SamplingParamsTest, BoundaryValuesAreValid) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.top_k = -1;
  p.top_p = 1.0f;
  p.min_p = 1.0f;
  p.repetition_penalty = 0.01f;
  p.presence_penalty = -2.0f;
  p.frequency_penalty = 2.0f;
  p.top_logprobs = 20;
  p.seed = 0;
  EXPECT_TRUE(p.Validate().ok());
  p.top_k = 0;
  p.min_p = 0.0f;
  p.presence_penalty = 2.0f;
  p.frequency_penalty = -2.0f;
  p.top_logprobs = 0;
  p.temperature = 100.0f;
  EXPECT_TRUE(p.Validate().ok());
}

TEST(SamplingParamsTest, TopPMessageNamesFieldRangeAndValue) {
  SamplingParams p;
  p.top_p = 1.5f;
  EXPECT_EQ(ErrorOf(p), "sampling.top_p must be in (0, 1], got 1.5");
}

TEST(SamplingParamsTest, EachFieldIsCheckedAndNamed) {
  struct Case {
    void (*set)(SamplingParams&);
    const char* field;
  };
  const Case cases[] = {
      {[](SamplingParams& p) { p.temperature = -0.5f; }, "sampling.temperature"},
      {[](SamplingParams& p) { p.temperature = kInf; }, "sampling.temperature"},
      {[](SamplingParams& p) { p.temperature = kNaN; }, "sampling.temperature"},
      {[](SamplingParams& p) { p.top_k = -2; }, "sampling.top_k"},
      {[](SamplingParams& p) { p.top_p = 0.0f; }, "sampling.top_p"},
      {[](SamplingParams& p) { p.top_p = kNaN; }, "sampling.top_p"},
      {[](SamplingParams& p) { p.min_p = -0.1f; }, "sampling.min_p"},
      {[](SamplingParams& p) { p.min_p = 1.01f; }, "sampling.min_p"},
      {[](SamplingParams& p) { p.repetition_penalty = 0.0f; }, "sampling.repetition_penalty"},
      {[](SamplingParams& p) { p.repetition_penalty = kInf; }, "sampling.repetition_penalty"},
      {[](SamplingParams& p) { p.presence_penalty = 2.5f; }, "sampling.presence_penalty"},
      {[](SamplingParams& p) { p.presence_penalty = kNaN; }, "sampling.presence_penalty"},
      {[](SamplingParams& p) { p.frequency_penalty = -2.5f; }, "sampling.frequency_penalty"},
      {[](SamplingParams& p) { p.top_logprobs = 21; }, "sampling.top_logprobs"},
      {[](SamplingParams& p) { p.top_logprobs = -1; }, "sampling.top_logprobs"},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    c.set(p);
    EXPECT_THAT(ErrorOf(p), HasSubstr(c.field));
  }
}

TEST(SamplingParamsTest, MessagesQuoteTheBadValue) {
  SamplingParams p;
  p.top_k = -7;
  EXPECT_EQ(ErrorOf(p), "sampling.top_k must be >= 0 (0 or -1: off), got -7");
  p = SamplingParams{};
  p.top_logprobs = 21;
  EXPECT_EQ(ErrorOf(p), "sampling.top_logprobs must be in [0, 20], got 21");
  p = SamplingParams{};
  p.temperature = -1.0f;
  EXPECT_EQ(ErrorOf(p), "sampling.temperature must be a finite number >= 0, got -1");
}

}  // namespace
}  // namespace gqa
