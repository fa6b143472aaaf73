#include "engine/kv_cache/block_pool.h"

#include <algorithm>
#include <cassert>

namespace gqa {

BlockPool::BlockPool(int num_blocks)
    : ref_counts_(num_blocks, 0), blocks_(num_blocks), free_(num_blocks) {}

std::vector<int32_t> BlockPool::Allocate(int n) {
  assert(CanAllocate(n));
  std::vector<int32_t> ids(n);
  for (int32_t& id : ids) {
    id = free_.PopFront();
    if (blocks_[id].cached) {
      --num_cached_free_;
      Evict(id);
    }
    ref_counts_[id] = 1;
  }
  return ids;
}

void BlockPool::AddRef(int32_t block_id) {
  if (ref_counts_[block_id] == 0) {  // a cache hit on a free block
    assert(blocks_[block_id].cached);
    free_.Remove(block_id);
    --num_cached_free_;
  }
  ++ref_counts_[block_id];
}

void BlockPool::Free(std::span<const int32_t> block_ids) {
  for (int32_t id : block_ids) {
    assert(ref_counts_[id] > 0);
    if (--ref_counts_[id] > 0) continue;
    free_.PushBack(id);
    if (blocks_[id].cached) ++num_cached_free_;
  }
}

void BlockPool::Cache(int32_t block_id, const BlockKey& key) {
  assert(ref_counts_[block_id] > 0 && !blocks_[block_id].cached && Find(key) < 0);
  Block& b = blocks_[block_id];
  b.cached = true;
  b.hash = key.hash;
  b.parent_hash = key.parent_hash;
  b.parent = key.parent;
  b.tokens.assign(key.tokens.begin(), key.tokens.end());
  index_[key.hash].push_back(block_id);
}

int32_t BlockPool::Find(const BlockKey& key) const {
  auto it = index_.find(key.hash);
  if (it == index_.end()) return -1;
  for (int32_t id : it->second) {
    const Block& b = blocks_[id];
    if (b.parent_hash == key.parent_hash && b.parent == key.parent &&
        std::equal(b.tokens.begin(), b.tokens.end(), key.tokens.begin(), key.tokens.end())) {
      return id;
    }
  }
  return -1;
}

void BlockPool::Evict(int32_t block_id) {
  Block& b = blocks_[block_id];
  auto it = index_.find(b.hash);
  assert(it != index_.end());
  std::erase(it->second, block_id);
  if (it->second.empty()) index_.erase(it);
  b.cached = false;
  ++b.epoch;  // children registered under the old epoch never match again
  b.tokens.clear();
}

}  // namespace gqa
