#include "engine/runner/kv_cache_storage.h"

#include "engine/common/status_macros.h"

namespace gqa {

size_t KvCacheStorage::BytesPerBlock(const ModelConfig& config, int block_size, DType dtype) {
  return config.KvBytesPerToken(dtype) * block_size;
}

absl::StatusOr<KvCacheStorage> KvCacheStorage::Allocate(Backend& backend, const ModelConfig& config,
                                                        int block_size, int num_blocks) {
  if (num_blocks <= 0) return absl::InvalidArgumentError("the KV cache needs at least one block");
  const DType dt = backend.activation_dtype();
  KvCacheStorage s;
  s.num_blocks_ = num_blocks;
  s.block_size_ = block_size;
  GQA_ASSIGN_OR_RETURN(s.buffer_,
                       backend.Allocate(BytesPerBlock(config, block_size, dt) * num_blocks));
  const int64_t pool_elems = int64_t{num_blocks} * config.n_kv_heads * block_size * config.head_dim;
  char* p = static_cast<char*>(s.buffer_.data());
  for (int l = 0; l < config.n_layers; ++l) {
    KvCacheLayer layer;
    for (Tensor* t : {&layer.k, &layer.v}) {
      *t = Tensor::Make(p, dt, {num_blocks, config.n_kv_heads, block_size, config.head_dim});
      p += pool_elems * DTypeSize(dt);
    }
    s.layers_.push_back(layer);
  }
  return s;
}

}  // namespace gqa
