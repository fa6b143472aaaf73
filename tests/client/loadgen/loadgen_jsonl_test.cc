// The JSONL dataset: good lines, and a clear error naming every kind of bad line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "client/loadgen/jsonl_dataset.h"

namespace gqa::loadgen {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<std::vector<DatasetEntry>> Parse(const std::string& text) {
  std::istringstream in(text);
  return ParseJsonlDataset(in, "data.jsonl");
}

std::string Error(const std::string& text) {
  absl::StatusOr<std::vector<DatasetEntry>> r = Parse(text);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(JsonlDatasetTest, ParsesTextAndTokenPromptsSkippingBlankLines) {
  absl::StatusOr<std::vector<DatasetEntry>> r = Parse(
      "{\"prompt\": \"Once upon a time\", \"output_len\": 64}\n"
      "\n"
      "   \n"
      "{\"prompt_token_ids\": [1, 415, 2936], \"extra\": true}\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].prompt, "Once upon a time");
  EXPECT_EQ((*r)[0].output_len, 64);
  EXPECT_EQ((*r)[0].line, 1);
  EXPECT_FALSE((*r)[0].has_token_ids());
  EXPECT_THAT((*r)[1].prompt_token_ids, ElementsAre(1, 415, 2936));
  EXPECT_EQ((*r)[1].output_len, 0);  // not given
  EXPECT_EQ((*r)[1].line, 4);
}

TEST(JsonlDatasetTest, BadLinesNameFileAndLine) {
  const std::string good = "{\"prompt\": \"a\"}\n";
  EXPECT_THAT(Error(good + good + "{\"prompt\": \"b\"\n"),
              HasSubstr("data.jsonl:3: not valid JSON"));
  EXPECT_THAT(Error("[1, 2]\n"), HasSubstr("data.jsonl:1: expected a JSON object"));
  EXPECT_THAT(Error(good + "{\"output_len\": 3}\n"),
              HasSubstr("data.jsonl:2: needs exactly one of \"prompt\""));
  EXPECT_THAT(Error("{\"prompt\": \"a\", \"prompt_token_ids\": [1]}\n"),
              HasSubstr("data.jsonl:1: needs exactly one of"));
  EXPECT_THAT(Error("{\"prompt\": 5}\n"), HasSubstr(":1: \"prompt\" must be a non-empty string"));
  EXPECT_THAT(Error("{\"prompt\": \"\"}\n"), HasSubstr("non-empty string"));
  EXPECT_THAT(Error("{\"prompt_token_ids\": []}\n"), HasSubstr("must be a non-empty array"));
  EXPECT_THAT(Error("{\"prompt_token_ids\": [1, \"x\"]}\n"),
              HasSubstr(":1: \"prompt_token_ids\"[1] is not a token id (\"x\")"));
  EXPECT_THAT(Error("{\"prompt_token_ids\": [-1]}\n"), HasSubstr("[0] is not a token id (-1)"));
  EXPECT_THAT(Error("{\"prompt_token_ids\": [1.5]}\n"), HasSubstr("is not a token id"));
  EXPECT_THAT(Error("{\"prompt_token_ids\": [4294967296]}\n"), HasSubstr("is not a token id"));
  EXPECT_THAT(Error("{\"prompt\": \"a\", \"output_len\": 0}\n"),
              HasSubstr(":1: \"output_len\" must be an integer >= 1, got 0"));
  EXPECT_THAT(Error("{\"prompt\": \"a\", \"output_len\": \"5\"}\n"), HasSubstr("\"output_len\""));
  EXPECT_THAT(Error(""), HasSubstr("data.jsonl: no prompts"));
  EXPECT_THAT(Error("\n\n"), HasSubstr("no prompts"));
}

TEST(JsonlDatasetTest, MissingFileIsNotFound) {
  absl::StatusOr<std::vector<DatasetEntry>> r = LoadJsonlDataset("/nonexistent/x.jsonl");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/x.jsonl"));
}

}  // namespace
}  // namespace gqa::loadgen
