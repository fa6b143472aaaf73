#include "engine/kv_cache/block_pool.h"

#include <cassert>

namespace gqa {

BlockPool::BlockPool(int num_blocks) : ref_counts_(num_blocks, 0) {
  for (int32_t i = 0; i < num_blocks; ++i) free_.push_back(i);
}

std::vector<int32_t> BlockPool::Allocate(int n) {
  assert(CanAllocate(n));
  std::vector<int32_t> ids(free_.begin(), free_.begin() + n);
  free_.erase(free_.begin(), free_.begin() + n);
  for (int32_t id : ids) ref_counts_[id] = 1;
  return ids;
}

void BlockPool::AddRef(int32_t block_id) {
  assert(ref_counts_[block_id] > 0);
  ++ref_counts_[block_id];
}

void BlockPool::Free(std::span<const int32_t> block_ids) {
  for (int32_t id : block_ids) {
    assert(ref_counts_[id] > 0);
    if (--ref_counts_[id] == 0) free_.push_back(id);
  }
}

}  // namespace gqa
