#include "engine/kv_cache/kv_cache_manager.h"

#include <algorithm>
#include <cassert>

namespace gqa {

KvCacheManager::KvCacheManager(int num_blocks, int block_size, PrefixCacheOptions prefix_cache)
    : block_size_(block_size), prefix_(prefix_cache), pool_(num_blocks) {}

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
  // its place, the newest (least shared) blocks are the first reused: a
  // sequence's later blocks are evicted before its prefix.
  std::reverse(table.begin(), table.end());
  pool_.Free(table);
  table.clear();
}

void KvCacheManager::HashBlocks(std::span<const int32_t> tokens, int n,
                                SequenceCacheState& state) const {
  for (int i = static_cast<int>(state.hashes.size()); i < n; ++i) {
    const BlockHash parent = i == 0 ? prefix_.salt : state.hashes[i - 1];
    state.hashes.push_back(
        prefix_.hasher(parent, tokens.subspan(size_t(i) * block_size_, block_size_)));
  }
}

BlockKey KvCacheManager::KeyOf(std::span<const int32_t> tokens, int i, CachedBlockRef parent,
                               const SequenceCacheState& state) const {
  BlockKey key;
  key.hash = state.hashes[i];
  key.parent_hash = i == 0 ? prefix_.salt : state.hashes[i - 1];
  key.parent = parent;
  key.tokens = tokens.subspan(size_t(i) * block_size_, block_size_);
  return key;
}

std::vector<int32_t> KvCacheManager::FindCachedPrefix(std::span<const int32_t> tokens,
                                                      int max_blocks, SequenceCacheState& state) {
  std::vector<int32_t> hits;
  if (!prefix_.enabled) return hits;
  max_blocks = std::min(max_blocks, static_cast<int>(tokens.size()) / block_size_);
  HashBlocks(tokens, max_blocks, state);
  CachedBlockRef parent;  // the root
  for (int i = 0; i < max_blocks; ++i) {
    const int32_t id = pool_.Find(KeyOf(tokens, i, parent, state));
    if (id < 0) break;
    hits.push_back(id);
    parent = pool_.Ref(id);
  }
  return hits;
}

bool KvCacheManager::CanAllocate(std::span<const int32_t> hits, int num_tokens) const {
  const int num_hits = static_cast<int>(hits.size());
  const int needed = std::max(0, BlocksForTokens(num_tokens) - num_hits);
  const int free_hits = static_cast<int>(std::count_if(
      hits.begin(), hits.end(), [&](int32_t id) { return pool_.ref_count(id) == 0; }));
  return needed + free_hits <= pool_.num_blocks_free();
}

bool KvCacheManager::AllocateWithPrefix(BlockTable& table, std::span<const int32_t> hits,
                                        int num_tokens, SequenceCacheState& state) {
  assert(table.empty());
  if (!CanAllocate(hits, num_tokens)) return false;
  // References first: a hit at count 0 leaves the free list before Allocate
  // could evict it.
  for (int32_t id : hits) pool_.AddRef(id);
  table.assign(hits.begin(), hits.end());
  const bool grown = Grow(table, num_tokens);
  assert(grown);
  (void)grown;
  state.num_cached_blocks = static_cast<int>(hits.size());
  state.last = hits.empty() ? CachedBlockRef{} : pool_.Ref(hits.back());
  return true;
}

void KvCacheManager::CacheFullBlocks(const BlockTable& table, std::span<const int32_t> tokens,
                                     int num_computed_tokens, SequenceCacheState& state) {
  if (!prefix_.enabled) return;
  const int num_full = std::min(num_computed_tokens / block_size_, static_cast<int>(table.size()));
  if (state.num_cached_blocks >= num_full) return;
  // The parent's content was evicted: no lookup can reach what follows it.
  if (!pool_.IsCurrent(state.last)) return;
  HashBlocks(tokens, num_full, state);
  for (int i = state.num_cached_blocks; i < num_full; ++i) {
    const BlockKey key = KeyOf(tokens, i, state.last, state);
    int32_t id = pool_.Find(key);
    if (id < 0) {
      id = table[i];
      pool_.Cache(id, key);
    }
    state.last = pool_.Ref(id);
    state.num_cached_blocks = i + 1;
  }
}

}  // namespace gqa
