#include "engine/kv_cache/block_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gqa {
namespace {

using ::testing::ElementsAre;

TEST(BlockPoolTest, AllocatesLowestIdsFirstAndReusesLeastRecentlyFreed) {
  BlockPool pool(11);
  EXPECT_EQ(pool.num_blocks_total(), 11);
  EXPECT_EQ(pool.num_blocks_free(), 11);
  EXPECT_THAT(pool.Allocate(3), ElementsAre(0, 1, 2));
  EXPECT_THAT(pool.Allocate(2), ElementsAre(3, 4));
  EXPECT_EQ(pool.num_blocks_free(), 6);
  EXPECT_EQ(pool.num_blocks_used(), 5);

  const std::vector<int32_t> freed = {1, 3};
  pool.Free(freed);
  // Never-used blocks 5..10 come first, then 1 and 3 in the order they were freed.
  EXPECT_THAT(pool.Allocate(8), ElementsAre(5, 6, 7, 8, 9, 10, 1, 3));
  EXPECT_EQ(pool.num_blocks_free(), 0);
  EXPECT_FALSE(pool.CanAllocate(1));
  EXPECT_TRUE(pool.CanAllocate(0));
}

TEST(BlockPoolTest, SharedBlockReturnsOnlyWithItsLastReference) {
  BlockPool pool(4);
  const std::vector<int32_t> ids = pool.Allocate(2);  // 0, 1
  pool.AddRef(0);
  EXPECT_EQ(pool.ref_count(0), 2);
  pool.Free(ids);
  EXPECT_EQ(pool.ref_count(0), 1);
  EXPECT_EQ(pool.ref_count(1), 0);
  EXPECT_EQ(pool.num_blocks_free(), 3);
  const std::vector<int32_t> last = {0};
  pool.Free(last);
  EXPECT_EQ(pool.num_blocks_free(), 4);
  EXPECT_THAT(pool.Allocate(4), ElementsAre(2, 3, 1, 0));
}

}  // namespace
}  // namespace gqa
