#include "engine/tokenizer/hf/normalizers.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gqa::hf {
namespace {

std::string Normalize(const std::string& json, std::string text) {
  auto n = NormalizerFromJson(nlohmann::json::parse(json), "normalizer");
  EXPECT_TRUE(n.ok()) << n.status();
  if (!n.ok()) return "<error>";
  (*n)->Normalize(&text);
  return text;
}

TEST(NormalizersTest, PrependOnlyNonEmptyText) {
  const char* json = R"({"type": "Prepend", "prepend": "▁"})";
  EXPECT_EQ(Normalize(json, "hi"), "▁hi");
  EXPECT_EQ(Normalize(json, ""), "");
  EXPECT_EQ(Normalize(R"({"type": "Append", "append": "!"})", "hi"), "hi!");
}

TEST(NormalizersTest, ReplaceStringAndRegex) {
  EXPECT_EQ(
      Normalize(R"({"type": "Replace", "pattern": {"String": " "}, "content": "▁"})", " a  b "),
      "▁a▁▁b▁");
  EXPECT_EQ(
      Normalize(R"({"type": "Replace", "pattern": {"Regex": "\\d+"}, "content": "#"})", "a12b3"),
      "a#b#");
  // An empty literal matches nothing.
  EXPECT_EQ(Normalize(R"({"type": "Replace", "pattern": {"String": ""}, "content": "x"})", "ab"),
            "ab");
}

TEST(NormalizersTest, UnicodeForms) {
  // e + COMBINING ACUTE -> é; ANGSTROM SIGN -> Å; the ligature ﬁ stays under NFC.
  EXPECT_EQ(Normalize(R"({"type": "NFC"})", "e\u0301 \u212B \uFB01"), "\u00E9 \u00C5 \uFB01");
  EXPECT_EQ(Normalize(R"({"type": "NFKC"})", "\uFB01 \u2460"), "fi 1");
  EXPECT_EQ(Normalize(R"({"type": "NFD"})", "\u00E9"), "e\u0301");
  EXPECT_EQ(Normalize(R"({"type": "NFKD"})", "\u00BD"), "1\u20442");
  // Canonical reordering: dot below (ccc 220) before dot above (ccc 230).
  EXPECT_EQ(Normalize(R"({"type": "NFC"})", "q\u0307\u0323"), "q\u0323\u0307");
  EXPECT_EQ(Normalize(R"({"type": "NFC"})", "plain ascii"), "plain ascii");
}

TEST(NormalizersTest, StripAndSequence) {
  EXPECT_EQ(
      Normalize(R"({"type": "Strip", "strip_left": true, "strip_right": false})", " \u3000 a b \n"),
      "a b \n");
  EXPECT_EQ(Normalize(R"({"type": "Strip", "strip_left": true, "strip_right": true})", "\t\t"), "");
  EXPECT_EQ(Normalize(R"({"type": "Sequence", "normalizers": [
                           {"type": "Prepend", "prepend": "▁"},
                           {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})",
                      "Hello world"),
            "▁Hello▁world");
}

TEST(NormalizersTest, UnsupportedTypeNamesItself) {
  const auto n = NormalizerFromJson(nlohmann::json::parse(R"({"type": "BertNormalizer"})"),
                                    "tokenizer.json: normalizer");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("tokenizer.json: normalizer"), std::string::npos);
  EXPECT_NE(n.status().message().find("BertNormalizer"), std::string::npos);
}

TEST(NormalizersTest, MissingFieldIsAnError) {
  const auto n = NormalizerFromJson(nlohmann::json::parse(R"({"type": "Prepend"})"), "normalizer");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("normalizer.prepend"), std::string::npos);
}

}  // namespace
}  // namespace gqa::hf
