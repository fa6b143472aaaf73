// Ragged-batch index arrays for the GPU benchmarks, built directly (no
// scheduler): `batch` sequences, each with `query_len` new tokens ending at
// context `ctx`, owning whole blocks of a shared pool. Uploaded to the
// backend in one buffer, as the runner does.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/model/llama_model.h"

namespace gqa::bench {

struct BatchLayout {
  int batch = 0, query_len = 0, ctx = 0, block_size = 0, max_blocks = 0;
  std::vector<int32_t> tokens, positions, query_start, context_lens, block_tables, logit_rows;
  std::vector<int64_t> slots;
};

// Sequence s owns blocks block_ids[s * max_blocks ..]; only the last row of
// each sequence wants logits. block_ids must hold batch * ceil(ctx / block_size) ids.
BatchLayout MakeBatchLayout(int batch, int query_len, int ctx, int block_size,
                            const std::vector<int32_t>& block_ids, int vocab);

// `count` distinct block ids from [0, pool_blocks) in random order (a real
// pool hands blocks out in no particular order).
std::vector<int32_t> ShuffledBlocks(int64_t pool_blocks, int64_t count, uint32_t seed);

// The layout in backend memory; `forward` points into it.
struct DeviceBatch {
  DeviceBuffer ints, slots;
  ForwardBatch forward;
};
absl::StatusOr<DeviceBatch> UploadBatch(Backend& backend, const BatchLayout& layout);

}  // namespace gqa::bench
