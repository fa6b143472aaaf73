// BlockHash: the name of a full KV block in the prefix cache, a 64-bit hash
// chained over (the parent block's hash, this block's block_size token ids).
// The first block's parent is the engine's salt (derived from the model's
// identity), so blocks of different models never share a name. A name is
// only an index key: the cache also compares a block's parent and token ids
// exactly (block_pool.h), so a collision costs a miss, never a wrong hit.
#pragma once

#include <cstdint>
#include <span>

namespace gqa {

using BlockHash = uint64_t;

// The chain's step; a plain function pointer so that tests can force
// collisions (PrefixCacheOptions::hasher).
using BlockHasher = BlockHash (*)(BlockHash parent, std::span<const int32_t> tokens);

// splitmix64's finalizer: every input bit flips about half the output bits.
inline uint64_t MixBits(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// Folds `value` into the running hash `h` (order-sensitive).
inline uint64_t HashCombine(uint64_t h, uint64_t value) {
  return MixBits(h ^ (value + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

// The default BlockHasher: H(parent, tokens), tokens in order, then their count.
BlockHash HashBlockTokens(BlockHash parent, std::span<const int32_t> tokens);

}  // namespace gqa
