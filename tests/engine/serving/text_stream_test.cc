#include "engine/serving/text_stream.h"

#include <gtest/gtest.h>

#include "engine/tokenizer/byte_tokenizer.h"

namespace gqa {
namespace {

std::vector<TokenOutput> Bytes(const std::string& s) {
  std::vector<TokenOutput> out;
  for (unsigned char c : s) out.push_back({ByteTokenizer::kFirstByteId + c, 0.0f, {}});
  return out;
}

const std::vector<int32_t> kPrompt = {ByteTokenizer::kBosId, 3 + 'h', 3 + 'i'};

// Pushes one token at a time; returns the pieces' concatenation plus Finish.
std::string StreamAll(TextStream& stream, const std::string& bytes,
                      std::vector<std::string>* pieces = nullptr) {
  std::string text;
  for (const TokenOutput& t : Bytes(bytes)) {
    TextStream::Piece p = stream.Push(std::span<const TokenOutput>(&t, 1));
    if (pieces) pieces->push_back(p.text);
    text += p.text;
  }
  return text + stream.Finish();
}

TEST(TextStreamTest, WithoutStopsTheTextIsTheDecodedOutput) {
  ByteTokenizer tok;
  TextStream stream(&tok, kPrompt, {});
  std::vector<std::string> pieces;
  EXPECT_EQ(StreamAll(stream, "caf\xc3\xa9 ok", &pieces), "caf\xc3\xa9 ok");
  EXPECT_EQ(pieces[3], "");          // half of é is held back
  EXPECT_EQ(pieces[4], "\xc3\xa9");  // and sent whole
  EXPECT_EQ(stream.num_tokens(), 8);
  EXPECT_FALSE(stream.stopped());
}

TEST(TextStreamTest, StopStringCutsAndStopsAcceptingTokens) {
  ByteTokenizer tok;
  TextStream stream(&tok, kPrompt, {.stop = {"END"}});
  std::vector<std::string> pieces;
  const std::vector<TokenOutput> tokens = Bytes("abcENDxyz");
  TextStream::Piece p = stream.Push(tokens);
  EXPECT_TRUE(p.stopped);
  EXPECT_EQ(p.num_tokens, 6);  // through the D that completed "END"
  EXPECT_EQ(p.text, "abc");
  EXPECT_EQ(stream.Finish(), "");
  EXPECT_EQ(stream.Push(Bytes("more")).num_tokens, 0);
}

TEST(TextStreamTest, PossibleStopPrefixIsHeldBackUntilResolved) {
  ByteTokenizer tok;
  TextStream stream(&tok, kPrompt, {.stop = {"END"}});
  std::vector<std::string> pieces;
  EXPECT_EQ(StreamAll(stream, "aENbEyE", &pieces), "aENbEyE");
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", "", "", "ENb", "", "Ey", ""}));
  // Finish releases a held-back tail that never became a stop string.
}

TEST(TextStreamTest, IncludeStopStringAndMinTokens) {
  ByteTokenizer tok;
  TextStream with(&tok, kPrompt, {.stop = {"b"}, .include_stop_str_in_output = true});
  EXPECT_EQ(StreamAll(with, "aab"), "aab");
  EXPECT_TRUE(with.stopped());

  TextStream late(&tok, kPrompt, {.stop = {"b"}, .min_tokens = 3});
  EXPECT_EQ(StreamAll(late, "babbb"), "ba");  // the first b is before min_tokens
  EXPECT_EQ(late.num_tokens(), 3);
}

TEST(TextStreamTest, NoTokenizerMeansNoText) {
  TextStream stream(nullptr, kPrompt, {});
  TextStream::Piece p = stream.Push(Bytes("abc"));
  EXPECT_EQ(p.text, "");
  EXPECT_EQ(p.num_tokens, 3);
  EXPECT_EQ(stream.Finish(), "");
}

TEST(TextStreamTest, IncompleteUtf8AtTheEndBecomesReplacementCharacter) {
  ByteTokenizer tok;
  TextStream stream(&tok, kPrompt, {});
  EXPECT_EQ(StreamAll(stream, "a\xc3"), "a\xef\xbf\xbd");
}

}  // namespace
}  // namespace gqa
