#include "engine/tokenizer/hf/pre_tokenizers.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gqa::hf {
namespace {

std::vector<std::string> PreTokenize(const std::string& json, const std::string& text,
                                     bool at_text_start = true, bool defer_mapping = false) {
  auto p = PreTokenizerFromJson(nlohmann::json::parse(json), "pre_tokenizer", defer_mapping);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return {};
  PreTokenized pt{text, {{0, text.size(), at_text_start}}};
  PreTokenized scratch;
  (*p)->PreTokenize(&pt, &scratch);
  std::vector<std::string> out;
  for (const PreToken& piece : pt.pieces)
    out.push_back(pt.text.substr(piece.begin, piece.end - piece.begin));
  return out;
}

std::string Split(const std::string& behavior, bool invert = false) {
  return R"({"type": "Split", "pattern": {"String": "-"}, "behavior": ")" + behavior +
         R"(", "invert": )" + (invert ? "true" : "false") + "}";
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizersTest, SplitBehaviors) {
  EXPECT_EQ(PreTokenize(Split("Removed"), "a-b--c"), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(PreTokenize(Split("Isolated"), "a-b--c"), (Pieces{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(PreTokenize(Split("MergedWithPrevious"), "a-b--c"), (Pieces{"a-", "b-", "-", "c"}));
  EXPECT_EQ(PreTokenize(Split("MergedWithNext"), "a-b--c"), (Pieces{"a", "-b", "-", "-c"}));
  EXPECT_EQ(PreTokenize(Split("Contiguous"), "a-b--c"), (Pieces{"a", "-", "b", "--", "c"}));
  // Inverted: each "-" is its own stretch between "matches".
  EXPECT_EQ(PreTokenize(Split("Removed", /*invert=*/true), "a-b--c"), (Pieces{"-", "-", "-"}));
  EXPECT_EQ(PreTokenize(Split("MergedWithPrevious"), "-a"), (Pieces{"-", "a"}));
}

TEST(PreTokenizersTest, SplitRegexAndUnknownBehavior) {
  EXPECT_EQ(PreTokenize(R"({"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed",
                            "invert": false})",
                        "  a b\t\nc "),
            (Pieces{"a", "b", "c"}));
  EXPECT_FALSE(PreTokenizerFromJson(nlohmann::json::parse(Split("Sideways")), "p", false).ok());
}

TEST(PreTokenizersTest, Digits) {
  EXPECT_EQ(PreTokenize(R"({"type": "Digits", "individual_digits": true})", "ab12c٣4"),
            (Pieces{"ab", "1", "2", "c", "٣", "4"}));
  EXPECT_EQ(PreTokenize(R"({"type": "Digits", "individual_digits": false})", "ab12c٣4"),
            (Pieces{"ab", "12", "c", "٣4"}));
}

TEST(PreTokenizersTest, MetaspacePrependSchemes) {
  const std::string always =
      R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true})";
  EXPECT_EQ(PreTokenize(always, "Hi  there"), (Pieces{"▁Hi", "▁", "▁there"}));
  EXPECT_EQ(PreTokenize(always, " x"), (Pieces{"▁x"}));
  EXPECT_EQ(PreTokenize(always, ""), Pieces{});
  const std::string first =
      R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false})";
  EXPECT_EQ(PreTokenize(first, "Hi there"), (Pieces{"▁Hi▁there"}));
  EXPECT_EQ(PreTokenize(first, "Hi there", /*at_text_start=*/false), (Pieces{"Hi▁there"}));
  // Old files: add_prefix_space instead of prepend_scheme.
  EXPECT_EQ(
      PreTokenize(R"({"type": "Metaspace", "replacement": "▁", "add_prefix_space": false})", "a b"),
      (Pieces{"a", "▁b"}));
}

TEST(PreTokenizersTest, ByteLevel) {
  const std::string gpt2 =
      R"({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true})";
  EXPECT_EQ(PreTokenize(gpt2, "Hello world's é"), (Pieces{"ĠHello", "Ġworld", "'s", "ĠÃ©"}));
  // Deferred mapping (the BPE model reads raw bytes): same cuts, raw bytes.
  EXPECT_EQ(PreTokenize(gpt2, "Hello é", true, /*defer_mapping=*/true), (Pieces{" Hello", " é"}));
  const std::string plain =
      R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false})";
  EXPECT_EQ(PreTokenize(plain, "a b\n"), (Pieces{"aĠbĊ"}));
}

TEST(PreTokenizersTest, SequenceAndEndsWithByteLevel) {
  const auto seq = nlohmann::json::parse(R"({"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\d"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]})");
  EXPECT_TRUE(EndsWithByteLevel(seq));
  EXPECT_FALSE(EndsWithByteLevel(nlohmann::json::parse(Split("Removed"))));
  EXPECT_EQ(PreTokenize(seq.dump(), "a1 b"), (Pieces{"a", "1", "Ġb"}));
}

TEST(PreTokenizersTest, UnsupportedType) {
  const auto p = PreTokenizerFromJson(nlohmann::json::parse(R"({"type": "BertPreTokenizer"})"),
                                      "pre_tokenizer", false);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("BertPreTokenizer"), std::string::npos);
}

}  // namespace
}  // namespace gqa::hf
