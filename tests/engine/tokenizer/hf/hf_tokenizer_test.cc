// HfTokenizer end to end on small tokenizer.json documents built here, and
// tokenizer_config.json / generation_config.json handling.
#include "engine/tokenizer/hf/hf_tokenizer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/engine/tokenizer/hf/hf_test_util.h"

namespace gqa {
namespace {

using gqa::testing::AddedTokenJson;
using gqa::testing::BpeModelJson;
using gqa::testing::MakeTokenizer;
using Ids = std::vector<int>;

// A SentencePiece-style tokenizer: "▁" for spaces, byte fallback, <s> </s>.
nlohmann::json SentencePieceJson() {
  std::map<std::string, int> vocab = {{"<unk>", 0},  {"<s>", 1},    {"</s>", 2},    {"▁", 3},
                                      {"h", 4},      {"i", 5},      {"▁h", 6},      {"▁hi", 7},
                                      {"<0xE4>", 8}, {"<0xB8>", 9}, {"<0xAD>", 10}, {"!", 11}};
  nlohmann::json model = BpeModelJson(vocab, {"▁ h", "▁h i"});
  model["unk_token"] = "<unk>";
  model["byte_fallback"] = true;
  model["fuse_unk"] = true;
  nlohmann::json json = gqa::testing::TokenizerJson(model);
  json["added_tokens"] = {AddedTokenJson(0, "<unk>", true), AddedTokenJson(1, "<s>", true),
                          AddedTokenJson(2, "</s>", true)};
  json["normalizer"] = nlohmann::json::parse(R"({"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "▁"},
      {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})");
  json["post_processor"] = nlohmann::json::parse(R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}})");
  json["decoder"] = nlohmann::json::parse(R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})");
  return json;
}

TEST(HfTokenizerTest, SentencePieceEncodeDecode) {
  auto tok = MakeTokenizer(SentencePieceJson());
  ASSERT_NE(tok, nullptr);
  EXPECT_FALSE(tok->byte_level_input());
  EXPECT_EQ(tok->vocab_size(), 12);
  EXPECT_EQ(tok->Encode("hi hi", false), (Ids{7, 7}));
  EXPECT_EQ(tok->Encode("hi hi", true), (Ids{1, 7, 7}));
  EXPECT_EQ(tok->Encode("hi中x!", false), (Ids{7, 8, 9, 10, 0, 11}));
  // Added tokens split the text first; each stretch is normalized on its own.
  EXPECT_EQ(tok->Encode("hi</s>hi", false), (Ids{7, 2, 7}));
  EXPECT_EQ(tok->Encode("", true), (Ids{1}));
  EXPECT_EQ(tok->Decode(Ids{1, 7, 7, 8, 9, 10, 2}, true), "hi hi中");
  EXPECT_EQ(tok->Decode(Ids{1, 7, 7, 2}, false), "<s> hi hi</s>");
  EXPECT_EQ(tok->Decode(Ids{7, 99, -1, 7}, true), "hi hi");  // unknown ids are dropped
  EXPECT_EQ(tok->TokenString(7), "▁hi");
  EXPECT_EQ(tok->TokenString(99), "");
  EXPECT_EQ(tok->TokenToId("</s>"), 2);
}

TEST(HfTokenizerTest, InvalidUtf8IsRepairedBeforeEncoding) {
  auto tok = MakeTokenizer(SentencePieceJson());
  ASSERT_NE(tok, nullptr);
  // "\xE4\xB8" (a cut-off 中) is one maximal ill-formed subpart -> one U+FFFD,
  // which is not in this vocabulary: byte fallback to EF BF BD fails -> <unk>.
  EXPECT_EQ(tok->Encode("hi\xE4\xB8", false), tok->Encode("hi\xEF\xBF\xBD", false));
  EXPECT_EQ(tok->Encode("\xFF\xFE", false), tok->Encode("\xEF\xBF\xBD\xEF\xBF\xBD", false));
  EXPECT_EQ(tok->Encode("hi\xE4\xB8", false), (Ids{7, 0}));
}

TEST(HfTokenizerTest, DecodeKeepsAnIncompleteTrailingCharacterRaw) {
  auto tok = MakeTokenizer(SentencePieceJson());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Decode(Ids{7, 8, 9}), "hi\xE4\xB8");
  EXPECT_EQ(tok->Decode(Ids{7, 8, 9, 10}), "hi中");
  // Not at the end: HF's one U+FFFD per byte.
  EXPECT_EQ(tok->Decode(Ids{8, 9, 7}), "\xEF\xBF\xBD\xEF\xBF\xBD hi");
}

TEST(HfTokenizerTest, ConfigSpecialTokens) {
  const std::string config = R"({"bos_token": {"content": "<s>", "__type": "AddedToken"},
                                 "eos_token": "</s>", "add_bos_token": false})";
  auto tok = MakeTokenizer(SentencePieceJson(), config, R"({"eos_token_id": [2, 11]})");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_ids(), (Ids{2, 11}));
  // add_bos_token false overrides the template's <s>.
  EXPECT_EQ(tok->Encode("hi", true), (Ids{7}));
}

TEST(HfTokenizerTest, ConfigAddEosKeepsTemplateBos) {
  auto tok = MakeTokenizer(SentencePieceJson(),
                           R"({"bos_token": "<s>", "eos_token": "</s>", "add_eos_token": true})");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Encode("hi", true), (Ids{1, 7, 2}));
  EXPECT_EQ(tok->Encode("hi", false), (Ids{7}));
}

TEST(HfTokenizerTest, ConfigDefaultsAndGenerationIds) {
  auto tok = MakeTokenizer(SentencePieceJson());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos_id(), -1);
  EXPECT_TRUE(tok->eos_ids().empty());
  tok = MakeTokenizer(SentencePieceJson(), R"({"bos_token": null, "eos_token": ["</s>", "!"]})",
                      R"({"bos_token_id": 1, "eos_token_id": 2})");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_ids(), (Ids{2, 11}));
  EXPECT_EQ(tok->Encode("hi", true), (Ids{1, 7}));  // no add_* keys: template as is
}

TEST(HfTokenizerTest, ConfigErrorsNameTheField) {
  auto tok = HfTokenizer::FromJsonText(SentencePieceJson().dump(), R"({"eos_token": "<nope>"})");
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find("eos_token"), std::string::npos);
  EXPECT_NE(tok.status().message().find("<nope>"), std::string::npos);
  tok = HfTokenizer::FromJsonText(SentencePieceJson().dump(), "", R"({"eos_token_id": "2"})");
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find("eos_token_id"), std::string::npos);
  tok = HfTokenizer::FromJsonText(SentencePieceJson().dump(), R"({"add_bos_token": "yes"})");
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find("add_bos_token"), std::string::npos);
}

TEST(HfTokenizerTest, TokenizerJsonErrors) {
  EXPECT_FALSE(HfTokenizer::FromJsonText("{not json").ok());
  nlohmann::json json = SentencePieceJson();
  json["model"]["type"] = "Unigram";
  auto tok = HfTokenizer::FromJsonText(json.dump());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find("Unigram"), std::string::npos);
  json = SentencePieceJson();
  json.erase("model");
  EXPECT_FALSE(HfTokenizer::FromJsonText(json.dump()).ok());
  const auto missing = LoadHfTokenizer("/nonexistent/model/dir");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model/dir/tokenizer.json"),
            std::string::npos);
}

TEST(HfTokenizerTest, NoDecoderJoinsTokensWithSpaces) {
  nlohmann::json json = SentencePieceJson();
  json["decoder"] = nullptr;
  auto tok = MakeTokenizer(json);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Decode(Ids{7, 4, 2}, true), "▁hi h");
}

}  // namespace
}  // namespace gqa
