// RoPE inverse frequencies and per-position angle tables, as HF transformers
// and llama2.c compute them (fp32 pow and fp32 angle, so positions far into the
// context round the same way as the references).
#pragma once

#include <vector>

#include "engine/model/model_config.h"

namespace gqa {

// inv_freq[i] = rope_theta^(-2i / head_dim), i < head_dim / 2, with Llama 3
// `rope_scaling` applied when active.
std::vector<float> RopeInverseFrequencies(const ModelConfig& config);

// cos/sin of position * inv_freq[i]: two row-major [max_seq_len, head_dim / 2] tables.
struct RopeHostTables {
  std::vector<float> cos;
  std::vector<float> sin;
};
RopeHostTables ComputeRopeTables(const ModelConfig& config);

}  // namespace gqa
