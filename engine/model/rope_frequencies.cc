#include "engine/model/rope_frequencies.h"

#include <cmath>
#include <numbers>

namespace gqa {

std::vector<float> RopeInverseFrequencies(const ModelConfig& config) {
  const int half = config.head_dim / 2;
  std::vector<float> inv_freq(half);
  for (int i = 0; i < half; ++i) {
    inv_freq[i] = 1.0f / std::pow(config.rope_theta,
                                  static_cast<float>(2 * i) / static_cast<float>(config.head_dim));
  }
  const RopeScaling& s = config.rope_scaling;
  if (!s.active()) return inv_freq;
  // Llama 3: keep high frequencies, divide low ones by `factor`, blend between.
  const float low_freq_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const float high_freq_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
  for (float& f : inv_freq) {
    const float wavelen = 2.0f * std::numbers::pi_v<float> / f;
    if (wavelen < high_freq_wavelen) continue;
    if (wavelen > low_freq_wavelen) {
      f /= s.factor;
      continue;
    }
    const float smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
                         (s.high_freq_factor - s.low_freq_factor);
    f = (1.0f - smooth) * f / s.factor + smooth * f;
  }
  return inv_freq;
}

RopeHostTables ComputeRopeTables(const ModelConfig& config) {
  const std::vector<float> inv_freq = RopeInverseFrequencies(config);
  const size_t half = inv_freq.size();
  RopeHostTables t;
  t.cos.resize(static_cast<size_t>(config.max_seq_len) * half);
  t.sin.resize(t.cos.size());
  for (int pos = 0; pos < config.max_seq_len; ++pos) {
    for (size_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(pos) * inv_freq[i];  // fp32, as the references
      t.cos[pos * half + i] = std::cos(angle);
      t.sin[pos * half + i] = std::sin(angle);
    }
  }
  return t;
}

}  // namespace gqa
