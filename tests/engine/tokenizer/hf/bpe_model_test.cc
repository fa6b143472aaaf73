#include "engine/tokenizer/hf/bpe_model.h"

#include <map>
#include <string>
#include <vector>

#include "engine/tokenizer/hf/byte_level.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/engine/tokenizer/hf/hf_test_util.h"

namespace gqa::hf {
namespace {

using gqa::testing::BpeModelJson;
using Ids = std::vector<int>;

std::unique_ptr<BpeModel> Build(const nlohmann::json& json) {
  auto model = BpeModel::FromJson(json, "model");
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : nullptr;
}

Ids Tokenize(const BpeModel& model, const std::string& word) {
  BpeScratch scratch;
  Ids ids;
  model.Tokenize(word, &scratch, &ids);
  // A second call hits the per-call cache and must agree.
  Ids again;
  model.Tokenize(word, &scratch, &again);
  EXPECT_EQ(ids, again);
  return ids;
}

const std::map<std::string, int> kVocab = {{"a", 0},  {"b", 1},   {"c", 2},  {"ab", 3},
                                           {"bc", 4}, {"abc", 5}, {"aa", 6}, {"aaa", 7}};

TEST(BpeModelTest, MergesByRankThenLeftmost) {
  // "b c" ranks before "a b": "abc" -> a + bc (no "a bc" merge).
  auto model = Build(BpeModelJson(kVocab, {"b c", "a b", "ab c"}));
  EXPECT_EQ(Tokenize(*model, "abc"), (Ids{0, 4}));
  model = Build(BpeModelJson(kVocab, {"a b", "b c", "ab c"}));
  EXPECT_EQ(Tokenize(*model, "abc"), (Ids{5}));
  // Equal pairs: leftmost first ("aa a" vs "a aa").
  model = Build(BpeModelJson(kVocab, {"a a", "aa a"}));
  EXPECT_EQ(Tokenize(*model, "aaaa"), (Ids{6, 6}));
  EXPECT_EQ(Tokenize(*model, "aaa"), (Ids{7}));
}

TEST(BpeModelTest, MergesAsPairsEqualMergesAsStrings) {
  nlohmann::json pairs = BpeModelJson(kVocab, {});
  pairs["merges"] = nlohmann::json::parse(R"([["a", "b"], ["ab", "c"]])");
  auto from_pairs = Build(pairs);
  auto from_strings = Build(BpeModelJson(kVocab, {"a b", "ab c"}));
  EXPECT_EQ(Tokenize(*from_pairs, "abcab"), Tokenize(*from_strings, "abcab"));
  EXPECT_EQ(Tokenize(*from_pairs, "abcab"), (Ids{5, 3}));
}

TEST(BpeModelTest, BadMergesAreErrors) {
  for (const auto& merges : {std::vector<std::string>{"a b c"}, std::vector<std::string>{"ab"},
                             std::vector<std::string>{"a x"}, std::vector<std::string>{"c c"}}) {
    const auto model = BpeModel::FromJson(BpeModelJson(kVocab, merges), "tokenizer.json: model");
    ASSERT_FALSE(model.ok()) << merges[0];
    EXPECT_NE(model.status().message().find("model.merges[0]"), std::string::npos);
  }
}

TEST(BpeModelTest, IgnoreMergesTakesWholeWords) {
  // With merges "a b" only, "abc" would be ab + c; ignore_merges finds "abc".
  nlohmann::json json = BpeModelJson(kVocab, {"a b"});
  EXPECT_EQ(Tokenize(*Build(json), "abc"), (Ids{3, 2}));
  json["ignore_merges"] = true;
  EXPECT_EQ(Tokenize(*Build(json), "abc"), (Ids{5}));
}

TEST(BpeModelTest, ByteFallbackAndUnknowns) {
  std::map<std::string, int> vocab = {{"<unk>", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}};
  nlohmann::json json = BpeModelJson(vocab, {});
  json["unk_token"] = "<unk>";
  // 'é' = C3 A9 -> byte tokens; '中' has no byte tokens -> unk.
  json["byte_fallback"] = true;
  EXPECT_EQ(Tokenize(*Build(json), "aé中中a"), (Ids{1, 2, 3, 0, 0, 1}));
  json["fuse_unk"] = true;
  EXPECT_EQ(Tokenize(*Build(json), "aé中中a"), (Ids{1, 2, 3, 0, 1}));
  json["byte_fallback"] = false;
  EXPECT_EQ(Tokenize(*Build(json), "aé中a"), (Ids{1, 0, 1}));
  // No unk_token: unknown characters vanish.
  json["unk_token"] = nullptr;
  EXPECT_EQ(Tokenize(*Build(json), "aé中a"), (Ids{1, 1}));
}

TEST(BpeModelTest, ContinuingSubwordPrefixAndSuffix) {
  std::map<std::string, int> vocab = {{"h", 0},       {"##i", 1},    {"h</w>", 2},
                                      {"##i</w>", 3}, {"hi</w>", 4}, {"i", 5}};
  nlohmann::json json = BpeModelJson(vocab, {"h ##i</w>"});
  json["continuing_subword_prefix"] = "##";
  json["end_of_word_suffix"] = "</w>";
  auto model = Build(json);
  EXPECT_EQ(Tokenize(*model, "hi"), (Ids{4}));
  EXPECT_EQ(Tokenize(*model, "h"), (Ids{2}));
  EXPECT_FALSE(model->EnableByteLevelInput());  // prefixes rule out raw bytes
}

TEST(BpeModelTest, ByteLevelInputGivesTheSameIds) {
  // Vocabulary over the byte-level alphabet: every byte's character, plus merges.
  std::map<std::string, int> vocab;
  std::string all;
  for (int b = 0; b < 256; ++b) {
    std::string s;
    BytesToByteLevel(std::string(1, static_cast<char>(b)), &s);
    vocab[s] = b;
  }
  vocab["ĠÃ"] = 256;  // " \xC3"
  vocab["ĠÃ©"] = 257;
  nlohmann::json json = BpeModelJson(vocab, {"Ġ Ã", "ĠÃ ©"});
  auto chars = Build(json);
  auto raw = Build(json);
  ASSERT_TRUE(raw->EnableByteLevelInput());
  EXPECT_TRUE(raw->byte_level_input());
  std::string mapped;
  BytesToByteLevel(" é!", &mapped);
  EXPECT_EQ(Tokenize(*chars, mapped), (Ids{257, '!'}));
  EXPECT_EQ(Tokenize(*raw, " é!"), (Ids{257, '!'}));
}

TEST(BpeModelTest, LongWordsAreCutOnlyWhereNoMergeCrosses) {
  // "b ▁" is a merge, so "b▁a" stays whole; nothing joins "c" to "▁".
  std::map<std::string, int> vocab = {{"▁", 0},  {"a", 1},  {"b", 2},  {"c", 3},
                                      {"▁a", 4}, {"b▁", 5}, {"b▁a", 6}};
  auto model = Build(BpeModelJson(vocab, {"b ▁", "b▁ a", "▁ a"}));
  EXPECT_EQ(Tokenize(*model, "b▁a"), (Ids{6}));
  EXPECT_EQ(Tokenize(*model, "c▁a"), (Ids{3, 4}));
  EXPECT_EQ(Tokenize(*model, "▁a▁a▁▁a"), (Ids{4, 4, 0, 4}));
  EXPECT_EQ(Tokenize(*model, "cb▁ac▁a"), (Ids{3, 6, 3, 4}));
}

TEST(BpeModelTest, VocabularyAccess) {
  auto model = Build(BpeModelJson(kVocab, {}));
  EXPECT_EQ(model->vocab_size(), 8);
  ASSERT_NE(model->IdToToken(5), nullptr);
  EXPECT_EQ(*model->IdToToken(5), "abc");
  EXPECT_EQ(model->IdToToken(8), nullptr);
  EXPECT_EQ(model->IdToToken(-1), nullptr);
  EXPECT_EQ(model->TokenToId("bc"), 4);
  EXPECT_FALSE(model->TokenToId("zz").has_value());
}

TEST(BpeModelTest, DropoutIsRejected) {
  nlohmann::json json = BpeModelJson(kVocab, {});
  json["dropout"] = 0.1;
  EXPECT_FALSE(BpeModel::FromJson(json, "model").ok());
}

}  // namespace
}  // namespace gqa::hf
