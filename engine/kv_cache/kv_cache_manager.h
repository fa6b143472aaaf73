// KvCacheManager: grows and frees the block tables of sequences over one
// BlockPool, and keeps the prefix cache (vLLM v1's kv_cache_manager.py).
// Capacity checks are exact: a sequence holding `t` tokens needs
// ceil(t / block_size) blocks.
//
// Prefix cache: a sequence's full blocks are named by chained hashes
// (block_hash.h), computed once per sequence (SequenceCacheState). A newly
// admitted sequence looks up its longest cached run of full blocks
// (FindCachedPrefix), takes references on them and allocates the rest
// (AllocateWithPrefix); every full block whose K/V is computed is registered
// (CacheFullBlocks), prompt and output blocks alike, never a partial one.
// With the cache disabled, lookups find nothing and registration does
// nothing: tables grow and free exactly as without it.
//
// Thread ownership: the engine thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/kv_cache/block_hash.h"
#include "engine/kv_cache/block_pool.h"

namespace gqa {

using BlockTable = std::vector<int32_t>;  // block ids of token slots 0.., in order

struct PrefixCacheOptions {
  bool enabled = false;
  BlockHash salt = 0;                    // the first block's parent hash: the model's identity
  BlockHasher hasher = HashBlockTokens;  // tests force collisions with their own
};

// One sequence's place in the prefix cache (it lives in the Sequence).
struct SequenceCacheState {
  // Chained hashes of the sequence's first full blocks, grown on demand; they
  // depend only on the tokens, so they survive preemption.
  std::vector<BlockHash> hashes;
  // The table's first num_cached_blocks blocks are cached (hits or
  // registered) or were found equal to a cached block; `last` is the cached
  // content of the last of them, the parent of the next one registered.
  int num_cached_blocks = 0;
  CachedBlockRef last;
  void ResetTable() {  // the table was freed
    num_cached_blocks = 0;
    last = {};
  }
};

class KvCacheManager {
 public:
  KvCacheManager(int num_blocks, int block_size, PrefixCacheOptions prefix_cache = {});

  int block_size() const { return block_size_; }
  const BlockPool& pool() const { return pool_; }
  bool prefix_caching() const { return prefix_.enabled; }
  int BlocksForTokens(int num_tokens) const { return (num_tokens + block_size_ - 1) / block_size_; }

  // Blocks `table` lacks to hold `num_tokens` tokens.
  int NumNewBlocksNeeded(const BlockTable& table, int num_tokens) const;
  bool CanGrow(const BlockTable& table, int num_tokens) const {
    return pool_.CanAllocate(NumNewBlocksNeeded(table, num_tokens));
  }
  // Appends blocks to `table` until it holds `num_tokens` tokens. Returns false
  // (and changes nothing) when the pool has too few free blocks.
  bool Grow(BlockTable& table, int num_tokens);
  // Returns every block of `table` to the pool, tail first, and clears it.
  void Free(BlockTable& table);

  // ---- prefix cache ----
  // The longest run of cached blocks holding the first full blocks of
  // `tokens`, at most `max_blocks` of them. Empty when disabled.
  std::vector<int32_t> FindCachedPrefix(std::span<const int32_t> tokens, int max_blocks,
                                        SequenceCacheState& state);
  // Whether an empty table can take `hits` and grow to `num_tokens`: hits at
  // reference count 0 leave the free list, so they count against it too.
  bool CanAllocate(std::span<const int32_t> hits, int num_tokens) const;
  // An empty `table` takes a reference on each of `hits`, then grows to
  // `num_tokens`. Returns false (and changes nothing) when the pool lacks blocks.
  bool AllocateWithPrefix(BlockTable& table, std::span<const int32_t> hits, int num_tokens,
                          SequenceCacheState& state);
  // Registers the full blocks of `table` among its first
  // `num_computed_tokens` tokens (`tokens` are the sequence's token ids) that
  // are not registered yet. A block equal to one already cached stays
  // uncached (its twin serves as the parent of the next).
  void CacheFullBlocks(const BlockTable& table, std::span<const int32_t> tokens,
                       int num_computed_tokens, SequenceCacheState& state);

 private:
  // Appends the hashes of full blocks of `tokens` until state.hashes has `n`.
  void HashBlocks(std::span<const int32_t> tokens, int n, SequenceCacheState& state) const;
  BlockKey KeyOf(std::span<const int32_t> tokens, int block_index, CachedBlockRef parent,
                 const SequenceCacheState& state) const;

  int block_size_;
  PrefixCacheOptions prefix_;
  BlockPool pool_;
};

}  // namespace gqa
