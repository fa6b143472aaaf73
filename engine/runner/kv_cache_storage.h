// KvCacheStorage: the K and V block pools of every layer, in backend memory.
// Layout per layer: [num_blocks, n_kv_heads, block_size, head_dim], so one
// block of one KV head is block_size * head_dim contiguous elements, read once
// for the whole group of query heads that share it. Sized in KV heads, never
// in query heads: a GQA-G model stores G times less than its MHA twin.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/model/model_config.h"

namespace gqa {

class KvCacheStorage {
 public:
  // Bytes one block takes over all layers (K and V).
  static size_t BytesPerBlock(const ModelConfig& config, int block_size, DType dtype);

  static absl::StatusOr<KvCacheStorage> Allocate(Backend& backend, const ModelConfig& config,
                                                 int block_size, int num_blocks);

  const std::vector<KvCacheLayer>& layers() const { return layers_; }
  int num_blocks() const { return num_blocks_; }
  int block_size() const { return block_size_; }
  size_t total_bytes() const { return buffer_.bytes(); }

 private:
  DeviceBuffer buffer_;
  std::vector<KvCacheLayer> layers_;
  int num_blocks_ = 0;
  int block_size_ = 0;
};

}  // namespace gqa
