#include "engine/runner/kv_cache_storage.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace gqa {

size_t KvCacheStorage::BytesPerBlock(const ModelConfig& config, int block_size, DType dtype) {
  return config.KvBytesPerToken(dtype) * block_size;
}

absl::StatusOr<KvCacheStorage> KvCacheStorage::Allocate(Backend& backend, const ModelConfig& config,
                                                        int block_size, int num_blocks) {
  if (num_blocks <= 0) return absl::InvalidArgumentError("the KV cache needs at least one block");
  const DType dt = backend.kv_cache_dtype();
  KvCacheStorage s;
  s.num_blocks_ = num_blocks;
  s.block_size_ = block_size;
  const size_t bytes = BytesPerBlock(config, block_size, dt) * num_blocks;
  absl::StatusOr<DeviceBuffer> buffer = backend.Allocate(bytes);
  if (!buffer.ok()) {  // a clean startup error: nothing is allocated at run time
    return absl::Status(buffer.status().code(),
                        absl::StrCat("cannot allocate the KV cache (", num_blocks, " blocks, ",
                                     bytes, " bytes): ", buffer.status().message(),
                                     "; ask for less with --kv-cache-memory, "
                                     "--gpu-memory-utilization or --max-num-seqs"));
  }
  s.buffer_ = *std::move(buffer);
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
