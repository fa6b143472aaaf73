#include "engine/model/dummy_weights.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>

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

// murmur3's 32-bit finaliser: 32-bit multiplies vectorise (AVX2), 64-bit ones don't.
inline uint32_t Fmix32(uint32_t z) {
  z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
  z = (z ^ (z >> 13)) * 0xC2B2AE35u;
  return z ^ (z >> 16);
}

// Values are center + half_width * s / 2^23 for a uniform integer s in
// [-2^23, 2^23). `center` is 0 (one rounding) or used with a power-of-two
// half_width (exact product, one rounding), so no FMA contraction can change a
// value: the same seed gives the same bits on every machine.
struct Fill {
  Tensor tensor;
  float center;
  float half_width;
};

struct Chunk {
  int fill;       // index into the fills
  int64_t begin;  // first element
};

template <typename T, T (*Convert)(float)>
void FillRun(T* out, int64_t n, uint32_t key, float center, float scale) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t z = Fmix32(key + static_cast<uint32_t>(i) * 0x9E3779B9u);
    const int32_t s = static_cast<int32_t>(z >> 8) - (1 << 23);
    out[i] = Convert(center + static_cast<float>(s) * scale);
  }
}

float Identity(float x) { return x; }

// Writes elements [c.begin, c.begin + kChunk) of one tensor from its own stream.
void FillChunk(const Fill& f, const Chunk& c, uint64_t seed) {
  const int64_t n = std::min(kChunk, f.tensor.numel() - c.begin);
  const uint32_t key = static_cast<uint32_t>(Mix(Mix(seed + kGolden * (c.fill + 1)) + c.begin));
  const float scale = f.half_width * 0x1p-23f;
  switch (f.tensor.dtype) {
    case DType::kF32:
      return FillRun<float, Identity>(f.tensor.as<float>() + c.begin, n, key, f.center, scale);
    case DType::kF16:
      return FillRun<uint16_t, F32ToF16>(f.tensor.as<uint16_t>() + c.begin, n, key, f.center,
                                         scale);
    case DType::kBF16:
      return FillRun<uint16_t, F32ToBf16>(f.tensor.as<uint16_t>() + c.begin, n, key, f.center,
                                          scale);
    default:  // dummy weights are always a plain dtype
      return;
  }
}

// /proc/meminfo's MemAvailable, or nullopt where it cannot be read.
std::optional<uint64_t> MemAvailableBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib;
  while (in >> key >> kib) {
    if (key == "MemAvailable:") return kib * 1024;
    in.ignore(256, '\n');
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ModelWeights> MakeDummyWeights(const ModelConfig& config, DType dtype,
                                              uint64_t seed) {
  GQA_RETURN_IF_ERROR(config.Validate());
  ModelWeights w;
  w.config = config;
  w.config.dtype = dtype;
  std::vector<WeightSlot> slots = HfWeightSlots(&w);

  // One page-aligned buffer for everything; each tensor starts on 64 bytes.
  size_t total = 0;
  bool overflow = false;
  std::vector<size_t> offsets;
  for (const WeightSlot& s : slots) {
    offsets.push_back(total);
    size_t n = DTypeSize(dtype);
    for (int64_t d : s.shape) overflow |= __builtin_mul_overflow(n, static_cast<size_t>(d), &n);
    overflow |= n > (size_t{1} << 56) || __builtin_add_overflow(total, (n + 63) / 64 * 64, &total);
  }
  if (overflow) {
    return absl::ResourceExhaustedError(
        absl::StrCat("dummy weights for '", config.name, "' would exceed the address space"));
  }
  // Refuse up front rather than be killed half way through filling.
  if (const std::optional<uint64_t> avail = MemAvailableBytes(); avail && total > *avail) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "dummy weights for '%s' need %.2f GiB, only %.2f GiB of memory is available", config.name,
        total / 1073741824.0, *avail / 1073741824.0));
  }
  // MAP_POPULATE faults every page in one call: on large models that is much
  // faster than one page fault per 4 KiB from the filling threads.
  void* buffer = ::mmap(nullptr, std::max<size_t>(total, 1), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (buffer == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("dummy weights for '%s' need %.2f GiB, which cannot be allocated",
                        config.name, total / 1073741824.0));
  }
  w.storage.push_back(std::shared_ptr<const void>(buffer, [total](const void* p) {
    ::munmap(const_cast<void*>(p), std::max<size_t>(total, 1));
  }));

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
      fills.push_back({t, 1.0f, 0.125f});
    } else {  // q/k/v bias
      fills.push_back({t, 0.0f, 0.125f});
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
