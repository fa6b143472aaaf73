// The prefix cache on a small pool (11 blocks of 4 tokens): exact block ids
// on allocation, hits and frees; LRU eviction order (a sequence's later
// blocks go before its prefix); capacity counting with cached-free blocks;
// exact comparison under forced hash collisions; and the disabled cache.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/kv_cache/block_pool.h"
#include "engine/kv_cache/kv_cache_manager.h"
#include "tests/support/token_ids.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int kBlocks = 11;
constexpr int kBlockSize = 4;

// One sequence's tokens, table and cache state over a manager.
struct Seq {
  explicit Seq(std::vector<int32_t> token_ids) : tokens(std::move(token_ids)) {}
  std::vector<int32_t> tokens;
  BlockTable table;
  SequenceCacheState state;
};

class PrefixCacheTest : public ::testing::Test {
 protected:
  explicit PrefixCacheTest(BlockHasher hasher = HashBlockTokens)
      : kv_(kBlocks, kBlockSize, PrefixCacheOptions{true, /*salt=*/99, hasher}) {}

  // Hits capped as the scheduler caps them (the last token is never a hit).
  std::vector<int32_t> Hits(Seq& s) {
    return kv_.FindCachedPrefix(s.tokens, (static_cast<int>(s.tokens.size()) - 1) / kBlockSize,
                                s.state);
  }
  // Admits `s` with its hits and computes (and caches) all its tokens.
  void Admit(Seq& s) {
    const std::vector<int32_t> hits = Hits(s);
    ASSERT_TRUE(kv_.AllocateWithPrefix(s.table, hits, static_cast<int>(s.tokens.size()), s.state));
    kv_.CacheFullBlocks(s.table, s.tokens, static_cast<int>(s.tokens.size()), s.state);
  }
  void Free(Seq& s) {
    kv_.Free(s.table);
    s.state.ResetTable();
  }
  const BlockPool& pool() const { return kv_.pool(); }

  KvCacheManager kv_;
};

TEST_F(PrefixCacheTest, SharedPrefixHitsTheSameBlocksAndOnlyFullComputedBlocksAreCached) {
  Seq a{Tokens(100, 10)};  // blocks: [100..103] [104..107] + 2 tokens
  EXPECT_THAT(Hits(a), IsEmpty());
  Admit(a);
  EXPECT_THAT(a.table, ElementsAre(0, 1, 2));
  EXPECT_TRUE(pool().is_cached(0));
  EXPECT_TRUE(pool().is_cached(1));
  EXPECT_FALSE(pool().is_cached(2));         // partial: 2 of 4 tokens
  EXPECT_EQ(pool().num_blocks_cached(), 0);  // all held

  Seq b{Concat(Tokens(100, 8), Tokens(500, 3))};  // a's two full blocks, then its own
  EXPECT_THAT(Hits(b), ElementsAre(0, 1));
  Admit(b);
  EXPECT_THAT(b.table, ElementsAre(0, 1, 3));
  EXPECT_EQ(pool().ref_count(0), 2);
  EXPECT_EQ(pool().ref_count(1), 2);
  EXPECT_EQ(pool().num_blocks_free(), 7);

  // a's third block fills up later (two more tokens computed): it is cached then.
  a.tokens.push_back(110);
  a.tokens.push_back(111);
  ASSERT_TRUE(kv_.Grow(a.table, 12));
  kv_.CacheFullBlocks(a.table, a.tokens, 11, a.state);
  EXPECT_FALSE(pool().is_cached(2));
  kv_.CacheFullBlocks(a.table, a.tokens, 12, a.state);
  EXPECT_TRUE(pool().is_cached(2));

  Free(a);  // 2 returns (cached); 1 and 0 are still b's
  EXPECT_THAT(pool().free_list(), ElementsAre(4, 5, 6, 7, 8, 9, 10, 2));
  Free(b);  // tail first: 3 (never cached), then 1, then 0
  EXPECT_THAT(pool().free_list(), ElementsAre(4, 5, 6, 7, 8, 9, 10, 2, 3, 1, 0));
  EXPECT_EQ(pool().num_blocks_free(), kBlocks);
  EXPECT_EQ(pool().num_blocks_cached(), 3);

  Seq c{Tokens(100, 13)};  // a's three blocks and one token: all three hit
  EXPECT_THAT(Hits(c), ElementsAre(0, 1, 2));
  Seq d{Tokens(100, 12)};  // exactly three blocks: the last is recomputed
  EXPECT_THAT(Hits(d), ElementsAre(0, 1));
  Seq e{Tokens(100, 3)};  // not even one full block
  EXPECT_THAT(Hits(e), IsEmpty());
  Seq f{Concat(Tokens(100, 4), Tokens(104, 3))};  // second block differs in its last token
  f.tokens.push_back(0);
  f.tokens.push_back(1);
  EXPECT_THAT(Hits(f), ElementsAre(0));
  Seq g{Concat({7}, Tokens(101, 9))};  // first token differs: nothing, though later tokens agree
  EXPECT_THAT(Hits(g), IsEmpty());
}

TEST_F(PrefixCacheTest, HitsOnFreeBlocksLeaveTheMiddleOfTheFreeList) {
  Seq a{Tokens(100, 9)};
  Admit(a);  // 0, 1 cached, 2 partial
  Free(a);
  EXPECT_THAT(pool().free_list(), ElementsAre(3, 4, 5, 6, 7, 8, 9, 10, 2, 1, 0));
  Seq b{Tokens(100, 9)};
  Admit(b);  // hits 0 and 1 out of the middle and the tail; one new block from the head
  EXPECT_THAT(b.table, ElementsAre(0, 1, 3));
  EXPECT_THAT(pool().free_list(), ElementsAre(4, 5, 6, 7, 8, 9, 10, 2));
  EXPECT_EQ(pool().num_blocks_cached(), 0);
  EXPECT_EQ(pool().ref_count(0), 1);
}

TEST_F(PrefixCacheTest, EvictsLeastRecentlyFreedFirstAndASequencesTailBeforeItsPrefix) {
  Seq x{Tokens(100, 9)};
  Seq y{Tokens(200, 9)};
  Admit(x);  // 0, 1 cached; 2
  Admit(y);  // 3, 4 cached; 5
  Free(x);
  Free(y);
  EXPECT_THAT(pool().free_list(), ElementsAre(6, 7, 8, 9, 10, 2, 1, 0, 5, 4, 3));
  Seq z{Tokens(100, 9)};  // touches x's prefix: it becomes the most recently used
  Admit(z);
  EXPECT_THAT(z.table, ElementsAre(0, 1, 6));
  Free(z);
  EXPECT_THAT(pool().free_list(), ElementsAre(7, 8, 9, 10, 2, 5, 4, 3, 6, 1, 0));
  EXPECT_EQ(pool().num_blocks_cached(), 4);

  BlockTable big;
  ASSERT_TRUE(kv_.Grow(big, 7 * kBlockSize));  // 7 blocks: evicts y's second block (4)
  EXPECT_THAT(big, ElementsAre(7, 8, 9, 10, 2, 5, 4));
  EXPECT_FALSE(pool().is_cached(4));
  EXPECT_EQ(pool().num_blocks_cached(), 3);
  Seq y2{Tokens(200, 9)};
  EXPECT_THAT(Hits(y2), ElementsAre(3));
  Seq x2{Tokens(100, 9)};
  EXPECT_THAT(Hits(x2), ElementsAre(0, 1));

  ASSERT_TRUE(kv_.Grow(big, 9 * kBlockSize));  // 3 (y's prefix), then 6 (uncached)
  EXPECT_THAT(Hits(y2), IsEmpty());
  EXPECT_THAT(Hits(x2), ElementsAre(0, 1));
  ASSERT_TRUE(kv_.Grow(big, 10 * kBlockSize));  // x's second block before its first
  EXPECT_EQ(big.back(), 1);
  EXPECT_THAT(Hits(x2), ElementsAre(0));
  EXPECT_EQ(pool().num_blocks_cached(), 1);
}

TEST_F(PrefixCacheTest, CapacityCountsCachedFreeBlocksAsFreeAndHitsAgainstThem) {
  Seq a{Tokens(100, 9)};
  Admit(a);
  Free(a);  // free list: 3..10, 2, 1, 0 (1 and 0 cached)
  BlockTable other;
  ASSERT_TRUE(kv_.Grow(other, 9 * kBlockSize));  // 3..10, 2: only the cached two stay free
  EXPECT_EQ(pool().num_blocks_free(), 2);
  EXPECT_EQ(pool().num_blocks_cached(), 2);

  // 9 tokens: two hits (both free) + one new block = 3 > 2 free.
  Seq b{Tokens(100, 9)};
  const std::vector<int32_t> hits = Hits(b);
  EXPECT_THAT(hits, ElementsAre(0, 1));
  EXPECT_FALSE(kv_.CanAllocate(hits, 9));
  EXPECT_FALSE(kv_.AllocateWithPrefix(b.table, hits, 9, b.state));
  EXPECT_THAT(b.table, IsEmpty());
  EXPECT_EQ(pool().num_blocks_free(), 2);
  EXPECT_EQ(pool().ref_count(0), 0);

  // 8 tokens: one hit (block 0) + one new block = 2: the new one evicts block 1.
  Seq c{Tokens(100, 8)};
  EXPECT_THAT(Hits(c), ElementsAre(0));
  Admit(c);
  EXPECT_THAT(c.table, ElementsAre(0, 1));
  EXPECT_EQ(pool().num_blocks_free(), 0);
  EXPECT_EQ(pool().num_blocks_cached(), 0);
  // Block 1 was evicted, then recomputed by c and cached again.
  EXPECT_TRUE(pool().is_cached(1));
  Free(c);
  Seq d{Tokens(100, 9)};
  EXPECT_THAT(Hits(d), ElementsAre(0, 1));
}

TEST_F(PrefixCacheTest, EqualBlocksComputedTwiceAreCachedOnce) {
  Seq a{Tokens(100, 9)};
  Seq b{Tokens(100, 9)};
  // Both admitted before either is computed (one step): no hits.
  ASSERT_TRUE(kv_.AllocateWithPrefix(a.table, Hits(a), 9, a.state));
  ASSERT_TRUE(kv_.AllocateWithPrefix(b.table, Hits(b), 9, b.state));
  EXPECT_THAT(b.table, ElementsAre(3, 4, 5));
  kv_.CacheFullBlocks(a.table, a.tokens, 9, a.state);
  kv_.CacheFullBlocks(b.table, b.tokens, 9, b.state);
  EXPECT_TRUE(pool().is_cached(0));
  EXPECT_TRUE(pool().is_cached(1));
  EXPECT_FALSE(pool().is_cached(3));  // a's twins serve
  EXPECT_FALSE(pool().is_cached(4));
  // b's next block is registered after a's twin of its second block.
  b.tokens.insert(b.tokens.end(), {109, 110, 111});
  kv_.CacheFullBlocks(b.table, b.tokens, 12, b.state);
  EXPECT_TRUE(pool().is_cached(5));
  Seq c{Tokens(100, 13)};
  EXPECT_THAT(Hits(c), ElementsAre(0, 1, 5));
}

// Every block hashes to the same value: lookups still find exactly the
// blocks whose whole prefix is equal (parent identity and tokens compared).
BlockHash CollidingHash(BlockHash, std::span<const int32_t>) { return 42; }

class CollidingPrefixCacheTest : public PrefixCacheTest {
 protected:
  CollidingPrefixCacheTest() : PrefixCacheTest(CollidingHash) {}
};

TEST_F(CollidingPrefixCacheTest, HashCollisionsNeverMakeAWrongHit) {
  const std::vector<int32_t> A = Tokens(100, 4), B = Tokens(200, 4), C = Tokens(300, 4);
  Seq x{Concat(Concat(A, B), {1})};  // A B
  Seq y{Concat(Concat(C, B), {1})};  // C B: the same second block after another first
  Admit(x);
  Admit(y);
  EXPECT_THAT(x.table, ElementsAre(0, 1, 2));
  EXPECT_THAT(y.table, ElementsAre(3, 4, 5));
  EXPECT_TRUE(pool().is_cached(4));  // not a twin of 1: its parent differs

  Seq q1{Concat(Concat(C, B), {2})};
  EXPECT_THAT(Hits(q1), ElementsAre(3, 4));
  Seq q2{Concat(Concat(A, B), {2})};
  EXPECT_THAT(Hits(q2), ElementsAre(0, 1));
  Seq q3{Concat(Concat(B, B), {2})};  // B first: no cached block starts a sequence with B
  EXPECT_THAT(Hits(q3), IsEmpty());
  Seq q4{Concat(Concat(A, C), {2})};
  EXPECT_THAT(Hits(q4), ElementsAre(0));

  // Evicting x's first block makes its child unreachable.
  Free(x);
  Free(y);
  BlockTable big;
  ASSERT_TRUE(kv_.Grow(big, 6 * kBlockSize));  // 6..10, then 2 (uncached)
  ASSERT_TRUE(kv_.Grow(big, 8 * kBlockSize));  // x's 1 then 0: both evicted
  EXPECT_THAT(big, ElementsAre(6, 7, 8, 9, 10, 2, 1, 0));
  Seq x2{Concat(Concat(A, B), {1})};
  EXPECT_THAT(Hits(x2), IsEmpty());
  Free(x2);
  kv_.Free(big);
  Admit(x2);  // recomputed into new blocks and cached again
  Seq x3{Concat(Concat(A, B), {5})};
  EXPECT_THAT(Hits(x3), ElementsAre(x2.table[0], x2.table[1]));
}

TEST(BlockPoolCacheTest, FindComparesHashParentAndTokensExactly) {
  BlockPool pool(11);
  const std::vector<int32_t> ids = pool.Allocate(4);  // 0..3
  const std::vector<int32_t> t1 = Tokens(1, 4), t2 = Tokens(2, 4);
  pool.Cache(0, BlockKey{42, 7, {}, t1});
  pool.Cache(1, BlockKey{42, 7, {}, t2});  // the same hash, other tokens
  EXPECT_EQ(pool.Find(BlockKey{42, 7, {}, t1}), 0);
  EXPECT_EQ(pool.Find(BlockKey{42, 7, {}, t2}), 1);
  EXPECT_EQ(pool.Find(BlockKey{42, 8, {}, t1}), -1);           // parent hash differs
  EXPECT_EQ(pool.Find(BlockKey{43, 7, {}, t1}), -1);           // hash differs
  EXPECT_EQ(pool.Find(BlockKey{42, 7, pool.Ref(0), t1}), -1);  // parent differs
  pool.Cache(2, BlockKey{42, 7, pool.Ref(0), t1});
  EXPECT_EQ(pool.Find(BlockKey{42, 7, pool.Ref(0), t1}), 2);
  const CachedBlockRef old0 = pool.Ref(0);

  // Free everything; 0 is freed last, so it is evicted last.
  pool.Free(std::vector<int32_t>{3, 2, 1, 0});
  EXPECT_EQ(pool.num_blocks_cached(), 3);
  EXPECT_THAT(pool.Allocate(10), ElementsAre(4, 5, 6, 7, 8, 9, 10, 3, 2, 1));
  EXPECT_EQ(pool.Find(BlockKey{42, 7, {}, t2}), -1);
  EXPECT_EQ(pool.Find(BlockKey{42, 7, {}, t1}), 0);
  EXPECT_THAT(pool.Allocate(1), ElementsAre(0));  // evicted: a new epoch
  EXPECT_FALSE(pool.IsCurrent(old0));
  pool.Cache(0, BlockKey{42, 7, {}, t1});
  EXPECT_TRUE(pool.IsCurrent(pool.Ref(0)));
  EXPECT_FALSE(pool.IsCurrent(old0));
  EXPECT_EQ(pool.num_blocks_cached(), 0);
  (void)ids;
}

// A child registered after a block's old content never matches after that
// block id is evicted and cached again, though id, hashes and tokens agree.
TEST(BlockPoolCacheTest, ChildrenOfAnEvictedBlockNeverMatchItsNewContent) {
  BlockPool pool(4);
  pool.Allocate(4);
  const std::vector<int32_t> t1 = Tokens(1, 4), t2 = Tokens(2, 4), t3 = Tokens(3, 4);
  pool.Cache(0, BlockKey{42, 7, {}, t1});
  pool.Cache(1, BlockKey{42, 42, pool.Ref(0), t2});
  EXPECT_EQ(pool.Find(BlockKey{42, 42, pool.Ref(0), t2}), 1);
  pool.Free(std::vector<int32_t>{0});  // only the parent: evicted while its child is held
  EXPECT_THAT(pool.Allocate(1), ElementsAre(0));
  pool.Cache(0, BlockKey{42, 7, {}, t3});  // the same id and hash, other content
  EXPECT_EQ(pool.Find(BlockKey{42, 42, pool.Ref(0), t2}), -1);
  EXPECT_TRUE(pool.is_cached(1));
}

TEST(KvCacheManagerDisabledTest, FindsNothingAndCachesNothing) {
  KvCacheManager kv(kBlocks, kBlockSize);  // the cache is off by default
  EXPECT_FALSE(kv.prefix_caching());
  const std::vector<int32_t> tokens = Tokens(100, 9);
  SequenceCacheState s1, s2;
  BlockTable a, b;
  ASSERT_TRUE(kv.AllocateWithPrefix(a, {}, 9, s1));
  kv.CacheFullBlocks(a, tokens, 9, s1);
  EXPECT_FALSE(kv.pool().is_cached(0));
  kv.Free(a);
  EXPECT_THAT(kv.FindCachedPrefix(tokens, 2, s2), IsEmpty());
  EXPECT_EQ(kv.pool().num_blocks_cached(), 0);
  EXPECT_THAT(kv.pool().free_list(), ElementsAre(3, 4, 5, 6, 7, 8, 9, 10, 2, 1, 0));
}

}  // namespace
}  // namespace gqa
