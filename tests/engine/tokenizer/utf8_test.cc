#include "engine/tokenizer/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace gqa {
namespace {

#define R "\xef\xbf\xbd"  // U+FFFD

TEST(Utf8Test, ReplaceInvalidMatchesMaximalSubparts) {
  // Expected values are Python's bytes.decode("utf-8", errors="replace").
  struct Case {
    std::string in, out;
  };
  // clang-format off
  const Case cases[] = {
      {"", ""},
      {"plain", "plain"},
      {"caf\xc3\xa9 \xe4\xbd\xa0 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe4\xbd\xa0 \xf0\x9f\x98\x80"},
      {"\xff\xfe", R R},
      {"\xed\xa0\x80", R R R},              // surrogate
      {"\xe0\x80\x80", R R R},              // overlong
      {"\xc0\xaf", R R},                    // overlong lead
      {"\xf4\x90\x80\x80", R R R R},        // above U+10FFFF
      {"\xf5\x80", R R},
      {"\xf0\x9f\x98", R},                  // incomplete at the end: one
      {"\xf0\x9f\x98" "A", R "A"},
      {"a\x80" "b", "a" R "b"},
      {"\xe4\xbd" "A", R "A"},
      {"\xe0\xa0", R},
      {"\xe0\x9f", R R},
  };
  // clang-format on
  for (const Case& c : cases) {
    EXPECT_EQ(Utf8ReplaceInvalid(c.in), c.out) << c.in;
    EXPECT_EQ(IsWellFormedUtf8(c.in), c.in == c.out) << c.in;
  }
}

TEST(Utf8Test, IncompleteTailLength) {
  EXPECT_EQ(Utf8IncompleteTailLength(""), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("abc"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("a\xc3"), 1u);
  EXPECT_EQ(Utf8IncompleteTailLength("a\xc3\xa9"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xe4"), 1u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xe4\xbd"), 2u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xe4\xbd\xa0"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("x\xf0\x9f\x98"), 3u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xf0\x9f\x98\x80"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xe0\xa0"), 2u);  // E0 A0 can still complete
  // Bytes that no later byte can make well-formed are not held.
  EXPECT_EQ(Utf8IncompleteTailLength("\xe0\x9f"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xed\xa0"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\x80"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xff"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xc0"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xf5"), 0u);
  EXPECT_EQ(Utf8IncompleteTailLength("\xe4\xbd\xbd"), 0u);
}

}  // namespace
}  // namespace gqa
