// PromptLogits: the logits of every position of one sequence, from one
// prefill through LlamaModel on a backend (no engine, no sampling): what
// gqa-logits-dump writes and what the logits comparisons in the tests read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/common/status_macros.h"
#include "engine/model/llama_model.h"
#include "engine/runner/kv_cache_storage.h"

namespace gqa::testing {

// Logits [ids.size(), vocab] as fp32, row-major. The tokens go through the
// model `chunk` at a time (0: all in one prefill; 1: one decode step each),
// each chunk attending to the cache the earlier ones wrote.
inline absl::StatusOr<std::vector<float>> PromptLogits(const ModelWeights& weights,
                                                       Backend& backend,
                                                       std::span<const int32_t> ids,
                                                       int chunk = 0) {
  const int n = static_cast<int>(ids.size());
  if (chunk <= 0 || chunk > n) chunk = n;
  const ModelConfig& c = weights.config;
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<LlamaModel> model,
                       LlamaModel::Create(weights, &backend, chunk, chunk));
  const int block_size = 16, blocks = (n + block_size - 1) / block_size;
  GQA_ASSIGN_OR_RETURN(KvCacheStorage kv, KvCacheStorage::Allocate(backend, c, block_size, blocks));
  GQA_ASSIGN_OR_RETURN(DeviceBuffer d_ints, backend.Allocate((3 * chunk + 3 + blocks) * 4));
  GQA_ASSIGN_OR_RETURN(DeviceBuffer d_slots, backend.Allocate(chunk * 8));
  std::vector<float> out(static_cast<size_t>(n) * c.vocab_size);
  for (int start = 0; start < n; start += chunk) {
    const int m = std::min(chunk, n - start), end = start + m;
    // Index arrays: token ids | positions | query_start | context_lens | block table | logit rows.
    std::vector<int32_t> ints(ids.begin() + start, ids.begin() + end);
    for (int i = start; i < end; ++i) ints.push_back(i);
    ints.insert(ints.end(), {0, m, end});
    for (int b = 0; b < blocks; ++b) ints.push_back(b);
    for (int i = 0; i < m; ++i) ints.push_back(i);
    std::vector<int64_t> slots(m);
    for (int i = 0; i < m; ++i) slots[i] = start + i;
    backend.CopyToDevice(d_ints.data(), ints.data(), ints.size() * 4);
    backend.CopyToDevice(d_slots.data(), slots.data(), slots.size() * 8);
    const auto* dev = static_cast<const int32_t*>(d_ints.data());
    ForwardBatch fb;
    fb.token_ids = dev;
    fb.attn = {1,
               m,
               m,
               end,
               blocks,
               dev + 2 * m,
               dev + 2 * m + 2,
               dev + 2 * m + 3,
               dev + m,
               static_cast<const int64_t*>(d_slots.data())};
    fb.logit_rows = dev + 2 * m + 3 + blocks;
    fb.num_logit_rows = m;
    const Tensor logits = model->Logits(model->Forward(fb, kv.layers()));
    std::vector<char> raw(logits.nbytes());
    backend.CopyToHost(raw.data(), logits.data, raw.size());
    GQA_RETURN_IF_ERROR(backend.status());
    ConvertToF32(logits.dtype, raw.data(), out.data() + static_cast<size_t>(start) * c.vocab_size,
                 logits.numel());
  }
  return out;
}

}  // namespace gqa::testing
