// KvCacheManager: grows and frees the block tables of sequences over one
// BlockPool. Capacity checks are exact: a sequence holding `t` tokens needs
// ceil(t / block_size) blocks.
//
// Thread ownership: the engine thread.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/kv_cache/block_pool.h"

namespace gqa {

using BlockTable = std::vector<int32_t>;  // block ids of token slots 0.., in order

class KvCacheManager {
 public:
  KvCacheManager(int num_blocks, int block_size);

  int block_size() const { return block_size_; }
  const BlockPool& pool() const { return pool_; }
  int BlocksForTokens(int num_tokens) const { return (num_tokens + block_size_ - 1) / block_size_; }

  // Blocks `table` lacks to hold `num_tokens` tokens.
  int NumNewBlocksNeeded(const BlockTable& table, int num_tokens) const;
  bool CanGrow(const BlockTable& table, int num_tokens) const {
    return pool_.CanAllocate(NumNewBlocksNeeded(table, num_tokens));
  }
  // Appends blocks to `table` until it holds `num_tokens` tokens. Returns false
  // (and changes nothing) when the pool has too few free blocks.
  bool Grow(BlockTable& table, int num_tokens);
  // Returns every block of `table` to the pool and clears it.
  void Free(BlockTable& table);

 private:
  int block_size_;
  BlockPool pool_;
};

}  // namespace gqa
