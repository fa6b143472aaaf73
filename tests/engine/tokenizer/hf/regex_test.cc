#include "engine/tokenizer/hf/regex.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gqa::hf {
namespace {

std::vector<std::string> Matches(const std::string& pattern, const std::string& text) {
  auto regex = Regex::Compile(pattern);
  EXPECT_TRUE(regex.ok()) << regex.status();
  std::vector<Regex::Span> spans;
  (*regex)->FindAll(text, &spans);
  std::vector<std::string> out;
  for (const auto& [b, e] : spans) out.push_back(text.substr(b, e - b));
  return out;
}

constexpr char kLlama3Pattern[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

TEST(RegexTest, Llama3PreTokenizerPattern) {
  EXPECT_EQ(Matches(kLlama3Pattern, "Hello world's 1234567 don'T  x\n\n y"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", "123", "456", "7", " don", "'T",
                                      " ", " x", "\n\n", " y"}));
}

TEST(RegexTest, UnicodeLettersAndNumbers) {
  // Kawi (Unicode 15) letters and Kaktovik numerals: HF's tables know them.
  EXPECT_EQ(Matches(R"(\p{L}+|\p{N}+)", "ab\U00011F04\U00011F05 \U0001D2C0\U0001D2C1 \u00E9"),
            (std::vector<std::string>{"ab\U00011F04\U00011F05", "\U0001D2C0\U0001D2C1", "\u00E9"}));
}

TEST(RegexTest, OnigurumaClassMeanings) {
  // \s is White_Space: U+180E is not in it (PCRE2 10.42's \s would take it).
  EXPECT_EQ(Matches(R"(\s+)", "a\u180E\u0085\u3000b"), (std::vector<std::string>{"\u0085\u3000"}));
  // \h is a hex digit in Ruby syntax.
  EXPECT_EQ(Matches(R"(\h+)", "xyz 0fA9 g"), (std::vector<std::string>{"0fA9"}));
  // \w includes marks; not other numbers such as U+2460.
  EXPECT_EQ(Matches(R"(\w+)", "e\u0301_1\u2460z"), (std::vector<std::string>{"e\u0301_1", "z"}));
  // Inside a class too.
  EXPECT_EQ(Matches(R"([^\s\p{L}]+)", "ab\u180E12 c"), (std::vector<std::string>{"\u180E12"}));
  // A negated class escape: \S is everything but White_Space.
  EXPECT_EQ(Matches(R"(\S+)", "ab\u180E c"), (std::vector<std::string>{"ab\u180E", "c"}));
}

TEST(RegexTest, EmptyMatchesStepLikeRustFindIter) {
  // "a*" on "baa": empty at 0, "aa" at 1..3; the empty match at 3 right after
  // the previous match is skipped.
  EXPECT_EQ(Matches("a*", "baa"), (std::vector<std::string>{"", "aa"}));
  EXPECT_EQ(Matches("x*", "ab"), (std::vector<std::string>{"", "", ""}));
}

TEST(RegexTest, LineAnchorsAreRubys) {
  EXPECT_EQ(Matches("^b", "a\nb"), (std::vector<std::string>{"b"}));
}

TEST(RegexTest, BadPatternIsAnError) {
  const auto regex = Regex::Compile("(unclosed");
  ASSERT_FALSE(regex.ok());
  EXPECT_NE(regex.status().message().find("(unclosed"), std::string::npos);
}

TEST(RegexTest, LongInputDoesNotExhaustTheJitStack) {
  // GPT-2's whitespace rule: all spaces but the last, then the last alone.
  const std::string spaces(200000, ' ');
  const auto matches = Matches(R"(\s+(?!\S)|\s+)", spaces + "x");
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(matches[0].size(), 199999u);
}

}  // namespace
}  // namespace gqa::hf
