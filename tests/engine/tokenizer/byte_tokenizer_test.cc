#include "engine/tokenizer/byte_tokenizer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;

TEST(ByteTokenizerTest, Vocabulary) {
  ByteTokenizer tok;
  EXPECT_EQ(tok.vocab_size(), 259);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_THAT(tok.eos_ids(), ElementsAre(2));
  EXPECT_EQ(tok.TokenString(0), "<unk>");
  EXPECT_EQ(tok.TokenString(1), "<s>");
  EXPECT_EQ(tok.TokenString(2), "</s>");
  EXPECT_EQ(tok.TokenString(3), "<0x00>");
  EXPECT_EQ(tok.TokenString(3 + 'A'), "<0x41>");
  EXPECT_EQ(tok.TokenString(258), "<0xFF>");
  EXPECT_EQ(tok.TokenString(259), "");
  EXPECT_EQ(tok.TokenString(-1), "");
}

TEST(ByteTokenizerTest, EncodeIsBosThenOneTokenPerByte) {
  ByteTokenizer tok;
  EXPECT_THAT(tok.Encode(""), ElementsAre(1));
  EXPECT_THAT(tok.Encode("", /*add_special_tokens=*/false), ElementsAre());
  EXPECT_THAT(tok.Encode("Hi "), ElementsAre(1, 75, 108, 35));
  EXPECT_THAT(tok.Encode("\xc3\xa9\xff", false), ElementsAre(198, 172, 258));
  EXPECT_THAT(tok.Encode(std::string(1, '\0'), false), ElementsAre(3));
}

TEST(ByteTokenizerTest, DecodeIsTheBytes) {
  ByteTokenizer tok;
  EXPECT_EQ(tok.Decode({{1, 75, 108, 2}}), "Hi");
  EXPECT_EQ(tok.Decode({{1, 75, 0, 108, 2}}, /*skip_special_tokens=*/false), "<s>H<unk>i</s>");
  EXPECT_EQ(tok.Decode({{1, 35, 75}}), " H");  // no dummy prefix, so nothing to strip
  EXPECT_EQ(tok.Decode({{258, 3 + 0x80, 231}}), "\xff\x80\xe4");
  EXPECT_EQ(tok.Decode({{-1, 259, 75}}), "H");
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  EXPECT_EQ(tok.Decode(tok.Encode(all_bytes)), all_bytes);
}

}  // namespace
}  // namespace gqa
