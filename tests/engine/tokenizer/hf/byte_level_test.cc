#include "engine/tokenizer/hf/byte_level.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace gqa::hf {
namespace {

TEST(ByteLevelTest, AlphabetIsGpt2s) {
  EXPECT_EQ(ByteLevelChar(' '), 0x120u);   // 'Ġ'
  EXPECT_EQ(ByteLevelChar('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(ByteLevelChar('a'), static_cast<char32_t>('a'));
  EXPECT_EQ(ByteLevelChar(0xE9), 0xE9u);  // printable Latin-1 stays
  EXPECT_EQ(ByteLevelChar(0x00), 0x100u);
  EXPECT_EQ(ByteLevelChar(0xAD), 0x143u);  // soft hyphen: the last extra character
  EXPECT_EQ(ByteLevelCharUtf8(' '), "\xC4\xA0");
}

TEST(ByteLevelTest, IsABijection) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = ByteLevelChar(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(c).second);
    EXPECT_EQ(ByteLevelByte(c), b);
  }
  EXPECT_EQ(ByteLevelByte(0x20), -1);  // space itself is not in the alphabet
  EXPECT_EQ(ByteLevelByte(0x144), -1);
  EXPECT_EQ(ByteLevelByte(0x4E2D), -1);
}

TEST(ByteLevelTest, RoundTripsBytes) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string spelled;
  BytesToByteLevel(all, &spelled);
  std::string back = "x";
  ASSERT_TRUE(ByteLevelToBytes(spelled, &back));
  EXPECT_EQ(back, "x" + all);
}

TEST(ByteLevelTest, RejectsCharactersOutsideTheAlphabet) {
  std::string out = "keep";
  EXPECT_FALSE(ByteLevelToBytes("Ġok 中", &out));  // ' ' and '中' are not in it
  EXPECT_EQ(out, "keep");
}

}  // namespace
}  // namespace gqa::hf
