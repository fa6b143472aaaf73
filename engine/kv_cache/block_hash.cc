#include "engine/kv_cache/block_hash.h"

namespace gqa {

BlockHash HashBlockTokens(BlockHash parent, std::span<const int32_t> tokens) {
  uint64_t h = MixBits(parent);
  for (int32_t t : tokens) h = HashCombine(h, static_cast<uint32_t>(t));
  return HashCombine(h, tokens.size());
}

}  // namespace gqa
