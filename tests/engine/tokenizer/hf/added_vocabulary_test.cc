#include "engine/tokenizer/hf/added_vocabulary.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/tokenizer/hf/bpe_model.h"
#include "engine/tokenizer/hf/normalizers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/engine/tokenizer/hf/hf_test_util.h"

namespace gqa::hf {
namespace {

using gqa::testing::AddedTokenJson;

// The stretches as "text" (model text) or "[id:text]" (added token).
std::vector<std::string> Splits(const AddedVocabulary& vocab, const std::string& text,
                                bool normalized_set = false) {
  std::vector<AddedSplit> splits;
  vocab.FindMatches(text, normalized_set, &splits);
  std::vector<std::string> out;
  for (const AddedSplit& s : splits) {
    const std::string piece = text.substr(s.begin, s.end - s.begin);
    out.push_back(s.id < 0 ? piece : absl::StrCat("[", s.id, ":", piece, "]"));
  }
  return out;
}

// A model with entries t0..t9 (ids 0..9) and "in" (id 10): added tokens not
// in it get ids 11, 12, ... in file order.
const BpeModel& Model() {
  static const BpeModel* const model = [] {
    std::map<std::string, int> vocab = {{"in", 10}};
    for (int i = 0; i < 10; ++i) vocab[absl::StrCat("t", i)] = i;
    return BpeModel::FromJson(gqa::testing::BpeModelJson(vocab, {}), "model")->release();
  }();
  return *model;
}

AddedVocabulary Make(const nlohmann::json& tokens, const Normalizer* normalizer = nullptr) {
  auto vocab = AddedVocabulary::FromJson(tokens, normalizer, Model(), "added_tokens");
  EXPECT_TRUE(vocab.ok()) << vocab.status();
  return vocab.ok() ? *std::move(vocab) : AddedVocabulary();
}

using Pieces = std::vector<std::string>;

TEST(AddedVocabularyTest, LeftmostLongestNonOverlapping) {
  const AddedVocabulary vocab = Make(
      nlohmann::json::array({AddedTokenJson(11, "<a>", true), AddedTokenJson(12, "<a><b>", true),
                             AddedTokenJson(13, "b>x", true)}));
  EXPECT_EQ(Splits(vocab, "x<a><b>x<a>"), (Pieces{"x", "[12:<a><b>]", "x", "[11:<a>]"}));
  EXPECT_EQ(Splits(vocab, "<a><b"), (Pieces{"[11:<a>]", "<b"}));
  EXPECT_EQ(Splits(vocab, ""), (Pieces{""}));
  EXPECT_EQ(Splits(vocab, "plain"), (Pieces{"plain"}));
}

TEST(AddedVocabularyTest, StripFlagsSwallowWhiteSpace) {
  const AddedVocabulary vocab = Make(
      nlohmann::json::array({AddedTokenJson(11, "<m>", true, /*lstrip=*/true, /*rstrip=*/true)}));
  EXPECT_EQ(Splits(vocab, "Hi <m> there\t<m>\t<m>\u2000!"),
            (Pieces{"Hi", "[11: <m> ]", "there", "[11:\t<m>\t]", "[11:<m>\u2000]", "!"}));
}

TEST(AddedVocabularyTest, SingleWordNeedsNoWordCharacterAround) {
  const AddedVocabulary vocab = Make(nlohmann::json::array(
      {AddedTokenJson(11, "<mask>", false, false, false, /*single_word=*/true)}));
  EXPECT_EQ(
      Splits(vocab, "<mask> My name <mask> A<mask> <mask>ony <mask>"),
      (Pieces{"[11:<mask>]", " My name ", "[11:<mask>]", " A<mask> <mask>ony ", "[11:<mask>]"}));
  // Punctuation is no word character; a combining mark is.
  EXPECT_EQ(Splits(vocab, "<mask>, <mask>- \u0330<mask>"),
            (Pieces{"[11:<mask>]", ", ", "[11:<mask>]", "- \u0330<mask>"}));
}

TEST(AddedVocabularyTest, NormalizedTokensMatchTheirNormalizedForm) {
  auto prepend = NormalizerFromJson(nlohmann::json::parse(R"({"type": "Prepend", "prepend": "▁"})"),
                                    "normalizer");
  ASSERT_TRUE(prepend.ok());
  const AddedVocabulary vocab =
      Make(nlohmann::json::array(
               {AddedTokenJson(11, "hi", false, false, false, false, /*normalized=*/true),
                AddedTokenJson(12, "<s>", true)}),
           prepend->get());
  EXPECT_TRUE(vocab.has_normalized_tokens());
  // Normalized "hi" is "▁hi" (HF normalizes the token's content too).
  EXPECT_EQ(Splits(vocab, "▁hi hi", /*normalized_set=*/true), (Pieces{"[11:▁hi]", " hi"}));
  EXPECT_EQ(Splits(vocab, "▁hi<s>", /*normalized_set=*/false), (Pieces{"▁hi", "[12:<s>]"}));
}

TEST(AddedVocabularyTest, IdsAreAssignedAsHfDoes) {
  // The file's ids are not used: "in" takes its model id 10, the others the
  // next free ids from the model's entry count (11) on; empty tokens are skipped.
  const AddedVocabulary vocab = Make(
      nlohmann::json::array({AddedTokenJson(500, "<x>", true), AddedTokenJson(501, "", true),
                             AddedTokenJson(502, "in", false), AddedTokenJson(503, "<y>", false)}));
  ASSERT_NE(vocab.FindById(11), nullptr);
  EXPECT_EQ(vocab.FindById(11)->content, "<x>");
  EXPECT_TRUE(vocab.FindById(11)->special);
  EXPECT_EQ(vocab.FindByContent("in"), 10);
  EXPECT_EQ(vocab.FindByContent("<y>"), 12);
  EXPECT_EQ(vocab.FindById(500), nullptr);
  EXPECT_TRUE(vocab.IsSpecialContent("<x>"));
  EXPECT_FALSE(vocab.IsSpecialContent("in"));
  EXPECT_EQ(Splits(vocab, "twin<x>"), (Pieces{"tw", "[10:in]", "[11:<x>]"}));
}

TEST(AddedVocabularyTest, BadEntryNamesItsIndex) {
  const auto vocab = AddedVocabulary::FromJson(
      nlohmann::json::parse(R"([{"id": 1, "content": "a"}, {"id": "two", "content": "b"}])"),
      nullptr, Model(), "tokenizer.json: added_tokens");
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.status().message().find("added_tokens[1].id"), std::string::npos);
}

}  // namespace
}  // namespace gqa::hf
