#include "engine/model/dummy_weights.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/status_macros.h"
#include "engine/model/weight_names.h"

namespace gqa {
namespace {

constexpr int64_t kChunk = int64_t{1} << 16;  // elements per random stream
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

uint64_t Mix(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Fill {
  Tensor tensor;
  float center;  // values are uniform in [center - half_width, center + half_width)
  float half_width;
};

struct Chunk {
  int fill;       // index into the fills
  int64_t begin;  // first element
};

// Writes elements [c.begin, c.begin + kChunk) of one tensor from its own stream.
void FillChunk(const Fill& f, const Chunk& c, uint64_t seed) {
  const int64_t end = std::min(c.begin + kChunk, f.tensor.numel());
  uint64_t state = Mix(Mix(seed + kGolden * (c.fill + 1)) + c.begin);
  const float scale = f.half_width * 0x1p-23f;  // maps [0, 2^24) to [-hw, hw)
  const float offset = f.center - f.half_width;
  int64_t i = c.begin;
  while (i < end) {
    const uint64_t z = Mix(state += kGolden);
    const float values[2] = {static_cast<float>(z >> 40) * scale + offset,
                             static_cast<float>((z >> 16) & 0xFFFFFF) * scale + offset};
    for (int k = 0; k < 2 && i < end; ++k, ++i) {
      switch (f.tensor.dtype) {
        case DType::kF32: f.tensor.as<float>()[i] = values[k]; break;
        case DType::kF16: f.tensor.as<uint16_t>()[i] = F32ToF16(values[k]); break;
        case DType::kBF16: f.tensor.as<uint16_t>()[i] = F32ToBf16(values[k]); break;
      }
    }
  }
}

}  // namespace

absl::StatusOr<ModelWeights> MakeDummyWeights(const ModelConfig& config, DType dtype,
                                              uint64_t seed) {
  GQA_RETURN_IF_ERROR(config.Validate());
  ModelWeights w;
  w.config = config;
  w.config.dtype = dtype;
  std::vector<WeightSlot> slots = HfWeightSlots(&w);

  // One 64-byte aligned buffer for everything; each tensor starts on 64 bytes.
  size_t total = 0;
  std::vector<size_t> offsets;
  for (const WeightSlot& s : slots) {
    offsets.push_back(total);
    size_t n = DTypeSize(dtype);
    for (int64_t d : s.shape) n *= d;
    total += (n + 63) / 64 * 64;
  }
  void* buffer = std::aligned_alloc(64, total + 64);
  if (buffer == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "dummy weights for '%s' need %.2f GiB, which cannot be allocated", config.name,
        total / 1073741824.0));
  }
  w.storage.push_back(
      std::shared_ptr<const void>(buffer, [](const void* p) { std::free(const_cast<void*>(p)); }));

  std::vector<Fill> fills;
  std::vector<Chunk> chunks;
  for (size_t i = 0; i < slots.size(); ++i) {
    const WeightSlot& s = slots[i];
    Tensor t;
    t.data = static_cast<char*>(buffer) + offsets[i];
    t.dtype = dtype;
    t.ndim = static_cast<int>(s.shape.size());
    for (int k = 0; k < t.ndim; ++k) t.shape[k] = s.shape[k];
    t.row_stride = t.ndim == 2 ? t.shape[1] : 0;
    *s.tensor = t;
    if (t.ndim == 2) {
      fills.push_back({t, 0.0f, std::sqrt(3.0f / static_cast<float>(t.shape[1]))});
    } else if (absl::EndsWith(s.name, "norm.weight")) {
      fills.push_back({t, 1.0f, 0.1f});
    } else {  // q/k/v bias
      fills.push_back({t, 0.0f, 0.1f});
    }
    for (int64_t b = 0; b < t.numel(); b += kChunk) chunks.push_back({static_cast<int>(i), b});
  }
  if (w.config.tie_word_embeddings) w.lm_head = w.embed;

  const int64_t num_chunks = static_cast<int64_t>(chunks.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t c = 0; c < num_chunks; ++c) FillChunk(fills[chunks[c].fill], chunks[c], seed);
  return w;
}

}  // namespace gqa
