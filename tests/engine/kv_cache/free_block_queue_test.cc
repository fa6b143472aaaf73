#include "engine/kv_cache/free_block_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FreeBlockQueueTest, RemovesFromHeadMiddleAndTailAndKeepsOrder) {
  FreeBlockQueue q(6);
  EXPECT_EQ(q.size(), 6);
  EXPECT_THAT(q.ToVector(), ElementsAre(0, 1, 2, 3, 4, 5));
  q.Remove(3);  // middle
  q.Remove(0);  // head
  q.Remove(5);  // tail
  EXPECT_FALSE(q.contains(3));
  EXPECT_TRUE(q.contains(4));
  EXPECT_THAT(q.ToVector(), ElementsAre(1, 2, 4));
  q.PushBack(3);
  q.PushBack(0);
  EXPECT_THAT(q.ToVector(), ElementsAre(1, 2, 4, 3, 0));
  EXPECT_EQ(q.PopFront(), 1);
  EXPECT_EQ(q.PopFront(), 2);
  EXPECT_EQ(q.size(), 3);
  q.Remove(0);
  q.Remove(3);
  EXPECT_EQ(q.PopFront(), 4);
  EXPECT_TRUE(q.empty());
  EXPECT_THAT(q.ToVector(), IsEmpty());
  q.PushBack(5);
  EXPECT_THAT(q.ToVector(), ElementsAre(5));
}

}  // namespace
}  // namespace gqa
