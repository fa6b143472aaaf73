#include "engine/kv_cache/kv_cache_manager.h"

#include <algorithm>

namespace gqa {

KvCacheManager::KvCacheManager(int num_blocks, int block_size)
    : block_size_(block_size), pool_(num_blocks) {}

int KvCacheManager::NumNewBlocksNeeded(const BlockTable& table, int num_tokens) const {
  return std::max(0, BlocksForTokens(num_tokens) - static_cast<int>(table.size()));
}

bool KvCacheManager::Grow(BlockTable& table, int num_tokens) {
  const int needed = NumNewBlocksNeeded(table, num_tokens);
  if (!pool_.CanAllocate(needed)) return false;
  std::vector<int32_t> fresh = pool_.Allocate(needed);
  table.insert(table.end(), fresh.begin(), fresh.end());
  return true;
}

void KvCacheManager::Free(BlockTable& table) {
  // Free the tail first so that, when a sequence is freed and another takes
  // its place, the newest (least shared) blocks are the first reused.
  std::reverse(table.begin(), table.end());
  pool_.Free(table);
  table.clear();
}

}  // namespace gqa
