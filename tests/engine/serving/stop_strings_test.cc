#include "engine/serving/stop_strings.h"

#include <gtest/gtest.h>

namespace gqa {
namespace {

TEST(StopStringsTest, FindsTheEarliestNewMatch) {
  StopStrings stops({"end", "nd!", "x"});
  EXPECT_FALSE(stops.FindNew("the en", 0));
  auto m = stops.FindNew("the end!", 6);  // "end" starts before old_size but ends after it
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pos, 4u);
  EXPECT_EQ(m->length, 3u);
  // A match entirely inside the searched part is not new.
  EXPECT_FALSE(StopStrings({"ab"}).FindNew("ab cd", 3));
  // Earliest position wins over list order.
  m = StopStrings({"cd", "bc"}).FindNew("abcd", 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pos, 1u);
}

TEST(StopStringsTest, HoldsBackTheLongestPossibleStart) {
  StopStrings stops({"hello", "help"});
  EXPECT_EQ(stops.HoldBack("say he"), 2u);
  EXPECT_EQ(stops.HoldBack("say hel"), 3u);
  EXPECT_EQ(stops.HoldBack("say h"), 1u);
  EXPECT_EQ(stops.HoldBack("say x"), 0u);
  EXPECT_EQ(stops.HoldBack("hell"), 4u);
  EXPECT_EQ(stops.HoldBack(""), 0u);
  EXPECT_EQ(StopStrings().HoldBack("abc"), 0u);
  // Empty stop strings are ignored.
  StopStrings only_empty({""});
  EXPECT_TRUE(only_empty.empty());
  EXPECT_FALSE(only_empty.FindNew("abc", 0));
}

TEST(StopStringsTest, MultiByteStopStrings) {
  StopStrings stops({"é!"});                     // c3 a9 21
  EXPECT_EQ(stops.HoldBack("caf\xc3\xa9"), 2u);  // the whole é, never half of it
  EXPECT_EQ(stops.HoldBack("caf"), 0u);
  auto m = stops.FindNew("caf\xc3\xa9!", 5);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pos, 3u);
}

}  // namespace
}  // namespace gqa
