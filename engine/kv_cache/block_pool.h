// BlockPool: the free list and reference counts of the paged KV cache.
// A block is an integer id, valid in every layer's K and V pool alike; the
// pool holds no pointers and knows nothing of tensors (the runner owns those).
//
// Thread ownership: the engine thread.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace gqa {

class BlockPool {
 public:
  explicit BlockPool(int num_blocks);

  int num_blocks_total() const { return static_cast<int>(ref_counts_.size()); }
  int num_blocks_free() const { return static_cast<int>(free_.size()); }
  int num_blocks_used() const { return num_blocks_total() - num_blocks_free(); }

  bool CanAllocate(int n) const { return n <= num_blocks_free(); }
  // Takes `n` blocks from the head of the free list, each with reference count 1.
  // Initially the free list is 0, 1, 2, ...; freed blocks join its tail, so the
  // least recently freed block is reused first. Precondition: CanAllocate(n).
  std::vector<int32_t> Allocate(int n);
  // Adds a reference to an allocated block (a second sequence sharing it).
  void AddRef(int32_t block_id);
  // Drops one reference from each block; a block whose count reaches 0 joins
  // the free list, in the order given.
  void Free(std::span<const int32_t> block_ids);

  int ref_count(int32_t block_id) const { return ref_counts_[block_id]; }

 private:
  std::vector<int32_t> ref_counts_;  // [num_blocks]; 0 = free
  std::deque<int32_t> free_;
};

}  // namespace gqa
