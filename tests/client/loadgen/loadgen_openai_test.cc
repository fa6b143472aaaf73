// gqa-bench --backend openai without a server: the SSE framing (sse_parser.h),
// the request bodies and the recording of a streamed response into the
// records the metrics are computed from (openai_stream.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/loadgen/openai_stream.h"
#include "client/loadgen/request_record.h"
#include "client/loadgen/sse_parser.h"

namespace gqa::loadgen {
namespace {

using Json = nlohmann::json;
using Events = std::vector<std::string>;

Events ParseAll(const std::string& stream) {
  SseParser p;
  Events out;
  p.Feed(stream, &out);
  return out;
}

Events ParseByteByByte(const std::string& stream) {
  SseParser p;
  Events out;
  for (char c : stream) p.Feed(std::string_view(&c, 1), &out);
  return out;
}

TEST(SseParserTest, OneEventPerBlankLine) {
  EXPECT_EQ(ParseAll("data: {\"a\":1}\n\ndata: [DONE]\n\n"), (Events{"{\"a\":1}", "[DONE]"}));
}

TEST(SseParserTest, EveryLineEndingAndAnySplitGiveTheSameEvents) {
  const std::string stream = "data: one\r\n\r\ndata: two\r\rdata: three\n\ndata: four\r\n\n";
  const Events want = {"one", "two", "three", "four"};
  EXPECT_EQ(ParseAll(stream), want);
  EXPECT_EQ(ParseByteByByte(stream), want);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    Events got;
    p.Feed(std::string_view(stream).substr(0, cut), &got);
    p.Feed(std::string_view(stream).substr(cut), &got);
    EXPECT_EQ(got, want) << "split at " << cut;
  }
}

TEST(SseParserTest, ACrLfSplitAcrossFeedsIsOneLineEnd) {
  SseParser p;
  Events got;
  p.Feed("data: a\r", &got);
  EXPECT_TRUE(got.empty());
  p.Feed("\n", &got);  // the \r\n's \n: no blank line yet
  EXPECT_TRUE(got.empty());
  p.Feed("\r\n", &got);
  EXPECT_EQ(got, (Events{"a"}));
}

TEST(SseParserTest, DataLinesJoinWithNewlinesAndOneSpaceIsDropped) {
  EXPECT_EQ(ParseAll("data: a\ndata:b\ndata:  c\n\n"), (Events{"a\nb\n c"}));
  EXPECT_EQ(ParseAll("data\n\n"), (Events{""}));   // a data field without a colon
  EXPECT_EQ(ParseAll("data:\n\n"), (Events{""}));  // empty data still dispatches
  EXPECT_EQ(ParseAll("data: x:y: z\n\n"), (Events{"x:y: z"}));
}

TEST(SseParserTest, CommentsOtherFieldsAndEmptyEventsAreIgnored) {
  EXPECT_EQ(ParseAll(": keep-alive\n\nevent: message\nid: 7\nretry: 10\ndata: x\n\n\n\n"
                     "event: ping\n\ndatax: y\n\n"),
            (Events{"x"}));
}

TEST(SseParserTest, AnUnterminatedEventWaitsForItsBlankLine) {
  SseParser p;
  Events got;
  p.Feed("data: a\n\ndata: b\n", &got);
  EXPECT_EQ(got, (Events{"a"}));
  p.Feed("data: c", &got);
  EXPECT_EQ(got, (Events{"a"}));
  p.Feed("\n\n", &got);
  EXPECT_EQ(got, (Events{"a", "b\nc"}));
}

std::string Sse(const Json& j) { return "data: " + j.dump() + "\n\n"; }

Json TextChunk(const std::string& text) {
  return {{"id", "cmpl-1"},
          {"object", "text_completion"},
          {"choices", {{{"index", 0}, {"text", text}, {"finish_reason", nullptr}}}},
          {"usage", nullptr}};
}

Json UsageChunk(int prompt, int completion, int cached) {
  return {{"id", "cmpl-1"},
          {"choices", Json::array()},
          {"usage",
           {{"prompt_tokens", prompt},
            {"completion_tokens", completion},
            {"total_tokens", prompt + completion},
            {"prompt_tokens_details", {{"cached_tokens", cached}}}}}};
}

TEST(OpenAiStreamRecorderTest, CompletionChunksAreTokenMessagesAndUsageSetsLengths) {
  RequestRecord r;
  r.start_s = 0.5;
  r.input_len = 0;
  OpenAiStreamRecorder rec(/*chat=*/false, &r);
  rec.OnBody(Sse(TextChunk("Hel")), 1.0);
  rec.OnBody(Sse(TextChunk("")) + Sse(TextChunk("lo")).substr(0, 10), 1.25);  // split event
  rec.OnBody(Sse(TextChunk("lo")).substr(10), 1.5);
  rec.OnBody(Sse(UsageChunk(7, 3, 4)) + "data: [DONE]\n\n", 1.75);
  rec.Finish(200, "", "", 2.0);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.message_times_s, (std::vector<double>{1.0, 1.25, 1.5}));
  EXPECT_EQ(r.message_tokens, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(r.output_len, 3);
  EXPECT_EQ(r.input_len, 7);
  EXPECT_EQ(r.cached_prompt_tokens, 4);
  EXPECT_EQ(r.end_s, 2.0);
  EXPECT_EQ(TtftSeconds(r), 0.5);
  EXPECT_EQ(E2eSeconds(r), 1.0);
  EXPECT_EQ(TpotSeconds(r), 0.25);
  EXPECT_EQ(ItlSeconds(r), (std::vector<double>{0.25, 0.25}));
}

TEST(OpenAiStreamRecorderTest, ChatCountsContentDeltasButNotTheRoleOrFinalChunks) {
  RequestRecord r;
  OpenAiStreamRecorder rec(/*chat=*/true, &r);
  auto chunk = [](Json delta, Json finish) {
    return Sse({{"object", "chat.completion.chunk"},
                {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}});
  };
  rec.OnBody(chunk({{"role", "assistant"}, {"content", ""}}, nullptr), 1);
  rec.OnBody(chunk({{"content", "Hi"}}, nullptr), 2);
  rec.OnBody(chunk({{"content", "!"}}, nullptr), 3);
  rec.OnBody(chunk(Json::object(), "stop"), 4);
  rec.OnBody("data: [DONE]\n\n", 4);
  rec.Finish(200, "", "", 4);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.message_times_s, (std::vector<double>{2, 3}));
  EXPECT_EQ(r.output_len, 2);
}

TEST(OpenAiStreamRecorderTest, TheServersCompletionTokensDecide) {
  {  // fewer chunks than tokens: the rest came with the last chunk
    RequestRecord r;
    OpenAiStreamRecorder rec(false, &r);
    rec.OnBody(Sse(TextChunk("a")) + Sse(TextChunk("bc")), 1);
    rec.OnBody(Sse(UsageChunk(1, 5, 0)) + "data: [DONE]\n\n", 2);
    rec.Finish(200, "", "", 2);
    EXPECT_EQ(r.message_tokens, (std::vector<int>{1, 4}));
    EXPECT_EQ(r.output_len, 5);
  }
  {  // more chunks than tokens (an empty final chunk): dropped from the end
    RequestRecord r;
    OpenAiStreamRecorder rec(false, &r);
    rec.OnBody(Sse(TextChunk("a")), 1);
    rec.OnBody(Sse(TextChunk("b")), 2);
    rec.OnBody(Sse(TextChunk("")), 3);
    rec.OnBody(Sse(UsageChunk(1, 2, 0)) + "data: [DONE]\n\n", 3);
    rec.Finish(200, "", "", 3);
    EXPECT_EQ(r.message_times_s, (std::vector<double>{1, 2}));
    EXPECT_EQ(r.output_len, 2);
  }
}

TEST(OpenAiStreamRecorderTest, FailuresMapToGrpcCodes) {
  struct Case {
    int http;
    std::string transport, body, stream;
    int code;
    std::string name, error;
  };
  const std::vector<Case> cases = {
      {429, "", R"({"error":{"message":"queue full","type":"x","param":null,"code":429}})", "", 8,
       "RESOURCE_EXHAUSTED", "HTTP 429: queue full"},
      {400, "", R"({"error":{"message":"max_tokens must be >= 1"}})", "", 3, "INVALID_ARGUMENT",
       "HTTP 400: max_tokens must be >= 1"},
      {503, "", "draining", "", 14, "UNAVAILABLE", "HTTP 503: draining"},
      {500, "", "boom", "", 13, "INTERNAL", "HTTP 500: boom"},
      {0, "HTTP: Could not establish connection", "", "", 14, "UNAVAILABLE",
       "HTTP: Could not establish connection"},
      {200, "", "", Sse(TextChunk("a")), 13, "INTERNAL", "the stream ended before data: [DONE]"},
      {200, "", "",
       R"(data: {"error":{"message":"engine failed","code":500}})"
       "\n\ndata: [DONE]\n\n",
       13, "INTERNAL", "engine failed"},
  };
  for (const Case& c : cases) {
    RequestRecord r;
    OpenAiStreamRecorder rec(false, &r);
    if (!c.stream.empty()) rec.OnBody(c.stream, 1);
    rec.Finish(c.http, c.transport, c.body, 2);
    EXPECT_EQ(r.status_code, c.code) << c.http << " " << c.body;
    EXPECT_EQ(r.status_name, c.name);
    EXPECT_EQ(r.error, c.error);
    EXPECT_EQ(r.end_s, 2);
  }
}

TEST(OpenAiCallTest, TokenPromptsAndTheBenchmarksParameters) {
  v1::GenerateRequest g;
  for (int id : {5, 6, 7}) g.mutable_prompt_token_ids()->add_ids(id);
  g.mutable_sampling()->set_temperature(0);
  g.mutable_stopping()->set_max_tokens(16);
  g.mutable_stopping()->set_ignore_eos(true);
  absl::StatusOr<OpenAiCall> call = OpenAiCallFor(g, "tiny");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_FALSE(call->chat);
  EXPECT_EQ(call->path, "/v1/completions");
  EXPECT_EQ(Json::parse(call->body), Json::parse(R"({"model": "tiny", "prompt": [5, 6, 7],
      "temperature": 0.0, "max_tokens": 16, "ignore_eos": true, "stream": true,
      "stream_options": {"include_usage": true}})"));
}

TEST(OpenAiCallTest, TextChatStopsAndSampling) {
  v1::GenerateRequest g;
  g.set_prompt("Once");
  g.mutable_sampling()->set_top_p(0.5f);
  g.mutable_sampling()->set_top_k(4);
  g.mutable_sampling()->set_seed(9);
  g.mutable_stopping()->add_stop("\n");
  g.mutable_stopping()->set_min_tokens(2);
  absl::StatusOr<OpenAiCall> call = OpenAiCallFor(g, "");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(Json::parse(call->body), Json::parse(R"({"prompt": "Once", "top_p": 0.5, "top_k": 4,
      "seed": 9, "stop": ["\n"], "min_tokens": 2, "stream": true,
      "stream_options": {"include_usage": true}})"));

  v1::GenerateRequest c;
  auto* m = c.mutable_chat()->add_messages();
  m->set_role("user");
  m->set_content("Hi");
  call = OpenAiCallFor(c, "m");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_TRUE(call->chat);
  EXPECT_EQ(call->path, "/v1/chat/completions");
  EXPECT_EQ(Json::parse(call->body)["messages"],
            Json::parse(R"([{"role": "user", "content": "Hi"}])"));
}

TEST(OpenAiCallTest, WhatTheOpenAiApiCannotAskIsRefused) {
  v1::GenerateRequest g;
  EXPECT_EQ(OpenAiCallFor(g, "").status().code(), absl::StatusCode::kInvalidArgument);
  g.set_prompt("x");
  g.mutable_stopping()->add_stop_token_ids(3);
  EXPECT_EQ(OpenAiCallFor(g, "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gqa::loadgen
