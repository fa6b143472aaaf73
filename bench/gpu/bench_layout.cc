#include "bench/gpu/bench_layout.h"

#include <algorithm>
#include <numeric>

#include "engine/common/status_macros.h"

namespace gqa::bench {

BatchLayout MakeBatchLayout(int batch, int query_len, int ctx, int block_size,
                            const std::vector<int32_t>& block_ids, int vocab) {
  BatchLayout l;
  l.batch = batch;
  l.query_len = query_len;
  l.ctx = ctx;
  l.block_size = block_size;
  l.max_blocks = (ctx + block_size - 1) / block_size;
  l.query_start.push_back(0);
  for (int s = 0; s < batch; ++s) {
    const int32_t* blocks = block_ids.data() + size_t(s) * l.max_blocks;
    for (int i = 0; i < query_len; ++i) {
      const int pos = ctx - query_len + i;
      l.tokens.push_back(3 + (s * 131 + pos * 7) % (vocab - 3));
      l.positions.push_back(pos);
      l.slots.push_back(int64_t{blocks[pos / block_size]} * block_size + pos % block_size);
    }
    l.logit_rows.push_back(static_cast<int32_t>(l.tokens.size()) - 1);
    l.query_start.push_back(static_cast<int32_t>(l.tokens.size()));
    l.context_lens.push_back(ctx);
    l.block_tables.insert(l.block_tables.end(), blocks, blocks + l.max_blocks);
  }
  return l;
}

std::vector<int32_t> ShuffledBlocks(int64_t pool_blocks, int64_t count, uint32_t seed) {
  std::vector<int32_t> ids(pool_blocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
  ids.resize(std::min<int64_t>(count, pool_blocks));
  return ids;
}

absl::StatusOr<DeviceBatch> UploadBatch(Backend& backend, const BatchLayout& l) {
  std::vector<int32_t> ints;
  std::vector<size_t> at;
  for (const std::vector<int32_t>* v :
       {&l.tokens, &l.positions, &l.query_start, &l.context_lens, &l.block_tables, &l.logit_rows}) {
    at.push_back(ints.size());
    ints.insert(ints.end(), v->begin(), v->end());
  }
  DeviceBatch d;
  GQA_ASSIGN_OR_RETURN(d.ints, backend.Allocate(ints.size() * sizeof(int32_t)));
  GQA_ASSIGN_OR_RETURN(d.slots, backend.Allocate(l.slots.size() * sizeof(int64_t)));
  backend.CopyToDevice(d.ints.data(), ints.data(), ints.size() * sizeof(int32_t));
  backend.CopyToDevice(d.slots.data(), l.slots.data(), l.slots.size() * sizeof(int64_t));
  const auto* dev = static_cast<const int32_t*>(d.ints.data());
  ForwardBatch& fb = d.forward;
  fb.token_ids = dev + at[0];
  fb.attn.num_seqs = l.batch;
  fb.attn.num_tokens = static_cast<int>(l.tokens.size());
  fb.attn.max_query_len = l.query_len;
  fb.attn.max_context_len = l.ctx;
  fb.attn.max_blocks_per_seq = l.max_blocks;
  fb.attn.positions = dev + at[1];
  fb.attn.query_start = dev + at[2];
  fb.attn.context_lens = dev + at[3];
  fb.attn.block_tables = dev + at[4];
  fb.attn.slot_mapping = static_cast<const int64_t*>(d.slots.data());
  fb.logit_rows = dev + at[5];
  fb.num_logit_rows = static_cast<int>(l.logit_rows.size());
  return d;
}

}  // namespace gqa::bench
