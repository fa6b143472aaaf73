#include "engine/kv_cache/kv_cache_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(KvCacheManagerTest, GrowsTablesOneBlockPerBlockSizeTokens) {
  KvCacheManager kv(/*num_blocks=*/11, /*block_size=*/16);
  EXPECT_EQ(kv.BlocksForTokens(0), 0);
  EXPECT_EQ(kv.BlocksForTokens(1), 1);
  EXPECT_EQ(kv.BlocksForTokens(16), 1);
  EXPECT_EQ(kv.BlocksForTokens(17), 2);

  BlockTable a, b;
  ASSERT_TRUE(kv.Grow(a, 20));  // 2 blocks
  ASSERT_TRUE(kv.Grow(b, 16));  // 1 block
  EXPECT_THAT(a, ElementsAre(0, 1));
  EXPECT_THAT(b, ElementsAre(2));
  ASSERT_TRUE(kv.Grow(a, 32));  // still 2 blocks
  EXPECT_THAT(a, ElementsAre(0, 1));
  ASSERT_TRUE(kv.Grow(a, 33));
  EXPECT_THAT(a, ElementsAre(0, 1, 3));
  EXPECT_EQ(kv.pool().num_blocks_free(), 7);
}

TEST(KvCacheManagerTest, GrowIsAllOrNothing) {
  KvCacheManager kv(4, 16);
  BlockTable a, b;
  ASSERT_TRUE(kv.Grow(a, 48));  // 3 blocks
  EXPECT_EQ(kv.NumNewBlocksNeeded(b, 32), 2);
  EXPECT_FALSE(kv.CanGrow(b, 32));
  EXPECT_FALSE(kv.Grow(b, 32));
  EXPECT_THAT(b, IsEmpty());
  EXPECT_EQ(kv.pool().num_blocks_free(), 1);
}

TEST(KvCacheManagerTest, FreeReturnsTailBlocksFirst) {
  KvCacheManager kv(4, 16);
  BlockTable a, b;
  ASSERT_TRUE(kv.Grow(a, 48));  // 0, 1, 2
  kv.Free(a);
  EXPECT_THAT(a, IsEmpty());
  EXPECT_EQ(kv.pool().num_blocks_free(), 4);
  ASSERT_TRUE(kv.Grow(b, 64));
  // Block 3 was never used; then the freed tail 2 before 1 before 0.
  EXPECT_THAT(b, ElementsAre(3, 2, 1, 0));
}

}  // namespace
}  // namespace gqa
