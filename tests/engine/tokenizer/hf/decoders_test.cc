#include "engine/tokenizer/hf/decoders.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gqa::hf {
namespace {

std::string Decode(const std::string& json, std::vector<std::string> tokens) {
  auto d = DecoderFromJson(nlohmann::json::parse(json), "decoder");
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return "<error>";
  (*d)->DecodeChain(&tokens);
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

constexpr char kByteFallback[] = R"({"type": "ByteFallback"})";
constexpr char kReplacement[] = "\xEF\xBF\xBD";

TEST(DecodersTest, ByteLevelGivesRawBytes) {
  const char* json = R"({"type": "ByteLevel"})";
  EXPECT_EQ(Decode(json, {"Hello", "Ġworld", "Ċ"}), "Hello world\n");
  EXPECT_EQ(Decode(json, {"ä", "¸", "Ń"}), "\xE4\xB8\xAD");  // 中 over three tokens
  EXPECT_EQ(Decode(json, {"a", "ä", "¸"}), "a\xE4\xB8");     // incomplete: raw
  EXPECT_EQ(Decode(json, {"<|eot|>", "中"}), "<|eot|>中");   // outside the alphabet: as is
}

TEST(DecodersTest, ByteFallbackRuns) {
  EXPECT_EQ(Decode(kByteFallback, {"a", "<0xE4>", "<0xB8>", "<0xAD>", "b"}), "a中b");
  // A run that is not UTF-8: one U+FFFD per byte, valid bytes in it included.
  EXPECT_EQ(Decode(kByteFallback, {"<0x41>", "<0xE4>", "<0xB8>", "b"}),
            absl::StrCat(kReplacement, kReplacement, kReplacement, "b"));
  EXPECT_EQ(Decode(kByteFallback, {"<0xFF>", "b"}), absl::StrCat(kReplacement, "b"));
  // At the very end, a run still waiting for the rest of a character stays raw...
  EXPECT_EQ(Decode(kByteFallback, {"x", "<0x41>", "<0xE4>", "<0xB8>"}), "xA\xE4\xB8");
  // ...but not one that can no longer become valid.
  EXPECT_EQ(Decode(kByteFallback, {"x", "<0xE4>", "<0x41>"}),
            absl::StrCat("x", kReplacement, kReplacement));
  // At the very start, continuation bytes (a window cut inside a character)
  // pass through raw; the rest of the run is judged on its own.
  EXPECT_EQ(
      Decode(kByteFallback, {"<0x98>", "<0x80>", "<0xF0>", "<0x9F>", "<0x98>", "<0x81>", "b"}),
      "\x98\x80\xF0\x9F\x98\x81"
      "b");
  EXPECT_EQ(Decode(kByteFallback, {"<0xB8>", "<0xE4>"}), "\xB8\xE4");
  EXPECT_EQ(Decode(kByteFallback, {"<0x80>", "<0xFF>", "b"}),
            absl::StrCat("\x80", kReplacement, "b"));
  // Not byte tokens: wrong length or not hex.
  EXPECT_EQ(Decode(kByteFallback, {"<0x4>", "<0xZZ>", "<0x41"}), "<0x4><0xZZ><0x41");
}

TEST(DecodersTest, MetaspaceDropsTheFirstPrefix) {
  const char* json = R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"})";
  EXPECT_EQ(Decode(json, {"▁Hello", "▁world"}), "Hello world");
  EXPECT_EQ(Decode(json, {"▁▁a", "▁"}), "a ");
  const char* never = R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"})";
  EXPECT_EQ(Decode(never, {"▁Hello"}), " Hello");
}

TEST(DecodersTest, SentencePieceChain) {
  // Llama 2 / Mistral tokenizer.json decoder.
  const char* json = R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})";
  EXPECT_EQ(Decode(json, {"▁Hello", "▁", "<0xE4>", "<0xB8>", "<0xAD>", "!"}), "Hello 中!");
  EXPECT_EQ(Decode(json, {"▁▁x"}), " x");  // Strip takes one space only
}

TEST(DecodersTest, StripBothEnds) {
  const char* json = R"({"type": "Strip", "content": "_", "start": 2, "stop": 1})";
  EXPECT_EQ(Decode(json, {"___a__"}), "_a_");
  EXPECT_EQ(Decode(json, {"_"}), "");
}

TEST(DecodersTest, ReplaceRegexSkipsIllFormedBytes) {
  const char* json = R"({"type": "Replace", "pattern": {"Regex": "a+"}, "content": "b"})";
  EXPECT_EQ(Decode(json, {"xaa\xE4\xB8"}), "xb\xE4\xB8");
  EXPECT_EQ(Decode(json, {"\xFF"
                          "aa"}),
            "\xFF"
            "b");
}

TEST(DecodersTest, UnsupportedType) {
  const auto d = DecoderFromJson(nlohmann::json::parse(R"({"type": "WordPiece"})"), "decoder");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("WordPiece"), std::string::npos);
}

}  // namespace
}  // namespace gqa::hf
