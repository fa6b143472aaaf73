// BlockPool: the free list, reference counts and prefix-cache index of the
// paged KV cache. A block is an integer id, valid in every layer's K and V
// pool alike; the pool holds no pointers and knows nothing of tensors (the
// runner owns those).
//
// Prefix cache (vLLM v1's block_pool.py, on block ids): a full block whose
// K/V is computed can be registered under a BlockKey. A cached block at
// reference count 0 stays in the free list, which is therefore also the LRU
// order of cached blocks: a hit takes it out of the list (AddRef), Allocate
// takes the head and evicts the cache entry of a cached block it reuses.
// Cached-free blocks count as free.
//
// Exact by construction: a key names its parent by identity (block id and
// epoch, the number of times that block was evicted), not only by hash, and
// Find compares hash, parent hash, parent identity and token ids. A block's
// children thus match only while the very content they were computed after
// is cached, and no hash collision can make a wrong hit.
//
// Thread ownership: the engine thread.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/kv_cache/block_hash.h"
#include "engine/kv_cache/free_block_queue.h"

namespace gqa {

// One cached block's content, for as long as it stays cached. The root (the
// parent of a sequence's first block) is {-1, 0}.
struct CachedBlockRef {
  int32_t block = -1;
  uint64_t epoch = 0;
  bool operator==(const CachedBlockRef&) const = default;
};

// What a cached block is registered under; Find compares every field.
struct BlockKey {
  BlockHash hash = 0;               // chained: hasher(parent_hash, tokens)
  BlockHash parent_hash = 0;        // the salt for a first block
  CachedBlockRef parent;            // the cached block these tokens follow
  std::span<const int32_t> tokens;  // block_size token ids
};

class BlockPool {
 public:
  explicit BlockPool(int num_blocks);

  int num_blocks_total() const { return static_cast<int>(ref_counts_.size()); }
  // Blocks at reference count 0, cached ones included (evictable on demand).
  int num_blocks_free() const { return free_.size(); }
  int num_blocks_used() const { return num_blocks_total() - num_blocks_free(); }
  // Free blocks that still hold a cached block.
  int num_blocks_cached() const { return num_cached_free_; }

  bool CanAllocate(int n) const { return n <= num_blocks_free(); }
  // Takes `n` blocks from the head of the free list, each with reference count
  // 1, evicting the cache entry of each cached one. Initially the free list is
  // 0, 1, 2, ...; freed blocks join its tail, so the least recently freed
  // block is reused first. Precondition: CanAllocate(n).
  std::vector<int32_t> Allocate(int n);
  // Adds a reference: a second sequence sharing an allocated block, or a
  // cache hit on a cached block at count 0 (it leaves the free list).
  void AddRef(int32_t block_id);
  // Drops one reference from each block; a block whose count reaches 0 joins
  // the tail of the free list, in the order given (cached blocks stay cached).
  void Free(std::span<const int32_t> block_ids);

  int ref_count(int32_t block_id) const { return ref_counts_[block_id]; }
  std::vector<int32_t> free_list() const { return free_.ToVector(); }  // head first

  // ---- prefix cache ----
  bool is_cached(int32_t block_id) const { return blocks_[block_id].cached; }
  // Precondition: is_cached(block_id).
  CachedBlockRef Ref(int32_t block_id) const { return {block_id, blocks_[block_id].epoch}; }
  // The root, or a block still cached since `ref` was taken.
  bool IsCurrent(CachedBlockRef ref) const {
    return ref.block < 0 || (blocks_[ref.block].cached && blocks_[ref.block].epoch == ref.epoch);
  }
  // Registers an allocated, uncached block under `key`. Precondition:
  // ref_count(block_id) > 0, and Find(key) < 0 (one block per key).
  void Cache(int32_t block_id, const BlockKey& key);
  // The cached block registered under exactly `key`, or -1.
  int32_t Find(const BlockKey& key) const;

 private:
  struct Block {
    bool cached = false;
    uint64_t epoch = 0;  // evictions so far: a new epoch is a new content
    BlockHash hash = 0;
    BlockHash parent_hash = 0;
    CachedBlockRef parent;
    std::vector<int32_t> tokens;
  };
  void Evict(int32_t block_id);

  std::vector<int32_t> ref_counts_;  // [num_blocks]; 0 = in free_
  std::vector<Block> blocks_;        // [num_blocks]
  FreeBlockQueue free_;
  // Cached blocks by hash; more than one only when different keys collide.
  std::unordered_map<BlockHash, std::vector<int32_t>> index_;
  int num_cached_free_ = 0;
};

}  // namespace gqa
